// The environments overview of the Delivery panel: environment × deployed commit × health × last deploy, with
// refresh and deploy buttons (a deploy goes through the command, which asks every confirmation itself).
import * as vscode from 'vscode';
import type { EnvironmentService } from '../environments/environmentService';
import type { MessageHandlers, PanelSurface } from './panelHost';

type EnvironmentsMessage = 'refreshEnvironments' | 'deployEnvironment';

export class EnvironmentsOverviewController implements vscode.Disposable {
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly host: PanelSurface,
    private readonly envs: EnvironmentService,
  ) {
    this.subs.push(envs.onDidChange(() => this.post()));
  }

  readonly handlers: MessageHandlers<EnvironmentsMessage> = {
    refreshEnvironments: async () => {
      await this.envs.refresh(true);
    },
    deployEnvironment: async (msg) => {
      // The command asks for every confirmation itself: a message from the page never confirms a deploy.
      await vscode.commands.executeCommand('delivery.environment.deploy', { folder: msg.folder, environment: msg.environment });
    },
  };

  /** The page switched to the overview: statuses are refreshed (cached ones stay until then). */
  shown(): void {
    void this.envs.refresh();
  }

  post(): void {
    if (!this.host.canPost) return;
    this.host.post({ type: 'environments', rows: this.envs.rows(), loading: this.envs.loading });
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
