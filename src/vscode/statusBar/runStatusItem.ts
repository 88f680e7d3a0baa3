// The run-status item: the last (or current) local run; its text comes from a pure core function. With
// `delivery.statusBar.followRemote`, it follows the newest remote run of the current branch instead when that is
// newer (polled every minute while the setting is on).
import * as vscode from 'vscode';
import { headInfo } from '../../adapters/git';
import { runStatusBar } from '../../core/board';
import { formatDuration } from '../../core/duration';
import type { RemoteRun } from '../../core/remote/types';
import { RemoteService } from '../remote/remoteService';
import type { RunManager } from '../runManager';
import { isTrusted } from '../trust';
import { pipelineKey, type WorkspaceModel } from '../workspaceModel';

export const RUN_STATUS_ITEM_ID = 'delivery.runStatus';
const FOLLOW_INTERVAL_MS = 60_000;

export class RunStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(RUN_STATUS_ITEM_ID, vscode.StatusBarAlignment.Left, 50);
  private readonly subs: vscode.Disposable[];
  private ticker: ReturnType<typeof setInterval> | null = null;
  private follower: ReturnType<typeof setInterval> | null = null;
  private remoteLatest: { run: RemoteRun; pipeline: string; folder: string; key: string } | null = null;

  constructor(
    private readonly runs: RunManager,
    private readonly model: WorkspaceModel,
    private readonly remote: RemoteService,
  ) {
    this.item.name = 'Delivery: Last Run';
    this.subs = [
      runs.onDidChange(() => this.update()),
      remote.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('delivery.statusBar.followRemote')) this.schedule();
      }),
    ];
    this.schedule();
    this.update();
  }

  /** The text currently shown (for tests and the API). */
  get text(): string {
    return this.item.text;
  }

  private schedule(): void {
    if (this.follower) clearInterval(this.follower);
    this.follower = null;
    this.remoteLatest = null;
    if (vscode.workspace.getConfiguration('delivery').get<boolean>('statusBar.followRemote', false)) {
      void this.pollRemote();
      this.follower = setInterval(() => void this.pollRemote(), FOLLOW_INTERVAL_MS);
    }
    this.update();
  }

  /** The newest remote run of the current branch, over every pipeline that runs remotely. */
  private async pollRemote(): Promise<void> {
    if (!isTrusted()) return;
    let best: RunStatusItem['remoteLatest'] = null;
    for (const state of this.model.folders()) {
      const folder = state.folder.uri.fsPath;
      const branch = (await headInfo(folder).catch(() => null))?.branch;
      if (!branch) continue;
      for (const pipeline of (state.snapshot?.pipelines ?? []).filter((p) => RemoteService.canHaveRemote(p))) {
        const engine = await this.remote.engine({ state, pipeline });
        if ('error' in engine) continue;
        const runs = await engine.runs({ branch, limit: 1, signal: AbortSignal.timeout(20_000) }).catch(() => []);
        const run = runs[0];
        if (run && (!best || (run.createdAt ?? 0) > (best.run.createdAt ?? 0))) best = { run, pipeline: pipeline.def.name, folder, key: pipelineKey(pipeline) };
      }
    }
    this.remoteLatest = best;
    this.update();
  }

  update(): void {
    const run = this.runs.latestRun();
    const remote = this.remoteLatest;
    if (remote && (!run || (remote.run.createdAt ?? 0) > run.startedAt)) {
      const r = remote.run;
      const icon = r.status === 'success' ? '$(pass-filled)' : r.status === 'failed' ? '$(error)' : isActive(r) ? '$(sync~spin)' : '$(circle-slash)';
      this.item.text = `${icon} ${remote.pipeline} #${r.number ?? r.id}: ${r.status}`;
      const start = r.startedAt ?? r.createdAt;
      this.item.tooltip = `${remote.pipeline} #${r.number ?? r.id} on ${r.branch ?? '?'} (remote): ${r.status}${start ? `, ${formatDuration((r.finishedAt ?? Date.now()) - start)}` : ''}${r.actor ? ` — ${r.actor}` : ''}`;
      this.item.backgroundColor = r.status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
      this.item.command = { command: 'delivery.remote.showRun', title: 'Show on Board', arguments: [{ folder: remote.folder, pipelineKey: remote.key, runId: r.id }] };
      this.item.accessibilityInformation = { label: `Delivery: ${this.item.tooltip}`, role: 'button' };
      this.item.show();
      return;
    }
    const m = runStatusBar(run, Date.now());
    this.item.text = m.text;
    this.item.tooltip = m.tooltip;
    this.item.command = 'delivery.panel.open';
    this.item.accessibilityInformation = { label: `Delivery: ${m.tooltip.split('\n')[0]}`, role: 'button' };
    this.item.backgroundColor =
      m.tone === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : m.tone === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
    const running = run?.status === 'running';
    if (running && !this.ticker) this.ticker = setInterval(() => this.update(), 1000);
    if (!running && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.follower) clearInterval(this.follower);
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}

function isActive(r: RemoteRun): boolean {
  return r.status === 'queued' || r.status === 'running' || r.status === 'unknown' || r.status === 'manual';
}
