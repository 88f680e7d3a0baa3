// What a pipeline is for one run: workflow:rules, each job's rules/only/except, variables (with GitLab's
// precedence), environments and needs, evaluated against the run's git facts and variables.
import type { When } from '../../shared/model';
import type { GitlabConfig } from './config';
import { needIndex, resolveNeed, type GitlabJob, type Instance, type NeedDecl } from './job';
import { scopedValue, type ProjectVariable } from './projectVariables';
import { firstMatch, refFilterMatches, type RefFacts } from './rules';
import { environmentSlug, environmentTier, expandText, resolveVariables, slug, type VarDecl } from './variables';

export interface RunContext {
  /** Predefined variables of the pipeline (pipelineVariables). */
  predefined: Record<string, string>;
  project: ProjectVariable[];
  /** Variables given for the run (CLI --variable); they win over everything. */
  given: Record<string, string>;
  /** Variables removed for the run (CLI --unset-variable). */
  unset: string[];
  refs: RefFacts;
  /** True when a file of the project matches one of the globs (rules:exists). */
  exists(patterns: string[]): Promise<boolean>;
}

export interface ResolvedNeed {
  id: string;
  optional: boolean;
}

export interface ResolvedJob {
  id: string;
  job: GitlabJob;
  instance: Instance;
  stageIndex: number;
  /** Why rules / only / except leave this job out of the pipeline (null: it is in). */
  excluded: string | null;
  when: When;
  allowFailure: boolean;
  allowFailureExitCodes: number[];
  /** Declared needs (after rules:needs) as job ids; null when the job has no `needs:` (stage order applies). */
  needs: ResolvedNeed[] | null;
  env: Record<string, string>;
  environment: { name: string; url: string | null; action: string } | null;
  /** Project variables of `type: file`: the job gets the path of a file holding the value. */
  fileVariables: Record<string, string>;
}

export interface ResolvedPipeline {
  name: string | null;
  jobs: ResolvedJob[];
}

function declared(vars: readonly VarDecl[]): Layer {
  return { vars: Object.fromEntries(vars.map((v) => [v.name, v.value])), expand: new Set(vars.filter((v) => v.expand).map((v) => v.name)) };
}

function projectLayer(project: readonly ProjectVariable[], environment: string | null, files: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of project) {
    if (v.file !== files) continue;
    const value = scopedValue(v, environment);
    if (value !== undefined) out[v.name] = value;
  }
  return out;
}

function withoutUnset(vars: Record<string, string>, unset: readonly string[]): Record<string, string> {
  if (unset.length === 0) return vars;
  const out = { ...vars };
  for (const u of unset) delete out[u];
  return out;
}

type Layer = { vars: Record<string, string>; expand: boolean | Set<string> };

export async function resolvePipeline(config: GitlabConfig, ctx: RunContext): Promise<ResolvedPipeline | { error: string }> {
  const global = declared(config.variables);
  const workflow = await resolveWorkflow(config, global, ctx);
  if ('error' in workflow) return workflow;
  const jobs: ResolvedJob[] = [];
  const declaredNeeds: (NeedDecl[] | null)[] = [];
  for (const job of config.jobs) {
    const inherited =
      job.inheritVariables === true ? global : declared(job.inheritVariables === false ? [] : config.variables.filter((v) => (job.inheritVariables as string[]).includes(v.name)));
    for (const instance of job.instances) {
      const r = await resolveInstance(job, instance, [inherited, workflow.layer], config.stages.indexOf(job.stage), jobs.length, ctx);
      jobs.push(r.job);
      declaredNeeds.push(r.needs);
    }
  }
  // Needs name jobs; a need on a parallel job means all its instances (or those a matrix selector picks, or the one
  // it names in full).
  const index = needIndex(config.jobs);
  jobs.forEach((j, i) => {
    j.needs = declaredNeeds[i]?.flatMap((need) => resolveNeed(need, j.instance, index).instances.map((t) => ({ id: t.id, optional: need.optional }))) ?? null;
  });
  return { name: workflow.name, jobs };
}

/** workflow:rules decide whether the pipeline runs at all, and may add variables; workflow:name is expanded. */
async function resolveWorkflow(config: GitlabConfig, global: Layer, ctx: RunContext): Promise<{ name: string | null; layer: Layer } | { error: string }> {
  const lower = [{ vars: ctx.predefined, expand: false }, global];
  const upper = [{ vars: projectLayer(ctx.project, null, false), expand: false }, { vars: ctx.given, expand: false }];
  let layer: Layer = declared([]);
  if (config.workflow.rules) {
    const vars = withoutUnset(resolveVariables([...lower, ...upper]), ctx.unset);
    const rule = await firstMatch(config.workflow.rules, { lookup: (n) => vars[n], exists: (p) => ctx.exists(p) });
    if (!rule || rule.when === 'never') {
      const ref = `${ctx.refs.isTag ? 'tag' : 'branch'} "${ctx.refs.ref}"`;
      return { error: `workflow:rules keep this pipeline from running for ${ref} (${rule ? 'a rule says when: never' : 'no rule matches'}); set variables with --variable to run it as another ref would` };
    }
    layer = declared(rule.variables);
  }
  const vars = withoutUnset(resolveVariables([...lower, layer, ...upper]), ctx.unset);
  return { name: config.workflow.name === null ? null : expandText(config.workflow.name, (n) => vars[n]), layer };
}

/** Whether rules (or only/except) keep a job, and what the matching rule changes. */
async function inclusion(job: GitlabJob, lookup: (n: string) => string | undefined, ctx: RunContext) {
  const out = {
    excluded: null as string | null,
    when: job.when ?? 'on_success',
    // Manual jobs may fail by default, except when `when: manual` comes from rules (as in GitLab).
    allowFailure: job.allowFailure ?? { allowed: job.when === 'manual' && !job.rules, exitCodes: [] },
    needs: job.needs,
    variables: declared([]),
  };
  if (job.rules) {
    const rule = await firstMatch(job.rules, { lookup, exists: (p) => ctx.exists(p) });
    if (!rule) return { ...out, excluded: 'no rule in rules: matches this run' };
    out.when = rule.when ?? job.when ?? 'on_success';
    if (out.when === 'never') out.excluded = `rules: the matching rule${rule.if ? ` (if: ${rule.if.text})` : ''} says when: never`;
    if (rule.allowFailure) out.allowFailure = rule.allowFailure;
    if (rule.parsedNeeds) out.needs = rule.parsedNeeds;
    out.variables = declared(rule.variables);
    return out;
  }
  const ref = `${ctx.refs.isTag ? 'tag' : 'branch'} "${ctx.refs.ref}"`;
  const only = job.only ?? { loc: job.loc, refs: ['branches', 'tags'], variables: null, changes: false };
  if (!refFilterMatches(only, ctx.refs, lookup, 'only')) out.excluded = `only: does not match ${ref}`;
  else if (job.except && refFilterMatches(job.except, ctx.refs, lookup, 'except')) out.excluded = 'except: matches this run';
  return out;
}

async function resolveInstance(
  job: GitlabJob,
  instance: Instance,
  pipelineLayers: Layer[],
  stageIndex: number,
  ordinal: number,
  ctx: RunContext,
): Promise<{ job: ResolvedJob; needs: NeedDecl[] | null }> {
  const predefined: Record<string, string> = {
    ...ctx.predefined,
    CI_JOB_NAME: instance.id,
    CI_JOB_NAME_SLUG: slug(instance.id),
    CI_JOB_STAGE: job.stage,
    CI_JOB_ID: String(Number(ctx.predefined.CI_PIPELINE_ID ?? '1') * 1000 + ordinal + 1),
    CI_JOB_STARTED_AT: ctx.predefined.CI_PIPELINE_CREATED_AT ?? '',
  };
  if (job.parallel) {
    predefined.CI_NODE_INDEX = String(instance.index);
    predefined.CI_NODE_TOTAL = String(instance.total);
  }
  const jobVars = declared([...job.variables, ...Object.entries(instance.matrix ?? {}).map(([name, value]) => ({ name, value, expand: true }))]);
  // GitLab's precedence, lowest first: predefined, global (as inherited), workflow rule, job, matching rule,
  // project variables (scoped to the job's environment), variables given for the run.
  const layers = (ruleVars: Layer, environment: string | null, environmentVars: Record<string, string> = {}): Layer[] => [
    { vars: predefined, expand: false },
    { vars: environmentVars, expand: false },
    ...pipelineLayers,
    jobVars,
    ruleVars,
    { vars: projectLayer(ctx.project, environment, false), expand: false },
    { vars: ctx.given, expand: false },
  ];
  const vars = (l: Layer[]) => withoutUnset(resolveVariables(l), ctx.unset);
  const forRules = vars(layers(declared([]), null));
  const inc = await inclusion(job, (n) => forRules[n], ctx);
  // The environment's name and URL may use job variables; environment-scoped project variables then apply.
  let environment: ResolvedJob['environment'] = null;
  const environmentVars: Record<string, string> = {};
  if (job.environment) {
    const known = vars(layers(inc.variables, null));
    const expand = (s: string) => expandText(s, (n) => known[n]);
    environment = { name: expand(job.environment.name), url: job.environment.url === null ? null : expand(job.environment.url), action: job.environment.action };
    Object.assign(environmentVars, {
      CI_ENVIRONMENT_NAME: environment.name,
      CI_ENVIRONMENT_SLUG: environmentSlug(environment.name),
      CI_ENVIRONMENT_ACTION: environment.action,
      CI_ENVIRONMENT_TIER: job.environment.tier ?? environmentTier(environment.name),
      ...(environment.url ? { CI_ENVIRONMENT_URL: environment.url } : {}),
    });
  }
  const env = vars(layers(inc.variables, environment?.name ?? null, environmentVars));
  if (inc.when === 'manual') env.CI_JOB_MANUAL = 'true';
  const resolved: ResolvedJob = {
    id: instance.id,
    job,
    instance,
    stageIndex,
    excluded: inc.excluded,
    when: inc.when === 'delayed' || inc.when === 'never' ? 'on_success' : inc.when,
    allowFailure: inc.allowFailure.allowed,
    allowFailureExitCodes: inc.allowFailure.exitCodes,
    needs: null,
    env,
    environment,
    fileVariables: withoutUnset(projectLayer(ctx.project, environment?.name ?? null, true), ctx.unset),
  };
  return { job: resolved, needs: inc.needs };
}
