// The GitHub runtime of one run: made from the plan's GithubProgram (data) when the run starts — its workflow runs,
// their jobs, the state they share (fail-fast, outputs, failures upstream) — and, per job attempt, the state its
// steps share (steps context, GITHUB_ENV, GITHUB_PATH, actions set up). The GitHub step interpreters open planned
// steps (planData.ts) as live steps of that state.
import type { GateDecision, OpenedJob, RuntimePorts, StepInterpreter } from '../engine/interpreters';
import type { DepState, PlannedJob, StepContext } from '../engine/plan';
import type { PlanContext } from '../sources';
import { runFacts } from './context';
import { WorkflowRun, type JobRun } from './job';
import { calledWorkflows, planJobs } from './plan';
import type { GithubProgram, GithubStepKind } from './planData';
import { openStep, setUpJob, type GithubPlannedStep, type PreparedActions } from './steps';

export interface GithubRuntime {
  /** The job's `if:` over the jobs it needs, fail-fast. */
  gate(jobId: string, deps: Record<string, DepState>): GateDecision;
  /** A matrix known from needs' outputs, as its jobs. */
  expand(jobId: string, deps: Record<string, DepState>): { jobs: PlannedJob[] } | { error: string };
  job(jobId: string): JobRun;
}

/** The GitHub state of one job attempt. */
export interface GithubJobState {
  jr: JobRun;
  prepared: PreparedActions;
}

/** Makes the run's GitHub runtime: the workflow runs and jobs the plan was made of, with the run's ports. */
export function openGithubRun(program: GithubProgram, ports: RuntimePorts): GithubRuntime {
  const planned = program.workspaces;
  const ctx: PlanContext = {
    ...program.context,
    ...(ports.io ? { io: ports.io } : {}),
    // The workspaces the plan gave its jobs; a job made while the run goes gets a new one.
    ...(planned ? { workspaceFor: (id: string) => (Object.hasOwn(planned, id) ? planned[id] : (ports.workspaceFor?.(id) ?? null)) } : {}),
  };
  const wf = program.workflow;
  const run = new WorkflowRun(wf, ctx, program.request, runFacts(wf, ctx, program.variables, program.options, String(ctx.now)));
  const entries = program.entries.map((e) => {
    const wj = wf.jobs.find((j) => j.id === e.job);
    if (!wj) throw new Error(`the plan names job "${e.job}", which ${wf.file} does not have`);
    return { wj, deps: e.deps };
  });
  planJobs(run, entries, calledWorkflows(program.called));
  const job = (id: string): JobRun => {
    const jr = run.jobRuns.get(id);
    if (!jr) throw new Error(`job "${id}" is not part of this run of ${wf.file}`);
    return jr;
  };
  return {
    gate: (id, deps) => job(id).condition(deps),
    expand: (id, deps) => {
      const group = run.groups.get(id);
      return group ? group(deps) : { error: `job "${id}" is not a matrix known from needs in this run of ${wf.file}` };
    },
    job,
  };
}

/** The GitHub state of a job attempt: made when its first GitHub step is opened, with a "set up job" step. */
function githubJob(opened: OpenedJob): GithubJobState {
  if (opened.github) return opened.github;
  const jr = opened.run.github().job(opened.job.id);
  const state: GithubJobState = { jr, prepared: { resolved: new Map(), shared: new Map() } };
  opened.github = state;
  opened.setup.push(() => setUpJob(jr, opened.job.steps, opened.ctx, state.prepared));
  opened.teardown.push(() => jr.release(opened.ctx));
  return state;
}

const interpreter = <K extends GithubStepKind>(): StepInterpreter<K> => ({
  open: (_run, step, opened) => {
    const { jr, prepared } = githubJob(opened);
    return openStep(jr, step as GithubPlannedStep, (ctx: StepContext) => jr.attempt(ctx).top, prepared);
  },
});

export const GITHUB_STEP_INTERPRETERS: { [K in GithubStepKind]: StepInterpreter<K> } = {
  'github-run': interpreter(),
  'github-action': interpreter(),
  'github-docker': interpreter(),
  'github-setup': interpreter(),
  'github-inert': interpreter(),
};
