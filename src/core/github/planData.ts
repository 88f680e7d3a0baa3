// A GitHub workflow's run plan as data: the kinds of its steps (what each one runs, read from the workflow step as
// written: expressions stay templates, evaluated when the step runs) and the program the run's GitHub runtime is
// made from when the run starts (runtime.ts). Nothing here is a function or a class instance.
import type { RunRequest } from '../engine/select';
import type { PlanContext, RemoteActionRef } from '../sources';
import type { HostFacts } from '../clock';
import type { GithubRunOptions } from './context';
import type { RemoteOrigin } from './reusable';
import type { Workflow, WorkflowStep } from './workflow';

interface GithubStepData {
  /** The workflow step as written (script, shell, env and `with:` as expression templates, `if:`, id for outputs). */
  step: WorkflowStep;
  /** A step of a composite action (its defaults: no job `defaults.run`). */
  composite: boolean;
}

export type GithubStepRun =
  /** `run:` — its script, shell and working directory evaluated when it starts; step files and commands after it. */
  | ({ kind: 'github-run' } & GithubStepData)
  /** `uses:` an action of the workspace or of a repository: composite, JavaScript (pre/main/post) or Docker, as its action.yml says. */
  | ({ kind: 'github-action'; source: { kind: 'local'; path: string } | { kind: 'remote'; ref: RemoteActionRef } } & GithubStepData)
  /** `uses: docker://image`. */
  | ({ kind: 'github-docker'; image: string } & GithubStepData)
  /** actions/setup-node|python|go|java, mapped to this machine's toolchain (toolchains.ts), by the action's name. */
  | ({ kind: 'github-setup'; action: string } & GithubStepData)
  /** An action known not to run here (`unsupported`) or to have nothing to do (`noop`: a checkout of the workspace). */
  | ({ kind: 'github-inert'; unsupported: string | null; noop: string | null } & GithubStepData);

export type GithubStepKind = GithubStepRun['kind'];

/** What the run's GitHub runtime is made of: the workflows, the jobs planned, the run's facts as the planner had them. */
export interface GithubProgram {
  workflow: Workflow;
  /** The reusable workflows the jobs call, by call key, and where those of other repositories came from (by key). */
  called: { workflows: Record<string, Workflow | { unavailable: string }>; origins: Record<string, RemoteOrigin> };
  /** The workflow jobs planned, with their needs that are part of the run. */
  entries: { job: string; deps: string[] }[];
  request: RunRequest;
  options: GithubRunOptions;
  /** Variables from outside the file. */
  variables: Record<string, string>;
  context: {
    folder: string;
    now: number;
    host: HostFacts;
    git?: PlanContext['git'];
    variables?: Record<string, string>;
    workspace?: 'shared' | 'isolated';
  };
  /** Each job's own workspace as planned (planned id -> path, null: the folder); absent: no job has one. */
  workspaces?: Record<string, string | null>;
}
