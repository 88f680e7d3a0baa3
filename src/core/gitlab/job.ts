// One GitLab CI job, read from its merged mapping (after extends, default: and inherit:) into a typed, located
// GitlabJob: scripts, needs, rules, parallel instances, environment, containers, artifacts.
import { unresolvedSource, type UnresolvedInclude } from './load';
import { readStringList, readVariables, ValReader } from './reader';
import { readAllowFailure, readRefFilter, readRules, WHEN_VALUES, type AllowFailure, type GlWhen, type RefFilter, type Rule } from './rules';
import { parseGitlabDuration, type VarDecl } from './variables';
import { describeVal, flatten, isNull, type Entry, type Loc, type MapVal, type Problems, type Val } from './yaml';

export const JOB_KEYS = [
  'after_script', 'allow_failure', 'artifacts', 'before_script', 'cache', 'coverage', 'dast_configuration', 'dependencies',
  'environment', 'except', 'extends', 'hooks', 'id_tokens', 'identity', 'image', 'inherit', 'interruptible',
  'manual_confirmation', 'needs', 'only', 'pages', 'parallel', 'release', 'resource_group', 'retry', 'rules', 'run',
  'script', 'secrets', 'services', 'stage', 'start_in', 'tags', 'timeout', 'trigger', 'variables', 'when',
] as const;
const MAX_SCRIPT_DEPTH = 10;
const MAX_PARALLEL = 200;

export interface ScriptLine {
  text: string;
  loc: Loc;
}

export interface NeedDecl {
  /** A job's name, or one instance of a parallel job by its full name (`build: [x86_64, linux]`). */
  job: string;
  optional: boolean;
  /** `parallel: matrix` selector: which instances of a matrix job are needed (null: all). */
  matrix: Record<string, string[]>[] | null;
  /** The need uses `$[[ matrix.NAME ]]`: each instance of the needing job needs what its own values name. */
  expressions: boolean;
  loc: Loc;
}

export interface Instance {
  id: string;
  /** 1-based; CI_NODE_INDEX. */
  index: number;
  total: number;
  matrix: Record<string, string> | null;
}

export interface EnvironmentDecl {
  name: string;
  url: string | null;
  action: string;
  /** `deployment_tier:` as written (null: GitLab guesses it from the name). */
  tier: string | null;
  loc: Loc;
}

export const DEPLOYMENT_TIERS = ['production', 'staging', 'testing', 'development', 'other'] as const;

/** What the job's file cannot say because an include that would say it is not read here. */
export interface JobGaps {
  /** Templates the job extends (or references) that are not defined in the files read. */
  templates: string[];
  unresolved: readonly UnresolvedInclude[];
  /** Stages may come from an unread include (the local files declare none). */
  openStages: boolean;
}

export interface JobRule extends Rule {
  parsedNeeds: NeedDecl[] | null;
}

export interface GitlabJob {
  name: string;
  loc: Loc;
  description: string | null;
  stage: string;
  stageLoc: Loc;
  /** No `stage:` of its own, and a template it extends is not read here: GitLab may take the stage from there. */
  stageUnknown: boolean;
  beforeScript: ScriptLine[];
  script: ScriptLine[];
  afterScript: ScriptLine[];
  variables: VarDecl[];
  /** inherit:variables — all global variables, none, or the listed ones. */
  inheritVariables: boolean | string[];
  needs: NeedDecl[] | null;
  dependencies: string[] | null;
  when: GlWhen | null;
  allowFailure: AllowFailure | null;
  retries: number;
  timeoutMs: number | null;
  rules: JobRule[] | null;
  only: RefFilter | null;
  except: RefFilter | null;
  /** `parallel` instances; one instance named like the job when there is no `parallel`. */
  instances: Instance[];
  parallel: boolean;
  environment: EnvironmentDecl | null;
  image: string | null;
  /** `image: entrypoint` (replaces the image's); null: the image's own. */
  imageEntrypoint: string[] | null;
  services: ServiceRef[];
  /** What runs elsewhere: a downstream pipeline (trigger), CI steps (run). Null when the job is a script job. */
  delegated: string | null;
  /** Why the job cannot run locally: what it needs to run (its script) is in an include that is not read here. */
  incomplete: string | null;
  release: boolean;
  artifacts: string[];
  junit: string[];
}

export function readJob(entry: Entry, map: MapVal, stages: string[], texts: Map<string, string>, problems: Problems, gaps?: JobGaps): GitlabJob | null {
  const name = entry.key;
  const what = `job "${name}"`;
  const r = new ValReader(problems, map, what, JOB_KEYS);
  const job: GitlabJob = {
    name,
    loc: entry.keyLoc,
    description: descriptionAbove(texts.get(entry.keyLoc.file), entry.keyLoc.line),
    stage: 'test',
    stageLoc: entry.keyLoc,
    stageUnknown: false,
    beforeScript: readScript(r, 'before_script'),
    script: readScript(r, 'script'),
    afterScript: readScript(r, 'after_script'),
    variables: readVariables(problems, r.value('variables'), what),
    inheritVariables: true,
    needs: null,
    dependencies: r.stringList('dependencies') ?? null,
    when: null,
    allowFailure: null,
    retries: 0,
    timeoutMs: null,
    rules: null,
    only: readRefFilter(problems, r.value('only'), `${what}: only`),
    except: readRefFilter(problems, r.value('except'), `${what}: except`),
    instances: [],
    parallel: false,
    environment: readEnvironment(r),
    image: imageName(r, 'image'),
    imageEntrypoint: imageEntrypoint(r),
    services: readServices(r),
    delegated: null,
    incomplete: null,
    release: r.has('release'),
    artifacts: [],
    junit: [],
  };
  const stage = r.string('stage');
  if (stage !== undefined) {
    job.stage = stage;
    job.stageLoc = r.at('stage');
    if (!stages.includes(stage) && gaps?.openStages) {
      problems.warn(
        r.value('stage')!.loc,
        `${what}: stage "${stage}" is not declared in this file or its local includes; it must come from ${unresolvedSource(gaps.unresolved)}. ` +
          'Locally it runs after the declared stages',
      );
      stages.splice(stages.length - 1, 0, stage);
    } else if (!stages.includes(stage)) r.fail(r.value('stage')!, `stage "${stage}" does not exist; the stages are ${stages.join(', ')}`);
  }
  if (r.has('trigger')) job.delegated = `triggers a downstream pipeline${describeTrigger(r.value('trigger'))}`;
  else if (r.has('run')) job.delegated = 'uses CI/CD steps (run:), which need a GitLab Runner';
  if (job.delegated) {
    // The job runs elsewhere: scripts and containers from default: do not apply to it.
    job.beforeScript = [];
    job.afterScript = [];
    job.image = null;
    job.imageEntrypoint = null;
    job.services = [];
  }
  if (r.has('secrets')) {
    problems.info(r.entry('secrets')!.keyLoc, `${what}: secrets come from a secrets manager through GitLab; in a local run, give them as variables (.gitlab-ci-local-variables.yml or --variable)`);
  }
  const hasScript = r.has('script') && !isNull(r.entry('script')!.value);
  const missing = gaps?.templates ?? [];
  job.stageUnknown = stage === undefined && missing.length > 0;
  if (!job.delegated && gaps && gaps.unresolved.length > 0 && (!hasScript || (job.script.length === 0 && missing.length > 0))) {
    // The script is in an include that is not read here (a template it extends, or a job of the same name there).
    const where = unresolvedSource(gaps.unresolved);
    job.incomplete = `its script is defined in ${missing.length ? `${missing.map((t) => `"${t}"`).join(', ')} from ` : ''}${where}`;
    if (missing.length === 0) {
      problems.warn(
        entry.keyLoc,
        `${what} has no script in this file or its local includes; GitLab takes it from a job of the same name in ${where} ` +
          '(if none defines it, GitLab rejects the file: a job needs a script). The job is listed; it cannot run locally',
      );
    }
  } else if (!job.delegated && !hasScript) {
    r.fail(map.loc, 'a job needs a script (or trigger / run); add script: with the commands to run');
  } else if (hasScript && job.script.length === 0 && !job.delegated) {
    r.fail(r.at('script'), 'script is empty; give at least one command');
  }
  const inherit = r.value('inherit');
  if (inherit?.t === 'map') {
    const v = inherit.entries.get('variables')?.value;
    if (v && v.t === 'scalar' && typeof v.value === 'boolean') job.inheritVariables = v.value;
    else if (v && !isNull(v)) job.inheritVariables = readStringList(problems, v, `${what}: inherit:variables`) ?? true;
  }
  const when = r.string('when');
  if (when !== undefined) {
    if (when === 'never') r.fail(r.value('when')!, 'when:never can only be used in a rules section or workflow:rules');
    else if ((WHEN_VALUES as readonly string[]).includes(when)) job.when = when as GlWhen;
    else r.fail(r.value('when')!, `"when" must be one of on_success, on_failure, always, manual, delayed, not "${when}"`);
  }
  if (job.when === 'delayed' && !r.has('start_in')) r.fail(r.value('when')!, 'when: delayed needs start_in');
  const af = r.value('allow_failure');
  if (af) job.allowFailure = readAllowFailure(problems, af, what);
  job.retries = readRetry(r);
  const timeout = r.value('timeout');
  if (timeout) {
    const ms = timeout.t === 'scalar' && (typeof timeout.value === 'string' || typeof timeout.value === 'number') ? parseGitlabDuration(timeout.value) : null;
    if (ms === null) r.fail(timeout, `"timeout" must be a duration such as 30m, 1h 30m or 2 hours, not ${describeVal(timeout)}`);
    job.timeoutMs = ms;
  }
  const interruptible = r.value('interruptible');
  if (interruptible) r.bool('interruptible');
  const rules = readRules(problems, r.value('rules'), what, 'job');
  if (rules) job.rules = rules.map((rule) => ({ ...rule, parsedNeeds: rule.needs ? readNeeds(problems, rule.needs, what) : null }));
  if (r.has('rules') && (r.has('only') || r.has('except'))) {
    r.fail(r.entry('rules')!.keyLoc, 'rules cannot be used together with only/except');
  }
  const needs = r.entry('needs');
  if (needs) job.needs = readNeeds(problems, needs.value, what);
  readArtifacts(r, job);
  job.instances = readParallel(r, name);
  job.parallel = r.has('parallel');
  return job;
}

/** `# @Description text` in the comment block right above a job's key (gitlab-ci-local's list directive). */
function descriptionAbove(text: string | undefined, line: number): string | null {
  if (!text) return null;
  const lines = text.split('\n');
  for (let i = line - 2; i >= 0; i--) {
    const l = lines[i].trim();
    if (!l.startsWith('#')) break;
    const m = /^#\s*@Description\s+(.*)$/.exec(l);
    if (m) return m[1].trim();
  }
  return null;
}

function readScript(r: ValReader, key: string): ScriptLine[] {
  const v = r.value(key);
  if (!v) return [];
  const what = `${key} must be a string or a list of strings (nested lists up to ${MAX_SCRIPT_DEPTH} levels deep)`;
  if (v.t === 'scalar' && typeof v.value === 'string') return [{ text: v.value, loc: v.loc }];
  if (v.t !== 'seq') return r.fail(v, `${what}, not ${describeVal(v)}`) ?? [];
  const { items, depth } = flatten(v);
  if (depth > MAX_SCRIPT_DEPTH) return r.fail(v, `${what}; this one is ${depth} levels deep`) ?? [];
  const out: ScriptLine[] = [];
  for (const item of items) {
    if (item.t === 'scalar' && typeof item.value === 'string') out.push({ text: item.value, loc: item.loc });
    else r.fail(item, `${what}, not ${describeVal(item)}${item.t === 'map' ? ' (a command containing ": " must be quoted)' : ''}`);
  }
  return out;
}

function readNeeds(problems: Problems, v: Val, what: string): NeedDecl[] {
  if (isNull(v)) return [];
  if (v.t !== 'seq') {
    problems.error(v.loc, `${what}: needs must be a list of job names, not ${describeVal(v)}`);
    return [];
  }
  const out: NeedDecl[] = [];
  for (const item of flatten(v).items) {
    if (item.t === 'scalar') {
      if (item.value === null || item.value === '') problems.error(item.loc, `${what} needs: entries cannot be empty`);
      else out.push({ job: String(item.value), optional: false, matrix: null, expressions: MATRIX_EXPRESSION.test(String(item.value)), loc: item.loc });
      continue;
    }
    const r = ValReader.from(problems, item, `${what}: needs entry`, ['job', 'optional', 'artifacts', 'parallel', 'pipeline', 'project', 'ref']);
    if (!r) continue;
    if (r.has('project') || (r.has('pipeline') && !r.has('job'))) {
      problems.warn(item.loc, `${what}: needs on another ${r.has('project') ? 'project' : 'pipeline'} cannot be met locally; it is ignored`);
      continue;
    }
    if (r.has('pipeline')) {
      problems.warn(item.loc, `${what}: needs:pipeline (a job of the parent pipeline) cannot be met locally; it is ignored`);
      continue;
    }
    const job = r.string('job', { allowNumbers: true });
    if (!job) {
      r.fail(item, 'needs entry without "job"');
      continue;
    }
    r.bool('artifacts');
    const matrix = readMatrixSelector(r);
    const expressions = MATRIX_EXPRESSION.test(job) || (matrix ?? []).some((sel) => Object.values(sel).flat().some((v) => MATRIX_EXPRESSION.test(v)));
    out.push({ job, optional: r.bool('optional') ?? false, matrix, expressions, loc: r.at('job') });
  }
  return out;
}

function readMatrixSelector(r: ValReader): NeedDecl['matrix'] {
  const p = r.value('parallel');
  if (!p) return null;
  const pr = ValReader.from(r.problems, p, `${r.what}: parallel`, ['matrix']);
  const m = pr?.value('matrix');
  if (!m || m.t !== 'seq') {
    if (pr) pr.fail(p, 'needs:parallel must be { matrix: [ {NAME: value}, ... ] }');
    return null;
  }
  return m.items.flatMap((entry) => {
    const er = ValReader.from(r.problems, entry, `${r.what}: parallel:matrix entry`, null);
    if (!er) return [];
    return [Object.fromEntries([...er.map.entries.keys()].map((k) => [k, er.stringList(k) ?? []]))];
  });
}

function readParallel(r: ValReader, name: string): Instance[] {
  const v = r.value('parallel');
  if (!v) return [{ id: name, index: 1, total: 1, matrix: null }];
  if (v.t === 'scalar') {
    const n = r.int('parallel', 1, MAX_PARALLEL);
    if (n === undefined) return [{ id: name, index: 1, total: 1, matrix: null }];
    return Array.from({ length: n }, (_, i) => ({ id: `${name}: [${i + 1}/${n}]`, index: i + 1, total: n, matrix: null }));
  }
  const pr = ValReader.from(r.problems, v, `${r.what}: parallel`, ['matrix']);
  const m = pr?.value('matrix');
  if (!pr || !m || m.t !== 'seq') {
    if (pr) pr.fail(v, 'parallel must be a number of copies or { matrix: [ {NAME: [values]}, ... ] }');
    return [{ id: name, index: 1, total: 1, matrix: null }];
  }
  const combos: Record<string, string>[] = [];
  for (const entry of m.items) {
    const er = ValReader.from(r.problems, entry, `${r.what}: parallel:matrix entry`, null);
    if (!er) continue;
    let rows: Record<string, string>[] = [{}];
    for (const key of er.map.entries.keys()) {
      const values = er.stringList(key) ?? [];
      rows = rows.flatMap((row) => values.map((value) => ({ ...row, [key]: value })));
    }
    combos.push(...rows.filter((row) => Object.keys(row).length > 0));
  }
  if (combos.length > MAX_PARALLEL) {
    pr.fail(m, `parallel:matrix makes ${combos.length} jobs; GitLab allows at most ${MAX_PARALLEL}`);
    return [];
  }
  return combos.map((matrix, i) => ({ id: `${name}: [${Object.values(matrix).join(',')}]`, index: i + 1, total: combos.length, matrix }));
}

function readEnvironment(r: ValReader): EnvironmentDecl | null {
  const v = r.value('environment');
  if (!v) return null;
  if (v.t === 'scalar' && typeof v.value === 'string') return { name: v.value, url: null, action: 'start', tier: null, loc: v.loc };
  const er = ValReader.from(r.problems, v, `${r.what}: environment`, ['name', 'url', 'action', 'on_stop', 'auto_stop_in', 'kubernetes', 'deployment_tier']);
  if (!er) return null;
  const name = er.string('name');
  if (!name) {
    er.fail(v, '"name" is required');
    return null;
  }
  const action = er.string('action') ?? 'start';
  if (!['start', 'prepare', 'stop', 'verify', 'access'].includes(action)) er.fail(er.value('action')!, `"action" must be start, prepare, stop, verify or access, not "${action}"`);
  const tier = er.string('deployment_tier') ?? null;
  if (tier !== null && !(DEPLOYMENT_TIERS as readonly string[]).includes(tier)) {
    er.fail(er.value('deployment_tier')!, `"deployment_tier" must be one of ${DEPLOYMENT_TIERS.join(', ')}, not "${tier}"`);
  }
  return { name, url: er.string('url') ?? null, action, tier: tier !== null && (DEPLOYMENT_TIERS as readonly string[]).includes(tier) ? tier : null, loc: er.at('name') };
}

function imageName(r: ValReader, key: string): string | null {
  const v = r.value(key);
  if (!v) return null;
  if (v.t === 'scalar' && typeof v.value === 'string') return v.value;
  const ir = ValReader.from(r.problems, v, `${r.what}: ${key}`, null);
  return ir?.string('name') ?? null;
}

/** A service as written: `name` and its `alias`, `entrypoint`, `command` and `variables`. */
export interface ServiceRef {
  name: string;
  alias: string | null;
  entrypoint: string[] | null;
  command: string[] | null;
  variables: Record<string, string>;
}

function imageEntrypoint(r: ValReader): string[] | null {
  const v = r.value('image');
  if (!v || v.t !== 'map') return null;
  const ir = ValReader.from(r.problems, v, `${r.what}: image`, null);
  return ir?.stringList('entrypoint') ?? null;
}

function readServices(r: ValReader): ServiceRef[] {
  const v = r.value('services');
  if (!v) return [];
  if (v.t !== 'seq') return r.fail(v, `"services" must be a list, not ${describeVal(v)}`) ?? [];
  return flatten(v).items.flatMap((s): ServiceRef[] => {
    if (s.t === 'scalar' && typeof s.value === 'string') return [{ name: s.value, alias: null, entrypoint: null, command: null, variables: {} }];
    const sr = ValReader.from(r.problems, s, `${r.what}: service`, null);
    const n = sr?.string('name');
    if (!sr || !n) return [];
    const vars: Record<string, string> = {};
    const vv = sr.value('variables');
    if (vv?.t === 'map') {
      for (const [k, e] of vv.entries) {
        const val = e.value;
        if (val.t === 'scalar' && val.value !== null && typeof val.value !== 'object') vars[k] = String(val.value);
        else if (val.t === 'map') {
          const inner = val.entries.get('value')?.value;
          if (inner?.t === 'scalar' && inner.value !== null) vars[k] = String(inner.value);
        }
      }
    }
    return [{ name: n, alias: sr.string('alias') ?? null, entrypoint: sr.stringList('entrypoint') ?? null, command: sr.stringList('command') ?? null, variables: vars }];
  });
}

/**
 * The host names a job reaches a service by, as GitLab makes them: the image name without tag or digest with `/`
 * made `__` and `-`, and its `alias` (comma-separated aliases allowed) besides.
 */
export function serviceAliases(svc: ServiceRef): string[] {
  const bare = svc.name.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const given = (svc.alias ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  return [...new Set([bare.replace(/\//g, '__'), bare.replace(/\//g, '-'), ...given])];
}

function describeTrigger(v: Val | undefined): string {
  if (v?.t === 'scalar' && typeof v.value === 'string') return ` (project ${v.value})`;
  if (v?.t === 'map') {
    const p = v.entries.get('project')?.value;
    if (p?.t === 'scalar' && p.value !== null) return ` (project ${String(p.value)})`;
    if (v.entries.has('include')) return ' (child pipeline)';
  }
  return '';
}

function readRetry(r: ValReader): number {
  const v = r.value('retry');
  if (!v) return 0;
  if (v.t === 'scalar') return r.int('retry', 0, 2) ?? 0;
  const rr = ValReader.from(r.problems, v, `${r.what}: retry`, ['max', 'when', 'exit_codes']);
  if (!rr) return 0;
  const max = rr.int('max', 0, 2) ?? 0;
  const when = rr.stringList('when');
  // A local run only sees script failures; retry rules that exclude them do not retry here.
  if (when && !when.some((w) => w === 'always' || w === 'script_failure' || w === 'unknown_failure')) return 0;
  return max;
}

function readArtifacts(r: ValReader, job: GitlabJob): void {
  const v = r.value('artifacts');
  if (!v) return;
  const ar = ValReader.from(r.problems, v, `${r.what}: artifacts`, null);
  if (!ar) return;
  job.artifacts = ar.stringList('paths') ?? [];
  const reports = ar.value('reports');
  if (reports?.t === 'map') {
    const junit = reports.entries.get('junit')?.value;
    if (junit && !isNull(junit)) job.junit = readStringList(r.problems, junit, `${r.what}: artifacts:reports:junit`) ?? [];
  }
}

/** `$[[ matrix.NAME ]]` (GitLab 18.6): the needing job's own matrix value, in its `needs:`. */
const MATRIX_EXPRESSION = /\$\[\[\s*matrix\.([A-Za-z0-9_-]+)\s*\]\]/;
const MATRIX_EXPRESSIONS = new RegExp(MATRIX_EXPRESSION.source, 'g');

/** Matrix instance names with or without spaces after commas (GitLab writes `[a, b]`, gitlab-ci-local `[a,b]`). */
export function normalInstanceName(name: string): string {
  return name.replace(/,\s+/g, ',');
}

/** Whether a matrix instance is chosen by a `needs:parallel:matrix` selector (a partial selector matches too). */
export function matchesSelector(instance: Instance, selector: Record<string, string[]>[]): boolean {
  if (!instance.matrix) return false;
  return selector.some((sel) => Object.entries(sel).every(([k, values]) => instance.matrix![k] !== undefined && values.includes(instance.matrix![k])));
}

export interface NeedIndex {
  jobs: Map<string, GitlabJob>;
  /** Every instance of a parallel job by its full name (normalInstanceName), GitLab's `job 1/3` form included. */
  instances: Map<string, { job: GitlabJob; instance: Instance }>;
}

export function needIndex(jobs: readonly GitlabJob[]): NeedIndex {
  const index: NeedIndex = { jobs: new Map(jobs.map((j) => [j.name, j])), instances: new Map() };
  for (const job of jobs) {
    if (!job.parallel) continue;
    for (const instance of job.instances) {
      index.instances.set(normalInstanceName(instance.id), { job, instance });
      if (!instance.matrix) index.instances.set(`${job.name} ${instance.index}/${instance.total}`, { job, instance });
    }
  }
  return index;
}

/**
 * What one need of one instance names: the job and which of its instances. `$[[ matrix.NAME ]]` takes the needing
 * instance's values (GitLab interpolates only in jobs with a parallel:matrix); a name may be a whole job or one
 * instance of a parallel job by its full name.
 */
export function resolveNeed(need: NeedDecl, from: Instance, index: NeedIndex): { name: string; job: GitlabJob | null; instances: Instance[]; error: string | null } {
  let error: string | null = null;
  const sub = (s: string): string => {
    if (!from.matrix || !s.includes('$[[')) return s;
    return s.replace(MATRIX_EXPRESSIONS, (m, name: string) => {
      if (from.matrix![name] !== undefined) return from.matrix![name];
      error ??= `'${name}' does not exist in matrix configuration (the job's parallel:matrix has ${Object.keys(from.matrix!).join(', ')})`;
      return m;
    });
  };
  if (need.expressions && !from.matrix) {
    return { name: need.job, job: null, instances: [], error: 'uses $[[ matrix.NAME ]] in needs, but has no parallel:matrix of its own' };
  }
  const name = sub(need.job);
  const selector = need.matrix?.map((sel) => Object.fromEntries(Object.entries(sel).map(([k, values]) => [k, values.map(sub)])));
  if (error) return { name, job: null, instances: [], error };
  const job = index.jobs.get(name);
  if (job) return { name, job, instances: selector ? job.instances.filter((i) => matchesSelector(i, selector)) : job.instances, error: null };
  const one = index.instances.get(normalInstanceName(name));
  if (one) return { name, job: one.job, instances: [one.instance], error: null };
  return { name, job: null, instances: [], error: null };
}
