// The environments overview: environment × deployed commit × distance × health × last deploy.
import type { EnvironmentRow } from '../src/shared/views';
import { formatDuration } from '../src/shared/duration';
import { h } from './dom';
import { button, progressRing } from './toolkit';
import { send } from './vscodeApi';

export function renderEnvironments(root: HTMLElement, rows: EnvironmentRow[], loading: boolean, trusted: boolean): void {
  root.replaceChildren();
  const header = h('header', { class: 'run-header' }, h('h2', {}, 'Environments'), loading ? progressRing({ class: 'ring' }) : null);
  const refresh = button('secondary', 'Refresh', { id: 'refresh-envs' });
  refresh.addEventListener('click', () => send({ type: 'refreshEnvironments' }));
  header.append(h('div', { class: 'actions' }, refresh));
  root.append(header);
  if (rows.length === 0) {
    root.append(h('p', { class: 'empty' }, loading ? 'Reading what is deployed…' : 'No environments in delivery.yml.'));
    return;
  }
  const table = h('table', { class: 'envs', id: 'environments' });
  table.append(
    h('thead', {}, h('tr', {}, ...['Environment', 'Deployed', 'Local', 'Distance', 'Health', 'Last deploy', ''].map((t) => h('th', {}, t)))),
  );
  const body = h('tbody', {});
  for (const row of rows) body.append(renderRow(row, trusted));
  table.append(body);
  root.append(table);
}

function short(sha: string | null): string {
  return sha ? sha.slice(0, 7) : '—';
}

function renderRow(row: EnvironmentRow, trusted: boolean): HTMLElement {
  const s = row.status;
  const deployed = s.deployed.sha
    ? h('code', { title: s.deployed.sha }, short(s.deployed.sha))
    : h('span', { class: 'error', title: s.deployed.error ?? '' }, s.deployed.raw ? `${s.deployed.raw} (?)` : 'unknown');
  const distance: string[] = [];
  if (s.ahead !== null) distance.push(`${s.ahead} to deploy`);
  if (s.behind !== null && s.behind > 0) distance.push(`${s.behind} to revert`);
  const tr = h(
    'tr',
    { 'data-env': s.id, class: s.behind ? 'reverts' : '' },
    h('td', {}, h('strong', {}, s.name), row.protected ? h('span', { class: 'tag', title: 'protected: deploys need the name typed' }, 'protected') : null, h('div', { class: 'sub' }, s.url ?? '')),
    h('td', { class: 'deployed' }, deployed, s.deployed.error ? h('div', { class: 'sub error' }, s.deployed.error) : null),
    h('td', {}, h('code', {}, short(s.local.sha)), s.local.dirty ? h('span', { class: 'tag warn', title: 'uncommitted changes' }, 'dirty') : null),
    h('td', { class: `distance${s.behind ? ' warn' : ''}` }, distance.join(', ') || (s.ahead === 0 && s.behind === 0 ? 'up to date' : '—')),
    h('td', { class: `health health-${s.health}` }, s.health, s.healthDetail ? h('div', { class: 'sub' }, s.healthDetail) : null),
    h(
      'td',
      {},
      row.deploying
        ? h('span', { class: 'deploying' }, row.deploying)
        : row.lockedBy
          ? h('span', { class: 'locked', title: `since ${new Date(row.lockedBy.since).toLocaleString()}` }, `🔒 ${row.lockedBy.deployId ? 'being deployed' : 'locked'} by ${row.lockedBy.user} on ${row.lockedBy.host}${row.lockedBy.message ? `: ${row.lockedBy.message}` : ''}`)
          : row.lastDeploy
            ? h(
                'span',
                { title: new Date(row.lastDeploy.startedAt).toLocaleString() },
                `${row.lastDeploy.action} ${row.lastDeploy.sha ? short(row.lastDeploy.sha) : '?'} ${row.lastDeploy.status} · ${row.lastDeploy.user}${row.lastDeploy.durationMs !== null ? ` · ${formatDuration(row.lastDeploy.durationMs)}` : ''}`,
              )
            : '—',
    ),
  );
  const actions = h('td', { class: 'row-actions' });
  const diff = button('secondary', 'Diff', { 'data-action': 'diff' });
  diff.addEventListener('click', () => send({ type: 'showDiff', folder: row.folder, environment: s.id }));
  actions.append(diff);
  if (row.promotesFrom) {
    const promo = button('secondary', `Diff with ${row.promotesFrom}`, { 'data-action': 'diff-promote', title: `What promoting ${row.promotesFrom} to ${s.name} brings` });
    promo.addEventListener('click', () => send({ type: 'showDiff', folder: row.folder, environment: s.id, to: row.promotesFrom! }));
    actions.append(promo);
  }
  if (trusted && row.canDeploy) {
    const deploy = button('primary', 'Deploy', { 'data-action': 'deploy' });
    deploy.addEventListener('click', () => send({ type: 'deployEnvironment', folder: row.folder, environment: s.id }));
    actions.append(deploy);
  }
  tr.append(actions);
  return tr;
}
