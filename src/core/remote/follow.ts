// Following a remote run to its end through any RemoteEngine: its state (run, jobs, steps) as it changes and, when
// asked, every job's log as it grows. Pure over the interface and a Clock; the CLI, the `workflow:` deploy and the
// VS Code layer all follow runs with it.
import { poll, type BackoffPolicy, type Clock } from './poll';
import { isFinished, type RemoteEngine, type RemoteJob, type RemoteRun } from './types';

export interface RunState {
  run: RemoteRun;
  jobs: RemoteJob[];
}

export interface FollowOptions {
  signal: AbortSignal;
  clock: Clock;
  backoff?: BackoffPolicy;
  /** The state, each time something in it changed (and once at the start). */
  onUpdate?(state: RunState): void;
  /** With it, logs are followed too: new text of a job, in the order jobs are listed. */
  onLog?(job: RemoteJob, text: string): void;
  /** A transient error (no answer, 5xx, rate limit) that following rides out. */
  onRetry?(error: unknown, waitMs: number): void;
}

/** After the run has finished, logs get this many more polls to say they are complete (some engines lag). */
const LOG_GRACE_POLLS = 3;

interface LogCursor {
  offset: number;
  complete: boolean;
}

/** Follows the run until it has finished (and, with onLog, its logs are read); resolves with the final state. */
export async function followRun(engine: RemoteEngine, runId: string, o: FollowOptions): Promise<RunState> {
  const cursors = new Map<string, LogCursor>();
  let pollsSinceFinish = 0;
  let logsDone = !o.onLog;
  const read = async (signal: AbortSignal): Promise<RunState> => {
    const state = await engine.run(runId, signal);
    if (o.onLog) {
      const finished = isFinished(state.run.status);
      logsDone = (await readNewLogs(engine, state, cursors, signal, o.onLog)) || (finished && ++pollsSinceFinish > LOG_GRACE_POLLS);
    }
    return state;
  };
  let last: string | null = null;
  return poll<RunState>({
    read,
    key: (s) => `${stateKey(s)}|${[...cursors.values()].map((c) => c.offset).join(',')}`,
    done: (s) => isFinished(s.run.status) && logsDone,
    onValue: (s) => {
      const k = stateKey(s);
      if (k !== last) o.onUpdate?.(s);
      last = k;
    },
    onRetry: o.onRetry,
    hintMs: () => engine.pollDelayMs?.() ?? null,
    signal: o.signal,
    clock: o.clock,
    backoff: o.backoff,
  });
}

/** Everything the jobs of a run have logged so far, job after job (no waiting for more). */
export async function readLogs(engine: RemoteEngine, state: RunState, signal: AbortSignal, onLog: (job: RemoteJob, text: string) => void): Promise<void> {
  for (const job of state.jobs) {
    if (!hasLog(job)) continue;
    // Read on until the log says it is complete or a read adds nothing (caught up with a running job).
    for (let offset = 0; ; ) {
      let chunk;
      try {
        chunk = await engine.logs(state.run.id, job.id, offset, signal);
      } catch (e) {
        if (isNotFound(e)) break; // not served yet (some engines serve a log once its job has ended)
        throw e;
      }
      if (chunk.text) onLog(job, chunk.text);
      if (chunk.complete || chunk.offset === offset) break;
      offset = chunk.offset;
    }
  }
}

/** Reads each started job's log on from its cursor; true when every job that has a log has been read to its end. */
async function readNewLogs(
  engine: RemoteEngine,
  state: RunState,
  cursors: Map<string, LogCursor>,
  signal: AbortSignal,
  onLog: (job: RemoteJob, text: string) => void,
): Promise<boolean> {
  let allComplete = true;
  for (const job of state.jobs) {
    if (!hasLog(job)) continue;
    const cursor = cursors.get(job.id) ?? { offset: 0, complete: false };
    cursors.set(job.id, cursor);
    if (cursor.complete) continue;
    let chunk;
    try {
      chunk = await engine.logs(state.run.id, job.id, cursor.offset, signal);
    } catch (e) {
      // Some engines serve a job's log only once it has ended; try again on the next poll.
      if (isNotFound(e)) {
        allComplete = false;
        continue;
      }
      throw e;
    }
    if (chunk.text) onLog(job, chunk.text);
    cursor.offset = chunk.offset;
    cursor.complete = chunk.complete;
    if (!chunk.complete) allComplete = false;
  }
  return allComplete;
}

function isNotFound(e: unknown): boolean {
  return (e as { kind?: unknown } | null)?.kind === 'notFound';
}

/** A job that has started (or ended after starting) has a log; queued, manual and never-started jobs do not. */
function hasLog(job: RemoteJob): boolean {
  if (job.status === 'queued' || job.status === 'manual') return false;
  return job.startedAt !== null || job.status === 'running' || job.status === 'success' || job.status === 'failed';
}

function stateKey(s: RunState): string {
  return JSON.stringify([
    s.run.status,
    s.run.rawStatus,
    s.run.number,
    s.jobs.map((j) => [j.id, j.status, j.steps.map((st) => [st.name, st.status])]),
  ]);
}

/**
 * Why a finished run did not succeed, naming the failing job and step: `job "test" failed at step "unit"`.
 * Null for a successful run.
 */
export function runFailure(s: RunState): string | null {
  const { run, jobs } = s;
  if (run.status === 'success' || run.status === 'skipped') return null;
  if (run.status === 'cancelled') return `the run was cancelled${run.rawStatus && run.rawStatus !== 'cancelled' ? ` (${run.rawStatus})` : ''}`;
  const failed = jobs.filter((j) => j.status === 'failed');
  if (failed.length === 0) return `the run ended ${run.rawStatus || run.status}`;
  return failed
    .map((j) => {
      const step = j.steps.find((st) => st.status === 'failed');
      return `job "${j.name}" failed${step ? ` at step "${step.name}"` : ''}`;
    })
    .join('; ');
}
