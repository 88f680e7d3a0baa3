// What the stage board and the status bar show for a run: pure functions of the run record.
import type { JobRecord, JobStatus, RunRecord, RunStatus } from '../shared/model';
import { LEG_ORDER, type JobView, type RunView, type StageView } from '../shared/views';
import { boardGraph } from './boardGraph';
import { depths } from './graph';
import { formatDuration } from './duration';
import { isInstanceOf } from './rerun';
import { criticalPath, previousTimes } from './timeline';

/** Groups a run's jobs into columns: declared stages in order, otherwise by dependency depth. */
export function stagesOf(run: RunRecord): { name: string; jobs: JobRecord[] }[] {
  const d = depths(run.jobs.map((j) => j.id), (id) => run.jobs.find((j) => j.id === id)?.deps ?? []);
  const columns = new Map<string, { name: string; order: number; jobs: JobRecord[] }>();
  const declared = run.stages ?? [];
  for (const job of run.jobs) {
    const depth = d.get(job.id) ?? 0;
    const name = job.stage ?? (declared.length ? 'test' : `stage ${depth + 1}`);
    const idx = declared.indexOf(name);
    const order = idx >= 0 ? idx * 1000 : depth * 1000 + 500;
    const col = columns.get(name) ?? { name, order, jobs: [] };
    col.order = Math.min(col.order, order);
    col.jobs.push(job);
    columns.set(name, col);
  }
  return [...columns.values()].sort((a, b) => a.order - b.order).map(({ name, jobs }) => ({ name, jobs }));
}

/**
 * The steps of an ended job that did not run because they are unsupported locally (a remote action that cannot be
 * had, a toolchain version this machine lacks): such a job passed only partly, not as CI would have run it.
 */
export function unsupportedSteps(job: JobRecord): { name: string; reason: string | null }[] {
  if (job.status !== 'success' && job.status !== 'failed') return [];
  return job.steps.filter((s) => s.status === 'unsupported').map((s) => ({ name: s.name, reason: s.reason }));
}

const legRank = (j: JobRecord) => (j.status === 'failed' && j.allowFailure ? LEG_ORDER.indexOf('success') - 0.5 : LEG_ORDER.indexOf(j.status));

/**
 * What one row of a pipeline's job shows of its last run: the job's record, or, when it ran as several (matrix legs,
 * parallel copies), the leg that most needs a look (a failed one before one that passed: its icon and kept workspace;
 * its log, or the next such leg's when it never started) and how the legs ended ("1 failed, 2 success"), so the row
 * never says success for a job that failed.
 */
export function jobRow(run: RunRecord, jobId: string): { record: JobRecord; legs: string | null } | undefined {
  const own = run.jobs.find((r) => r.id === jobId);
  if (own) return { record: own, legs: null };
  // Sorted by rank, stable: legs of the same rank stay in the run's order.
  const legs = run.jobs.filter((r) => isInstanceOf(r.id, jobId)).sort((a, b) => legRank(a) - legRank(b));
  if (legs.length === 0) return undefined;
  const record = { ...legs[0], logFile: legs[0].logFile ?? legs.find((l) => l.logFile !== null)?.logFile ?? null };
  if (legs.length === 1) return { record, legs: null };
  const counts = new Map<JobStatus, number>();
  for (const l of legs) counts.set(l.status, (counts.get(l.status) ?? 0) + 1);
  return { record, legs: [...counts].map(([status, n]) => `${n} ${status}`).join(', ') };
}

export function jobView(job: JobRecord, tail: readonly string[], now: number): JobView {
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    allowFailure: job.allowFailure,
    durationMs: job.status === 'running' && job.startedAt !== null ? now - job.startedAt : job.durationMs,
    startedAt: job.startedAt,
    attempts: job.attempts,
    reason: job.reason,
    ...(job.status === 'success' && unsupportedSteps(job).length > 0 ? { partial: true } : {}),
    ...(job.carriedFrom ? { carried: true } : {}),
    tests: job.tests,
    tail: tail.slice(-20),
    deps: job.deps,
  };
}

/** The board's view of a local run: its stages, its graph, its critical path once it ended, the previous run's times. */
export function runView(run: RunRecord, tail: (jobId: string) => readonly string[], folderName: string, now: number, previous?: RunRecord): RunView {
  const columns = stagesOf(run);
  const stages: StageView[] = columns.map((s) => ({ name: s.name, jobs: s.jobs.map((j) => jobView(j, tail(j.id), now)) }));
  const critical = criticalPath(run);
  return {
    id: run.id,
    folderName,
    pipelineId: run.pipelineId,
    pipelineName: run.pipelineName,
    status: run.status,
    startedAt: run.startedAt,
    durationMs: run.status === 'running' ? now - run.startedAt : run.durationMs,
    stages,
    sha: run.sha ? run.sha.slice(0, 7) : null,
    local: true,
    ...(run.attempt && run.attempt > 1 ? { attempt: run.attempt } : {}),
    graph: boardGraph(run.jobs, columns),
    ...(critical ? { critical } : {}),
    ...(previous ? { previous: previousTimes(run, previous) } : {}),
  };
}

export const RUN_STATUS_LABEL: Record<RunStatus, string> = {
  running: 'running',
  success: 'passed',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

export interface StatusBarModel {
  text: string;
  tooltip: string;
  tone: 'normal' | 'warning' | 'error';
}

/**
 * Why a run failed, by its jobs: "1 of 3 jobs failed, 1 unsupported locally" ('' when no job says). How many failed,
 * not how many passed ("failed 2/3" read both ways); a job that could not run here as CI runs it fails the run, but
 * nothing in it failed, so it is named apart.
 */
export function whyFailed(run: RunRecord): { failed: string[]; unsupported: string[]; why: string } {
  const total = run.jobs.length;
  const failed = run.jobs.filter((j) => j.status === 'failed' && !j.allowFailure).map((j) => j.name);
  const unsupported = run.jobs.filter((j) => j.status === 'unsupported' && !j.allowFailure).map((j) => j.name);
  const of = (n: number) => `${n} of ${total} job${total === 1 ? '' : 's'}`;
  const why = [failed.length ? `${of(failed.length)} failed` : '', unsupported.length ? (failed.length ? `${unsupported.length} unsupported locally` : `${of(unsupported.length)} unsupported locally`) : '']
    .filter(Boolean)
    .join(', ');
  return { failed, unsupported, why };
}

/** The run-status item: the pipeline and how its last (or current) run is doing. */
export function runStatusBar(run: RunRecord | null, now: number): StatusBarModel {
  if (!run) return { text: '$(rocket) Delivery', tooltip: 'No pipeline has run yet in this workspace', tone: 'normal' };
  const done = run.jobs.filter((j) => j.status === 'success').length;
  const total = run.jobs.length;
  const icon: Record<RunStatus, string> = {
    running: '$(sync~spin)',
    success: '$(pass-filled)',
    failed: '$(error)',
    cancelled: '$(circle-slash)',
    interrupted: '$(warning)',
  };
  const duration = formatDuration(run.status === 'running' ? now - run.startedAt : run.durationMs);
  const { failed, unsupported, why } = whyFailed(run);
  const text =
    run.status === 'failed' && why !== ''
      ? `${icon.failed} ${run.pipelineName}: ${why}`
      : `${icon[run.status]} ${run.pipelineName}: ${RUN_STATUS_LABEL[run.status]} ${done}/${total}`;
  const tooltip = [
    `${run.pipelineName} ${RUN_STATUS_LABEL[run.status]} (${duration})`,
    `${done} of ${total} jobs succeeded`,
    failed.length ? `failed: ${failed.join(', ')}` : '',
    unsupported.length ? `unsupported locally: ${unsupported.join(', ')}` : '',
  ].filter(Boolean).join('\n');
  const tone = run.status === 'failed' || run.status === 'interrupted' ? 'error' : run.status === 'cancelled' ? 'warning' : 'normal';
  return { text, tooltip, tone };
}
