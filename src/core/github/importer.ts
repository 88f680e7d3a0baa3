// GitHub Actions workflows (.github/workflows/*.yml|yaml): one pipeline per workflow. Jobs are listed as written
// (a matrix job once; it is expanded when a run is planned); what cannot run on this machine carries the reason.
import type { JobDef, PipelineDef, Problem, StepDef } from '../../shared/model';
import type { ImportContext, ImportedPipeline, Importer, ImportResult, SourceFile } from '../sources';
import { actionFiles, isNodeRuntime, parseUses, remoteActionPlan } from './actions';
import type { GithubRunOptions } from './context';
import { planWorkflow } from './plan';
import { isLocalCall, remoteCall } from './reusable';
import { runParameters } from './runInputs';
import { backgroundStepsReason, readAction, readWorkflow, stepLabel, type Workflow, type WorkflowJob, type WorkflowStep } from './workflow';
import { jobJunitReports } from './testReports';

export type { GithubRunOptions } from './context';

export interface GithubPipeline extends ImportedPipeline {
  /** The events the workflow listens to (`on:`). */
  events: string[];
}

export interface GithubImportResult extends ImportResult {
  pipelines: GithubPipeline[];
}

/** How deep the import follows local actions that use local actions. */
const MAX_INSPECT_DEPTH = 5;

export function createGithubImporter(opts: GithubRunOptions = {}): Importer {
  return {
    kind: 'github',
    patterns: ['.github/workflows/*.yml', '.github/workflows/*.yaml'],
    matches: (rel) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(rel),
    parse: (file, ctx) => importWorkflow(file, ctx, opts),
  };
}

export const githubImporter: Importer = createGithubImporter();

export async function importWorkflow(file: SourceFile, ctx: ImportContext, opts: GithubRunOptions = {}): Promise<GithubImportResult> {
  const { workflow, f } = readWorkflow(file.path, file.text);
  const problems: Problem[] = f.problems;
  const dependsOn = new Set<string>();
  if (!workflow) return { pipelines: [], environments: [], problems: f.sortedProblems(), dependsOn: [] };
  const jobs: JobDef[] = [];
  for (const job of workflow.jobs) jobs.push(await jobDef(workflow, job, ctx, problems, dependsOn));
  const def: PipelineDef = {
    id: workflow.id,
    name: workflow.name,
    source: { kind: 'github', file: file.path },
    stages: null,
    env: workflow.env,
    jobs,
    location: workflow.location,
    runParameters: runParameters(workflow),
  };
  const hasErrors = problems.some((p) => p.severity === 'error' && p.file === file.path);
  const pipeline: GithubPipeline = {
    def,
    events: workflow.events,
    plan: (request, planCtx) =>
      hasErrors ? { error: `${file.path} has errors; fix them first (see Problems)` } : planWorkflow(workflow, jobs, request, planCtx, opts),
  };
  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return { pipelines: [pipeline], environments: [], problems, dependsOn: [...dependsOn].sort() };
}

async function jobDef(wf: Workflow, job: WorkflowJob, ctx: ImportContext, problems: Problem[], dependsOn: Set<string>): Promise<JobDef> {
  const reasons: string[] = [];
  // A reusable workflow of another repository is fetched when a run is planned, never to list the job.
  if (job.uses !== null && !isLocalCall(job.uses)) {
    const call = remoteCall(job.uses);
    if ('invalid' in call) reasons.push(call.invalid);
  }
  const background = backgroundStepsReason(job);
  if (background) reasons.push(background);
  if (job.container) reasons.push(`needs Docker image ${job.container} (the job runs in a container)`);
  if (job.services.length) {
    reasons.push(`needs service container${job.services.length === 1 ? '' : 's'} ${job.services.map((s) => s.image ?? s.name).join(', ')}`);
  }
  const steps: StepDef[] = [];
  for (const s of job.steps) steps.push(await stepDef(s, ctx, problems, dependsOn));
  return {
    id: job.id,
    name: job.name ?? job.id,
    stage: null,
    needs: job.needs,
    when: null,
    allowFailure: job.continueOnError === true,
    retries: 0,
    timeoutMs: typeof job.timeoutMinutes === 'number' ? Math.round(job.timeoutMinutes * 60_000) : null,
    cwd: job.defaults.workingDirectory ?? wf.defaults.workingDirectory,
    shell: job.defaults.shell ?? wf.defaults.shell,
    env: job.env,
    matrix: job.matrix !== null,
    uses: job.uses,
    environment: job.environment,
    steps,
    reports: { junit: jobJunitReports(job.steps) },
    artifacts: [],
    unsupported: reasons.length ? reasons.join('; ') : null,
    if: job.if,
    location: job.location,
  };
}

async function stepDef(s: WorkflowStep, ctx: ImportContext, problems: Problem[], dependsOn: Set<string>): Promise<StepDef> {
  const name = stepLabel(s);
  const def: StepDef = { name, kind: s.run !== null ? 'run' : 'uses', script: s.run, uses: s.uses, unsupported: null, location: s.location };
  if (s.uses === null) return def;
  const ref = parseUses(s.uses);
  if (ref.kind === 'invalid') {
    problems.push(problemAt(s, 'error', `step "${name}": ${ref.reason}`));
    def.unsupported = ref.reason;
  } else if (ref.kind !== 'local') {
    const plan = remoteActionPlan(ref, s.with);
    def.unsupported = 'unsupported' in plan ? plan.unsupported : null;
  } else {
    const found = await inspectLocalAction(ref.path, ctx, dependsOn, problems, 0, new Set());
    def.unsupported = found.unsupported;
    if (found.refused) problems.push(problemAt(s, 'error', `step "${name}": ${found.unsupported}`));
    for (const why of found.nested) problems.push(problemAt(s, 'info', `step "${name}" (${s.uses}) has a step that cannot run locally: ${why}`));
  }
  return def;
}

/**
 * Reads a local action now, to list what it is (the run reads it again when the step starts: an earlier step may
 * write it). Missing files are not a problem here for that reason.
 */
async function inspectLocalAction(
  dir: string,
  ctx: ImportContext,
  dependsOn: Set<string>,
  problems: Problem[],
  depth: number,
  seen: Set<string>,
): Promise<{ unsupported: string | null; nested: string[]; refused?: boolean }> {
  const files = actionFiles(dir);
  for (const f of files) dependsOn.add(f);
  if (seen.has(dir) || depth > MAX_INSPECT_DEPTH) return { unsupported: null, nested: [] };
  seen.add(dir);
  let file: string | null = null;
  let text: string | null = null;
  for (const f of files) {
    try {
      text = await ctx.readFile(f);
    } catch (e) {
      // A symlink out of the repository, a FIFO, a huge file: the step cannot run, whatever the file says.
      return { unsupported: `action ./${dir}: ${(e as Error).message}`, nested: [], refused: true };
    }
    if (text !== null) {
      file = f;
      break;
    }
  }
  if (file === null || text === null) return { unsupported: null, nested: [] };
  const { action, f } = readAction(file, text);
  // The action's own problems are warnings: only the steps that use it depend on it.
  for (const p of f.problems) problems.push({ ...p, severity: p.severity === 'error' ? 'warning' : p.severity });
  if (!action) return { unsupported: null, nested: [] };
  // A Docker action runs in a container (when a container engine answers: decided when the step starts).
  if (action.using === 'docker') return { unsupported: null, nested: [] };
  if (/^node\d*$/.test(action.using) && !isNodeRuntime(action.using)) return { unsupported: `uses a JavaScript action (./${dir}: runs.using ${action.using}, which GitHub no longer runs)`, nested: [] };
  const nested: string[] = [];
  for (const s of action.steps) {
    if (s.uses === null) continue;
    const ref = parseUses(s.uses);
    if (ref.kind === 'local') {
      const inner = await inspectLocalAction(ref.path, ctx, dependsOn, problems, depth + 1, seen);
      if (inner.unsupported) nested.push(inner.unsupported);
      nested.push(...inner.nested);
    } else {
      const plan = remoteActionPlan(ref, s.with);
      if ('unsupported' in plan) nested.push(plan.unsupported);
    }
  }
  return { unsupported: null, nested };
}

function problemAt(s: WorkflowStep, severity: Problem['severity'], message: string): Problem {
  const { file, line, column } = s.location;
  return { file, line, column, endLine: line, endColumn: column + 1, severity, message };
}
