// Webview entry: registers the components, validates every message from the host, renders the board.
import './toolkit';
import { parseHostMessage } from '../src/shared/protocol';
import { applyPatch, render } from './board';
import { send, vscode } from './vscodeApi';
import type { BoardState } from '../src/shared/views';

const root = document.getElementById('app')!;
let state: BoardState | null = null;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const msg = parseHostMessage(event.data);
  if (!msg) return; // not ours, or malformed
  if (msg.type === 'state') {
    state = msg.state;
    render(root, state);
    vscode.setState({ runId: state.run?.id ?? null });
  } else if (msg.type === 'patch') {
    if (!applyPatch(root, msg.patch)) send({ type: 'ready' }); // out of step: ask for the whole state again
  }
});

send({ type: 'ready' });
