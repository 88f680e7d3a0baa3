// What the engine needs from the outside world. src/adapters implements these with real processes and files;
// tests may pass real adapters too (the core has no I/O of its own).
import type { RunRecord, TestCounts, TestReportRecord } from '../../shared/model';
import type { Masker } from '../secrets';

/** A command described as data: argv, never a shell string assembled by us. */
export interface CommandSpec {
  command: string;
  args: string[];
  /** Variables added on top of the runner's base environment. */
  env: Record<string, string>;
  /** Absolute working directory. */
  cwd: string;
  /**
   * Script the runner writes to a temporary file; every `{0}` in args is replaced by that file's path. With `dir`
   * (a GitHub job's RUNNER_TEMP, where GitHub puts it too) the file is made there under a new name and left for the
   * folder's owner to remove; else in a folder of its own, removed when the command ends.
   */
  scriptFile?: { text: string; extension: string; dir?: string };
  /** Kill whatever the command left running when it exits (default true). Deploys that start servers set false. */
  killLeftovers?: boolean;
  /** Data written to the command's standard input (then closed); default: no input. */
  stdin?: string;
  /** Do not inherit the runner's base environment (only `env`, plus PATH and HOME). */
  cleanEnv?: boolean;
  /**
   * Run in a one-off container of this image instead (GitHub Docker actions): `args` follow the image (its
   * command), `command` only names it in logs; `env` is passed in by name; `cwd` and `mounts` are mounted at their
   * own paths. `build`: the image is built from this Dockerfile first.
   */
  image?: StepImage;
}

export interface StepImage {
  ref: string;
  build?: { context: string; dockerfile: string };
  /** Replaces the image's entrypoint; null: the image's own. */
  entrypoint: string | null;
  mounts: string[];
  /**
   * GitHub's layout for Docker actions instead of the host's paths: the workspace at /github/workspace (the working
   * directory), the step files at /github/file_commands, event.json in /github/workflow, HOME /github/home; variables
   * naming the host paths are rewritten to these.
   */
  github?: { workspace: string; files: string };
}

export type OutputStream = 'stdout' | 'stderr';

export interface ProcessResult {
  /** Exit code, or null when the process was killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  /** Why the process did not start (command not found, permission denied, bad cwd), else null. */
  error: string | null;
  /** Processes it left behind that were killed after it exited. */
  leftovers: number;
}

/**
 * A very long line (past LONG_LINE_BYTES, read without a masker) as its bytes: kept whole for the log file, never
 * decoded whole. `head` is its beginning decoded (what memory, listeners and the board get).
 */
export interface LongLine {
  head: string;
  /** The line's bytes in pieces, in order (without the newline and a CR before it). */
  pieces: readonly Uint8Array[];
  /** Bytes of the line, and of its head. */
  bytes: number;
  headBytes: number;
}

export interface ProcessIO {
  signal: AbortSignal;
  /** A line of output; `long`: a very long line's bytes (then `text` is its head). */
  onLine: (stream: OutputStream, text: string, long?: LongLine) => void;
  /** Secrets to mask in the output, on the stream itself (before it is split into lines). */
  masker?: Masker;
  /**
   * Whole lines at once, when the caller takes them so (a runner may still call onLine for some): `text` is one or
   * more lines joined by \n, as onLine would have had them one by one (no newline at the end, no CR before one,
   * none longer than MAX_LINE_IN_MEMORY characters). A job printing a million lines then costs work per chunk read,
   * not per line. Runners call it only without secrets to mask. `utf8`: the lines' bytes as read, with the newline
   * after the last, when decoding them gave `text` exactly (valid UTF-8, no CR) — what a log can write as it is.
   */
  onLines?: (stream: OutputStream, text: string, utf8?: Uint8Array) => void;
}

export interface ProcessRunner {
  /** Runs the command to its end. Aborting the signal kills the whole process tree. */
  run(spec: CommandSpec, io: ProcessIO): Promise<ProcessResult>;
}

export interface JobLog {
  readonly path: string;
  /**
   * A line; with `long`, its bytes go to the file instead of `text` (its head); with `utf8` (the UTF-8 of `text` and
   * a newline, as ProcessIO.onLines gives it), those bytes instead of `text` encoded again.
   */
  write(stream: OutputStream | 'system', text: string, long?: LongLine, utf8?: Uint8Array): void;
  close(): Promise<void>;
}

export interface RunStore {
  /** Persists the run record (atomically: a reader sees the old or the new record, never half of one). */
  save(run: RunRecord): Promise<void>;
  openLog(run: RunRecord, jobId: string): JobLog;
  /** Keeps a job's test cases beside its log; resolves with the file's absolute path (JobRecord.testReport). */
  saveTests?(run: RunRecord, jobId: string, report: TestReportRecord): Promise<string>;
}

/** Optional file access for reports and artifacts, confined to the run's folder. */
export interface WorkspaceFiles {
  /**
   * Regular files under cwd matching the glob patterns, as absolute paths. Patterns and symlinks that lead out of
   * the run's folder (or `root`, the job's own workspace) match nothing; `onRefused` hears why.
   */
  glob(cwd: string, patterns: readonly string[], onRefused?: (why: string) => void, root?: string): Promise<string[]>;
  /** A report's text (size-capped); rejects when it cannot be read or is refused. `root`: the job's own workspace. */
  readText(path: string, root?: string): Promise<string>;
}

export type { TestCounts };

/**
 * Where a job's steps run, as data in the plan; an executor of that kind (src/adapters/executors/, a registry typed
 * by kind) interprets it. `host`: this machine's processes. `container`: a container of `image` with the job's
 * workspace and scratch folders mounted at the same paths, and `services` beside it.
 */
export type ExecutorSpec = HostExecutorSpec | ContainerExecutorSpec;
export type ExecutorKind = ExecutorSpec['kind'];

export interface HostExecutorSpec {
  kind: 'host';
  /** Service containers beside the job (GitHub `services:` of a job on the runner): on the host network. */
  services?: ServiceSpec[];
}

export interface ContainerExecutorSpec {
  kind: 'container';
  image: string;
  /** Variables of the container itself (GitHub `container.env`); steps add their own. */
  env: Record<string, string>;
  services: ServiceSpec[];
  /** Host paths the steps use (the workspace, scratch folders): mounted at the same path. */
  mounts: string[];
  /** What the job's CI calls it, for messages ("GitLab image", "GitHub container"). */
  what: string;
}

export interface ServiceSpec {
  image: string;
  /** Host names the job reaches it by (GitLab alias, GitHub service id). */
  aliases: string[];
  /** Replaces the image's entrypoint (GitLab `entrypoint`); null: the image's own. */
  entrypoint: string[] | null;
  /** Arguments after the image (GitLab `command`); null: the image's own. */
  command: string[] | null;
  env: Record<string, string>;
  /** A command whose success means the service is ready (GitHub `options: --health-cmd`); null: started is ready. */
  healthCmd: string | null;
  /** A service that exits or never gets ready only warns, and the job runs without it (GitLab); else the job fails. */
  optional?: boolean;
}

/** The steps of one attempt of a job run in a session: what they leave running lives until it is closed. */
export interface JobSession {
  run(spec: CommandSpec, io: ProcessIO): Promise<ProcessResult>;
  /** Ends the job: kills what its steps left running and removes its containers. Never throws. */
  close(): Promise<{ leftovers: number; notes: string[] }>;
}

export interface OpenJob {
  runId: string;
  jobId: string;
  executor: ExecutorSpec;
  signal: AbortSignal;
  /** Lines for the job's log (pulling an image, starting a service). */
  log: (text: string) => void;
}

/**
 * Opens job sessions for the executor a job names. `unsupported`: the job cannot run here (no container engine, an
 * image that is missing and cannot be pulled); `error`: it could not start (a service that exited).
 */
export interface JobExecutors {
  open(job: OpenJob): Promise<{ session: JobSession; notes?: string[] } | { unsupported: string } | { error: string }>;
}

/** Job workspaces (copies of the folder a job runs in, so jobs do not share the working tree). */
export interface WorkspacePort {
  /**
   * Makes `dest` a workspace of `source` (replacing what is there), then copies the files of each `overlays` folder
   * into it (artifacts of the jobs it depends on); notes for the job's log; `reused` when it is the copy an earlier
   * job of the run ran in and changed nothing in.
   */
  prepare(source: string, dest: string, signal: AbortSignal, overlays?: readonly string[]): Promise<{ notes: string[]; reused?: boolean }>;
  /** Copies `files` (absolute, inside `from`) to `into` at the same relative paths; their new paths. */
  keep(from: string, files: readonly string[], into: string): Promise<string[]>;
  /** Removes a workspace; never throws. */
  remove(dest: string): Promise<void>;
}
