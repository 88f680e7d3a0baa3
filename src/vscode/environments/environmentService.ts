// What is deployed where, inside VS Code: statuses of every environment (probed concurrently, cached, refreshed
// on a timer, on file changes and after deploys), deploys in progress, and each environment's deploy history.
// Untrusted workspaces: nothing is probed (a probe may run a command or connect to a host).
import { setMaxListeners } from 'node:events';
import * as vscode from 'vscode';
import type { DeployHandle } from '../../core/environments/deployRun';
import type { EnvironmentStatusService } from '../../adapters/environments';
import { features } from '../lazy';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { CommitInfo, DeployHistoryItem, EnvironmentStatus, TeamStateView } from '../../shared/model';
import { LOG_FORMAT, parseLeftRightLog } from '../../core/environments/diff';
import type { EnvironmentRow } from '../../shared/views';
import type { Log } from '../log';
import type { Secrets } from '../secrets';
import { isTrusted } from '../trust';
import type { FolderState, WorkspaceModel } from '../workspaceModel';
import { idInFolder, scopedKey, type ScopedKey } from '../../shared/commandArgs';

export interface ActiveDeploy {
  folder: string;
  environment: string;
  handle: DeployHandle;
  /** Name of the step running now. */
  step: string;
}

const key = scopedKey;

export class EnvironmentService implements vscode.Disposable {
  private statusServiceLoading: Promise<EnvironmentStatusService> | null = null;
  private readonly statuses = new Map<ScopedKey, EnvironmentStatus>();
  private readonly history = new Map<ScopedKey, DeployHistoryItem[]>();
  private readonly team = new Map<ScopedKey, TeamStateView>();
  private readonly active = new Map<ScopedKey, ActiveDeploy>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [this.changed];
  private timer: ReturnType<typeof setInterval> | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshController: AbortController | null = null;
  loading = false;
  private fireTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly model: WorkspaceModel,
    readonly secrets: Secrets,
    private readonly log: Log,
  ) {
    this.subs.push(
      model.onDidChange(() => {
        void this.statusService().then((s) => s.invalidate());
        void this.refresh();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh(true)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('delivery.environments.refreshInterval')) this.schedule();
      }),
    );
    this.schedule();
  }

  /** The probing service (loaded with the environments code on first use), its cache shared by every caller. */
  statusService(): Promise<EnvironmentStatusService> {
    this.statusServiceLoading ??= features().then((f) => new f.EnvironmentStatusService({ secrets: this.secrets.resolver, masker: this.secrets.masker }));
    return this.statusServiceLoading;
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const seconds = vscode.workspace.getConfiguration('delivery').get<number>('environments.refreshInterval', 60);
    if (seconds > 0) this.timer = setInterval(() => void this.refresh(), seconds * 1000);
  }

  private fireSoon(): void {
    if (this.fireTimer) return;
    this.fireTimer = setTimeout(() => {
      this.fireTimer = null;
      this.changed.fire();
    }, 50);
  }

  /** Every environment of every folder, with its folder. */
  environments(): { state: FolderState; env: EnvironmentConfig }[] {
    return this.model.folders().flatMap((state) => (state.snapshot?.environments ?? []).map((env) => ({ state, env })));
  }

  find(folder: string, envId: string): { state: FolderState; env: EnvironmentConfig } | undefined {
    return this.environments().find((x) => x.state.folder.uri.fsPath === folder && x.env.id === envId);
  }

  status(folder: string, envId: string): EnvironmentStatus | undefined {
    return this.statuses.get(key(folder, envId));
  }

  /** The environment's history, newest first: deploys (the team's, from its store) and lock events. */
  events(folder: string, envId: string): DeployHistoryItem[] {
    return this.history.get(key(folder, envId)) ?? [];
  }

  /** Deploys, rollbacks and promotes only, newest first. */
  deploys(folder: string, envId: string): DeployHistoryItem[] {
    return this.events(folder, envId).filter((d) => d.action !== 'lock' && d.action !== 'unlock');
  }

  /** Where the environment's lock and history live and who holds the lock (undefined until read). */
  teamState(folder: string, envId: string): TeamStateView | undefined {
    return this.team.get(key(folder, envId));
  }

  activeDeploy(folder: string, envId: string): ActiveDeploy | undefined {
    return this.active.get(key(folder, envId));
  }

  activeDeploys(): ActiveDeploy[] {
    return [...this.active.values()];
  }

  /** Probes every environment (all folders at once; each environment appears as soon as it is known). */
  refresh(force = false): Promise<void> {
    if (this.refreshing && !force) return this.refreshing;
    this.refreshController?.abort();
    const ctl = new AbortController();
    // Every probe of every environment listens to this one signal: more than Node's default of 10 is expected.
    setMaxListeners(1000, ctl.signal);
    this.refreshController = ctl;
    const run = this.doRefresh(force, ctl.signal).finally(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    this.refreshing = run;
    return run;
  }

  private async doRefresh(force: boolean, signal: AbortSignal): Promise<void> {
    await this.model.whenLoaded();
    const states = this.model.folders().filter((s) => (s.snapshot?.environments.length ?? 0) > 0);
    await Promise.all(states.map((s) => this.loadHistory(s)));
    if (!isTrusted()) {
      this.fireSoon();
      return;
    }
    this.loading = true;
    this.fireSoon();
    const started = Date.now();
    try {
      await Promise.all(
        states.map(async (state) => {
          const folder = state.folder.uri.fsPath;
          const envs = state.snapshot?.environments ?? [];
          const ids = new Set(envs.map((e) => e.id));
          for (const k of [...this.statuses.keys()]) {
            const id = idInFolder(k, folder);
            if (id !== null && !ids.has(id)) this.statuses.delete(k);
          }
          await (await this.statusService()).statuses(folder, envs, {
            signal,
            force,
            onStatus: (s) => {
              this.statuses.set(key(folder, s.id), s);
              this.fireSoon();
            },
          });
        }),
      );
      if (!signal.aborted) this.log.info(`environments probed in ${Date.now() - started} ms`);
    } catch (e) {
      if (!signal.aborted) this.log.error('could not read the environments', e);
    } finally {
      this.loading = false;
      this.fireSoon();
    }
  }

  /**
   * Each environment's history and lock. Trusted workspaces read the team's store (the ssh host, the git remote,
   * the registry: reading them runs ssh, git or docker); untrusted ones only this machine's records.
   */
  private async loadHistory(state: FolderState): Promise<void> {
    const folder = state.folder.uri.fsPath;
    const f = await features();
    await Promise.all(
      (state.snapshot?.environments ?? []).map(async (env) => {
        const k = key(folder, env.id);
        if (!isTrusted()) {
          const local = await f.deployHistory(state.store.stateDir, env.id, 20).catch(() => []);
          this.history.set(k, f.historyItems(local.map(f.localHistoryEntry)));
          this.team.delete(k);
          return;
        }
        try {
          const h = await f.environmentHistory(folder, env, { stateDir: state.store.stateDir, secrets: this.secrets.resolver, masker: this.secrets.masker }, { limit: 20 });
          this.history.set(k, f.historyItems(h.entries));
          this.team.set(k, f.teamStateView(h));
          if (h.error) this.log.info(`${env.id}: ${h.error}`);
        } catch (e) {
          this.log.error(`${env.id}: could not read the deploy history`, e);
        }
      }),
    );
    this.fireSoon();
  }

  /** Tracks a deploy that started: the tree, status bar and panel follow it; the environment is re-probed after. */
  track(state: FolderState, envId: string, handle: DeployHandle): void {
    const folder = state.folder.uri.fsPath;
    const entry: ActiveDeploy = { folder, environment: envId, handle, step: handle.record.steps[0]?.name ?? 'starting' };
    this.active.set(key(folder, envId), entry);
    handle.onEvent((e) => {
      if (e.type === 'step' && e.step.status === 'running') {
        entry.step = e.step.name;
        this.fireSoon();
      }
    });
    this.fireSoon();
    void handle.done.then(async () => {
      this.active.delete(key(folder, envId));
      await this.loadHistory(state);
      (await this.statusService()).invalidate(folder);
      this.fireSoon();
      await this.refresh(true);
    });
  }

  /** Commits between what an environment runs and HEAD (at most 100 each way), for the tree. */
  async commits(folder: string, deployed: string, local: string): Promise<{ toDeploy: CommitInfo[]; toRevert: CommitInfo[] }> {
    const out = await (await this.statusService())
      .repo(folder)
      .raw(['log', '-z', '--left-right', '-n', '200', '--no-color', `--format=${LOG_FORMAT}`, '--end-of-options', `${deployed}...${local}`], new AbortController().signal);
    const { left, right } = parseLeftRightLog(out);
    return { toDeploy: right.slice(0, 100), toRevert: left.slice(0, 100) };
  }

  rows(): EnvironmentRow[] {
    return this.environments().map(({ state, env }) => {
      const folder = state.folder.uri.fsPath;
      const status = this.statuses.get(key(folder, env.id)) ?? placeholder(env, isTrusted() ? 'checking…' : 'not probed: the workspace is not trusted');
      const last = this.deploys(folder, env.id)[0];
      const team = this.teamState(folder, env.id);
      return {
        folder,
        folderName: state.folder.name,
        status,
        protected: env.protected,
        promotesFrom: env.promotesFrom,
        canDeploy: env.deploy !== null,
        deploying: this.activeDeploy(folder, env.id)?.step ?? null,
        lastDeploy: last ? { id: last.id, sha: last.sha, status: last.status, user: last.user, startedAt: last.startedAt, durationMs: last.durationMs, action: last.action } : null,
        lockedBy: team?.lockedBy ?? null,
        store: team?.store ?? null,
      };
    });
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.fireTimer) clearTimeout(this.fireTimer);
    this.refreshController?.abort();
    for (const d of this.active.values()) d.handle.cancel();
    for (const s of this.subs) s.dispose();
  }
}

/** A status to show before the first probe answers (or when probing is not allowed). */
export function placeholder(env: EnvironmentConfig, why: string): EnvironmentStatus {
  return {
    id: env.id,
    name: env.name,
    url: env.url,
    deployed: { sha: null, error: env.version ? why : null, raw: null, checkedAt: 0 },
    local: { sha: null, branch: null, dirty: false },
    ahead: null,
    behind: null,
    health: 'unknown',
    healthDetail: null,
  };
}
