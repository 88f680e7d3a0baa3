// The status-bar deploy indicator: the followed environment (setting delivery.statusBar.environment, or the first
// one), its deployed commit and distance from HEAD, a spinner with the step while deploying (with the bake time left
// while verifying: the service fires a change every second then), error/warning colours.
// Click: a quick pick of actions for that environment.
import * as vscode from 'vscode';
import { deployIndicator } from '../../core/environments/indicator';
import type { EnvironmentService } from '../environments/environmentService';

export const DEPLOY_STATUS_ITEM_ID = 'delivery.deployStatus';

export class DeployStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(DEPLOY_STATUS_ITEM_ID, vscode.StatusBarAlignment.Left, 49);
  private readonly subs: vscode.Disposable[];
  /** The environment shown now: folder + id. */
  current: { folder: string; id: string } | null = null;

  constructor(private readonly envs: EnvironmentService) {
    this.item.name = 'Delivery: Deployed Version';
    this.item.command = 'delivery.statusBar.actions';
    this.subs = [
      envs.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('delivery.statusBar.environment')) this.update();
      }),
    ];
    this.update();
  }

  get text(): string {
    return this.item.text;
  }

  /** normal, warning or error (the colour shown). */
  tone: 'normal' | 'warning' | 'error' = 'normal';

  update(): void {
    const all = this.envs.environments();
    const wanted = vscode.workspace.getConfiguration('delivery').get<string>('statusBar.environment', '');
    const chosen = all.find((x) => x.env.id === wanted) ?? all[0];
    if (!chosen) {
      this.current = null;
      this.item.hide();
      return;
    }
    const folder = chosen.state.folder.uri.fsPath;
    this.current = { folder, id: chosen.env.id };
    const m = deployIndicator(
      chosen.env,
      this.envs.status(folder, chosen.env.id) ?? null,
      this.envs.progress(folder, chosen.env.id),
      this.envs.deploys(folder, chosen.env.id)[0] ?? null,
      (() => {
        const t = this.envs.teamState(folder, chosen.env.id);
        return { lockedBy: t?.lockedBy ?? null, store: t?.store ?? null, where: t?.where ?? null };
      })(),
    );
    this.item.text = m.text;
    this.tone = m.tone;
    const md = new vscode.MarkdownString(m.tooltip, true);
    md.isTrusted = false;
    this.item.tooltip = md;
    this.item.backgroundColor =
      m.tone === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : m.tone === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Delivery: ${m.text.replace(/\$\([^)]*\)\s*/g, '')}`, role: 'button' };
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
