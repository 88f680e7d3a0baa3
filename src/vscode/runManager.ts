// Local runs inside VS Code: starts them (with progress and cancellation), remembers the last run of each
// pipeline (from the history on disk, which the CLI shares), and streams output to the log channel.
import * as vscode from 'vscode';
import { startLocalRun } from '../adapters/localRuns';
import { actionSource } from '../adapters/actions/gitActions';
import type { RunEvent, RunHandle } from '../core/engine/engine';
import type { RunRequest } from '../core/engine/select';
import type { ImportedPipeline } from '../core/sources';
import { formatDuration } from '../core/duration';
import type { RunRecord } from '../shared/model';
import type { Log } from './log';
import type { FolderState } from './workspaceModel';
import { historyLimit, pipelineKey, pruneHistory, RunGuard, runPipelineKey } from '../core/targeting';
import { notificationText } from '../core/sanitize';
import { settingPlatforms } from '../core/github/platforms';
import { idInFolder, scopedKey, type ScopedKey } from '../shared/commandArgs';

export interface ActiveRun {
  handle: RunHandle;
  folder: string;
  key: string;
}

const TREE_REFRESH_MS = 150;
/** At most one batch of job output this often goes to the Output channel. */
const BATCH_INTERVAL_MS = 100;

/** How often a run's progress notification is updated, at most. */
const PROGRESS_INTERVAL_MS = 100;

export class RunManager implements vscode.Disposable {
  private readonly active = new Map<string, ActiveRun>();
  /** When job output last reached the Output channel (performance.now(); for the bench's Run → first line). */
  lastOutputAt = 0;
  /** One run per pipeline: claimed before the run is planned, released when it ends. */
  private readonly guard = new RunGuard<ActiveRun>();
  private readonly last = new Map<ScopedKey, RunRecord>();
  private latest: RunRecord | null = null;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires (throttled) when any run's state changed: for trees and the status bar. */
  readonly onDidChange = this.changed.event;
  private readonly events = new vscode.EventEmitter<RunEvent>();
  /** Every engine event of every active run (unthrottled): for the board, which batches itself. */
  readonly onRunEvent = this.events.event;
  private readonly started = new vscode.EventEmitter<RunHandle>();
  readonly onDidStartRun = this.started.event;
  private changeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly loadedHistory = new Set<string>();

  constructor(private readonly log: Log) {}

  private lastKey(folder: string, key: string): ScopedKey {
    return scopedKey(folder, key);
  }

  lastRun(folder: string, key: string): RunRecord | undefined {
    return this.last.get(this.lastKey(folder, key));
  }

  /** Run `runId` of `state`'s folder: active, the last of its pipeline, or read from the history on disk. */
  async findRun(state: FolderState, runId: string): Promise<RunRecord | undefined> {
    const active = this.active.get(runId);
    if (active) return active.handle.run;
    const folder = state.folder.uri.fsPath;
    for (const [key, run] of this.last) if (run.id === runId && idInFolder(key, folder) !== null) return run;
    return (await state.store.read(runId).catch(() => null)) ?? undefined;
  }

  latestRun(): RunRecord | null {
    return this.latest;
  }

  activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  activeFor(folder: string, key: string): ActiveRun | undefined {
    return this.guard.holder(folder, key);
  }

  getActive(runId: string): ActiveRun | undefined {
    return this.active.get(runId);
  }

  tail(runId: string, jobId: string): readonly string[] {
    return this.active.get(runId)?.handle.tail(jobId) ?? [];
  }

  /** Reads the run history of each folder once (the newest run per pipeline). */
  async loadHistory(states: FolderState[]): Promise<void> {
    for (const state of states) {
      const folder = state.folder.uri.fsPath;
      if (this.loadedHistory.has(folder)) continue;
      this.loadedHistory.add(folder);
      const runs = await state.store.list(100);
      for (const run of runs.reverse()) this.remember(folder, run);
    }
    this.fireSoon();
  }

  /** A run another part started (a deploy's build pipeline) joins what the trees and the status bar show. */
  adopt(folder: string, run: RunRecord): void {
    this.remember(folder, run);
    this.fireSoon();
  }

  private remember(folder: string, run: RunRecord): void {
    this.last.set(this.lastKey(folder, runPipelineKey(run)), run);
    if (!this.latest || run.startedAt >= this.latest.startedAt) this.latest = run;
  }

  private fireSoon(): void {
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null;
      this.changed.fire();
    }, TREE_REFRESH_MS);
  }

  async start(
    state: FolderState,
    pipeline: ImportedPipeline,
    request: RunRequest,
    opts: { trigger?: 'vscode' | 'task'; progress?: boolean; rerunOf?: RunRecord } = {},
  ): Promise<RunHandle | undefined> {
    const cfg = vscode.workspace.getConfiguration('delivery', state.folder.uri);
    const maxLinesPerBatch = cfg.get<number>('output.maxLinesPerBatch', 2000);
    const parallelism = cfg.get<number>('parallelism', 0);
    const folder = state.folder.uri.fsPath;
    const key = pipelineKey(pipeline);
    const claim = this.guard.claim(folder, key);
    if ('busy' in claim) {
      const running = claim.busy;
      const cancel = 'Cancel It';
      void vscode.window.showWarningMessage(notificationText(`${pipeline.def.name} is already running.`), ...(running ? [cancel] : [])).then((choice) => {
        if (choice === cancel) running?.handle.cancel();
      });
      return undefined;
    }
    // Remote actions come from delivery.actions.host (empty: DELIVERY_ACTIONS_HOST, else https://github.com).
    const actions = actionSource({ host: vscode.workspace.getConfiguration('delivery').get<string>('actions.host', '') });
    // GitHub runs-on labels -> host or an image (delivery.platforms), under what the request itself maps.
    const platforms = settingPlatforms(cfg.get<Record<string, unknown>>('platforms', {}), (why) => this.log.warn(`delivery.platforms: ${why}`));
    let runRequest: RunRequest = Object.keys(platforms).length ? { ...request, platforms: { ...platforms, ...request.platforms } } : request;
    // Jobs that name an image run in containers unless delivery.containers.forceShellExecutor says the local shell.
    if (cfg.get<boolean>('containers.forceShellExecutor', false)) runRequest = { ...runRequest, forceShellExecutor: true };
    const containerEngine = cfg.get<string>('containers.engine', '') || undefined;
    const workspace = cfg.get<string>('workspace', 'default');
    if ((workspace === 'shared' || workspace === 'isolated') && !runRequest.workspace) runRequest = { ...runRequest, workspace };
    const handle = await startLocalRun(pipeline, runRequest, {
      actions,
      folder,
      store: state.store,
      trigger: opts.trigger ?? 'vscode',
      parallelism: parallelism > 0 ? parallelism : undefined,
      masker: this.log.masker,
      containerEngine,
      rerunOf: opts.rerunOf,
    }).catch((e: unknown) => {
      claim.release();
      throw e;
    });
    if ('error' in handle) {
      claim.release();
      void vscode.window.showErrorMessage(notificationText(`Cannot run ${pipeline.def.name}: ${handle.error}`));
      return undefined;
    }
    const run = handle.run;
    const active: ActiveRun = { handle, folder, key };
    claim.hold(active);
    this.active.set(run.id, active);
    this.remember(folder, run);
    const what = request.jobs?.length ? `${pipeline.def.name} (${request.jobs.join(', ')})` : pipeline.def.name;
    this.log.info(`run ${run.id}: ${what} started in ${state.folder.name}`);
    const output = new OutputBatcher(this.log, maxLinesPerBatch, (jobId) => run.jobs.find((j) => j.id === jobId)?.logFile ?? null, () => (this.lastOutputAt = performance.now()));
    handle.onEvent((e) => {
      if (e.type === 'line') output.add(`[${e.jobId}] ${e.text}`, e.jobId);
      else if (e.type === 'job' && (e.job.status !== 'running' && e.job.status !== 'queued')) {
        output.add(`[${e.job.id}] ── ${e.job.status}${e.job.reason ? `: ${e.job.reason}` : ''} (${formatDuration(e.job.durationMs)})`, null);
      }
      this.events.fire(e);
      if (e.type !== 'line') this.fireSoon();
    });
    this.started.fire(handle);
    void handle.done.then((final) => {
      output.flush();
      output.dispose();
      this.active.delete(final.id);
      claim.release();
      this.remember(folder, final);
      this.log.info(`run ${final.id}: ${final.pipelineName} ${final.status} in ${formatDuration(final.durationMs)}`);
      if (state.store.lastSaveError) {
        const why = `the run could not be recorded in the history (${state.store.runsDir}): ${state.store.lastSaveError.message}`;
        this.log.error(why);
        void vscode.window.showErrorMessage(notificationText(`Software Delivery: ${why}`));
      }
      void pruneHistory(state.store, historyLimit(vscode.workspace.getConfiguration('delivery').get<number>('history.maxRuns')));
      this.fireSoon();
      if (final.status === 'failed') {
        const failed = final.jobs.filter((j) => (j.status === 'failed' || j.status === 'unsupported') && !j.allowFailure);
        const show = 'Show Log';
        const board = 'Open Panel';
        // A job that could not run here is named as such: nothing in it failed.
        const named = failed.map((j) => (j.status === 'unsupported' ? `${j.name} (unsupported locally)` : j.name));
        void vscode.window
          .showErrorMessage(notificationText(`${final.pipelineName} failed: ${named.join(', ') || 'see the log'}`), show, board)
          .then((choice) => {
            if (choice === show && failed[0]?.logFile) void vscode.commands.executeCommand('delivery.run.showLog', { logFile: failed[0].logFile });
            if (choice === board) void vscode.commands.executeCommand('delivery.panel.open');
          });
      }
    });
    if (opts.progress !== false) this.showProgress(handle, what);
    this.fireSoon();
    return handle;
  }

  private showProgress(handle: RunHandle, what: string): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Running ${what}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => handle.cancel());
        let reported = 0;
        let latest: RunRecord | null = null;
        let timer: ReturnType<typeof setTimeout> | null = null;
        // At most ten reports a second: each one is a message to the workbench and a redraw of the notification, and
        // a run of 200 jobs has 400 job events.
        const report = () => {
          timer = null;
          const r = latest;
          if (!r) return;
          const total = r.jobs.length || 1;
          const done = r.jobs.filter((j) => j.status !== 'queued' && j.status !== 'running').length;
          const running = r.jobs.filter((j) => j.status === 'running').map((j) => j.name);
          const increment = ((done - reported) / total) * 100;
          reported = done;
          progress.report({ increment, message: `${done}/${total} jobs${running.length ? ` — ${running.slice(0, 5).join(', ')}${running.length > 5 ? ` and ${running.length - 5} more` : ''}` : ''}` });
        };
        const sub = handle.onEvent((e) => {
          if (e.type !== 'job') return;
          latest = e.run;
          timer ??= setTimeout(report, PROGRESS_INTERVAL_MS);
        });
        await handle.done;
        sub();
        if (timer) clearTimeout(timer);
      },
    );
  }

  cancel(runId: string): boolean {
    const r = this.active.get(runId);
    if (!r) return false;
    this.log.info(`run ${runId}: cancelling`);
    r.handle.cancel();
    return true;
  }

  dispose(): void {
    for (const r of this.active.values()) r.handle.cancel();
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.changed.dispose();
    this.events.dispose();
    this.started.dispose();
  }
}

/**
 * Copies job output to the log channel in batches, at most one batch every 100 ms and at most `max` lines a batch: a
 * job that floods its output must not flood the editor. The first line after a quiet spell goes out on the next
 * turn of the event loop, not 100 ms later. The full output is always in the job's log file.
 */
class OutputBatcher {
  private lines: string[] = [];
  /** Lines dropped per job; the job's log file is looked up only when the notice is written. */
  private dropped = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = -Infinity;

  constructor(
    private readonly log: Log,
    private readonly max: number,
    private readonly logFileOf: (jobId: string) => string | null,
    /** Told each time lines reach the channel (the time of the first line is what the bench measures). */
    private readonly appended: () => void = () => undefined,
  ) {}

  add(line: string, jobId: string | null): void {
    if (this.lines.length < this.max || jobId === null) this.lines.push(line);
    else this.dropped.set(jobId, (this.dropped.get(jobId) ?? 0) + 1);
    if (!this.timer) {
      const wait = Math.max(0, BATCH_INTERVAL_MS - (performance.now() - this.lastFlush));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
    }
  }

  flush(): void {
    for (const [job, count] of this.dropped) {
      this.lines.push(`[${job}] … ${count} more lines not copied here; full log: ${this.logFileOf(job) ?? 'in the run history'}`);
    }
    this.dropped.clear();
    if (this.lines.length) {
      this.log.lines(this.lines);
      this.lastFlush = performance.now();
      this.appended();
    }
    this.lines = [];
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
