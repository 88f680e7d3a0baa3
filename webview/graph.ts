// The board's graph: the columns and node order the host laid out (src/core/boardGraph.ts), a matrix job's legs in a
// collapsible group, `needs` drawn as SVG edges between the nodes where the browser placed them, the critical path
// highlighted once the run has ended.
import type { JobStatus } from '../src/shared/model';
import { LEG_ORDER, type GraphView, type JobView, type RunView } from '../src/shared/views';
import { h } from './dom';

const SVG = 'http://www.w3.org/2000/svg';
/** Matrix jobs the user folded (kept across renders). */
const collapsed = new Set<string>();
/** Draws the edges again when a column or the board changes size (a card's output grew, a group folded, zoom). */
let observer: ResizeObserver | null = null;

export interface GraphParts {
  renderJob: (job: JobView) => HTMLElement;
  statusIcon: (status: string) => string;
}

/** The node a job record is drawn in: its own, or its matrix job's group. */
export function nodeIndex(graph: GraphView): Map<string, string> {
  const out = new Map<string, string>();
  for (const col of graph.columns) for (const it of col.items) if ('node' in it) for (const id of it.legs ?? [it.node]) out.set(id, it.node);
  return out;
}

/** The edges between consecutive nodes of the critical path, as "from\nto". */
function criticalEdges(run: RunView, nodeOf: Map<string, string>): Set<string> {
  const nodes = (run.critical?.jobs ?? []).map((id) => nodeOf.get(id) ?? id);
  const out = new Set<string>();
  for (let i = 1; i < nodes.length; i++) if (nodes[i - 1] !== nodes[i]) out.add(`${nodes[i - 1]}\n${nodes[i]}`);
  return out;
}

export function renderGraph(run: RunView, graph: GraphView, parts: GraphParts): HTMLElement {
  const jobs = new Map(run.stages.flatMap((s) => s.jobs).map((j) => [j.id, j]));
  const onPath = new Set(run.critical?.jobs ?? []);
  const board = h('section', { class: 'board graph', id: 'board', 'aria-label': `Jobs of ${run.pipelineName} and what each needs: arrow keys move between them, Enter opens a job's log or folds a matrix job` });
  const svg = document.createElementNS(SVG, 'svg');
  svg.classList.add('edges');
  svg.setAttribute('aria-hidden', 'true');
  board.append(svg);
  for (const col of graph.columns) {
    const column = h('div', { class: 'stage', 'data-stage': col.name }, h('h3', {}, col.name));
    for (const it of col.items) {
      if ('pass' in it) {
        column.append(h('div', { class: 'pass', 'data-edge': String(it.pass), 'aria-hidden': 'true' }));
        continue;
      }
      const own = jobs.get(it.node);
      if (!it.legs) {
        if (!own) continue;
        const card = parts.renderJob(own);
        if (onPath.has(own.id)) card.classList.add('critical');
        column.append(card);
        continue;
      }
      column.append(renderGroup(it.node, it.legs.map((id) => jobs.get(id)).filter((j): j is JobView => j !== undefined), own, onPath, parts));
    }
    board.append(column);
  }
  board.dataset.critical = [...criticalEdges(run, nodeIndex(graph))].join('\t');
  const redraw = () => requestAnimationFrame(() => drawEdges(board, graph));
  observer?.disconnect();
  observer = new ResizeObserver(redraw);
  observer.observe(board);
  for (const column of board.querySelectorAll('.stage')) observer.observe(column);
  // Drawn once the board is in the document (its boxes have sizes then).
  redraw();
  return board;
}

function renderGroup(id: string, legs: JobView[], own: JobView | undefined, onPath: ReadonlySet<string>, parts: GraphParts): HTMLElement {
  const group = h('div', { class: `leg-group${collapsed.has(id) ? ' collapsed' : ''}`, 'data-group': id });
  const head = h('div', { class: 'group-head', role: 'button', 'data-nav': id, tabindex: '-1', 'aria-expanded': String(!collapsed.has(id)) });
  group.append(head, h('div', { class: 'legs' }, ...legs.map((leg) => {
    const card = parts.renderJob(leg);
    if (onPath.has(leg.id)) card.classList.add('critical');
    return card;
  })));
  if (legs.some((l) => onPath.has(l.id))) group.classList.add('critical');
  fillGroupHead(head, id, legs, own, parts);
  const toggle = () => {
    const fold = !group.classList.contains('collapsed');
    group.classList.toggle('collapsed', fold);
    head.setAttribute('aria-expanded', String(!fold));
    if (fold) collapsed.add(id);
    else collapsed.delete(id);
  };
  head.addEventListener('click', toggle);
  head.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    e.stopPropagation();
    toggle();
  });
  return group;
}


function fillGroupHead(head: HTMLElement, id: string, legs: readonly JobView[], own: JobView | undefined, parts: GraphParts): void {
  const counts = new Map<JobStatus, number>();
  for (const l of legs) counts.set(l.status, (counts.get(l.status) ?? 0) + 1);
  const ranked = [...counts.keys()].sort((a, b) => LEG_ORDER.indexOf(a) - LEG_ORDER.indexOf(b));
  const status = own?.status ?? ranked[0] ?? 'queued';
  const summary = `${legs.length} leg${legs.length === 1 ? '' : 's'}: ${ranked.map((s) => `${counts.get(s)} ${s}`).join(', ')}`;
  head.className = `group-head status-${status}`;
  head.setAttribute('aria-label', `${own?.name ?? id}: ${summary}`);
  head.replaceChildren(
    h('span', { class: 'fold', 'aria-hidden': 'true' }),
    h('span', { class: 'icon', 'aria-hidden': 'true' }, parts.statusIcon(status)),
    h('span', { class: 'job-name' }, own?.name ?? id),
    h('span', { class: 'legs-summary' }, summary),
  );
}

/** After a patch: each matrix job's head says again how its legs are doing. */
export function refreshGroups(root: HTMLElement, run: RunView, parts: GraphParts): void {
  const jobs = new Map(run.stages.flatMap((s) => s.jobs).map((j) => [j.id, j]));
  for (const it of run.graph?.columns.flatMap((c) => c.items) ?? []) {
    if (!('node' in it) || !it.legs) continue;
    const head = root.querySelector<HTMLElement>(`.leg-group[data-group="${CSS.escape(it.node)}"] > .group-head`);
    if (head) fillGroupHead(head, it.node, it.legs.map((id) => jobs.get(id)).filter((j): j is JobView => j !== undefined), jobs.get(it.node), parts);
  }
}

// ---- edges ----

interface Box {
  left: number;
  right: number;
  mid: number;
}

function boxOf(el: Element, origin: DOMRect, board: HTMLElement): Box {
  const r = el.getBoundingClientRect();
  const dx = board.scrollLeft - origin.left;
  const dy = board.scrollTop - origin.top;
  return { left: r.left + dx, right: r.right + dx, mid: (r.top + r.bottom) / 2 + dy };
}

/** A curve leaving (x1, y1) rightwards and entering (x2, y2) from the left. */
const across = (x1: number, y1: number, x2: number, y2: number) => {
  const d = Math.max(12, (x2 - x1) / 2);
  return `C ${x1 + d} ${y1} ${x2 - d} ${y2} ${x2} ${y2}`;
};

function drawEdges(board: HTMLElement, graph: GraphView): void {
  const svg = board.querySelector<SVGSVGElement>('svg.edges');
  if (!svg || !board.isConnected) return;
  const t0 = performance.now();
  const origin = board.getBoundingClientRect();
  const nodes = new Map<string, Element>();
  for (const el of board.querySelectorAll<HTMLElement>('article.job')) nodes.set(el.dataset.job ?? '', el);
  for (const el of board.querySelectorAll<HTMLElement>('.leg-group')) nodes.set(el.dataset.group ?? '', el);
  const node = (id: string) => nodes.get(id);
  const passes = new Map<number, Element[]>();
  for (const p of board.querySelectorAll<HTMLElement>('.pass')) {
    const i = Number(p.dataset.edge);
    passes.set(i, [...(passes.get(i) ?? []), p]);
  }
  const critical = new Set((board.dataset.critical ?? '').split('\t'));
  const paths: SVGPathElement[] = [];
  graph.edges.forEach((e, i) => {
    const a = node(e.from);
    const b = node(e.to);
    if (!a || !b) return;
    const from = boxOf(a, origin, board);
    const to = boxOf(b, origin, board);
    let d: string;
    if (Math.abs(from.left - to.left) < 1) {
      // Within a column (stages declared, a job needing one of its own stage): a bow on the column's left.
      d = `M ${from.left} ${from.mid} C ${from.left - 24} ${from.mid} ${to.left - 24} ${to.mid} ${to.left} ${to.mid}`;
    } else if (to.left < from.left) {
      d = `M ${from.left} ${from.mid} C ${from.left - 24} ${from.mid} ${to.right + 24} ${to.mid} ${to.right} ${to.mid}`;
    } else {
      let x = from.right;
      let y = from.mid;
      d = `M ${x} ${y}`;
      for (const p of passes.get(i) ?? []) {
        const box = boxOf(p, origin, board);
        d += ` ${across(x, y, box.left, box.mid)} L ${box.right} ${box.mid}`;
        x = box.right;
        y = box.mid;
      }
      d += ` ${across(x, y, to.left, to.mid)}`;
    }
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.classList.add('edge');
    path.dataset.from = e.from;
    path.dataset.to = e.to;
    const hot = critical.has(`${e.from}\n${e.to}`);
    if (hot) path.classList.add('critical');
    path.setAttribute('marker-end', `url(#${hot ? 'arrow-critical' : 'arrow'})`);
    paths.push(path);
  });
  svg.setAttribute('width', String(board.scrollWidth));
  svg.setAttribute('height', String(board.scrollHeight));
  const defs = document.createElementNS(SVG, 'defs');
  for (const id of ['arrow', 'arrow-critical']) {
    const marker = document.createElementNS(SVG, 'marker');
    // Sized in the board's units, not by the stroke: the critical path's thicker line keeps the same arrow.
    for (const [k, v] of Object.entries({ id, viewBox: '0 0 10 10', refX: '9', refY: '5', markerUnits: 'userSpaceOnUse', markerWidth: '9', markerHeight: '9', orient: 'auto-start-reverse' })) marker.setAttribute(k, v);
    const tip = document.createElementNS(SVG, 'path');
    tip.setAttribute('d', 'M 0 0 L 10 5 L 0 10 z');
    marker.append(tip);
    defs.append(marker);
  }
  // Critical edges last: drawn over the others.
  paths.sort((x, y) => Number(x.classList.contains('critical')) - Number(y.classList.contains('critical')));
  svg.replaceChildren(defs, ...paths);
  // What drawing them cost (read by bench/board.mjs).
  svg.dataset.drawMs = (performance.now() - t0).toFixed(1);
}

// ---- keyboard ----

/** What arrow keys move between: the visible job cards and matrix heads, by column. */
export function navColumns(board: HTMLElement): HTMLElement[][] {
  return [...board.querySelectorAll<HTMLElement>('.stage')]
    .map((c) => [...c.querySelectorAll<HTMLElement>('[data-nav]')].filter((el) => !el.closest('.leg-group.collapsed .legs')))
    .filter((c) => c.length > 0);
}

/** The element of column `col` nearest in height to `from` (left and right keep to the row the eye is on). */
export function nearest(column: readonly HTMLElement[], from: HTMLElement): HTMLElement | undefined {
  const y = from.getBoundingClientRect().top;
  let best: HTMLElement | undefined;
  let gap = Infinity;
  for (const el of column) {
    const g = Math.abs(el.getBoundingClientRect().top - y);
    if (g < gap) {
      gap = g;
      best = el;
    }
  }
  return best;
}
