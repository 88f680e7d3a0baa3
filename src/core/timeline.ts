// A run over time: the chain of jobs that set its duration (the critical path), and the previous run of the same
// pipeline paired job by job (the timeline's ghost bars). Pure functions of run records.
import type { JobRecord, RunRecord } from '../shared/model';
import { endOf } from '../shared/timeline';
import type { CriticalPathView, PreviousRunView } from '../shared/views';
import { legGroups } from './boardGraph';
import { runPipelineKey } from './targeting';

/** Ran in this attempt and ended (a job kept from an earlier attempt ran then, not now). */
const ranHere = (j: JobRecord) => j.startedAt !== null && !j.carriedFrom && endOf(j) !== null;

/** The one that ended last (of two that ended together, the longer). */
function lastEnded(jobs: readonly JobRecord[]): JobRecord | undefined {
  let best: JobRecord | undefined;
  for (const j of jobs) {
    if (!ranHere(j)) continue;
    if (!best || endOf(j)! > endOf(best)! || (endOf(j) === endOf(best) && j.durationMs > best.durationMs)) best = j;
  }
  return best;
}

/**
 * After a run, the chain of jobs that set its duration: from the job that ended last, back through the job it
 * needed that ended last (the one it was waiting for), to a job that needed none. Its time is theirs plus their
 * waits (ready, not started). Jobs that did not run (skipped, kept from an earlier attempt) are not on it; failed
 * ones are. A matrix job's legs are jobs of their own: the path goes through the leg that ended last.
 */
export function criticalPath(run: RunRecord): CriticalPathView | undefined {
  if (run.status === 'running') return undefined;
  const byId = new Map(run.jobs.map((j) => [j.id, j]));
  const { legs } = legGroups(run.jobs);
  // A matrix known only at run time keeps a record of its own that lasts while its legs run: go through the legs.
  const through = (j: JobRecord): JobRecord => lastEnded((legs.get(j.id) ?? []).filter((id) => id !== j.id).map((id) => byId.get(id)!)) ?? j;
  const last = lastEnded(run.jobs);
  if (!last) return undefined;
  const jobs: string[] = [];
  let waitMs = 0;
  const seen = new Set<string>();
  for (let cur: JobRecord | undefined = through(last); cur && !seen.has(cur.id); ) {
    seen.add(cur.id);
    jobs.unshift(cur.id);
    const before = lastEnded(cur.deps.map((d) => byId.get(d)).filter((d): d is JobRecord => d !== undefined).map(through));
    waitMs += Math.max(0, cur.startedAt! - (before ? endOf(before)! : run.startedAt));
    cur = before;
  }
  return { jobs, durationMs: endOf(last)! - run.startedAt, waitMs };
}

/** The run of the same pipeline and folder that started last before `run` and has ended. */
export function previousRun(run: RunRecord, history: readonly RunRecord[]): RunRecord | undefined {
  const key = runPipelineKey(run);
  let best: RunRecord | undefined;
  for (const r of history) {
    if (r.id === run.id || r.folder !== run.folder || runPipelineKey(r) !== key || r.status === 'running' || r.startedAt >= run.startedAt) continue;
    if (!best || r.startedAt > best.startedAt) best = r;
  }
  return best;
}

/** The previous run's times of the jobs `run` has, paired by id (a matrix leg with the same leg). */
export function previousTimes(run: RunRecord, previous: RunRecord): PreviousRunView {
  const before = new Map(previous.jobs.filter(ranHere).map((j) => [j.id, j]));
  const jobs: PreviousRunView['jobs'] = {};
  for (const j of run.jobs) {
    const p = before.get(j.id);
    if (p) jobs[j.id] = { offsetMs: p.startedAt! - previous.startedAt, durationMs: p.durationMs, status: p.status };
  }
  return { runId: previous.id, durationMs: previous.durationMs, jobs };
}
