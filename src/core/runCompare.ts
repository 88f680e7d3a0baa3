// Two runs of a pipeline side by side: what changed between them, job by job (status, duration, reason). Pure: the
// editor shows the text it returns.
import type { JobRecord, RunRecord } from '../shared/model';
import { formatDuration } from './duration';

function describeRun(label: string, r: RunRecord): string {
  const failed = r.jobs.filter((j) => (j.status === 'failed' || j.status === 'unsupported') && !j.allowFailure).length;
  const at = r.sha ? ` at ${r.sha.slice(0, 7)}` : '';
  return `${label}: run ${r.id}${r.attempt && r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}${at}, ${r.status}${failed ? ` (${failed} of ${r.jobs.length} jobs failed)` : ''}, ${formatDuration(r.durationMs)}, started ${new Date(r.startedAt).toISOString()} from ${r.trigger}`;
}

function cell(j: JobRecord | undefined): string {
  if (!j) return '—';
  return `${j.status}${j.durationMs ? ` ${formatDuration(j.durationMs)}` : ''}${j.carriedFrom ? ' (kept)' : ''}`;
}

/** A Markdown comparison of run `a` (older) and `b` (newer): the runs, then one row per job, changed ones marked. */
export function compareRuns(a: RunRecord, b: RunRecord): string {
  const ids = [...new Set([...a.jobs.map((j) => j.id), ...b.jobs.map((j) => j.id)])];
  const rows = ids.map((id) => {
    const x = a.jobs.find((j) => j.id === id);
    const y = b.jobs.find((j) => j.id === id);
    const changed = x?.status !== y?.status;
    const why = y && y.status !== 'success' && y.reason ? y.reason : x && x.status !== 'success' && x.reason && changed ? x.reason : '';
    return `| ${changed ? '**' : ''}${id.replace(/\|/g, '\\|')}${changed ? '**' : ''} | ${cell(x)} | ${cell(y)} | ${changed ? 'changed' : ''} | ${why.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')} |`;
  });
  const changed = rows.filter((r) => r.includes('| changed |')).length;
  return [
    `# ${b.pipelineName}: two runs compared`,
    '',
    `- ${describeRun('A', a)}`,
    `- ${describeRun('B', b)}`,
    '',
    `${changed} of ${ids.length} job${ids.length === 1 ? '' : 's'} changed result.`,
    '',
    '| job | A | B | | why (B, else A) |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
