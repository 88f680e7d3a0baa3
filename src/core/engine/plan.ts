// A run plan: the concrete work of one run, produced from a pipeline definition by its source's planner. A plan is
// data (it survives JSON.stringify/parse): step and job interpreters (interpreters.ts) give it life when it runs.
import type { JobStatus, PipelineSource, When } from '../../shared/model';
import type { CommandSpec, ExecutorSpec, OutputStream, ProcessResult } from './ports';
import type { GithubProgram, GithubStepRun } from '../github/planData';
import type { ProblemMatcherRef } from '../problems/matchers';

export interface DepState {
  status: JobStatus;
  allowFailure: boolean;
  outputs: Record<string, string>;
}

export interface StepContext {
  /** True once a step of this job failed (without continue-on-error). */
  failed: boolean;
  cancelled: boolean;
  deps: Record<string, DepState>;
  /** Outputs collected so far by this job's steps. */
  outputs: Record<string, string>;
  attempt: number;
  /**
   * Steps to run when the job's steps are done, newest first (GitHub's post steps of JavaScript actions: their
   * own conditions decide, by default they run after a failure too). A step adds to it while it runs.
   */
  post?: LiveStep[];
  /**
   * JUnit report globs the steps named while they ran (a GitHub report action inside a composite action, or with
   * its path in an expression): read with the job's own `junit` when it ends.
   */
  reports?: string[];
}

/**
 * A step of a plan, as data (JSON: no functions, no class instances): what it runs is `run`, a kind the step
 * interpreters (STEP_INTERPRETERS, core/engine/interpreters.ts, a registry typed by kind) turn into a live step
 * when its job starts.
 */
export interface PlannedStep {
  name: string;
  /** Runs when: on_success (default: no earlier failure), on_failure, always. */
  when: 'on_success' | 'on_failure' | 'always';
  continueOnError: boolean;
  /** Kills the step (and fails it) after this long; null: only the job's timeout applies. */
  timeoutMs: number | null;
  run: StepRun;
}

/** What a planned step runs, by kind; the GitHub kinds are in core/github/planData.ts. */
export type StepRun =
  /** A command known when the run is planned. */
  | { kind: 'command'; command: CommandSpec }
  /** Does nothing locally, by design (e.g. a checkout of the workspace we already have); null: nothing to run. */
  | { kind: 'noop'; note: string | null }
  /** Cannot run here: reported, the job goes on. */
  | { kind: 'unsupported'; reason: string }
  /** GitLab after_script: the command, with the job's status so far in `statusVariable` (CI_JOB_STATUS). */
  | { kind: 'gitlab-after-script'; command: CommandSpec; statusVariable: string }
  | GithubStepRun;

export type StepKind = StepRun['kind'];

/**
 * A step while its job runs (what an interpreter makes of a PlannedStep): its command, or a function that builds
 * it when the step starts, and the hooks that see its output and result. Never part of a plan.
 */
export interface LiveStep {
  name: string;
  /** Runs when: on_success (default: no earlier failure), on_failure, always. */
  when: 'on_success' | 'on_failure' | 'always';
  /** The command, or a function that builds it when the step starts (for values known only at run time). */
  command: CommandSpec | ((ctx: StepContext) => StepCommand | Promise<StepCommand>) | null;
  /** Why this step cannot run here (it is reported, the job goes on). */
  unsupported: string | null;
  /** A step that does nothing locally, by design (e.g. a checkout of the workspace we already have). */
  noop: string | null;
  continueOnError: boolean;
  /** Extra decision on top of `when` (GitHub `if:`): true to run, false to skip, a string to skip with that reason. */
  condition?: (ctx: StepContext) => boolean | string;
  /** Called after the step with its result, e.g. to read outputs the step wrote; a string fails the step with that reason. */
  after?: (result: ProcessResult, ctx: StepContext) => Promise<void | string> | void | string;
  /** Sees every output line of the step (GitHub workflow commands such as `::set-output`). */
  onLine?: (stream: OutputStream, text: string, ctx: StepContext) => void;
  /** Kills the step (and fails it) after this long; null or absent: only the job's timeout applies. */
  timeoutMs?: number | null;
  /**
   * Replaces the step, when it is due to run, by the steps it stands for (a local composite action, read when the
   * step starts because an earlier step may have written it). The step's record then sums up its sub-steps, whose
   * records follow it; `after` is called once they are done (exit code 0 when none failed, else 1).
   */
  expand?: (ctx: StepContext) => StepExpansion | Promise<StepExpansion>;
}

/** `notes`: lines for the step's log before it starts (what differs from CI). */
export type StepCommand = (CommandSpec & { notes?: string[] }) | { skip: string } | { error: string };

/**
 * `replace`: one step that runs as this step itself (its record is this step's; the outer `after` is not called).
 * `notes`: lines for the job's log (where an action came from, what differs from CI).
 * `unsupported` with `stopsJob`: what the job's later steps need is missing here (the toolchain version a setup step
 * asks for), so they do not run and the job is unsupported locally: run with another version, they would answer
 * for a job CI does not run.
 */
export type StepExpansion =
  | { steps: LiveStep[]; notes?: string[] }
  | { replace: LiveStep; notes?: string[] }
  | { error: string }
  | { unsupported: string; stopsJob?: boolean };

/** What decides whether a job runs, over the jobs it waits for, instead of its `when` (data; see JOB_GATES). */
export type JobGate =
  /** Never runs in this run (a GitLab job that rules exclude), with the reason. */
  | { kind: 'skip'; reason: string }
  /** The job's GitHub `if:` and fail-fast, evaluated by the run's GitHub runtime. */
  | { kind: 'github' };

/** How a job becomes the jobs it stands for once it is due (data; see JOB_EXPANDERS). */
export type JobExpansion =
  /** A GitHub matrix computed from a needed job's outputs. */
  { kind: 'github-matrix' };

export interface PlannedJob {
  /** Unique in the run (matrix jobs get their own ids). */
  id: string;
  name: string;
  stage: string | null;
  /** Jobs that must succeed first (declared needs). */
  deps: string[];
  /** Jobs that must finish first; only a failure (not a skip) of one of them stops this job (stage order). */
  after: string[];
  when: When;
  allowFailure: boolean;
  /** Exit codes that make a failure allowed (GitLab's allow_failure:exit_codes); the job's record then says so. */
  allowFailureExitCodes?: number[];
  retries: number;
  timeoutMs: number | null;
  steps: PlannedStep[];
  /** Why the whole job cannot run here (it is not started). */
  unsupported: string | null;
  /** The container image the job's platform maps to (GitHub `runs-on` mapped to an image: --platform LABEL=IMAGE). */
  platformImage?: string;
  /** Overrides the `when` rules (GitHub job `if:`): run, skip with a reason, or fail with an error. */
  gate?: JobGate;
  /**
   * Replaces the job, once it is due to run, by the jobs it stands for (a GitHub matrix computed from a needed
   * job's outputs). The job's record stays as the group: it ends when they all have ended, with their combined
   * status and outputs, so jobs that need it wait for all of them.
   */
  expand?: JobExpansion;
  junit: string[];
  artifacts: string[];
  /** What turns the job's output into problems (delivery.yml `problemMatcher`, checked); absent: none of its own. */
  problemMatchers?: ProblemMatcherRef[];
  /** Absolute working directory for reports and artifacts. */
  cwd: string;
  /** Where the steps run (default: this machine, `{ kind: 'host' }`). */
  executor?: ExecutorSpec;
  /** Lines for the job's log when it starts (what differs from CI about where it runs). */
  notes?: string[];
  /**
   * The job runs in a workspace of its own at `path`, made from `source` before it starts (its steps' paths are
   * there); kept when the job does not succeed, removed when it does.
   */
  workspace?: {
    source: string;
    path: string;
    /** Jobs whose artifacts are copied into the workspace before it starts (GitLab needs/dependencies). */
    artifactsFrom?: string[];
  };
}

export interface RunPlan {
  pipelineId: string;
  pipelineName: string;
  source: PipelineSource;
  stages: string[] | null;
  jobs: PlannedJob[];
  /** What the run's GitHub runtime is made from when the run starts (a GitHub workflow's plan). */
  github?: GithubProgram;
}
