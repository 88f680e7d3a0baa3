// A remote run on the stage board: the same view model as a local run, built from the engine's state.
import type { JobStatus, RunStatus } from '../../shared/model';
import type { JobView, RunView, StageView } from '../../shared/views';
import type { RunState } from './follow';
import type { RemoteStatus } from './types';

const JOB_STATUS: Record<RemoteStatus, JobStatus> = {
  queued: 'queued',
  running: 'running',
  success: 'success',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
  manual: 'manual',
  unknown: 'queued',
};

export function remoteRunStatus(s: RemoteStatus): RunStatus {
  return s === 'success' ? 'success' : s === 'failed' ? 'failed' : s === 'cancelled' || s === 'skipped' ? 'cancelled' : 'running';
}

/** Jobs grouped by their stage (GitLab) or in one column per engine order (GitHub, Buildbot). */
export function remoteRunView(state: RunState, opts: { id: string; pipelineId: string; pipelineName: string; folderName: string; now: number }): RunView {
  const columns = new Map<string, JobView[]>();
  for (const j of state.jobs) {
    const col = j.stage ?? 'jobs';
    const started = j.startedAt;
    const ended = j.finishedAt;
    const view: JobView = {
      id: j.id,
      name: j.name,
      status: JOB_STATUS[j.status],
      allowFailure: false,
      durationMs: started !== null ? (ended ?? opts.now) - started : 0,
      startedAt: started,
      attempts: 1,
      reason: j.status === 'unknown' ? j.rawStatus : null,
      tests: null,
      tail: j.steps.map((s) => `${s.status === 'success' ? '✓' : s.status === 'failed' ? '✗' : s.status === 'running' ? '▶' : '·'} ${s.name}`),
    };
    columns.set(col, [...(columns.get(col) ?? []), view]);
  }
  const stages: StageView[] = [...columns.entries()].map(([name, jobs]) => ({ name, jobs }));
  const r = state.run;
  const start = r.startedAt ?? r.createdAt;
  return {
    id: opts.id,
    folderName: opts.folderName,
    pipelineId: opts.pipelineId,
    pipelineName: `${opts.pipelineName} #${r.number ?? r.id}${r.branch ? ` (${r.branch})` : ''}`,
    status: remoteRunStatus(r.status),
    startedAt: start ?? opts.now,
    durationMs: start !== null ? (r.finishedAt ?? opts.now) - start : 0,
    stages,
  };
}
