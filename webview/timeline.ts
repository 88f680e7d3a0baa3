// The board's timeline (Gantt): one row per job on the run's time axis — when it waited (ready, not started), when
// it ran, and the previous run's time for it as a ghost bar. Bars are placed by CSS from custom properties (ms), so
// the axis growing as the run goes is one property on the container, not a write per row.
import { formatDuration } from '../src/shared/duration';
import { readyAt, type TimedJob } from '../src/shared/timeline';
import type { JobView, RunView } from '../src/shared/views';
import { h } from './dom';
import { STATUS_ICON, statusText } from './status';

const TICKS = 4;

/** The jobs in the graph's order (a matrix job's legs under it: its own row, else its name), else the stages'. */
function rowsOf(run: RunView): (JobView | { group: string })[] {
  const jobs = new Map(run.stages.flatMap((s) => s.jobs).map((j) => [j.id, j]));
  if (!run.graph) return [...jobs.values()];
  const out: (JobView | { group: string })[] = [];
  for (const col of run.graph.columns) {
    for (const it of col.items) {
      if (!('node' in it)) continue;
      if (it.legs && !jobs.has(it.node)) out.push({ group: it.node });
      for (const id of it.legs ? [it.node, ...it.legs] : [it.node]) {
        const j = jobs.get(id);
        if (j) out.push(j);
      }
    }
  }
  return out;
}

/** How long the axis is: the run so far, or the previous run when it took longer (its ghosts fit). */
const spanOf = (run: RunView) => Math.max(run.durationMs, run.previous?.durationMs ?? 0, 1);

export function renderTimeline(run: RunView): HTMLElement {
  const section = h('section', { class: 'timeline', id: 'timeline', 'aria-label': `When the jobs of ${run.pipelineName} waited and ran${run.previous ? ', with the previous run as ghost bars' : ''}: arrow keys move between jobs, Enter opens a job's log` });
  const axis = h('div', { class: 'axis', 'aria-hidden': 'true' }, h('span', { class: 'label' }), h('div', { class: 'ticks' }, ...Array.from({ length: TICKS + 1 }, (_, i) => {
    const tick = h('span', { class: 'tick' });
    tick.style.setProperty('--at', String(i / TICKS)); // CSSOM: the CSP allows no style attribute
    return tick;
  })));
  const rows = h('div', { class: 'rows', role: 'list' });
  const byGroup = new Set(run.graph?.columns.flatMap((c) => c.items.flatMap((it) => ('node' in it && it.legs ? it.legs : []))) ?? []);
  for (const job of rowsOf(run)) {
    if ('group' in job) {
      rows.append(h('div', { class: 'tl-group', role: 'listitem' }, job.group));
      continue;
    }
    const row = h(
      'div',
      { class: `tl-row${byGroup.has(job.id) ? ' leg' : ''}`, role: 'listitem', 'data-job': job.id, 'data-nav': job.id, tabindex: '-1' },
      h('span', { class: 'label' }, h('span', { class: 'icon', 'aria-hidden': 'true' }), h('span', { class: 'job-name' }, job.name)),
      h('div', { class: 'track' }, h('div', { class: 'ghost' }), h('div', { class: 'wait' }), h('div', { class: 'bar' })),
      h('span', { class: 'row-duration' }),
    );
    rows.append(row);
  }
  section.append(axis, rows);
  if (run.previous) section.append(h('p', { class: 'legend' }, h('span', { class: 'swatch ghost', 'aria-hidden': 'true' }), 'the previous run', h('span', { class: 'swatch wait', 'aria-hidden': 'true' }), 'waiting (ready, not started)'));
  updateTimeline(section, run);
  return section;
}

/** Places every bar again from the run as it is now (after a patch: cheap, no element is made). */
export function updateTimeline(section: HTMLElement, run: RunView): void {
  const span = spanOf(run);
  section.style.setProperty('--span', String(span));
  section.style.setProperty('--now', String(run.durationMs));
  section.querySelectorAll<HTMLElement>('.tick').forEach((t, i) => (t.textContent = formatDuration((span * i) / TICKS)));
  const jobs = run.stages.flatMap((s) => s.jobs);
  const byId = new Map<string, TimedJob>(jobs.map((j) => [j.id, j]));
  const onPath = new Set(run.critical?.jobs ?? []);
  const rows = new Map([...section.querySelectorAll<HTMLElement>('.tl-row')].map((r) => [r.dataset.job ?? '', r]));
  for (const job of jobs) {
    const row = rows.get(job.id);
    if (!row) continue;
    const ghost = run.previous?.jobs[job.id];
    const ready = job.carried ? null : readyAt(job, byId, run.startedAt);
    const started = job.startedAt !== null && !job.carried ? job.startedAt - run.startedAt : null;
    // What the row shows, as one string: a row whose job did not move is not written again.
    const shown = `${job.status}|${ready}|${started}|${job.durationMs}|${onPath.has(job.id)}`;
    if (row.dataset.shown === shown) continue;
    row.dataset.shown = shown;
    row.className = `tl-row${row.classList.contains('leg') ? ' leg' : ''} status-${job.status}${onPath.has(job.id) ? ' critical' : ''}`;
    place(row.querySelector('.ghost')!, ghost ? ghost.offsetMs : null, ghost ? ghost.offsetMs + ghost.durationMs : null);
    place(row.querySelector('.wait')!, ready === null ? null : ready - run.startedAt, started ?? (job.status === 'queued' ? 'now' : null));
    place(row.querySelector('.bar')!, started, started === null ? null : job.status === 'running' ? 'now' : started + job.durationMs);
    row.querySelector('.icon')!.textContent = STATUS_ICON[job.status] ?? '•';
    const took = started === null ? (job.carried ? 'kept from an earlier attempt' : statusText(job)) : formatDuration(job.durationMs);
    row.querySelector('.row-duration')!.textContent = took;
    const waited = ready !== null && started !== null ? started - (ready - run.startedAt) : 0;
    row.setAttribute(
      'aria-label',
      [`${job.name}: ${statusText(job)}`, started !== null ? `started at ${formatDuration(started)}, took ${formatDuration(job.durationMs)}` : '', waited > 0 ? `waited ${formatDuration(waited)}` : '', ghost ? `previous run ${formatDuration(ghost.durationMs)}` : '', onPath.has(job.id) ? 'on the critical path' : '']
        .filter(Boolean)
        .join(', '),
    );
  }
}

/** A bar from `start` to `end` ms after the run started (`now`: still going); hidden when there is none. */
function place(bar: HTMLElement, start: number | null, end: number | 'now' | null): void {
  if (start === null || end === null || (end !== 'now' && end - start <= 0 && !bar.classList.contains('bar'))) {
    bar.hidden = true;
    return;
  }
  bar.hidden = false;
  bar.style.setProperty('--s', String(start));
  if (end === 'now') bar.style.removeProperty('--e');
  else bar.style.setProperty('--e', String(end));
  bar.classList.toggle('open', end === 'now');
}

/** Up and down move between rows, Home and End to the first and last; Enter opens the row's log. */
export function timelineKey(e: KeyboardEvent, openLog: (jobId: string) => void): HTMLElement | undefined {
  const row = (e.target as HTMLElement).closest<HTMLElement>('.tl-row');
  if (!row || e.target !== row) return undefined;
  const rows = [...(row.parentElement?.querySelectorAll<HTMLElement>('.tl-row') ?? [])];
  const i = rows.indexOf(row);
  const to: Record<string, HTMLElement | undefined> = { ArrowDown: rows[i + 1], ArrowUp: rows[i - 1], Home: rows[0], End: rows.at(-1) };
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    if (row.dataset.job) openLog(row.dataset.job);
    return undefined;
  }
  if (!(e.key in to)) return undefined;
  e.preventDefault();
  return to[e.key];
}
