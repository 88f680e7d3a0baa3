// The environments overview of the Delivery panel: environment × deployed commit × health × last deploy, with
// refresh and deploy buttons (a deploy goes through the command, which asks every confirmation itself); below it,
// for environments with `verify: prometheus`, each check over the last hours with the deploys on the time axis —
// read again when the overview is shown or refreshed and after each deploy, never on a timer.
import * as vscode from 'vscode';
import type { EnvironmentService } from '../environments/environmentService';
import type { Log } from '../log';
import type { MessageHandlers, PanelSurface } from './panelHost';

type EnvironmentsMessage = 'refreshEnvironments' | 'deployEnvironment';

export class EnvironmentsOverviewController implements vscode.Disposable {
  private readonly subs: vscode.Disposable[] = [];
  private healthReading: AbortController | null = null;
  /** Health charts read so far (for tests: how often Prometheus was asked). */
  healthReads = 0;

  constructor(
    private readonly host: PanelSurface,
    private readonly envs: EnvironmentService,
    private readonly log: Log,
  ) {
    this.subs.push(
      envs.onDidChange(() => this.post()),
      envs.onDidEndDeploy(() => void this.postHealth()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('delivery.environments.healthRange')) void this.postHealth();
      }),
    );
  }

  readonly handlers: MessageHandlers<EnvironmentsMessage> = {
    refreshEnvironments: async () => {
      await Promise.all([this.envs.refresh(true), this.postHealth()]);
    },
    deployEnvironment: async (msg) => {
      // The command asks for every confirmation itself: a message from the page never confirms a deploy.
      await vscode.commands.executeCommand('delivery.environment.deploy', { folder: msg.folder, environment: msg.environment });
    },
  };

  /** The page switched to the overview: statuses are refreshed (cached ones stay until then), the charts read again. */
  shown(): void {
    void this.envs.refresh();
    void this.postHealth();
  }

  /** The page (re)loaded: everything it shows. */
  ready(): void {
    this.post();
    void this.postHealth();
  }

  post(): void {
    if (!this.host.canPost) return;
    this.host.post({ type: 'environments', rows: this.envs.rows(), loading: this.envs.loading });
  }

  /** Reads every environment's checks over time (query_range) and posts them; a newer read cancels an older one. */
  async postHealth(): Promise<void> {
    if (!this.host.canPost) return;
    this.healthReading?.abort();
    const ctl = new AbortController();
    this.healthReading = ctl;
    this.healthReads++;
    this.host.post({ type: 'environmentHealth', health: [], loading: true });
    try {
      const health = await this.envs.health(ctl.signal);
      if (!ctl.signal.aborted) this.host.post({ type: 'environmentHealth', health, loading: false });
    } catch (e) {
      if (!ctl.signal.aborted) {
        this.log.error('could not read the environments\' health over time', e);
        this.host.post({ type: 'environmentHealth', health: [], loading: false });
      }
    } finally {
      if (this.healthReading === ctl) this.healthReading = null;
    }
  }

  dispose(): void {
    this.healthReading?.abort();
    for (const s of this.subs) s.dispose();
  }
}
