// Which jobs "rerun" starts again for a given run: pure, so the rule is tested without a run.
import type { JobRecord } from '../shared/model';

/** The pipeline job a run's job record belongs to: matrix and parallel instances ("test (18)", "build: [1/2]") map to their job. */
function jobOf(recordId: string, jobIds: readonly string[]): string | undefined {
  return jobIds.includes(recordId) ? recordId : jobIds.find((id) => recordId.startsWith(`${id} `) || recordId.startsWith(`${id}:`));
}

/**
 * The jobs to run again from `run`: its failed and cancelled jobs (`failedOnly`), or every job it ran; as the
 * pipeline's current job ids (jobs since removed from the definition are dropped). `undefined` means the whole
 * pipeline (every job of it would run anyway).
 */
export function rerunSelection(run: { jobs: readonly Pick<JobRecord, 'id' | 'status'>[] }, jobIds: readonly string[], failedOnly: boolean): string[] | undefined {
  const picked = run.jobs.filter((j) => !failedOnly || j.status === 'failed' || j.status === 'cancelled');
  const jobs = [...new Set(picked.map((j) => jobOf(j.id, jobIds)).filter((id): id is string => id !== undefined))];
  if (!failedOnly && jobs.length === jobIds.length) return undefined;
  return jobs;
}
