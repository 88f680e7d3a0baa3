// GitLab CI (.gitlab-ci.yml, with its local includes): one pipeline per file.
// Importing reads the file as it would be before any run (jobs, stages, located problems). Planning reads it
// again with the run's git facts and variables — include:rules, workflow:rules and job rules depend on them —
// and plans the jobs for the local shell, as gitlab-ci-local's shell executor does.
import type { JobDef, PipelineDef, Problem, StepDef, When } from '../../shared/model';
import type { RunPlan } from '../engine/plan';
import type { RunRequest } from '../engine/select';
import type { ImportContext, ImportedPipeline, Importer, ImportResult, PlanContext, SourceFile } from '../sources';
import { readConfig, type GitlabConfig } from './config';
import { needIndex, resolveNeed, type GitlabJob } from './job';
import { loadConfig } from './load';
import { buildPlan, selectJobs, type SelectedJob } from './plan';
import { pipelineVariables, staticVariables } from './predefined';
import { PROJECT_VARIABLES_FILE, readProjectVariables, scopedValue, type ProjectVariable } from './projectVariables';
import { resolvePipeline, type ResolvedJob } from './resolve';
import { expandKnown } from './variables';
import { fileLoc, Problems } from './yaml';

export const GITLAB_CI_FILE = '.gitlab-ci.yml';
export const GITLAB_PIPELINE_ID = 'gitlab-ci';

export const gitlabImporter: Importer = {
  kind: 'gitlab',
  patterns: [GITLAB_CI_FILE],
  matches: (rel) => rel === GITLAB_CI_FILE,
  parse: (file, ctx) => importGitlabCi(file, ctx),
  // A run reads the file again to plan (prepare): importing it first as well would parse it twice.
  revive: (def, file, ctx) => new GitlabPipeline(def, { path: file, text: null }, ctx),
};

/** What a run of the pipeline would be, before it starts: the plan and the jobs as resolved for it. */
export interface PreparedRun {
  plan: RunPlan;
  /** Every job of the pipeline for this run, including those its rules leave out (see `excluded`). */
  jobs: ResolvedJob[];
  selected: SelectedJob[];
  /** Problems found while reading the files for this run (warnings and infos; errors stop the run). */
  problems: Problem[];
}

export class GitlabPipeline implements ImportedPipeline {
  constructor(
    readonly def: PipelineDef,
    /** The file as imported (its text: what a run uses if the file is gone by then; null when not at hand). */
    private readonly file: SourceFile | { path: string; text: null },
    private readonly files: ImportContext,
  ) {}

  async plan(request: RunRequest, ctx: PlanContext): Promise<RunPlan | { error: string }> {
    const prepared = await this.prepare(request, ctx);
    return 'error' in prepared ? { error: prepared.error } : prepared.plan;
  }

  /** Reads the pipeline for this run and plans it (the files are read again: a run uses what is on disk now). */
  async prepare(request: RunRequest, ctx: PlanContext): Promise<PreparedRun | { error: string; problems: Problem[] }> {
    const problems = new Problems();
    let text: string | null;
    try {
      text = (await this.files.readFile(this.file.path)) ?? this.file.text;
      if (text === null) throw new Error(`${this.file.path} no longer exists`);
    } catch (e) {
      // The file became a symlink out of the project, a FIFO... since it was listed: nothing runs.
      problems.error(fileLoc(this.file.path), (e as Error).message);
      return { error: (e as Error).message, problems: problems.list };
    }
    const project = await readProjectFile(this.files, problems);
    const pipelineId = Math.floor(ctx.now / 1000) % 1_000_000_000;
    const predefined = pipelineVariables({ folder: ctx.folder, configPath: this.file.path, git: ctx.git, pipelineId, now: ctx.now });
    // Secrets given for the run (--secret, the editor's stored secrets) are CI/CD variables, masked in the output.
    const given = { ...ctx.variables, ...request.secrets, ...request.variables };
    const unset = request.unsetVariables ?? [];
    const includeVars: Record<string, string> = { ...predefined, ...projectDefaults(project), ...given };
    for (const u of unset) delete includeVars[u];
    const repositoryVariables = new Set(Object.keys(projectDefaults(project)));
    const runVariables = new Set(Object.keys(given));
    const loaded = await loadConfig(
      { path: this.file.path, text },
      { readFile: this.files.readFile, listFiles: this.files.listFiles, variables: includeVars, preview: false, repositoryVariables, runVariables },
      problems,
    );
    const config = readConfig(loaded, problems);
    if (!config || problems.hasErrors) return { error: errorSummary(this.file.path, problems.list), problems: problems.list };
    const resolved = await resolvePipeline(config, {
      predefined,
      project,
      given,
      unset,
      refs: { ref: predefined.CI_COMMIT_REF_NAME, isTag: predefined.CI_COMMIT_TAG !== undefined, source: predefined.CI_PIPELINE_SOURCE },
      exists: async (patterns) => (await Promise.all(patterns.map((p) => this.files.listFiles(p)))).some((l) => l.length > 0),
    });
    if ('error' in resolved) return { error: resolved.error, problems: problems.list };
    const selection = selectJobs(resolved.jobs, request);
    if ('error' in selection) return { error: selection.error, problems: problems.list };
    const fileVariablePaths = new Map<string, Record<string, string>>();
    for (const { job } of selection.jobs) {
      const entries = Object.entries(job.fileVariables);
      if (entries.length === 0) continue;
      if (!ctx.io) return { error: `${PROJECT_VARIABLES_FILE} has file variables (type: file), which need a scratch folder`, problems: problems.list };
      const dir = await ctx.io.tempDir('gitlab-file-variables-');
      const paths: Record<string, string> = {};
      for (const [name, value] of entries) {
        const p = `${dir}/${name}`;
        await ctx.io.writeText(p, value);
        paths[name] = p;
      }
      fileVariablePaths.set(job.id, paths);
    }
    const plan = buildPlan(selection.jobs, {
      folder: ctx.folder,
      pipelineId: this.def.id,
      pipelineName: resolved.name ?? this.def.name,
      source: this.def.source,
      stages: config.stages,
      forceShellExecutor: request.forceShellExecutor === true,
      fileVariablePaths,
      // Jobs run in the folder (gitlab-ci-local's default) unless the run isolates them (its --shell-isolation).
      workspaceFor: ctx.workspace === 'isolated' ? ctx.workspaceFor : undefined,
    });
    return { plan, jobs: resolved.jobs, selected: selection.jobs, problems: problems.list };
  }
}

/** Reads a GitLab CI file (any name: the CLI may name another one) into its pipeline. */
export async function importGitlabCi(file: SourceFile, ctx: ImportContext): Promise<ImportResult & { pipelines: GitlabPipeline[] }> {
  const problems = new Problems();
  const project = await readProjectFile(ctx, problems);
  const variables = { ...staticVariables(file.path), ...projectDefaults(project) };
  const repositoryVariables = new Set(Object.keys(projectDefaults(project)));
  const loaded = await loadConfig(file, { readFile: ctx.readFile, listFiles: ctx.listFiles, variables, preview: true, repositoryVariables }, problems);
  const config = readConfig(loaded, problems);
  const dependsOn = [...new Set([...loaded.included, PROJECT_VARIABLES_FILE])].filter((f) => f !== file.path);
  const result = { pipelines: [] as GitlabPipeline[], environments: [], problems: sortProblems(problems.list), dependsOn };
  if (!config) return result;
  const def: PipelineDef = {
    id: GITLAB_PIPELINE_ID,
    name: config.workflow.name ? expandKnown(config.workflow.name, variables) : 'GitLab CI',
    source: { kind: 'gitlab', file: file.path },
    stages: config.stages,
    env: Object.fromEntries(config.variables.map((v) => [v.name, v.value])),
    jobs: jobDefs(config, variables),
    // Variables the scripts read that the file does not define: CI/CD variables of the project, which a run may be
    // given as secrets (--secret, Delivery: Set Secret).
    runParameters: { inputs: [], secrets: unknownVariables(config, variables) },
    location: { file: file.path, line: 1, column: 1 },
  };
  result.pipelines.push(new GitlabPipeline(def, file, ctx));
  return result;
}

function jobDefs(config: GitlabConfig, known: Record<string, string>): JobDef[] {
  const index = needIndex(config.jobs);
  const globals = Object.fromEntries(config.variables.map((v) => [v.name, v.value]));
  return config.jobs.flatMap((job) =>
    job.instances.map((instance): JobDef => {
      const env = { ...Object.fromEntries(job.variables.map((v) => [v.name, v.value])), ...instance.matrix };
      const vars = { ...known, ...globals, ...env };
      const needs = (job.needs ?? []).flatMap((n) => resolveNeed(n, instance, index).instances.map((i) => i.id));
      return {
        id: instance.id,
        name: instance.id,
        stage: job.stage,
        needs,
        when: defWhen(job),
        allowFailure: job.allowFailure?.allowed ?? (job.when === 'manual' && !job.rules),
        retries: job.retries,
        timeoutMs: job.timeoutMs,
        cwd: null,
        shell: 'bash',
        env,
        matrix: job.parallel,
        uses: null,
        environment: job.environment ? { name: expandKnown(job.environment.name, vars), url: job.environment.url === null ? null : expandKnown(job.environment.url, vars) } : null,
        steps: stepDefs(job),
        reports: { junit: job.junit },
        artifacts: job.artifacts,
        // Jobs with an image or services run in containers (or in the shell with --force-shell-executor).
        unsupported: job.delegated ?? job.incomplete ?? null,
        // GitLab expands variables in image and service names (`image: $FEDORA_IMAGE`).
        image: job.image && expandKnown(job.image, vars),
        ...(job.services.length ? { services: job.services.map((s) => expandKnown(s.name, vars)) } : {}),
        description: job.description,
        location: { file: job.loc.file, line: job.loc.line, column: job.loc.column },
      };
    }),
  );
}

function defWhen(job: GitlabJob): When | null {
  if (job.when === null || job.when === 'never') return null;
  return job.when === 'delayed' ? 'on_success' : job.when;
}

function stepDefs(job: GitlabJob): StepDef[] {
  return [...job.beforeScript, ...job.script, ...job.afterScript].map((l) => ({
    name: l.text,
    kind: 'script',
    script: l.text,
    uses: null,
    unsupported: null,
    location: { file: l.loc.file, line: l.loc.line, column: l.loc.column },
  }));
}

async function readProjectFile(ctx: ImportContext, problems: Problems): Promise<ProjectVariable[]> {
  let text: string | null;
  try {
    text = await ctx.readFile(PROJECT_VARIABLES_FILE);
  } catch (e) {
    problems.error(fileLoc(PROJECT_VARIABLES_FILE), (e as Error).message);
    return [];
  }
  return text === null ? [] : readProjectVariables(text, problems);
}

/** Project variables that apply to every environment (include paths and rules see these). */
function projectDefaults(project: readonly ProjectVariable[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of project) {
    const value = scopedValue(v, null);
    if (value !== undefined && !v.file) out[v.name] = value;
  }
  return out;
}

function sortProblems(list: Problem[]): Problem[] {
  return [...list].sort((a, b) => (a.file === b.file ? 0 : a.file < b.file ? -1 : 1) || a.line - b.line || a.column - b.column);
}

function errorSummary(file: string, problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length === 0) return `${file} could not be read`;
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more; see Problems)` : '';
  return `${file} has errors, so nothing runs: ${first.file}:${first.line}:${first.column}: ${first.message}${more}`;
}

/** Names of the shell's and the runner's own variables: never CI/CD variables of the project. */
const SHELL_VARIABLES = new Set(['HOME', 'PATH', 'PWD', 'OLDPWD', 'USER', 'SHELL', 'TERM', 'HOSTNAME', 'LANG', 'TMPDIR', 'IFS', 'RANDOM', 'SECONDS', 'LINENO', 'BASH_SOURCE', 'UID', 'EUID', 'PPID']);

/**
 * Variables the jobs' scripts read (`$NAME`, `${NAME}`) that neither the file, the project file nor GitLab defines
 * (CI_*, GITLAB_*) — what GitLab would take from the project's CI/CD variables.
 */
function unknownVariables(config: GitlabConfig, known: Record<string, string>): string[] {
  const defined = new Set([...Object.keys(known), ...config.variables.map((v) => v.name), ...config.jobs.flatMap((j) => [...j.variables.map((v) => v.name), ...j.instances.flatMap((i) => Object.keys(i.matrix ?? {}))])]);
  const out = new Set<string>();
  for (const job of config.jobs) {
    for (const line of [...job.beforeScript, ...job.script, ...job.afterScript]) {
      for (const m of line.text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = m[1];
        if (defined.has(name) || SHELL_VARIABLES.has(name) || /^(CI|GITLAB|DELIVERY|FF)_/.test(name) || name === 'CI' || name === 'GITLAB_CI') continue;
        out.add(name);
      }
    }
  }
  return [...out].sort();
}
