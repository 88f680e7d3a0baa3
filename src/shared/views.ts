// View models the extension host sends to the webview (JSON only).
import type { JobStatus, RunStatus, TestCounts } from './model';

export interface JobView {
  id: string;
  name: string;
  status: JobStatus;
  allowFailure: boolean;
  durationMs: number;
  startedAt: number | null;
  attempts: number;
  reason: string | null;
  /** It passed, but steps of it are unsupported locally (not CI's answer); absent: false. */
  partial?: boolean;
  /** Not run in this attempt: its result comes from an earlier one; absent: it ran. */
  carried?: boolean;
  tests: TestCounts | null;
  /** The last lines of the job's log (bounded). */
  tail: string[];
  /** Ids of the jobs it waits for in this run (absent: not known, a remote run). */
  deps?: string[];
}

/** The order a job's legs are looked at in (the tree's row, the board's matrix head): what needs a look first. */
export const LEG_ORDER: readonly JobStatus[] = ['running', 'failed', 'cancelled', 'unsupported', 'queued', 'manual', 'success', 'skipped'];

export interface StageView {
  name: string;
  jobs: JobView[];
}

export interface RunView {
  id: string;
  folderName: string;
  pipelineId: string;
  pipelineName: string;
  status: RunStatus;
  startedAt: number;
  durationMs: number;
  stages: StageView[];
  /** The commit it ran at (short), when known. */
  sha?: string | null;
  /** Its attempt when it is a rerun (2, 3, …); absent: the first. */
  attempt?: number;
  /** A local run (it can be run again from the board); absent: a remote engine's run. */
  local?: boolean;
  /** Its jobs as a graph (absent: a remote run, shown as stages only). */
  graph?: GraphView;
  /** Once it ended: the chain of jobs that set its duration (absent: running, or no job ran). */
  critical?: CriticalPathView;
  /** The previous run of the same pipeline, for the timeline's ghost bars (absent: none). */
  previous?: PreviousRunView;
}

/**
 * The board's graph: columns (stages, else dependency depth) of nodes in the order that crosses few edges. A node is
 * a job, or a job run as several legs (matrix, parallel copies: `legs`, their ids). An edge that spans columns has a
 * `pass` item in each column between its ends, where it is drawn through.
 */
export interface GraphView {
  columns: GraphColumn[];
  /** `needs`, between nodes (a job that needs a matrix job waits for every leg: one edge). */
  edges: GraphEdge[];
}

export interface GraphColumn {
  name: string;
  items: GraphItem[];
}

export type GraphItem = { node: string; legs?: string[] } | { pass: number };

export interface GraphEdge {
  from: string;
  to: string;
}

export interface CriticalPathView {
  /** Job ids (legs, not their group), first to last. */
  jobs: string[];
  /** From the run's start to the end of the last of them. */
  durationMs: number;
  /** Of which they spent waiting after what they need had ended (a busy machine, `parallelism`). */
  waitMs: number;
}

export interface PreviousRunView {
  runId: string;
  durationMs: number;
  /** By job id: when it started (ms after its run started), how long it ran and how it ended. */
  jobs: Record<string, { offsetMs: number; durationMs: number; status: JobStatus }>;
}

export interface BoardState {
  run: RunView | null;
  /** Pipelines that can be started from the board when no run is shown. */
  pipelines: { folder: string; folderName: string; id: string; name: string }[];
  trusted: boolean;
}

import type { DeployDiff, DeployHistoryItem, EnvironmentStatus, LockView, TeamStateView } from './model';

/** One row of the environments overview. */
export interface EnvironmentRow {
  folder: string;
  folderName: string;
  status: EnvironmentStatus;
  protected: boolean;
  promotesFrom: string | null;
  canDeploy: boolean;
  /** What a deploy in progress is doing ("deploying: health check", "verifying · 1m 20s left", "rolling back to d4e5f6a"), else null. */
  deploying: string | null;
  lastDeploy: Pick<DeployHistoryItem, 'id' | 'sha' | 'status' | 'user' | 'startedAt' | 'durationMs' | 'action'> | null;
  /** Who holds the environment's deploy lock (null: free, or not known yet). */
  lockedBy: LockView | null;
  /** Where its lock and history live (null: not read yet). */
  store: TeamStateView['store'] | null;
}

/** The diff view: what deploying `to` over `from` changes. */
export interface DiffView {
  folder: string;
  environment: string;
  environmentName: string;
  /** "deployed a1b2c3d". */
  fromLabel: string;
  /** "local HEAD d4e5f6a", "v1.2 (d4e5f6a)". */
  toLabel: string;
  diff: DeployDiff;
  /** A loud warning to show above the diff (commits a deploy would revert). */
  warning: string | null;
}

/** `trigger`: the form a run with inputs asks (shown while one waits). */
export type PanelView = 'board' | 'environments' | 'diff' | 'trigger';

// ---- health over time (verify: prometheus) ----

/** A deploy on the time axis of a health chart. */
export interface DeployMarker {
  id: string;
  /** When the deploy started (unix ms). */
  t: number;
  sha: string | null;
  action: DeployHistoryItem['action'];
  status: DeployHistoryItem['status'];
}

/** One check of `verify:` over the chart's range. */
export interface HealthSeries {
  name: string;
  /** [unix ms, value], oldest first; times without data are left out. */
  points: [number, number][];
  /** The line the value must stay under (≤) or above (≥); null: none to draw (a baseline check: its bound moves with each deploy). */
  limit: { op: '≤' | '≥'; value: number } | null;
  /** The bound as text: "≤ 0.01", "≤ baseline + 25%". */
  boundText: string;
  /** Why there is no chart (Prometheus down, the query refused: with its place in delivery.yml). */
  error: string | null;
}

/** An environment's checks over the last hours, for the overview. */
export interface EnvironmentHealthView {
  folder: string;
  environment: string;
  name: string;
  startMs: number;
  endMs: number;
  stepMs: number;
  series: HealthSeries[];
  markers: DeployMarker[];
}

/** The first check of an environment's `verify:` now (the Environments tree row). */
export interface CheckNow {
  name: string;
  /** null: no number (see `error`). */
  value: number | null;
  /** "error rate 0.002", "error rate: no data". */
  text: string;
  /** `near`: within 20% of its bound; `past`: past it; `unknown`: no number, or no bound to compare with (baseline). */
  level: 'ok' | 'near' | 'past' | 'unknown';
  boundText: string;
  error: string | null;
}
