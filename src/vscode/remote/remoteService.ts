// Remote runs inside VS Code: which engine serves each pipeline (its `remote:`, or the git remote for GitHub and
// GitLab files), their recent runs (fetched when looked at, cached briefly), runs followed live (polling with
// backoff, stopped when nobody looks and the run has ended), triggers with inputs, cancel and rerun, and a
// notification when a watched run ends. Untrusted workspaces: nothing is contacted.
import * as vscode from 'vscode';
import type { ProxySettings } from '../../adapters/remote/http';
import { features } from '../lazy';
import { headInfo } from '../../adapters/git';
import type { RunState } from '../../core/remote/follow';
import { canRunRemotely } from '../../core/remote/config';
import { describeTarget } from '../../core/remote/engines';
import { qualifiedName } from '../../core/targeting';
import { isFinished, type RemoteEngine, type RemoteRun, type RemoteTarget, type TriggerInput } from '../../core/remote/types';
import type { ImportedPipeline } from '../../core/sources';
import type { Log } from '../log';
import type { Secrets } from '../secrets';
import { isTrusted } from '../trust';
import { pipelineKey, type FolderState } from '../workspaceModel';
import { ApiHostTrust } from './apiHostTrust';
import { tokenHint, vscodeTokenProvider } from './tokens';
import { notificationText } from '../../core/sanitize';
import { scopedKey, type ScopedKey } from '../../shared/commandArgs';
import { systemClock } from '../../adapters/clock';

export interface RemoteRef {
  state: FolderState;
  pipeline: ImportedPipeline;
}

const RUNS_TTL_MS = 30_000;

interface Resolved {
  target: RemoteTarget;
  engine: RemoteEngine & { dispose(): void };
}

export class RemoteService implements vscode.Disposable {
  private readonly resolved = new Map<string, Promise<Resolved | { error: string }>>();
  private readonly runsCache = new Map<string, { at: number; runs: RemoteRun[] }>();
  private readonly states = new Map<string, RunState>();
  private readonly watchers = new Map<string, AbortController>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly tokens;
  /** API hosts a delivery.yml names: the token goes there after a confirmation remembered per workspace. */
  readonly apiHosts: ApiHostTrust;

  constructor(
    secrets: Secrets,
    private readonly log: Log,
    workspaceState: vscode.Memento,
  ) {
    this.tokens = vscodeTokenProvider(secrets);
    this.apiHosts = new ApiHostTrust(workspaceState);
  }

  key(ref: RemoteRef): ScopedKey {
    return scopedKey(ref.state.folder.uri.fsPath, pipelineKey(ref.pipeline));
  }

  /** True when the pipeline may run somewhere remote (a `remote:`, or a file of a source that runs where it is). */
  static canHaveRemote(p: ImportedPipeline): boolean {
    return canRunRemotely(p.def);
  }

  /** The engine serving a pipeline (resolved once per pipeline; a changed delivery.yml resolves again). */
  resolve(ref: RemoteRef): Promise<Resolved | { error: string }> {
    if (!isTrusted()) return Promise.resolve({ error: 'remote runs are not contacted in an untrusted workspace' });
    const key = this.key(ref);
    let found = this.resolved.get(key);
    if (!found) {
      const folder = ref.state.folder.uri.fsPath;
      found = (async () => {
        const { createRemoteEngine, resolveRemotePipeline, loadCa } = await features();
        const r = await resolveRemotePipeline(folder, [ref.pipeline], qualifiedName(ref.pipeline));
        if ('error' in r) return r;
        try {
          const engine = createRemoteEngine(r.target, {
            tokens: this.tokens,
            origin: r.origin,
            trustedApiHosts: this.apiHosts.trusted(),
            confirmApiHost: this.apiHosts.confirm,
            trustHint: this.apiHosts.hint,
            tokenHint,
            actor: (await headInfo(folder).catch(() => null))?.author?.name ?? undefined,
            http: networkSettings(loadCa),
          });
          return { target: r.target, engine };
        } catch (e) {
          return { error: (e as Error).message };
        }
      })();
      this.resolved.set(key, found);
    }
    return found;
  }

  /** Forget engines and cached runs (delivery.yml or the git remote changed). */
  reset(): void {
    for (const r of this.resolved.values()) void r.then((x) => 'engine' in x && x.engine.dispose());
    this.resolved.clear();
    this.runsCache.clear();
    this.apiHosts.forgetRefusals();
  }

  cachedRuns(ref: RemoteRef): RemoteRun[] | undefined {
    return this.runsCache.get(this.key(ref))?.runs;
  }

  async runs(ref: RemoteRef, force = false): Promise<RemoteRun[] | { error: string }> {
    const key = this.key(ref);
    const cached = this.runsCache.get(key);
    if (cached && !force && Date.now() - cached.at < RUNS_TTL_MS) return cached.runs;
    const r = await this.resolve(ref);
    if ('error' in r) return r;
    try {
      const runs = await r.engine.runs({ limit: 10, signal: AbortSignal.timeout(20_000) });
      this.runsCache.set(key, { at: Date.now(), runs });
      return runs;
    } catch (e) {
      return { error: `${describeTarget(r.target)}: ${(e as Error).message}` };
    }
  }

  /** The last known state of a run (jobs and steps), fetching it when unknown. */
  async runState(ref: RemoteRef, runId: string, force = false): Promise<RunState | { error: string }> {
    const k = `${this.key(ref)}#${runId}`;
    const known = this.states.get(k);
    if (known && !force && (isFinished(known.run.status) || this.watchers.has(k))) return known;
    const r = await this.resolve(ref);
    if ('error' in r) return r;
    try {
      const state = await r.engine.run(runId, AbortSignal.timeout(20_000));
      this.states.set(k, state);
      return state;
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  knownState(ref: RemoteRef, runId: string): RunState | undefined {
    return this.states.get(`${this.key(ref)}#${runId}`);
  }

  isWatching(ref: RemoteRef, runId: string): boolean {
    return this.watchers.has(`${this.key(ref)}#${runId}`);
  }

  /** Follows a run until it ends; `notify`: say so when it does. */
  async watch(ref: RemoteRef, runId: string, opts: { notify: boolean }): Promise<void> {
    const k = `${this.key(ref)}#${runId}`;
    if (this.watchers.has(k)) return;
    const r = await this.resolve(ref);
    if ('error' in r) return;
    const ctl = new AbortController();
    this.watchers.set(k, ctl);
    this.changed.fire();
    try {
      const { followRun } = await features();
      const final = await followRun(r.engine, runId, {
        signal: ctl.signal,
        clock: systemClock,
        onUpdate: (s) => {
          this.states.set(k, s);
          this.updateCachedRun(ref, s.run);
          this.changed.fire();
        },
        onRetry: (e, ms) => this.log.warn(`${describeTarget(r.target)}: ${(e as Error).message}; trying again in ${Math.round(ms / 1000)} s`),
      });
      this.states.set(k, final);
      this.updateCachedRun(ref, final.run);
      if (opts.notify) this.notifyEnd(ref, final);
    } catch (e) {
      if (!ctl.signal.aborted) this.log.error(`following ${describeTarget(r.target)} run ${runId}`, e);
    } finally {
      this.watchers.delete(k);
      this.changed.fire();
    }
  }

  stopWatching(ref: RemoteRef, runId: string): void {
    this.watchers.get(`${this.key(ref)}#${runId}`)?.abort();
  }

  private updateCachedRun(ref: RemoteRef, run: RemoteRun): void {
    const c = this.runsCache.get(this.key(ref));
    if (!c) return;
    const i = c.runs.findIndex((x) => x.id === run.id);
    if (i >= 0) c.runs[i] = run;
    else c.runs.unshift(run);
  }

  private notifyEnd(ref: RemoteRef, s: RunState): void {
    const name = `${ref.pipeline.def.name} #${s.run.number ?? s.run.id}`;
    const open = 'Open in Browser';
    const board = 'Show on Board';
    const actions = [board, ...(s.run.url ? [open] : [])];
    const onChoice = (c: string | undefined) => {
      if (c === open && s.run.url) void vscode.env.openExternal(vscode.Uri.parse(s.run.url));
      if (c === board) void vscode.commands.executeCommand('delivery.remote.showRun', { folder: ref.state.folder.uri.fsPath, pipelineKey: pipelineKey(ref.pipeline), runId: s.run.id });
    };
    if (s.run.status === 'success') void vscode.window.showInformationMessage(notificationText(`${name} succeeded.`), ...actions).then(onChoice);
    else {
      const failed = s.jobs.filter((j) => j.status === 'failed').map((j) => j.name);
      void vscode.window
        .showErrorMessage(notificationText(`${name} ${s.run.status}${failed.length ? `: ${failed.join(', ')}` : ''}.`), ...actions)
        .then(onChoice);
    }
  }

  async inputs(ref: RemoteRef): Promise<TriggerInput[] | { error: string }> {
    const r = await this.resolve(ref);
    if ('error' in r) return r;
    try {
      return await r.engine.inputs(AbortSignal.timeout(20_000));
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  async trigger(ref: RemoteRef, gitRef: string, inputs: Record<string, string>): Promise<RemoteRun | { error: string }> {
    const r = await this.resolve(ref);
    if ('error' in r) return r;
    try {
      const run = await r.engine.trigger({ ref: gitRef, inputs, signal: AbortSignal.timeout(60_000) });
      this.log.info(`triggered ${describeTarget(r.target)} on ${gitRef}: run ${run.id}`);
      this.updateCachedRun(ref, run);
      this.changed.fire();
      void this.watch(ref, run.id, { notify: true });
      return run;
    } catch (e) {
      return { error: `${describeTarget(r.target)}: ${(e as Error).message}` };
    }
  }

  async cancel(ref: RemoteRef, runId: string): Promise<string | null> {
    const r = await this.resolve(ref);
    if ('error' in r) return r.error;
    try {
      await r.engine.cancel(runId, AbortSignal.timeout(20_000));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  async rerunFailed(ref: RemoteRef, runId: string): Promise<RemoteRun | { error: string }> {
    const r = await this.resolve(ref);
    if ('error' in r) return r;
    try {
      const run = await r.engine.rerunFailed(runId, AbortSignal.timeout(60_000));
      this.updateCachedRun(ref, run);
      void this.watch(ref, run.id, { notify: true });
      return run;
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  async engine(ref: RemoteRef): Promise<RemoteEngine | { error: string }> {
    const r = await this.resolve(ref);
    return 'error' in r ? r : r.engine;
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.abort();
    this.reset();
    this.changed.dispose();
  }
}

/** VS Code's proxy settings (`http.proxy`, `http.noProxy`) and our CA file, for the engines' HTTP client. */
function networkSettings(loadCa: (o: { caFile: string; env: NodeJS.ProcessEnv }) => string[] | undefined): { proxy?: ProxySettings; ca?: string[] } {
  const http = vscode.workspace.getConfiguration('http');
  const proxyUrl = http.get<string>('proxy', '');
  const noProxy = http.get<string[]>('noProxy', []);
  const caFile = vscode.workspace.getConfiguration('delivery').get<string>('remote.caFile', '');
  return {
    // Unset: the engines read HTTP(S)_PROXY / NO_PROXY from the environment.
    proxy: proxyUrl ? { http: proxyUrl, https: proxyUrl, noProxy: noProxy.join(',') } : undefined,
    ca: caFile ? loadCa({ caFile, env: process.env }) : undefined,
  };
}
