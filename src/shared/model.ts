// JSON-only domain types shared by the core, the extension host, the CLI and the webview.
// No functions, no classes, no Node or DOM types: everything here must survive JSON.stringify.

export type Severity = 'error' | 'warning' | 'info';

/** A position in a configuration file; line and column are 1-based. */
export interface SourceLocation {
  /** Path relative to the workspace folder, with forward slashes. */
  file: string;
  line: number;
  column: number;
}

export interface Problem extends SourceLocation {
  endLine: number;
  endColumn: number;
  severity: Severity;
  message: string;
}

/**
 * The pipeline sources, one key each. core/importers.ts registers a descriptor per key (SOURCES, typed by this
 * set: the compiler asks a new source for its descriptor).
 */
export interface PipelineSourceKinds {
  delivery: true;
  github: true;
  gitlab: true;
}

export type SourceKind = keyof PipelineSourceKinds;

export interface PipelineSource {
  kind: SourceKind;
  /** Path relative to the workspace folder. */
  file: string;
}

export type When = 'on_success' | 'on_failure' | 'always' | 'manual';

export type StepKind = 'run' | 'uses' | 'script';

export interface StepDef {
  name: string | null;
  kind: StepKind;
  /** Script text for `run` and `script` steps. */
  script: string | null;
  /** Action reference for `uses` steps. */
  uses: string | null;
  /** Why the step cannot run on this machine (null: it can). */
  unsupported: string | null;
  location: SourceLocation;
}

export interface EnvironmentRef {
  name: string;
  url: string | null;
}

export interface JobDef {
  id: string;
  name: string;
  stage: string | null;
  /** Declared needs (job ids). */
  needs: string[];
  when: When | null;
  allowFailure: boolean;
  retries: number;
  timeoutMs: number | null;
  /** Working directory relative to the workspace folder (null: the folder itself). */
  cwd: string | null;
  shell: string | null;
  env: Record<string, string>;
  /** The job is expanded into several at run time (matrix / parallel). */
  matrix: boolean;
  /** Reusable workflow / trigger reference when the whole job is delegated elsewhere. */
  uses: string | null;
  environment: EnvironmentRef | null;
  steps: StepDef[];
  reports: { junit: string[] };
  artifacts: string[];
  /** Why the job as a whole cannot run on this machine (null: it can). */
  unsupported: string | null;
  /** The container image it runs in (GitLab `image:`, GitHub `container:`), as far as known before a run; absent or null: none. */
  image?: string | null;
  /** Its service containers' images; absent: none. */
  services?: string[];
  /** delivery.yml `workspace:` — `isolated`: the job runs in a copy of the folder; absent: the source's default. */
  workspace?: 'shared' | 'isolated';
  /** The job's condition as written (GitHub `if:`); absent or null: none. */
  if?: string | null;
  /** What the job does, when the file says (GitLab: a `# @Description` comment above the job). */
  description?: string | null;
  /**
   * delivery.yml `problemMatcher`: what turns its output into problems — built-in names (`$tsc`) or inline matchers
   * (VS Code's tasks.json shape), checked when the file is read (core/problems/matchers.ts); absent: none.
   */
  problemMatchers?: (string | object)[];
  location: SourceLocation;
}

export interface PipelineDef {
  id: string;
  name: string;
  source: PipelineSource;
  /** Declared stage order, when the source has stages. */
  stages: string[] | null;
  env: Record<string, string>;
  jobs: JobDef[];
  location: SourceLocation;
  /** Where the pipeline also runs (delivery.yml `remote:`); absent: inferred from the git remote, if at all. */
  remote?: RemotePipelineTarget | null;
  /** What a local run can be given besides its jobs (GitHub workflows: inputs, secrets); absent: nothing. */
  runParameters?: RunParameters;
}

/** The inputs a manual run takes and the secrets the pipeline's file reads. */
export interface RunParameters {
  /** workflow_dispatch inputs, in the file's order. */
  inputs: RunInputDef[];
  /** Names read as `secrets.NAME`. */
  secrets: string[];
}

/** One declared input (the same shape as a remote trigger's input, plus where it is declared). */
export interface RunInputDef {
  name: string;
  type: 'boolean' | 'choice' | 'number' | 'string' | 'environment';
  description: string | null;
  required: boolean;
  /** As written (may hold `${{ }}`); null: none. */
  default: string | null;
  /** For `choice`. */
  options: string[];
  location: SourceLocation | null;
}

/**
 * What names a pipeline on each remote engine (delivery.yml `remote: { <engine>: … }`), one key per engine.
 * core/remote/engines.ts registers a descriptor per key (the compiler asks a new engine for its descriptor).
 */
export interface RemoteTargetFields {
  github: { host: string; apiUrl: string; owner: string; repo: string; workflow: string };
  gitlab: { host: string; apiUrl: string; project: string };
  buildbot: { url: string; builder: string; scheduler: string };
}

export type RemoteEngineKind = keyof RemoteTargetFields;

/** A pipeline on a remote engine, as delivery.yml names it (core/remote's RemoteTarget is this type). */
export type RemotePipelineTarget = { [E in RemoteEngineKind]: { engine: E } & RemoteTargetFields[E] }[RemoteEngineKind];

export interface EnvironmentDef {
  id: string;
  name: string;
  url: string | null;
  promotesFrom: string | null;
  protected: boolean;
  location: SourceLocation;
}

// ---- runs ----

export type JobStatus = 'queued' | 'running' | 'success' | 'failed' | 'skipped' | 'manual' | 'unsupported' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'success' | 'failed' | 'skipped' | 'unsupported' | 'cancelled';
/** `interrupted`: the process that ran it died before it ended (found on the next start). */
export type RunStatus = 'running' | 'success' | 'failed' | 'cancelled' | 'interrupted';

export interface TestCounts {
  total: number;
  failed: number;
  errors: number;
  skipped: number;
}

/** How a test case of a JUnit report ended. */
export type TestCaseStatus = 'passed' | 'failed' | 'errored' | 'skipped';

/** A test case of a job's JUnit reports, its texts masked, its location relative to the run's folder. */
export interface TestCaseRecord {
  name: string;
  classname: string | null;
  status: TestCaseStatus;
  /** null: the report gives no time. */
  durationMs: number | null;
  /** The failure's (error's, skip's) message; its body (a stack, output) in `details`. */
  message: string | null;
  details: string | null;
  /**
   * Where the test is: a '/'-separated path relative to the run's folder (never leaving it), and a 1-based line
   * (null: unknown). From the report's attributes, else where it failed.
   */
  file: string | null;
  line: number | null;
  /** Where it failed: the first frame of its failure text in the folder (the test's own file first). */
  failedAt?: TestLocation | null;
}

export interface TestLocation {
  file: string;
  line: number;
}

export interface TestSuiteRecord {
  name: string;
  /** Where the suite's cases are (relative to the run's folder), when the report says so. */
  file: string | null;
  durationMs: number | null;
  cases: TestCaseRecord[];
}

/** The test cases of a job: its JUnit reports' suites in the order the reports and suites came. */
export interface TestReportRecord {
  suites: TestSuiteRecord[];
}

export interface StepRecord {
  name: string;
  status: StepStatus;
  exitCode: number | null;
  durationMs: number;
  reason: string | null;
}

export interface JobRecord {
  id: string;
  name: string;
  stage: string | null;
  /** Job ids this one waits for in this run. */
  deps: string[];
  status: JobStatus;
  allowFailure: boolean;
  exitCode: number | null;
  startedAt: number | null;
  durationMs: number;
  attempts: number;
  reason: string | null;
  steps: StepRecord[];
  tests: TestCounts | null;
  /** Absolute path of the job's test cases (a TestReportRecord as JSON), when its JUnit reports had any. */
  testReport?: string | null;
  artifacts: string[];
  /** Absolute path of the full log on disk (null until the job starts). */
  logFile: string | null;
  /** The job's own workspace, kept because it did not succeed (absent: it ran in the folder, or it was removed). */
  workspace?: string | null;
  /** Not run again in this attempt: its result is the one of run `carriedFrom` (a rerun of failed jobs). */
  carriedFrom?: string;
}

export interface RunRecord {
  id: string;
  /** Absolute path of the workspace folder the run belongs to. */
  folder: string;
  pipelineId: string;
  pipelineName: string;
  source: PipelineSource;
  stages: string[] | null;
  status: RunStatus;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number;
  trigger: 'vscode' | 'cli' | 'task';
  sha: string | null;
  /** PID of the process driving the run: a `running` record whose driver is gone was interrupted. */
  pid: number;
  jobs: JobRecord[];
  /** A rerun is a new attempt of a run: its number (1: the first) and the run it re-runs; absent: a first run. */
  attempt?: number;
  rerunOf?: string;
}

// ---- environments and deploys ----

export type Health = 'up' | 'down' | 'unknown';

export interface CommitInfo {
  sha: string;
  subject: string;
  author: string;
  /** ISO 8601 author date. */
  date: string;
}

export type FileStatus = 'A' | 'M' | 'D' | 'R';

export interface FileChange {
  path: string;
  oldPath: string | null;
  status: FileStatus;
  additions: number;
  deletions: number;
  binary: boolean;
}

/** What deploying `to` over `from` changes. */
export interface DeployDiff {
  from: { env: string | null; sha: string };
  to: { ref: string; sha: string };
  commits: { toDeploy: CommitInfo[]; toRevert: CommitInfo[] };
  files: FileChange[];
  /** Uncommitted changes of the working tree (not part of any deploy). */
  uncommitted: { path: string; status: string }[];
}

export interface EnvironmentStatus {
  id: string;
  name: string;
  url: string | null;
  deployed: {
    sha: string | null;
    /** Why the deployed commit is unknown (probe failed, SHA missing locally, ...). */
    error: string | null;
    /** What the probe returned, when it was not a full SHA (a tag, a short SHA). */
    raw: string | null;
    checkedAt: number;
  };
  local: { sha: string | null; branch: string | null; dirty: boolean };
  /** Commits in local HEAD that are not deployed (a deploy brings them). */
  ahead: number | null;
  /** Deployed commits that are not in HEAD (a deploy of HEAD reverts them). */
  behind: number | null;
  health: Health;
  healthDetail: string | null;
}

/** `unverified`: deployed, but its verification (verify: in delivery.yml) could not decide whether the release is good. */
export type DeployStatus = 'running' | 'success' | 'failed' | 'cancelled' | 'interrupted' | 'unverified';
export type DeployAction = 'deploy' | 'rollback' | 'promote';

/**
 * One line of an environment's history as the views show it: a deploy, rollback or promote (from the team's store,
 * or a record only this machine has), or a lock taken or released by hand.
 */
export interface DeployHistoryItem {
  id: string;
  action: DeployAction | 'lock' | 'unlock';
  /** The commit deployed; null for lock events. */
  sha: string | null;
  fromSha: string | null;
  status: DeployStatus | 'done';
  user: string;
  host: string;
  startedAt: number;
  durationMs: number | null;
  /** The failure reason, or the message given with the deploy or lock. */
  message: string | null;
  /** The deploy's log, when this machine made it. */
  logFile: string | null;
  ref: string | null;
  /** shared: in the team's store; local: only this machine has it (an earlier version wrote it). */
  origin: 'shared' | 'local';
}

/** Who holds an environment's deploy lock. */
export interface LockView {
  user: string;
  host: string;
  pid: number;
  deployId: string | null;
  sha: string | null;
  message: string | null;
  since: number;
}

/** Where an environment's lock and history live, and what they say now. */
export interface TeamStateView {
  store: 'ssh' | 'git' | 'registry' | 'local';
  where: string;
  lockedBy: LockView | null;
  /** Why the store could not be read. */
  error: string | null;
}

export interface DeployStepRecord {
  name: string;
  status: StepStatus;
  durationMs: number;
  reason: string | null;
}

export interface DeployRecord {
  id: string;
  environment: string;
  folder: string;
  action: DeployAction;
  /** The commit deployed (full SHA). */
  sha: string;
  /** What the user asked for (branch, tag, SHA, HEAD). */
  ref: string;
  /** The commit that was deployed before (null: unknown or first deploy). */
  previousSha: string | null;
  status: DeployStatus;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number;
  /** Who deployed: user@host. */
  user: string;
  trigger: 'vscode' | 'cli';
  pid: number;
  steps: DeployStepRecord[];
  health: Health | null;
  /** Run id of the build pipeline, when the deploy ran one. */
  buildRunId: string | null;
  logFile: string | null;
  reason: string | null;
  /** What the verification after the deploy found (null: the environment has no verify:, or it did not run). */
  verification?: Verification | null;
  /** The commit an automatic rollback (verify.onFailure: rollback) deployed again, when it succeeded. */
  rolledBackTo?: string | null;
}

export type VerificationStatus = 'passed' | 'failed' | 'unverified';

/** One check of a verification: its last value and the bound it had to stay within. */
export interface VerificationCheck {
  name: string;
  /** The value that decided the check (the breaching one, else the last); null when there was none. */
  value: number | null;
  /** The bound as text: "≤ 0.01", "≤ 0.0123 (baseline 0.0112 + 10%)". */
  bound: string;
  /** null: could not be decided (no data, Prometheus down, NaN). */
  ok: boolean | null;
  reason: string | null;
}

export interface Verification {
  status: VerificationStatus;
  checks: VerificationCheck[];
}
