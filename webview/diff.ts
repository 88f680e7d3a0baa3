// The deploy diff: commits to deploy and to revert, changed files (a virtualised list: thousands of files stay
// fast), per-file hunks on demand, uncommitted changes; each file opens in VS Code's native diff editor.
import type { FileChange } from '../src/shared/model';
import type { DiffView } from '../src/shared/views';
import { h } from './dom';
import { progressRing } from './toolkit';
import { send } from './vscodeApi';

const ROW_HEIGHT = 24;
const OVERSCAN = 10;

let current: DiffView | null = null;
const expanded = new Map<string, HTMLElement>();

export function renderDiff(root: HTMLElement, view: DiffView | null, loading: boolean, error: string | null): void {
  current = view;
  expanded.clear();
  root.replaceChildren();
  if (loading) {
    root.append(h('p', { class: 'empty' }, progressRing({ class: 'ring' }), ' Computing the diff…'));
    return;
  }
  if (error) {
    root.append(h('p', { class: 'error', id: 'diff-error' }, error));
    return;
  }
  if (!view) {
    root.append(h('p', { class: 'empty' }, 'Choose an environment in the Environments view (or "Delivery: Show Diff for Environment").'));
    return;
  }
  const d = view.diff;
  const adds = d.files.reduce((n, f) => n + f.additions, 0);
  const dels = d.files.reduce((n, f) => n + f.deletions, 0);
  root.append(
    h(
      'header',
      { class: 'run-header' },
      h('h2', { id: 'diff-title' }, `${view.environmentName}: ${view.fromLabel} → ${view.toLabel}`),
      h('span', { class: 'sub', id: 'diff-summary' }, `${d.commits.toDeploy.length} to deploy, ${d.commits.toRevert.length} to revert, ${d.files.length} files, +${adds} −${dels}`),
    ),
  );
  if (view.warning) root.append(h('div', { class: 'banner warn', id: 'diff-warning', role: 'alert' }, view.warning));
  root.append(commitList('Commits to deploy', 'to-deploy', d.commits.toDeploy));
  if (d.commits.toRevert.length > 0) root.append(commitList('Commits this deploy would revert', 'to-revert', d.commits.toRevert));
  root.append(h('h3', {}, `Files (${d.files.length})`));
  root.append(fileList(d.files));
  if (d.uncommitted.length) {
    root.append(
      h('h3', {}, `Uncommitted changes (${d.uncommitted.length}) — not part of any deploy`),
      h('ul', { class: 'uncommitted', id: 'uncommitted' }, ...d.uncommitted.map((u) => h('li', {}, h('code', {}, u.status), ' ', u.path))),
    );
  }
}

function commitList(title: string, id: string, commits: DiffView['diff']['commits']['toDeploy']): HTMLElement {
  const section = h('section', { class: `commits ${id}`, id });
  section.append(h('h3', {}, `${title} (${commits.length})`));
  if (commits.length === 0) return section;
  const list = h('ul', {});
  for (const c of commits.slice(0, 500)) {
    list.append(h('li', {}, h('code', { title: c.sha }, c.sha.slice(0, 7)), ' ', h('span', { class: 'subject' }, c.subject), h('span', { class: 'sub' }, ` — ${c.author}, ${c.date.slice(0, 10)}`)));
  }
  if (commits.length > 500) list.append(h('li', { class: 'sub' }, `… and ${commits.length - 500} more`));
  section.append(list);
  return section;
}

/** A virtualised list: only the rows in view (plus a few) exist in the DOM. */
function fileList(files: FileChange[]): HTMLElement {
  const viewport = h('div', { class: 'files', id: 'files', role: 'list' });
  const spacer = h('div', { class: 'spacer' });
  viewport.append(spacer);
  const rows = h('div', { class: 'rows' });
  spacer.append(rows);
  const draw = () => {
    const openHeight = [...expanded.values()].reduce((n, el) => n + el.offsetHeight, 0);
    spacer.style.height = `${files.length * ROW_HEIGHT + openHeight}px`;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(files.length, first + Math.ceil((viewport.clientHeight || 480) / ROW_HEIGHT) + 2 * OVERSCAN);
    rows.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    rows.replaceChildren(...files.slice(first, last).flatMap((f) => fileRow(f, draw)));
  };
  viewport.addEventListener('scroll', () => requestAnimationFrame(draw), { passive: true });
  requestAnimationFrame(draw);
  draw();
  return viewport;
}

function fileRow(f: FileChange, redraw: () => void): HTMLElement[] {
  const row = h(
    'div',
    { class: `file status-${f.status}`, role: 'listitem', 'data-path': f.path, title: f.oldPath ? `${f.oldPath} → ${f.path}` : f.path },
    h('span', { class: 'fstatus' }, f.status),
    h('a', { href: '#', class: 'path' }, f.oldPath ? `${f.oldPath} → ${f.path}` : f.path),
    h('span', { class: 'counts' }, f.binary ? 'binary' : `+${f.additions} −${f.deletions}`),
  );
  const toggle = h('button', { class: 'hunks-toggle', title: 'Show the changes here', 'aria-expanded': expanded.has(f.path) ? 'true' : 'false' }, expanded.has(f.path) ? '▾' : '▸');
  row.prepend(toggle);
  row.querySelector('a')!.addEventListener('click', (e) => {
    e.preventDefault();
    send({ type: 'openFileDiff', path: f.path });
  });
  toggle.addEventListener('click', () => {
    if (expanded.has(f.path)) expanded.delete(f.path);
    else {
      expanded.set(f.path, h('pre', { class: 'hunks', 'data-path': f.path }, 'Loading…'));
      send({ type: 'loadHunks', path: f.path });
    }
    redraw();
  });
  const open = expanded.get(f.path);
  return open ? [row, open] : [row];
}

/** Fills in the hunks of an expanded file, line by line, with classes for added/removed lines. */
export function showHunks(root: HTMLElement, path: string, text: string, truncated: boolean): void {
  if (!current) return;
  const pre = expanded.get(path);
  if (!pre) return;
  const lines = text.split('\n').map((line) =>
    h('span', { class: line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : '' }, `${line}\n`),
  );
  if (truncated) lines.push(h('span', { class: 'sub' }, '… (truncated: open the file to see all of it)'));
  pre.replaceChildren(...lines);
  void root;
}
