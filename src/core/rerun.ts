// Which jobs "rerun" starts again for a given run: pure, so the rule is tested without a run.
import type { JobRecord } from '../shared/model';

/** Whether a run's job record is an instance of job `jobId`: a matrix leg or parallel copy ("test (18)", "build: [1/2]"). */
export function isInstanceOf(recordId: string, jobId: string): boolean {
  return recordId.startsWith(`${jobId} `) || recordId.startsWith(`${jobId}:`);
}

/** The pipeline job a run's job record belongs to: matrix and parallel instances map to their job. */
export function jobOf(recordId: string, jobIds: readonly string[]): string | undefined {
  return jobIds.includes(recordId) ? recordId : jobIds.find((id) => isInstanceOf(recordId, id));
}

/**
 * The jobs to run again from `run`: its failed and cancelled jobs (`failedOnly`), or every job it ran; as the
 * pipeline's current job ids (jobs since removed from the definition are dropped). `undefined` means the whole
 * pipeline (every job of it would run anyway).
 */
export function rerunSelection(run: { jobs: readonly (Pick<JobRecord, 'id' | 'status'> & { deps?: readonly string[] })[] }, jobIds: readonly string[], failedOnly: boolean): string[] | undefined {
  // Failed and cancelled jobs, and those an interrupted run left queued or running.
  const again = new Set(run.jobs.filter((j) => !failedOnly || j.status === 'failed' || j.status === 'cancelled' || j.status === 'queued' || j.status === 'running').map((j) => j.id));
  // The jobs skipped because one they wait for failed run again too, as on GitHub ("re-run failed jobs").
  for (let grew = true; grew; ) {
    grew = false;
    for (const j of run.jobs) {
      if (again.has(j.id) || j.status !== 'skipped' || !(j.deps ?? []).some((d) => again.has(d))) continue;
      again.add(j.id);
      grew = true;
    }
  }
  const picked = run.jobs.filter((j) => again.has(j.id));
  const jobs = [...new Set(picked.map((j) => jobOf(j.id, jobIds)).filter((id): id is string => id !== undefined))];
  if (!failedOnly && jobs.length === jobIds.length) return undefined;
  return jobs;
}
