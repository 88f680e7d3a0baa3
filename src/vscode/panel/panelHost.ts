// The Delivery panel's host: one webview panel shared by the board, environments overview and diff controllers.
// Strict CSP with a fresh crypto nonce per render, resources only from dist/ and media/, every incoming message
// validated, a "ready" handshake before the first post, and a serializer so the panel comes back after a reload
// (it refetches its data; only UI state is persisted). What the views show is the controllers' business.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostMessage, type WebviewMessage } from '../../shared/protocol';
import type { PanelView } from '../../shared/views';
import type { Log } from '../log';

export const BOARD_VIEW_TYPE = 'delivery.board';

/** A message from the page, except the handshake the host answers itself. */
export type ViewMessage = Exclude<WebviewMessage, { type: 'ready' }>;

/** One handler per message type: a message nobody handles does not compile. */
export type MessageHandlers<K extends ViewMessage['type'] = ViewMessage['type']> = {
  [T in K]: (msg: Extract<ViewMessage, { type: T }>) => Promise<void> | void;
};

/** What the views do when the panel's life changes. */
export interface PanelParts {
  /** The page said it is ready: post everything it shows. */
  ready(): void;
  /** The open panel was revealed again. */
  shown(): void;
  /** The panel was closed. */
  closed(): void;
  visibility(visible: boolean): void;
  handle(msg: ViewMessage): Promise<void>;
}

/** What a view controller needs from the host. */
export interface PanelSurface {
  /** The view (tab) the page shows. */
  view: PanelView;
  readonly isOpen: boolean;
  /** Open and ready for messages. */
  readonly canPost: boolean;
  post(message: HostMessage): void;
  /** Opens or reveals the panel, on `view` when given; `focus`: the panel takes the keyboard focus. */
  show(view?: PanelView, focus?: boolean): void;
}

export class PanelHost implements PanelSurface, vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private ready = false;
  view: PanelView = 'board';
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly parts: PanelParts,
  ) {
    this.subs.push(
      vscode.window.registerWebviewPanelSerializer(BOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          this.attach(panel);
        },
      }),
    );
  }

  get isOpen(): boolean {
    return this.panel !== null;
  }

  get canPost(): boolean {
    return this.panel !== null && this.ready;
  }

  show(view?: PanelView, focus = false): void {
    if (view) this.view = view;
    if (this.panel) {
      this.panel.reveal(undefined, !focus);
      this.parts.shown();
      this.post({ type: 'show', view: this.view });
      return;
    }
    const panel = vscode.window.createWebviewPanel(BOARD_VIEW_TYPE, 'Delivery', { viewColumn: vscode.ViewColumn.Active, preserveFocus: !focus }, this.options());
    this.attach(panel);
  }

  post(message: HostMessage): void {
    if (!this.panel || !this.ready) return;
    void this.panel.webview.postMessage(message);
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'delivery.svg');
    panel.webview.html = this.html(panel.webview);
    const subs = [
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw)),
      panel.onDidDispose(() => {
        for (const s of subs) s.dispose();
        this.panel = null;
        this.ready = false;
        this.parts.closed();
      }),
      panel.onDidChangeViewState((e) => this.parts.visibility(e.webviewPanel.visible)),
    ];
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'board.css'));
    const formStyle = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'triggerForm.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<link rel="stylesheet" href="${formStyle.toString()}">
<title>Delivery</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="empty">Loading…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  /** A message from the page (the test hooks send them as the page would: checked the same way). */
  async onMessage(raw: unknown): Promise<void> {
    const msg = parseWebviewMessage(raw);
    if (!msg) {
      this.log.warn(`ignored a malformed message from the Delivery panel: ${safeJson(raw)}`);
      return;
    }
    if (msg.type === 'ready') {
      this.ready = true;
      this.parts.ready();
      this.post({ type: 'show', view: this.view });
      return;
    }
    await this.parts.handle(msg);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.panel?.dispose();
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v).slice(0, 200);
  } catch {
    return String(v).slice(0, 200);
  }
}
