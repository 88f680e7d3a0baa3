// The stage board: a run's jobs as a graph — stages (or dependency depth) as columns, jobs as cards (status, duration,
// tests, last log lines, actions), `needs` as edges, the critical path once it ended — or as a timeline.
import type { RunPatch } from '../src/shared/protocol';
import type { BoardState, JobView, RunView } from '../src/shared/views';
import { formatDuration } from '../src/shared/duration';
import { fileReferences } from '../src/shared/fileRefs';
import { h } from './dom';
import { navColumns, nearest, refreshGroups, renderGraph, type GraphParts } from './graph';
import { STATUS_ICON, statusText } from './status';
import { renderTimeline, timelineKey, updateTimeline } from './timeline';
import { badge, button, progressRing } from './toolkit';
import { send } from './vscodeApi';

const TAIL_LINES = 20;

type BoardMode = 'graph' | 'timeline';
const MODES: Record<BoardMode, string> = { graph: 'Graph', timeline: 'Timeline' };

let current: RunView | null = null;
let trusted = false;
let mode: BoardMode = 'graph';
/** The card that holds the board's one tab stop (kept across renders and views). */
let activeJob: string | null = null;

export function render(root: HTMLElement, state: BoardState): void {
  const hadFocus = root.contains(document.activeElement) && document.activeElement?.classList.contains('job');
  current = state.run;
  trusted = state.trusted;
  root.replaceChildren();
  if (!state.run) {
    root.append(renderPipelines(state));
    return;
  }
  root.append(renderHeader(state.run, state.trusted), renderModes(root), ...criticalLine(state.run), renderBody(state.run));
  const card = rovingStop(root);
  if (hadFocus) card?.focus();
}

const graphParts: GraphParts = { renderJob: (job) => renderJob(current?.id ?? '', job), statusIcon: (s) => STATUS_ICON[s] ?? '•' };

function renderBody(run: RunView): HTMLElement {
  const body = mode === 'timeline' ? renderTimeline(run) : run.graph ? renderGraph(run, run.graph, graphParts) : renderStages(run);
  body.addEventListener('keydown', onBoardKey);
  body.addEventListener('focusin', (e) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>('[data-nav]');
    if (!el?.dataset.nav) return;
    // Focused by a click or a test: it becomes the one tab stop.
    activeJob = el.dataset.nav;
    for (const other of body.querySelectorAll<HTMLElement>('[data-nav][tabindex="0"]')) if (other !== el) other.tabIndex = -1;
    el.tabIndex = 0;
  });
  return body;
}

/** Graph or timeline: two toggle buttons; the choice stays while the panel is open. */
function renderModes(root: HTMLElement): HTMLElement {
  const group = h('div', { class: 'board-modes', role: 'group', 'aria-label': 'Show the jobs as' });
  for (const m of Object.keys(MODES) as BoardMode[]) {
    const b = h('button', { class: 'mode', id: `board-mode-${m}`, 'aria-pressed': String(mode === m) }, MODES[m]);
    b.addEventListener('click', () => {
      if (mode === m || !current) return;
      mode = m;
      for (const other of group.querySelectorAll('button')) other.setAttribute('aria-pressed', String(other === b));
      root.querySelector('#board, #timeline')?.replaceWith(renderBody(current));
      rovingStop(root);
    });
    group.append(b);
  }
  return group;
}

/** "Critical path: build → test → ship · 4.5s (0.2s waiting)", once the run ended. */
function criticalLine(run: RunView): HTMLElement[] {
  if (!run.critical) return [];
  const names = new Map(run.stages.flatMap((s) => s.jobs).map((j) => [j.id, j.name]));
  const c = run.critical;
  return [
    h('p', { class: 'critical-path', id: 'critical-path' },
      h('span', { class: 'swatch critical', 'aria-hidden': 'true' }),
      `Critical path: ${c.jobs.map((id) => names.get(id) ?? id).join(' → ')} · ${formatDuration(c.durationMs)}${c.waitMs > 0 ? ` (${formatDuration(c.waitMs)} of it waiting)` : ''}`),
  ];
}

/**
 * Keyboard use: the board is one tab stop (the active job); arrow keys move between jobs — in the graph up and down
 * in a column, left and right to the nearest job of the next column; in the timeline up and down — Home and End to
 * the first and last; Enter opens the job's log (on a matrix job's head: folds its legs).
 */
function rovingStop(root: HTMLElement): HTMLElement | null {
  const stops = [...root.querySelectorAll<HTMLElement>('[data-nav]')].filter((el) => !el.closest('.leg-group.collapsed .legs'));
  if (stops.length === 0) return null;
  const active = stops.find((c) => c.dataset.nav === activeJob) ?? stops[0];
  activeJob = active.dataset.nav ?? null;
  for (const c of root.querySelectorAll<HTMLElement>('[data-nav]')) c.tabIndex = c === active ? 0 : -1;
  return active;
}

function onBoardKey(e: KeyboardEvent): void {
  const openLog = (jobId: string) => current && send({ type: 'openLog', runId: current.id, jobId });
  if (mode === 'timeline') return moveTo(e.target as HTMLElement, timelineKey(e, openLog));
  const card = e.target as HTMLElement;
  const board = card.closest<HTMLElement>('.board');
  if (!board || !card.dataset.nav) return;
  const columns = navColumns(board);
  const col = columns.findIndex((c) => c.includes(card));
  const row = columns[col]?.indexOf(card) ?? 0;
  let next: HTMLElement | undefined;
  switch (e.key) {
    case 'ArrowDown':
      next = columns[col][row + 1];
      break;
    case 'ArrowUp':
      next = columns[col][row - 1];
      break;
    case 'ArrowRight':
      next = columns[col + 1] && nearest(columns[col + 1], card);
      break;
    case 'ArrowLeft':
      next = columns[col - 1] && nearest(columns[col - 1], card);
      break;
    case 'Home':
      next = columns[0][0];
      break;
    case 'End':
      next = columns[columns.length - 1].at(-1);
      break;
    case 'Enter':
    case ' ':
      if (card.dataset.job === undefined) return; // a matrix head folds itself
      e.preventDefault();
      openLog(card.dataset.job);
      return;
    default:
      return;
  }
  e.preventDefault();
  moveTo(card, next);
}

function moveTo(from: HTMLElement, next: HTMLElement | undefined): void {
  if (!next) return;
  from.tabIndex = -1;
  next.tabIndex = 0;
  activeJob = next.dataset.nav ?? null;
  next.focus();
}

function renderPipelines(state: BoardState): HTMLElement {
  const section = h('section', { class: 'pipelines' }, h('h2', {}, 'Pipelines'));
  if (state.pipelines.length === 0) {
    section.append(h('p', { class: 'empty' }, 'No pipelines in this workspace yet.'));
    return section;
  }
  if (!state.trusted) section.append(h('p', { class: 'notice' }, 'This workspace is not trusted: pipelines are shown but not run.'));
  const list = h('ul', {});
  for (const p of state.pipelines) {
    const item = h('li', {}, h('span', { class: 'name' }, p.name), h('span', { class: 'folder' }, p.folderName));
    if (state.trusted) {
      const run = button('secondary', 'Run', { 'data-action': 'run', title: `Run ${p.name}` });
      run.addEventListener('click', () => send({ type: 'runPipeline', folder: p.folder, pipelineId: p.id }));
      item.append(run);
    }
    list.append(item);
  }
  section.append(list);
  return section;
}

function renderHeader(run: RunView, trusted: boolean): HTMLElement {
  const status = h('span', { id: 'run-status', class: `pill status-${run.status}` }, run.status);
  const duration = h('span', { id: 'run-duration', class: 'duration' }, formatDuration(run.durationMs));
  const actions = h('div', { class: 'actions' });
  if (trusted && run.status === 'running') {
    const cancel = button('secondary', 'Cancel', { id: 'cancel-run' });
    cancel.addEventListener('click', () => send({ type: 'cancelRun', runId: run.id }));
    actions.append(cancel);
  }
  if (trusted && run.local && run.status !== 'running') {
    // Every job again, as a new attempt of this run.
    const again = button('secondary', 'Run again', { id: 'run-again', 'aria-label': `Run ${run.pipelineName} again (a new attempt of this run)` });
    again.addEventListener('click', () => send({ type: 'rerun', runId: run.id, failedOnly: false }));
    actions.append(again);
  }
  if (trusted && run.status !== 'running' && run.stages.some((s) => s.jobs.some((j) => j.status === 'failed' || j.status === 'cancelled'))) {
    const rerun = button('secondary', 'Rerun failed', { id: 'rerun-failed' });
    rerun.addEventListener('click', () => send({ type: 'rerun', runId: run.id, failedOnly: true }));
    actions.append(rerun);
  }
  return h(
    'header',
    { class: 'run-header' },
    h('h2', { id: 'run-title' }, run.pipelineName),
    h('span', { class: 'folder' }, run.folderName),
    ...(run.sha ? [commitButton(run)] : []),
    ...(run.attempt ? [h('span', { class: 'attempt', id: 'run-attempt' }, `attempt ${run.attempt}`)] : []),
    status,
    duration,
    actions,
  );
}

/** The commit the run is at: opens it (`git show`) in an editor. */
function commitButton(run: RunView): HTMLElement {
  const b = button('icon', run.sha ?? '', { id: 'run-commit', class: 'commit', title: 'Open the commit it ran at', 'aria-label': `Open commit ${run.sha}` });
  b.addEventListener('click', () => send({ type: 'openCommit', runId: run.id }));
  return b;
}

/** A run without a graph (a remote engine's): its stages as columns of cards. */
function renderStages(run: RunView): HTMLElement {
  const board = h('section', { class: 'board', id: 'board', 'aria-label': `Jobs of ${run.pipelineName}: arrow keys move between them, Enter opens a job's log` });
  for (const stage of run.stages) {
    const column = h('div', { class: 'stage', 'data-stage': stage.name }, h('h3', {}, stage.name));
    for (const job of stage.jobs) column.append(renderJob(run.id, job));
    board.append(column);
  }
  return board;
}

function renderJob(runId: string, job: JobView): HTMLElement {
  const shown = job.status === 'success' && job.partial ? 'unsupported' : job.status;
  const card = h('article', { class: `job status-${shown}`, 'data-job': job.id, 'data-nav': job.id, 'aria-label': `${job.name}: ${statusText(job)}` });
  const icon = job.status === 'running' ? progressRing({ class: 'ring' }) : h('span', { class: 'icon', 'aria-hidden': 'true' }, STATUS_ICON[shown] ?? '•');
  card.append(
    h('header', {}, icon, h('span', { class: 'job-name' }, job.name), h('span', { class: 'job-status' }, statusText(job))),
    ...(job.carried ? [h('span', { class: 'carried' }, 'kept from an earlier attempt')] : []),
    h('div', { class: 'meta' }, h('span', { class: 'job-duration' }, job.startedAt ? formatDuration(job.durationMs) : ''), testsBadge(job), job.attempts > 1 ? h('span', { class: 'attempts' }, `attempt ${job.attempts}`) : null),
    h('div', { class: 'reason' }, job.reason ?? ''),
    tailOf(runId, job.id, job.tail.slice(-TAIL_LINES)),
  );
  const log = button('icon', 'Log', { 'aria-label': `Open the full log of ${job.name}`, title: 'Open full log', class: 'open-log' });
  log.addEventListener('click', () => send({ type: 'openLog', runId, jobId: job.id }));
  card.querySelector('header')?.append(log);
  return card;
}

/**
 * A job's last lines, each `path:line:col` in them a link that opens the file there (the extension resolves it where
 * the job ran and opens only files of the workspace). Links are reached with the pointer; the keyboard has Enter on
 * the card, which opens the log, whose references are links too.
 */
function tailOf(runId: string, jobId: string, lines: readonly string[]): HTMLElement {
  const pre = h('pre', { class: 'tail' }, ...tailNodes(lines));
  pre.addEventListener('click', (e) => {
    const a = (e.target as HTMLElement | null)?.closest<HTMLElement>('a.file-ref');
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const column = Number(a.dataset.column);
    send({ type: 'openFileRef', runId, jobId, file: a.dataset.file ?? '', line: Number(a.dataset.line), column: column >= 1 ? column : null });
  });
  return pre;
}

function tailNodes(lines: readonly string[]): (Node | string)[] {
  const out: (Node | string)[] = [];
  lines.forEach((text, i) => {
    if (i > 0) out.push('\n');
    let at = 0;
    for (const r of fileReferences(text)) {
      if (r.start > at) out.push(text.slice(at, r.start));
      const title = `Open ${r.file} at line ${r.line}${r.column ? `, column ${r.column}` : ''}`;
      out.push(h('a', { class: 'file-ref', href: '#', tabindex: '-1', title, 'data-file': r.file, 'data-line': String(r.line), 'data-column': r.column ? String(r.column) : '' }, text.slice(r.start, r.end)));
      at = r.end;
    }
    if (at < text.length) out.push(text.slice(at));
  });
  return out;
}

function testsBadge(job: Pick<JobView, 'tests'>): HTMLElement | null {
  if (!job.tests) return null;
  const t = job.tests;
  const passed = t.total - t.failed - t.errors - t.skipped;
  return badge(`${passed}/${t.total} tests`, { class: 'tests', title: `${passed} passed, ${t.failed} failed, ${t.errors} errors, ${t.skipped} skipped` });
}

/** Applies a batch of changes to the board in place; false when it cannot (another run, a job it has not drawn). */
export function applyPatch(root: HTMLElement, patch: RunPatch): boolean {
  if (!current || current.id !== patch.runId) return false;
  const views = new Map(current.stages.flatMap((s) => s.jobs).map((j) => [j.id, j]));
  // Jobs a matrix became at run time: the board is drawn again with them.
  if (patch.jobs.some((j) => !views.has(j.id))) return false;
  const ended = current.status !== patch.status;
  current.status = patch.status;
  current.durationMs = patch.durationMs;
  let moved = false;
  for (const j of patch.jobs) {
    const view = views.get(j.id)!;
    const statusChanged = view.status !== j.status;
    moved ||= statusChanged;
    Object.assign(view, { status: j.status, durationMs: j.durationMs, startedAt: j.startedAt, attempts: j.attempts, reason: j.reason, partial: j.partial, tests: j.tests });
    view.tail = [...view.tail, ...j.append].slice(-TAIL_LINES);
    const card = root.querySelector<HTMLElement>(`article.job[data-job="${CSS.escape(j.id)}"]`);
    if (!card) continue;
    if (statusChanged) {
      const focused = document.activeElement === card;
      const fresh = renderJob(current.id, view);
      fresh.tabIndex = card.tabIndex;
      card.replaceWith(fresh);
      if (focused) fresh.focus();
      continue;
    }
    const d = card.querySelector('.job-duration');
    if (d) d.textContent = view.startedAt ? formatDuration(view.durationMs) : '';
    const reason = card.querySelector('.reason');
    if (reason) reason.textContent = view.reason ?? '';
    if (j.append.length) {
      const tail = card.querySelector('.tail');
      if (tail) tail.replaceChildren(...tailNodes(view.tail));
    }
  }
  if (moved) refreshGroups(root, current, graphParts);
  const timeline = root.querySelector<HTMLElement>('#timeline');
  if (timeline) updateTimeline(timeline, current);
  const header = root.querySelector('.run-header');
  if (ended && header) header.replaceWith(renderHeader(current, trusted));
  else {
    const duration = root.querySelector('#run-duration');
    if (duration) duration.textContent = formatDuration(patch.durationMs);
  }
  return true;
}
