// When a job could start and when it ended: read by the critical path (host) and the timeline (webview) alike.
import type { JobStatus } from './model';

export interface TimedJob {
  id: string;
  status: JobStatus;
  startedAt: number | null;
  durationMs: number;
  deps?: readonly string[];
}

const ENDED: ReadonlySet<JobStatus> = new Set<JobStatus>(['success', 'failed', 'skipped', 'unsupported', 'cancelled']);

export const hasEnded = (status: JobStatus): boolean => ENDED.has(status);

/** When the job ended (null: it has not, or it never started). */
export function endOf(job: TimedJob): number | null {
  return job.startedAt !== null && ENDED.has(job.status) ? job.startedAt + job.durationMs : null;
}

/**
 * When the job could start: when the last job it needs ended, or the run's start when it needs none; null while one
 * of them has not ended. A job that ended without running (skipped) holds nothing up.
 */
export function readyAt(job: TimedJob, byId: ReadonlyMap<string, TimedJob>, runStart: number): number | null {
  let t = runStart;
  for (const id of job.deps ?? []) {
    const dep = byId.get(id);
    if (!dep) continue;
    if (!ENDED.has(dep.status)) return null;
    const end = endOf(dep);
    if (end !== null && end > t) t = end;
  }
  return t;
}
