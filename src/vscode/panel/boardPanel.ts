// The Delivery panel (host side): a webview showing the stage board of the current or last run, live.
// Strict CSP with a fresh nonce per render, resources only from dist/ and media/, every incoming message
// validated, a "ready" handshake before the first post, updates batched to at most 10 a second, and a
// serializer so the panel comes back after a reload (it refetches its data; only UI state is persisted).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { readTail } from '../../adapters/files';
import { runView } from '../../core/board';
import type { RunEvent } from '../../core/engine/engine';
import type { RunRecord } from '../../shared/model';
import { parseWebviewMessage, type HostMessage, type RunPatch, type WebviewMessage } from '../../shared/protocol';
import type { BoardState, DiffView, PanelView } from '../../shared/views';
import { features } from '../lazy';
import { revertWarning } from '../../core/environments/status';
import { shortSha } from '../../core/environments/diff';
import type { EnvironmentService } from '../environments/environmentService';
import { revisionUri } from '../environments/revisionProvider';
import type { FolderState } from '../workspaceModel';
import type { RemoteRef, RemoteService } from '../remote/remoteService';
import { remoteRunView } from '../../core/remote/view';
import type { Log } from '../log';
import type { RunManager } from '../runManager';
import { isTrusted } from '../trust';
import { pipelineKey, type WorkspaceModel } from '../workspaceModel';
import { notificationText } from '../../core/sanitize';

export const BOARD_VIEW_TYPE = 'delivery.board';
const PATCH_INTERVAL_MS = 100;
const MAX_APPEND_PER_PATCH = 50;

export class BoardController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private ready = false;
  private runId: string | null = null;
  private readonly dirty = new Map<string, string[]>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly subs: vscode.Disposable[] = [];
  /** Messages posted to the webview (counted for the flood benchmark and tests). */
  postedPatches = 0;
  private view: PanelView = 'board';
  /** The diff shown (or being computed) in the diff view. */
  diff: { view: DiffView | null; loading: boolean; error: string | null } = { view: null, loading: false, error: null };
  private diffRequest = 0;
  /** The remote run shown on the board instead of a local one. */
  private remoteShown: { ref: RemoteRef; runId: string; watching: boolean } | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: WorkspaceModel,
    private readonly runs: RunManager,
    private readonly envs: EnvironmentService,
    private readonly remote: RemoteService,
    private readonly log: Log,
  ) {
    this.subs.push(
      envs.onDidChange(() => this.postEnvironments()),
      remote.onDidChange(() => {
        if (this.remoteShown) this.postState();
      }),
      runs.onDidStartRun((h) => {
        this.leaveRemote();
        this.runId = h.run.id;
        this.postState();
      }),
      runs.onRunEvent((e) => this.onRunEvent(e)),
      model.onDidChange(() => {
        if (!this.runId) this.postState();
      }),
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

  show(runId?: string, view?: PanelView): void {
    if (runId) this.runId = runId;
    if (view) this.view = view;
    if (this.panel) {
      this.panel.reveal(undefined, true);
      this.postState();
      this.post({ type: 'show', view: this.view });
      return;
    }
    const panel = vscode.window.createWebviewPanel(BOARD_VIEW_TYPE, 'Delivery', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, this.options());
    this.attach(panel);
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
        this.leaveRemote();
      }),
      // Polling a remote run for the board stops while nobody can see the board.
      panel.onDidChangeViewState((e) => {
        const shown = this.remoteShown;
        if (!shown) return;
        if (!e.webviewPanel.visible && shown.watching) {
          this.remote.stopWatching(shown.ref, shown.runId);
          shown.watching = false;
        } else if (e.webviewPanel.visible && !shown.watching) {
          shown.watching = true;
          void this.remote.watch(shown.ref, shown.runId, { notify: false });
        }
      }),
    ];
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'board.css'));
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
<title>Delivery</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="empty">Loading…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private async onMessage(raw: unknown): Promise<void> {
    const msg = parseWebviewMessage(raw);
    if (!msg) {
      this.log.warn(`ignored a malformed message from the Delivery panel: ${safeJson(raw)}`);
      return;
    }
    await this.handle(msg);
  }

  private async handle(msg: WebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.postState();
        this.postEnvironments();
        this.post({ type: 'diff', ...this.diff });
        this.post({ type: 'show', view: this.view });
        return;
      case 'showView':
        this.view = msg.view;
        if (msg.view === 'environments') void this.envs.refresh();
        return;
      case 'refreshEnvironments':
        await this.envs.refresh(true);
        return;
      case 'deployEnvironment':
        // The command asks for every confirmation itself: a message from the page never confirms a deploy.
        await vscode.commands.executeCommand('delivery.environment.deploy', { folder: msg.folder, environment: msg.environment });
        return;
      case 'showDiff': {
        const found = this.envs.find(msg.folder, msg.environment);
        if (found) await this.showDiff(found.state, msg.environment, undefined, msg.to);
        return;
      }
      case 'openFileDiff':
        await this.openFileDiff(msg.path);
        return;
      case 'loadHunks':
        await this.loadHunks(msg.path);
        return;
      case 'cancelRun':
        if (this.remoteShown && msg.runId === this.remoteViewId()) {
          const err = await this.remote.cancel(this.remoteShown.ref, this.remoteShown.runId);
          if (err) void vscode.window.showErrorMessage(notificationText(`Cannot cancel the run: ${err}`));
        } else this.runs.cancel(msg.runId);
        return;
      case 'rerun': {
        if (this.remoteShown && msg.runId === this.remoteViewId()) {
          const shown = this.remoteShown;
          const r = await this.remote.rerunFailed(shown.ref, shown.runId);
          if ('error' in r) void vscode.window.showErrorMessage(notificationText(`Cannot rerun: ${r.error}`));
          else await this.showRemoteRun(shown.ref, r.id);
          return;
        }
        const run = this.findRun(msg.runId);
        if (run) await vscode.commands.executeCommand('delivery.run.rerunFailed', { folder: run.folder, pipelineKey: `${run.source.file}#${run.pipelineId}`, runId: run.id, failedOnly: msg.failedOnly });
        return;
      }
      case 'openLog': {
        if (this.remoteShown && msg.runId === this.remoteViewId()) {
          const job = this.remote.knownState(this.remoteShown.ref, this.remoteShown.runId)?.jobs.find((j) => j.id === msg.jobId);
          if (job) {
            const ref = this.remoteShown.ref;
            await vscode.commands.executeCommand('delivery.remote.showLog', { folder: ref.state.folder.uri.fsPath, pipelineKey: pipelineKey(ref.pipeline), runId: this.remoteShown.runId, jobId: job.id, jobName: job.name });
          }
          return;
        }
        const run = this.findRun(msg.runId);
        const job = run?.jobs.find((j) => j.id === msg.jobId);
        if (job?.logFile) await vscode.commands.executeCommand('delivery.run.showLog', { logFile: job.logFile });
        else void vscode.window.showInformationMessage('This job has no log yet.');
        return;
      }
      case 'runPipeline': {
        const pipeline = this.model.findPipeline(msg.folder, msg.pipelineId);
        if (!pipeline) return;
        await vscode.commands.executeCommand('delivery.pipeline.run', { folder: msg.folder, pipelineKey: pipelineKey(pipeline) });
        return;
      }
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  private postEnvironments(): void {
    if (!this.panel || !this.ready) return;
    this.post({ type: 'environments', rows: this.envs.rows(), loading: this.envs.loading });
  }

  /** Shows what deploying `ref` (default: local HEAD), or what environment `toEnv` runs, to the environment changes. */
  async showDiff(state: FolderState, envId: string, ref?: string, toEnv?: string): Promise<DiffView | null> {
    const request = ++this.diffRequest;
    this.view = 'diff';
    this.diff = { view: null, loading: true, error: null };
    this.show(undefined, 'diff');
    this.post({ type: 'diff', ...this.diff });
    const folder = state.folder.uri.fsPath;
    const envs = state.snapshot?.environments ?? [];
    const env = envs.find((e) => e.id === envId);
    try {
      const target = toEnv ? { kind: 'environment' as const, id: toEnv } : ref ? { kind: 'ref' as const, ref } : { kind: 'head' as const };
      const { environmentDiff } = await features();
      const r = await environmentDiff(folder, envs, envId, target, { service: await this.envs.statusService(), secrets: this.envs.secrets.resolver });
      const toName = toEnv ? (envs.find((e) => e.id === toEnv)?.name ?? toEnv) : null;
      const view: DiffView = {
        folder,
        environment: envId,
        environmentName: env?.name ?? envId,
        fromLabel: `deployed ${shortSha(r.diff.from.sha)}`,
        toLabel: toName
          ? `${toName} ${shortSha(r.diff.to.sha)}`
          : ref
            ? ref.length === 40
              ? shortSha(ref)
              : `${ref} (${shortSha(r.diff.to.sha)})`
            : `local HEAD ${shortSha(r.diff.to.sha)}`,
        diff: r.diff,
        warning:
          r.diff.commits.toRevert.length > 0
            ? (ref || toEnv ? null : revertWarning(r.from)) ??
              `This deploy would revert ${r.diff.commits.toRevert.length} commit${r.diff.commits.toRevert.length === 1 ? '' : 's'} that ${env?.name ?? envId} runs now.`
            : null,
      };
      if (request === this.diffRequest) this.diff = { view, loading: false, error: null };
      return view;
    } catch (e) {
      if (request === this.diffRequest) this.diff = { view: null, loading: false, error: (e as Error).message };
      return null;
    } finally {
      if (request === this.diffRequest) this.post({ type: 'diff', ...this.diff });
    }
  }

  private async openFileDiff(file: string): Promise<void> {
    const v = this.diff.view;
    const change = v?.diff.files.find((f) => f.path === file);
    if (!v || !change) return;
    const root = (await (await features()).repositoryRoot(v.folder)) ?? v.folder;
    const left = revisionUri(v.folder, v.diff.from.sha, change.oldPath ?? change.path);
    const workingTree = v.diff.to.ref === 'HEAD';
    const right = workingTree && change.status !== 'D' ? vscode.Uri.file(`${root}/${change.path}`) : revisionUri(v.folder, v.diff.to.sha, change.path);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${change.path} (${v.fromLabel} ↔ ${v.toLabel})`, { preview: true });
  }

  private async loadHunks(file: string): Promise<void> {
    const v = this.diff.view;
    const change = v?.diff.files.find((f) => f.path === file);
    if (!v || !change) return;
    const MAX = 200_000;
    let text: string;
    try {
      const { fileHunks } = await features();
      text = change.binary ? 'Binary file: open it to compare.' : await fileHunks(v.folder, { from: v.diff.from.sha, to: v.diff.to.sha, path: change.path, oldPath: change.oldPath });
    } catch (e) {
      text = `Could not read the changes: ${(e as Error).message}`;
    }
    this.post({ type: 'hunks', path: file, text: text.slice(0, MAX), truncated: text.length > MAX });
  }

  private findRun(runId: string): RunRecord | undefined {
    const active = this.runs.getActive(runId);
    if (active) return active.handle.run;
    const latest = this.runs.latestRun();
    return latest?.id === runId ? latest : undefined;
  }

  private currentRun(): RunRecord | null {
    if (this.runId) {
      const r = this.findRun(this.runId);
      if (r) return r;
    }
    return this.runs.latestRun();
  }

  private remoteViewId(): string | null {
    return this.remoteShown ? `remote:${this.remoteShown.runId}` : null;
  }

  private leaveRemote(): void {
    const shown = this.remoteShown;
    this.remoteShown = null;
    if (shown?.watching) this.remote.stopWatching(shown.ref, shown.runId);
  }

  /** Shows a remote run on the board, followed live while the board is visible. */
  async showRemoteRun(ref: RemoteRef, runId: string): Promise<void> {
    this.leaveRemote();
    this.remoteShown = { ref, runId, watching: true };
    this.view = 'board';
    await this.remote.runState(ref, runId, true);
    this.show(undefined, 'board');
    void this.remote.watch(ref, runId, { notify: false });
  }

  async state(): Promise<BoardState> {
    const shown = this.remoteShown;
    const remoteState = shown ? this.remote.knownState(shown.ref, shown.runId) : undefined;
    if (shown && remoteState) {
      return {
        run: remoteRunView(remoteState, { id: this.remoteViewId()!, pipelineId: shown.ref.pipeline.def.id, pipelineName: shown.ref.pipeline.def.name, folderName: shown.ref.state.folder.name, now: Date.now() }),
        pipelines: this.pipelineList(),
        trusted: isTrusted(),
      };
    }
    const run = this.currentRun();
    const folderName = run ? (this.model.folder(run.folder)?.folder.name ?? run.folder) : '';
    const tails = new Map<string, readonly string[]>();
    for (const job of run?.jobs ?? []) {
      const live = this.runs.tail(run!.id, job.id);
      tails.set(job.id, live.length || !job.logFile ? live : await readTail(job.logFile, 20));
    }
    return {
      run: run ? runView(run, (jobId) => tails.get(jobId) ?? [], folderName, Date.now()) : null,
      pipelines: this.pipelineList(),
      trusted: isTrusted(),
    };
  }

  private pipelineList(): BoardState['pipelines'] {
    return this.model.folders().flatMap((f) =>
      (f.snapshot?.pipelines ?? []).map((p) => ({ folder: f.folder.uri.fsPath, folderName: f.folder.name, id: pipelineKey(p), name: p.def.name })),
    );
  }

  private post(message: HostMessage): void {
    if (!this.panel || !this.ready) return;
    void this.panel.webview.postMessage(message);
  }

  private postState(): void {
    this.dirty.clear();
    void this.state().then((state) => this.post({ type: 'state', state }));
  }

  private onRunEvent(e: RunEvent): void {
    if (!this.panel || !this.ready || this.remoteShown) return;
    if (this.runId !== e.run.id) return;
    if (e.type === 'line') {
      const lines = this.dirty.get(e.jobId) ?? [];
      lines.push(e.text);
      if (lines.length > MAX_APPEND_PER_PATCH) lines.splice(0, lines.length - MAX_APPEND_PER_PATCH);
      this.dirty.set(e.jobId, lines);
    } else if (e.type === 'job') {
      if (!this.dirty.has(e.job.id)) this.dirty.set(e.job.id, []);
    }
    if (e.type === 'end') {
      this.flush();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => this.flush(), PATCH_INTERVAL_MS);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const run = this.runId ? this.findRun(this.runId) : null;
    if (!run || this.dirty.size === 0) {
      this.dirty.clear();
      return;
    }
    const now = Date.now();
    const patch: RunPatch = {
      runId: run.id,
      status: run.status,
      durationMs: run.status === 'running' ? now - run.startedAt : run.durationMs,
      jobs: [...this.dirty.entries()].map(([id, append]) => {
        const j = run.jobs.find((x) => x.id === id)!;
        return {
          id,
          status: j.status,
          durationMs: j.status === 'running' && j.startedAt !== null ? now - j.startedAt : j.durationMs,
          startedAt: j.startedAt,
          attempts: j.attempts,
          reason: j.reason,
          tests: j.tests,
          append,
        };
      }),
    };
    this.dirty.clear();
    this.postedPatches++;
    this.post({ type: 'patch', patch });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
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
