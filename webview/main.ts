// Webview entry: registers the components, validates every message from the host, and shows one of four views:
// the stage board, the environments overview, the deploy diff, the trigger form (while a run waits for inputs).
import './toolkit';
import { parseHostMessage } from '../src/shared/protocol';
import type { BoardState, PanelView } from '../src/shared/views';
import { applyPatch, render } from './board';
import { renderDiff, showHunks } from './diff';
import { h } from './dom';
import { renderEnvironments } from './environments';
import { renderHealth } from './healthChart';
import { renderTriggerForm, showTriggerErrors } from './triggerForm';
import { send, vscode } from './vscodeApi';

const app = document.getElementById('app')!;
const nav = h('nav', { class: 'views', role: 'tablist' });
const panes: Record<PanelView, HTMLElement> = {
  board: h('section', { id: 'view-board', role: 'tabpanel' }),
  environments: h('section', { id: 'view-environments', role: 'tabpanel' }),
  diff: h('section', { id: 'view-diff', role: 'tabpanel' }),
  trigger: h('section', { id: 'view-trigger', role: 'tabpanel' }),
};
const LABELS: Record<PanelView, string> = { board: 'Stage board', environments: 'Environments', diff: 'Diff', trigger: 'Run with inputs' };
// The overview's table is drawn again on every status change; the health charts only when they are read again.
const envTable = h('div', { id: 'environments-table' });
const envHealth = h('div', { id: 'health' });
panes.environments.append(envTable, envHealth);
app.replaceChildren(nav, ...Object.values(panes));
let board: BoardState | null = null;
let active: PanelView = ((vscode.getState() as { view?: PanelView } | undefined)?.view) ?? 'board';

for (const view of Object.keys(panes) as PanelView[]) {
  const tab = h('button', { class: 'tab', role: 'tab', id: `tab-${view}`, 'data-view': view }, LABELS[view]);
  tab.addEventListener('click', () => {
    show(view);
    send({ type: 'showView', view });
  });
  nav.append(tab);
}
// The form's tab is there while a run waits for its inputs.
const triggerTab = nav.querySelector<HTMLElement>('#tab-trigger')!;
triggerTab.hidden = true;

function show(view: PanelView): void {
  active = view;
  for (const [name, pane] of Object.entries(panes)) pane.hidden = name !== view;
  for (const tab of nav.querySelectorAll('button.tab')) tab.setAttribute('aria-selected', String(tab.getAttribute('data-view') === view));
  vscode.setState({ view, runId: board?.run?.id ?? null });
}
show(active);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = parseHostMessage(event.data);
  if (!msg) return; // not ours, or malformed
  switch (msg.type) {
    case 'state':
      board = msg.state;
      render(panes.board, board);
      show(active);
      break;
    case 'patch':
      if (!applyPatch(panes.board, msg.patch)) send({ type: 'ready' });
      break;
    case 'environments':
      renderEnvironments(envTable, msg.rows, msg.loading, board?.trusted ?? false);
      break;
    case 'environmentHealth':
      renderHealth(envHealth, msg.health, msg.loading);
      break;
    case 'diff':
      renderDiff(panes.diff, msg.view, msg.loading, msg.error);
      break;
    case 'hunks':
      showHunks(panes.diff, msg.path, msg.text, msg.truncated);
      break;
    case 'show':
      show(msg.view);
      break;
    case 'triggerForm':
      triggerTab.hidden = msg.form === null;
      renderTriggerForm(panes.trigger, msg.form);
      break;
    case 'triggerFormErrors':
      showTriggerErrors(panes.trigger, msg.id, msg.errors);
      break;
  }
});

send({ type: 'ready' });
