// Which jobs of a pipeline a run includes: all of them, or the chosen ones (optionally with what they need).
import type { JobDef } from '../../shared/model';

export interface RunRequest {
  /** Job ids to run; empty or absent: the whole pipeline. */
  jobs?: string[];
  /** Also run the jobs the chosen ones need, transitively. */
  withNeeds?: boolean;
  /** Manual jobs to run as if they were not manual. */
  manual?: string[];
  /** Variables given for this run (CLI --variable), on top of the file's. */
  variables?: Record<string, string>;
  /** Variables removed for this run (CLI --unset-variable), whatever defined them. */
  unsetVariables?: string[];
  /** Run jobs that declare a container image in the local shell anyway (gitlab-ci-local's --shell-executor-no-image). */
  allowImages?: boolean;
}

export interface SelectedJob {
  job: JobDef;
  /** Needs that are part of this run. */
  deps: string[];
  /** Chosen explicitly (a manual job chosen by name runs). */
  forced: boolean;
}

export function selectJobs(all: readonly JobDef[], request: RunRequest): { jobs: SelectedJob[] } | { error: string } {
  const byId = new Map(all.map((j) => [j.id, j]));
  const chosen = request.jobs?.length ? request.jobs : null;
  if (chosen) {
    const unknown = chosen.filter((id) => !byId.has(id));
    if (unknown.length) return { error: `no job named ${unknown.map((u) => `"${u}"`).join(', ')} (jobs: ${all.map((j) => j.id).join(', ')})` };
  }
  const include = new Set<string>(chosen ?? all.map((j) => j.id));
  if (chosen && request.withNeeds) {
    const stack = [...include];
    while (stack.length) {
      const j = byId.get(stack.pop()!);
      for (const n of j?.needs ?? []) {
        if (!include.has(n) && byId.has(n)) {
          include.add(n);
          stack.push(n);
        }
      }
    }
  }
  const forced = new Set(chosen ?? []);
  return {
    jobs: all
      .filter((j) => include.has(j.id))
      .map((job) => ({ job, deps: job.needs.filter((n) => include.has(n)), forced: forced.has(job.id) })),
  };
}
