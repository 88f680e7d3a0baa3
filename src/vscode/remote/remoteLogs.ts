// Logs of remote jobs as read-only documents (`delivery-remote-log:`) that grow while the job runs: the provider
// reads on from the last offset every few seconds and tells VS Code the document changed; it stops when the job's
// log is complete or the document is closed.
import * as vscode from 'vscode';
import type { RemoteRef, RemoteService } from './remoteService';

export const REMOTE_LOG_SCHEME = 'delivery-remote-log';
const POLL_MS = 2000;
const MAX_TEXT = 20 * 1024 * 1024;

interface LogQuery {
  folder: string;
  pipelineKey: string;
  runId: string;
  jobId: string;
}

export function remoteLogUri(q: LogQuery, jobName: string): vscode.Uri {
  return vscode.Uri.from({ scheme: REMOTE_LOG_SCHEME, path: `/${jobName.replace(/[\\/]/g, '_')}.log`, query: JSON.stringify(q) });
}

interface Entry {
  text: string;
  offset: number;
  complete: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  error: string | null;
}

export class RemoteLogProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly entries = new Map<string, Entry>();
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly remote: RemoteService,
    private readonly find: (folder: string, pipelineKey: string) => RemoteRef | undefined,
  ) {
    this.subs = [
      vscode.workspace.registerTextDocumentContentProvider(REMOTE_LOG_SCHEME, this),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        const e = this.entries.get(doc.uri.toString());
        if (e?.timer) clearTimeout(e.timer);
        this.entries.delete(doc.uri.toString());
      }),
      this.emitter,
    ];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { text: '', offset: 0, complete: false, timer: null, error: null };
      this.entries.set(key, entry);
      await this.read(uri, entry);
    }
    return entry.error && !entry.text ? `Could not read the log: ${entry.error}\n` : entry.text;
  }

  private async read(uri: vscode.Uri, entry: Entry): Promise<void> {
    let q: LogQuery;
    try {
      q = JSON.parse(uri.query) as LogQuery;
    } catch {
      entry.error = 'bad log address';
      return;
    }
    const ref = this.find(q.folder, q.pipelineKey);
    if (!ref) {
      entry.error = 'the pipeline is gone';
      return;
    }
    const engine = await this.remote.engine(ref);
    if ('error' in engine) {
      entry.error = engine.error;
      return;
    }
    try {
      const chunk = await engine.logs(q.runId, q.jobId, entry.offset, AbortSignal.timeout(20_000));
      if (chunk.text) entry.text = (entry.text + chunk.text).slice(-MAX_TEXT);
      entry.offset = chunk.offset;
      entry.complete = chunk.complete;
      entry.error = null;
    } catch (e) {
      entry.error = (e as Error).message;
    }
    if (!entry.complete && this.entries.get(uri.toString()) === entry) {
      entry.timer = setTimeout(async () => {
        entry.timer = null;
        const before = entry.text.length;
        await this.read(uri, entry);
        if (entry.text.length !== before) this.emitter.fire(uri);
      }, POLL_MS);
    }
  }

  dispose(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    for (const s of this.subs) s.dispose();
  }
}
