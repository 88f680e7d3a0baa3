// Remote pipeline engines (GitHub Actions, GitLab CI, Buildbot) behind one interface: list the runs of a
// pipeline, trigger one with a ref and typed inputs, read a run's jobs and steps, follow logs, cancel, rerun.
// Adapters implement RemoteEngine over HTTP; the core holds the shapes and the pure decisions (polling backoff,
// status mapping, input validation). Everything here is JSON-only or an interface.

import type { RemoteEngineKind, RemotePipelineTarget } from '../../shared/model';

export type { RemoteEngineKind };

export type RemoteStatus = 'queued' | 'running' | 'success' | 'failed' | 'cancelled' | 'skipped' | 'manual' | 'unknown';

/** Which remote pipeline a local pipeline definition corresponds to. */
export type RemoteTarget = RemotePipelineTarget;

/** The target of one engine. */
export type TargetOf<E extends RemoteEngineKind> = Extract<RemoteTarget, { engine: E }>;

export interface RemoteRun {
  /** Engine-specific id, unique for the engine (a string even when numeric). */
  id: string;
  engine: RemoteEngineKind;
  /** Run number shown to users (#42), when the engine has one. */
  number: number | null;
  title: string | null;
  url: string | null;
  branch: string | null;
  sha: string | null;
  status: RemoteStatus;
  /** Engine's own words for the state, for tooltips ("in_progress", "waiting_for_resource"). */
  rawStatus: string;
  actor: string | null;
  event: string | null;
  createdAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RemoteStep {
  name: string;
  number: number;
  status: RemoteStatus;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RemoteJob {
  id: string;
  name: string;
  stage: string | null;
  status: RemoteStatus;
  rawStatus: string;
  url: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  steps: RemoteStep[];
}

export type TriggerInputType = 'boolean' | 'choice' | 'number' | 'string' | 'environment';

export interface TriggerInput {
  name: string;
  type: TriggerInputType;
  description: string | null;
  required: boolean;
  default: string | null;
  /** For `choice` (and `environment`, when the engine lists them). */
  options: string[];
}

export interface LogChunk {
  text: string;
  /** Pass back to read on from here. */
  offset: number;
  /** True when the job has ended and everything was read. */
  complete: boolean;
}

export interface RemoteEngine {
  readonly kind: RemoteEngineKind;
  /** The inputs a trigger accepts (workflow_dispatch inputs, pipeline variables, force-scheduler parameters). */
  inputs(signal: AbortSignal): Promise<TriggerInput[]>;
  /** Recent runs, newest first. */
  runs(opts: { branch?: string; limit: number; signal: AbortSignal }): Promise<RemoteRun[]>;
  trigger(opts: { ref: string; inputs: Record<string, string>; signal: AbortSignal }): Promise<RemoteRun>;
  run(id: string, signal: AbortSignal): Promise<{ run: RemoteRun; jobs: RemoteJob[] }>;
  logs(runId: string, jobId: string, offset: number, signal: AbortSignal): Promise<LogChunk>;
  cancel(id: string, signal: AbortSignal): Promise<void>;
  rerunFailed(id: string, signal: AbortSignal): Promise<RemoteRun>;
  /**
   * Optional: how long pollers should wait at least before the next request (ms), when the engine knows better
   * than the default backoff (a rate limit nearly used up). Null/undefined: no opinion.
   */
  pollDelayMs?(): number | null;
}

export function isFinished(s: RemoteStatus): boolean {
  return s === 'success' || s === 'failed' || s === 'cancelled' || s === 'skipped';
}
