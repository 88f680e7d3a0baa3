// Health over time in the environments overview: per environment with `verify: prometheus`, a small line chart of
// each check over the last hours, its bound as a dashed line, and each deploy as a vertical line whose tooltip
// (<title>) names the commit. Plain SVG built with DOM calls: no chart library, no inline style (the CSP has none):
// colours come from CSS classes, geometry from attributes.
import type { DeployMarker, EnvironmentHealthView, HealthSeries } from '../src/shared/views';
import { formatDuration } from '../src/shared/duration';
import { h } from './dom';
import { progressRing } from './toolkit';

const SVG = 'http://www.w3.org/2000/svg';
/** The chart's own units (it scales to the width of its box). */
const W = 360;
const H = 110;
const PAD = { left: 46, right: 8, top: 8, bottom: 20 };

type Child = Node | string | null | undefined | false;

function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** A short number for an axis or a caption: 0.0123, 1234.5, 1.2e-7. */
export function shortNumber(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-4) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

function clock(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Renders the charts; while a read is in progress (loading, nothing new yet) the charts shown stay. */
export function renderHealth(root: HTMLElement, views: EnvironmentHealthView[], loading: boolean): void {
  if (loading && views.length === 0 && root.childElementCount > 0) {
    const header = root.querySelector('.health-header');
    if (header && !header.querySelector('.ring')) header.append(progressRing({ class: 'ring' }));
    return;
  }
  root.replaceChildren();
  if (views.length === 0 && !loading) return;
  root.append(h('header', { class: 'run-header health-header' }, h('h2', {}, 'Health over time'), loading ? progressRing({ class: 'ring' }) : null));
  for (const v of views) root.append(renderEnvironment(v));
}

function renderEnvironment(v: EnvironmentHealthView): HTMLElement {
  const range = formatDuration(v.endMs - v.startMs);
  const box = h(
    'section',
    { class: 'env-health', 'data-env': v.environment },
    h('h3', {}, v.name, h('span', { class: 'sub' }, ` · last ${range}, every ${formatDuration(v.stepMs)} · ${v.markers.length} deploy${v.markers.length === 1 ? '' : 's'}`)),
  );
  const grid = h('div', { class: 'charts' });
  for (const series of v.series) grid.append(renderSeries(v, series));
  box.append(grid);
  return box;
}

function renderSeries(v: EnvironmentHealthView, series: HealthSeries): HTMLElement {
  const last = series.points.length ? series.points[series.points.length - 1][1] : null;
  const figure = h(
    'figure',
    { class: 'chart', 'data-check': series.name },
    h(
      'figcaption',
      {},
      h('strong', {}, series.name),
      last !== null ? h('span', { class: `now${series.limit && past(last, series.limit) ? ' past' : ''}` }, ` now ${shortNumber(last)}`) : null,
      h('span', { class: 'sub' }, ` · bound ${series.boundText}${series.limit ? '' : ' (no line: it moves with each deploy)'}`),
    ),
  );
  if (series.error) {
    figure.append(h('p', { class: 'chart-error error' }, series.error));
    return figure;
  }
  figure.append(chart(v, series));
  return figure;
}

function past(value: number, limit: NonNullable<HealthSeries['limit']>): boolean {
  return limit.op === '≤' ? value > limit.value : value < limit.value;
}

/** The SVG: axes, the series (split where Prometheus had no data), the bound, the deploy markers. */
function chart(v: EnvironmentHealthView, series: HealthSeries): SVGElement {
  const values = series.points.map(([, y]) => y);
  if (series.limit) values.push(series.limit.value);
  let lo = Math.min(0, ...values);
  let hi = Math.max(...values);
  if (hi === lo) hi = lo + (Math.abs(lo) || 1);
  hi += (hi - lo) * 0.08;
  if (lo < 0) lo -= (hi - lo) * 0.08;
  const span = Math.max(1, v.endMs - v.startMs);
  const x = (t: number) => PAD.left + ((t - v.startMs) / span) * (W - PAD.left - PAD.right);
  const y = (val: number) => PAD.top + (1 - (val - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const f = (n: number) => n.toFixed(1);

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'health-chart', role: 'img', 'aria-label': `${series.name} over the last ${formatDuration(span)}` });
  const bottom = H - PAD.bottom;
  svg.append(
    s('line', { class: 'axis', x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom }),
    s('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom }),
    s('text', { class: 'tick', x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end' }, shortNumber(hi)),
    s('text', { class: 'tick', x: PAD.left - 4, y: bottom, 'text-anchor': 'end' }, shortNumber(lo)),
    s('text', { class: 'tick', x: PAD.left, y: H - 4, 'text-anchor': 'start' }, clock(v.startMs)),
    s('text', { class: 'tick', x: W - PAD.right, y: H - 4, 'text-anchor': 'end' }, clock(v.endMs)),
  );

  if (series.limit) {
    const by = f(y(series.limit.value));
    svg.append(
      s(
        'line',
        { class: 'bound', x1: PAD.left, y1: by, x2: W - PAD.right, y2: by, 'stroke-dasharray': '4 3' },
        s('title', {}, `bound ${series.boundText}`),
      ),
    );
  }

  // A gap in the data (more than one and a half steps) breaks the line instead of drawing across it.
  let d = '';
  let prev: number | null = null;
  for (const [t, val] of series.points) {
    d += `${prev === null || t - prev > v.stepMs * 1.5 ? 'M' : 'L'}${f(x(t))} ${f(y(val))} `;
    prev = t;
  }
  if (d) svg.append(s('path', { class: 'series', d: d.trim(), fill: 'none' }));
  if (series.points.length === 1) {
    const [t, val] = series.points[0];
    svg.append(s('circle', { class: 'series-dot', cx: f(x(t)), cy: f(y(val)), r: 2 }));
  }

  v.markers.forEach((m, i) => svg.append(marker(m, x(m.t), bottom, i)));
  return svg;
}

/** A deploy: a vertical line, with a wider invisible one on top so that the tooltip is easy to hover. */
function marker(m: DeployMarker, x: number, bottom: number, i: number): SVGElement {
  const sha = m.sha ? m.sha.slice(0, 7) : '?';
  const title = `${m.action} ${sha} ${m.status} · ${new Date(m.t).toLocaleString()}`;
  const at = x.toFixed(1);
  // The commit next to the line (every other one a row lower, so that two close deploys stay readable).
  const right = x < W - 60;
  return s(
    'g',
    { class: `marker marker-${m.status} marker-${m.action}`, 'data-sha': m.sha ?? '' },
    s('title', {}, title),
    s('line', { class: 'marker-line', x1: at, y1: PAD.top, x2: at, y2: bottom }),
    s('text', { class: 'marker-label', x: (right ? x + 2 : x - 2).toFixed(1), y: PAD.top + 7 + (i % 2) * 9, 'text-anchor': right ? 'start' : 'end' }, sha),
    s('line', { class: 'marker-hit', x1: at, y1: PAD.top, x2: at, y2: bottom }),
  );
}
