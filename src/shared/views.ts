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
