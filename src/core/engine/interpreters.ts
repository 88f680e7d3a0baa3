// What gives a plan (data) life while it runs: step interpreters as a registry typed by the step's kind (the
// compiler asks for a missing one), job gates and expanders typed the same way, and the run's runtime state — made
// when the run starts (a GitHub workflow's contexts, outputs and fail-fast) and per job attempt when it starts (its
// steps' env, path, outputs, pre failures): never captured in the plan.
import type { DepState, JobExpansion, JobGate, LiveStep, PlannedJob, PlannedStep, RunPlan, StepContext, StepKind, StepRun } from './plan';
import type { PlanIO } from '../sources';
import { GITHUB_STEP_INTERPRETERS, openGithubRun, type GithubJobState, type GithubRuntime } from '../github/runtime';

/** What the runtime needs from the outside world: the planner's I/O (step files, actions), new job workspaces. */
export interface RuntimePorts {
  io?: PlanIO;
  /** Where a job made while the run goes (a GitHub matrix from needs' outputs) gets its own workspace. */
  workspaceFor?: (jobId: string) => string | null;
}

/** One attempt of a job as its steps' interpreters see it when it starts. */
export interface OpenedJob {
  job: PlannedJob;
  run: RunRuntime;
  ctx: StepContext;
  /** "Set up job": work the interpreters ask for before the first step (GitHub: fetch actions, their `pre:`), in order. */
  setup: (() => Promise<JobSetup>)[];
  /** The GitHub state of this attempt, made by the first GitHub step opened. */
  github?: GithubJobState;
  /** Work the interpreters ask for when the attempt has ended and its processes are gone (scratch folders given back). */
  teardown: (() => void)[];
}

/** What setting up a job gave: steps to run before the job's own (GitHub `pre:` scripts), lines for its log. */
export interface JobSetup {
  steps: LiveStep[];
  notes: string[];
}

export interface StepInterpreter<K extends StepKind> {
  /** The live step this planned step is in this job attempt. */
  open(run: Extract<StepRun, { kind: K }>, step: PlannedStep, job: OpenedJob): LiveStep;
}

export type GateDecision = { run: true } | { run: false; reason: string } | { error: string };
export type ExpandResult = { jobs: PlannedJob[] } | { error: string };

const live = (s: PlannedStep) => ({ name: s.name, when: s.when, continueOnError: s.continueOnError, timeoutMs: s.timeoutMs });

export const STEP_INTERPRETERS: { [K in StepKind]: StepInterpreter<K> } = {
  command: { open: (r, s) => ({ ...live(s), command: r.command, unsupported: null, noop: null }) },
  noop: { open: (r, s) => ({ ...live(s), command: null, unsupported: null, noop: r.note }) },
  unsupported: { open: (r, s) => ({ ...live(s), command: null, unsupported: r.reason, noop: null }) },
  'gitlab-after-script': {
    open: (r, s) => ({
      ...live(s),
      command: (ctx) => ({ ...r.command, env: { ...r.command.env, [r.statusVariable]: ctx.cancelled ? 'canceled' : ctx.failed ? 'failed' : 'success' } }),
      unsupported: null,
      noop: null,
    }),
  },
  ...GITHUB_STEP_INTERPRETERS,
};

export const JOB_GATES: { [K in JobGate['kind']]: (gate: Extract<JobGate, { kind: K }>, job: PlannedJob, deps: Record<string, DepState>, run: RunRuntime) => GateDecision } = {
  skip: (g) => ({ run: false, reason: g.reason }),
  github: (_g, job, deps, run) => run.github().gate(job.id, deps),
};

export const JOB_EXPANDERS: { [K in JobExpansion['kind']]: (e: Extract<JobExpansion, { kind: K }>, job: PlannedJob, deps: Record<string, DepState>, run: RunRuntime) => ExpandResult } = {
  'github-matrix': (_e, job, deps, run) => run.github().expand(job.id, deps),
};

/** The runtime of one run of a plan: made when the run starts, per-source state made when first needed. */
export class RunRuntime {
  private githubRuntime: GithubRuntime | null = null;

  constructor(
    readonly plan: RunPlan,
    readonly ports: RuntimePorts,
  ) {}

  /** The run's GitHub runtime (its workflow runs, jobs and their shared state). */
  github(): GithubRuntime {
    if (!this.githubRuntime) {
      if (!this.plan.github) throw new Error('this plan has GitHub steps but no GitHub workflow to run them with');
      this.githubRuntime = openGithubRun(this.plan.github, this.ports);
    }
    return this.githubRuntime;
  }

  /** The job's gate over the jobs it waits for; null when it has none (its `when` decides). */
  gate(job: PlannedJob, deps: Record<string, DepState>): GateDecision | null {
    const g = job.gate;
    if (!g) return null;
    try {
      return (JOB_GATES[g.kind] as (g: JobGate, job: PlannedJob, deps: Record<string, DepState>, run: RunRuntime) => GateDecision)(g, job, deps, this);
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  expand(job: PlannedJob, deps: Record<string, DepState>): ExpandResult {
    const x = job.expand;
    if (!x) return { error: `job "${job.id}" does not expand` };
    try {
      return (JOB_EXPANDERS[x.kind] as (e: JobExpansion, job: PlannedJob, deps: Record<string, DepState>, run: RunRuntime) => ExpandResult)(x, job, deps, this);
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  /** Opens a job attempt: its steps as live steps, and what setting it up gave (steps to run first, notes). */
  async openJob(job: PlannedJob, ctx: StepContext): Promise<{ steps: LiveStep[]; setup: JobSetup; close: () => void }> {
    const opened: OpenedJob = { job, run: this, ctx, setup: [], teardown: [] };
    const close = () => {
      for (const f of opened.teardown.splice(0)) f();
    };
    const steps = job.steps.map((s) => openStep(s, opened));
    const setup: JobSetup = { steps: [], notes: [] };
    for (const f of opened.setup) {
      const r = await f();
      setup.steps.push(...r.steps);
      setup.notes.push(...r.notes);
    }
    return { steps, setup, close };
  }
}

/** A planned step as a live step of this job attempt, by its kind's interpreter. */
export function openStep(step: PlannedStep, job: OpenedJob): LiveStep {
  const interpreter = STEP_INTERPRETERS[step.run.kind] as StepInterpreter<StepKind> as { open(run: StepRun, step: PlannedStep, job: OpenedJob): LiveStep };
  return interpreter.open(step.run, step, job);
}
