// What is deployed where, inside VS Code: statuses of every environment (probed concurrently, cached, refreshed
// on a timer, on file changes and after deploys), deploys in progress (their step, the bake time left while
// verifying, the rollback after a failed verification), each environment's deploy history, and — for environments
// with `verify: prometheus` — the first check's value now (on the same refresh) and the checks over time (on demand).
// Untrusted workspaces: nothing is probed (a probe may run a command or connect to a host).
import { setMaxListeners } from 'node:events';
import * as vscode from 'vscode';
import type { DeployHandle } from '../../core/environments/deployRun';
import type { EnvironmentStatusService } from '../../adapters/environments';
import { features } from '../lazy';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { CommitInfo, DeployHistoryItem, DeployRecord, EnvironmentStatus, TeamStateView } from '../../shared/model';
import type { MetricsPort } from '../../core/environments/metrics';
import { verifyStepName } from '../../core/environments/deploy';
import { deployProgressText, verifyTimeLeft, type DeployProgress } from '../../core/environments/indicator';
import { DEFAULT_HEALTH_RANGE_MS } from '../../core/environments/healthOverTime';
import { parseDuration } from '../../core/duration';
import { LOG_FORMAT, parseLeftRightLog } from '../../core/environments/diff';
import type { CheckNow, EnvironmentHealthView, EnvironmentRow } from '../../shared/views';
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
  /** When the verify step started (this machine's clock); null before it and after it. */
  verifyingSince: number | null;
  /** The bake time of the environment's verify:, when it has one. */
  verifyWindowMs: number | null;
  /** The commit an automatic rollback is deploying (after a failed verification). */
  rollingBackTo: string | null;
}

const key = scopedKey;

export class EnvironmentService implements vscode.Disposable {
  private statusServiceLoading: Promise<EnvironmentStatusService> | null = null;
  private readonly statuses = new Map<ScopedKey, EnvironmentStatus>();
  private readonly history = new Map<ScopedKey, DeployHistoryItem[]>();
  private readonly team = new Map<ScopedKey, TeamStateView>();
  private readonly active = new Map<ScopedKey, ActiveDeploy>();
  private readonly checks = new Map<ScopedKey, CheckNow>();
  private readonly metricsPorts = new Map<string, MetricsPort>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly deployEnded = new vscode.EventEmitter<DeployRecord>();
  /** A deploy started here ended (its history is read again by then). */
  readonly onDidEndDeploy = this.deployEnded.event;
  private readonly subs: vscode.Disposable[] = [this.changed, this.deployEnded];
  /** Redraws the countdown of deploys that are verifying, once a second, only while one is. */
  private verifyTicker: ReturnType<typeof setInterval> | null = null;
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

  /** Prometheus for verify: (loaded with the environments code), one per folder: `ca` paths are relative to it. */
  async metrics(folder: string): Promise<MetricsPort> {
    let m = this.metricsPorts.get(folder);
    if (!m) {
      const f = await features();
      m = f.prometheusMetrics(folder, this.secrets.resolver);
      this.metricsPorts.set(folder, m);
    }
    return m;
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

  /** Where a deploy in progress is (the step; verifying with the time left; rolling back), or null. */
  progress(folder: string, envId: string): DeployProgress | null {
    const a = this.active.get(key(folder, envId));
    if (!a) return null;
    const verify = a.verifyingSince !== null && a.verifyWindowMs !== null ? { leftMs: verifyTimeLeft(a.verifyingSince, a.verifyWindowMs, Date.now()) } : null;
    return { step: a.step, sha: a.handle.record.sha, verify, rollingBackTo: a.rollingBackTo };
  }

  /** The first verify: check's value at the last refresh (environments with `verify: prometheus` only). */
  checkNow(folder: string, envId: string): CheckNow | undefined {
    return this.checks.get(key(folder, envId));
  }

  /** How far back the overview's health charts go (setting delivery.environments.healthRange, default 6h). */
  healthRangeMs(): number {
    const raw = vscode.workspace.getConfiguration('delivery').get<string>('environments.healthRange', '6h');
    const ms = parseDuration(raw);
    return ms !== null && ms >= 60_000 ? ms : DEFAULT_HEALTH_RANGE_MS;
  }

  /**
   * Each environment with `verify: prometheus`: its checks over the last hours and its deploys on the time axis
   * (query_range, one per check). Untrusted workspaces: nothing (a query goes to a host delivery.yml names).
   */
  async health(signal: AbortSignal): Promise<EnvironmentHealthView[]> {
    if (!isTrusted()) return [];
    const f = await features();
    const rangeMs = this.healthRangeMs();
    const views = await Promise.all(
      this.environments().map(async ({ state, env }) => {
        const folder = state.folder.uri.fsPath;
        if (!env.verify || env.verify.source.kind !== 'prometheus') return null;
        const h = await f.healthOverTime(env, { metrics: await this.metrics(folder), clock: { now: () => Date.now() } }, this.deploys(folder, env.id), signal, { rangeMs });
        return h ? { folder, ...h } : null;
      }),
    );
    return views.filter((v): v is EnvironmentHealthView => v !== null);
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
          await Promise.all([
            (await this.statusService()).statuses(folder, envs, {
              signal,
              force,
              onStatus: (s) => {
                this.statuses.set(key(folder, s.id), s);
                this.fireSoon();
              },
            }),
            this.readChecks(folder, envs, signal),
          ]);
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

  /** The first verify: check of each environment that has `verify: prometheus`: one instant query each. */
  private async readChecks(folder: string, envs: readonly EnvironmentConfig[], signal: AbortSignal): Promise<void> {
    const withChecks = envs.filter((e) => e.verify?.source.kind === 'prometheus');
    for (const e of envs) if (!withChecks.includes(e)) this.checks.delete(key(folder, e.id));
    if (withChecks.length === 0) return;
    const f = await features();
    const metrics = await this.metrics(folder);
    await Promise.all(
      withChecks.map(async (env) => {
        try {
          const now = await f.checkNow(env, metrics, signal);
          if (signal.aborted) return;
          if (now) this.checks.set(key(folder, env.id), now);
          else this.checks.delete(key(folder, env.id));
          this.fireSoon();
        } catch (e) {
          if (!signal.aborted) this.log.error(`${env.id}: could not read its verify check`, e);
        }
      }),
    );
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
    const verify = this.find(folder, envId)?.env.verify ?? null;
    const verifyStep = verify ? verifyStepName(verify) : null;
    const entry: ActiveDeploy = {
      folder,
      environment: envId,
      handle,
      step: handle.record.steps[0]?.name ?? 'starting',
      verifyingSince: null,
      verifyWindowMs: verify?.windowMs ?? null,
      rollingBackTo: null,
    };
    this.active.set(key(folder, envId), entry);
    handle.onEvent((e) => {
      if (e.type === 'step' && e.step.status === 'running') {
        entry.step = e.step.name;
        entry.verifyingSince = e.step.name === verifyStep ? Date.now() : null;
        if (entry.verifyingSince !== null) this.tickWhileVerifying();
        this.fireSoon();
      } else if (e.type === 'step' && e.step.name === verifyStep) {
        entry.verifyingSince = null;
      } else if (e.type === 'rollback') {
        entry.rollingBackTo = e.sha;
        this.fireSoon();
      }
    });
    this.fireSoon();
    void handle.done.then(async (record) => {
      this.active.delete(key(folder, envId));
      await this.loadHistory(state);
      (await this.statusService()).invalidate(folder);
      this.fireSoon();
      this.deployEnded.fire(record);
      await this.refresh(true);
    });
  }

  /** Fires a change every second while a deploy is verifying, so the time left counts down; stops by itself. */
  private tickWhileVerifying(): void {
    if (this.verifyTicker) return;
    this.verifyTicker = setInterval(() => {
      if (![...this.active.values()].some((a) => a.verifyingSince !== null && !a.rollingBackTo)) {
        clearInterval(this.verifyTicker!);
        this.verifyTicker = null;
        return;
      }
      this.fireSoon();
    }, 1000);
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
        deploying: (() => {
          const p = this.progress(folder, env.id);
          return p ? deployProgressText(p) : null;
        })(),
        lastDeploy: last ? { id: last.id, sha: last.sha, status: last.status, user: last.user, startedAt: last.startedAt, durationMs: last.durationMs, action: last.action } : null,
        lockedBy: team?.lockedBy ?? null,
        store: team?.store ?? null,
      };
    });
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.fireTimer) clearTimeout(this.fireTimer);
    if (this.verifyTicker) clearInterval(this.verifyTicker);
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
