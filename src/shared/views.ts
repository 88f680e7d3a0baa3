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
  tests: TestCounts | null;
  /** The last lines of the job's log (bounded). */
  tail: string[];
}

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
  /** The step a deploy in progress is at, else null. */
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

export type PanelView = 'board' | 'environments' | 'diff';
