// The run-status item: the last (or current) local run; its text comes from a pure core function.
import * as vscode from 'vscode';
import { runStatusBar } from '../../core/board';
import type { RunManager } from '../runManager';

export const RUN_STATUS_ITEM_ID = 'delivery.runStatus';

export class RunStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(RUN_STATUS_ITEM_ID, vscode.StatusBarAlignment.Left, 50);
  private readonly sub: vscode.Disposable;
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly runs: RunManager) {
    this.item.name = 'Delivery: Last Run';
    this.item.command = 'delivery.panel.open';
    this.sub = runs.onDidChange(() => this.update());
    this.update();
  }

  /** The text currently shown (for tests and the API). */
  get text(): string {
    return this.item.text;
  }

  update(): void {
    const run = this.runs.latestRun();
    const m = runStatusBar(run, Date.now());
    this.item.text = m.text;
    this.item.tooltip = m.tooltip;
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
    this.sub.dispose();
    this.item.dispose();
  }
}
