// Which jobs of a pipeline a run includes: all of them, or the chosen ones (optionally with what they need).
import type { JobDef } from '../../shared/model';

export type WorkspaceMode = 'shared' | 'isolated';

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
  /** Run jobs that declare a container image in the local shell (gitlab-ci-local's --force-shell-executor). */
  forceShellExecutor?: boolean;
  /**
   * `isolated`: each job (each matrix leg) runs in a copy of the folder; `shared`: in the folder itself. Default:
   * isolated for GitHub workflows (each job gets its own checkout on GitHub), shared for the others.
   */
  workspace?: WorkspaceMode;
  /** The event the run stands for (GitHub: github.event_name, github.event); absent: a manual run. */
  event?: { name: string; payload?: Record<string, unknown> };
  /** Inputs given for the run (GitHub: workflow_dispatch / workflow_call inputs), as text; checked before it starts. */
  inputs?: Record<string, string>;
  /** Secrets given for the run, by name (GitHub: `secrets.NAME`); the caller masks their values. */
  secrets?: Record<string, string>;
  /**
   * GitHub `runs-on` label -> "host" or a container image, for this run (CLI --platform, the delivery.platforms
   * setting), on top of the defaults (core/github/platforms.ts).
   */
  platforms?: Record<string, string>;
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
