// The board view of the Delivery panel: the stage board of the current or last local run, live (patches batched to
// at most 10 a second), or of a remote run followed while the panel is visible; and the pipelines to start.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readTail } from '../../adapters/files';
import { existingFiles, logJobPlace } from '../../adapters/problemFiles';
import { mapToFolder, type JobPlace } from '../../core/problems/scanner';
import { runView, unsupportedSteps } from '../../core/board';
import type { RunEvent } from '../../core/engine/engine';
import { remoteRunView } from '../../core/remote/view';
import { previousRun } from '../../core/timeline';
import { notificationText } from '../../core/sanitize';
import type { RunRecord } from '../../shared/model';
import type { RunPatch } from '../../shared/protocol';
import type { BoardState } from '../../shared/views';
import type { RemoteRef, RemoteService } from '../remote/remoteService';
import type { RunManager } from '../runManager';
import { isTrusted } from '../trust';
import { pipelineKey, type WorkspaceModel } from '../workspaceModel';
import type { MessageHandlers, PanelSurface } from './panelHost';

const PATCH_INTERVAL_MS = 100;
const MAX_APPEND_PER_PATCH = 50;

type BoardMessage = 'cancelRun' | 'rerun' | 'openLog' | 'openFileRef' | 'openCommit' | 'runPipeline';

export class BoardController implements vscode.Disposable {
  private runId: string | null = null;
  private readonly dirty = new Map<string, string[]>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly subs: vscode.Disposable[] = [];
  /** Messages posted to the webview (counted for the flood benchmark and tests). */
  postedPatches = 0;
  /** When the last patch was posted, and the last one carrying job output (performance.now(); for the bench). */
  private lastPatchAt = -Infinity;
  lastLinePatchAt = 0;
  /** The remote run shown on the board instead of a local one. */
  private remoteShown: { ref: RemoteRef; runId: string; watching: boolean } | null = null;

  constructor(
    private readonly host: PanelSurface,
    private readonly model: WorkspaceModel,
    private readonly runs: RunManager,
    private readonly remote: RemoteService,
    /** Where a job of this session ran (its working directory too), by its log file; else its run's record says. */
    private readonly placeOf: (logFile: string) => JobPlace | undefined = () => undefined,
  ) {
    this.subs.push(
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
    );
  }

  /** A run of the history shown on the board (read from the run store: it is not in memory). */
  private pinned: RunRecord | null = null;
  /** The run before the one shown, of the same pipeline (the timeline's ghost bars): read from the history once per run. */
  private previous: { runId: string; run: Promise<RunRecord | undefined> } | null = null;

  /** Shows this local run (instead of the latest) next time the board is drawn; `record`: one from the history. */
  select(runId: string, record?: RunRecord): void {
    this.runId = runId;
    if (record) this.pinned = record;
  }

  readonly handlers: MessageHandlers<BoardMessage> = {
    cancelRun: async (msg) => {
      if (this.remoteShown && msg.runId === this.remoteViewId()) {
        const err = await this.remote.cancel(this.remoteShown.ref, this.remoteShown.runId);
        if (err) void vscode.window.showErrorMessage(notificationText(`Cannot cancel the run: ${err}`));
      } else this.runs.cancel(msg.runId);
    },
    rerun: async (msg) => {
      if (this.remoteShown && msg.runId === this.remoteViewId()) {
        const shown = this.remoteShown;
        const r = await this.remote.rerunFailed(shown.ref, shown.runId);
        if ('error' in r) void vscode.window.showErrorMessage(notificationText(`Cannot rerun: ${r.error}`));
        else await this.showRemoteRun(shown.ref, r.id);
        return;
      }
      const run = this.findRun(msg.runId);
      if (run) await vscode.commands.executeCommand('delivery.run.rerunFailed', { folder: run.folder, pipelineKey: `${run.source.file}#${run.pipelineId}`, runId: run.id, failedOnly: msg.failedOnly });
    },
    openLog: async (msg) => {
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
    },
    openFileRef: async (msg) => {
      const run = this.findRun(msg.runId);
      const job = run?.jobs.find((j) => j.id === msg.jobId);
      if (!run || !job) return;
      const place = (job.logFile ? (this.placeOf(job.logFile) ?? (await logJobPlace(job.logFile))) : null) ?? { cwd: run.folder, root: run.folder, folder: run.folder };
      const target = mapToFolder(path.resolve(place.cwd, msg.file), place);
      // Only a file of the run's folder opens: a job's output names whatever it likes.
      const rel = path.relative(run.folder, target);
      if (rel.startsWith('..') || path.isAbsolute(rel) || !(await existingFiles([target])).has(target)) {
        void vscode.window.showInformationMessage(notificationText(`${msg.file} is not a file of ${path.basename(run.folder)}.`));
        return;
      }
      const at = new vscode.Position(msg.line - 1, Math.max(0, (msg.column ?? 1) - 1));
      await vscode.window.showTextDocument(vscode.Uri.file(target), { selection: new vscode.Range(at, at), preview: true });
    },
    openCommit: async (msg) => {
      const run = this.findRun(msg.runId);
      if (run?.sha) await vscode.commands.executeCommand('delivery.commit.show', { folder: run.folder, sha: run.sha });
    },
    runPipeline: async (msg) => {
      const pipeline = this.model.findPipeline(msg.folder, msg.pipelineId);
      if (!pipeline) return;
      await vscode.commands.executeCommand('delivery.pipeline.run', { folder: msg.folder, pipelineKey: pipelineKey(pipeline) });
    },
  };

  /** Shows a remote run on the board, followed live while the board is visible. */
  async showRemoteRun(ref: RemoteRef, runId: string): Promise<void> {
    this.leaveRemote();
    this.remoteShown = { ref, runId, watching: true };
    this.host.view = 'board';
    await this.remote.runState(ref, runId, true);
    this.host.show('board');
    void this.remote.watch(ref, runId, { notify: false });
  }

  /** Polling a remote run for the board stops while nobody can see the board. */
  visibility(visible: boolean): void {
    const shown = this.remoteShown;
    if (!shown) return;
    if (!visible && shown.watching) {
      this.remote.stopWatching(shown.ref, shown.runId);
      shown.watching = false;
    } else if (visible && !shown.watching) {
      shown.watching = true;
      void this.remote.watch(shown.ref, shown.runId, { notify: false });
    }
  }

  /** Stops following the remote run shown, if any; the board shows local runs again. */
  leaveRemote(): void {
    const shown = this.remoteShown;
    this.remoteShown = null;
    if (shown?.watching) this.remote.stopWatching(shown.ref, shown.runId);
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
    const previous = run ? await this.previousOf(run) : undefined;
    return {
      run: run ? runView(run, (jobId) => tails.get(jobId) ?? [], folderName, Date.now(), previous) : null,
      pipelines: this.pipelineList(),
      trusted: isTrusted(),
    };
  }

  /** Posts the whole board (pending patches are part of it). */
  postState(): void {
    this.dirty.clear();
    void this.state().then((state) => this.host.post({ type: 'state', state }));
  }

  private previousOf(run: RunRecord): Promise<RunRecord | undefined> {
    if (this.previous?.runId !== run.id) {
      const store = this.model.folder(run.folder)?.store;
      // The newest few of this pipeline are enough: the history is newest first.
      const history = store ? store.list(4, run.pipelineId).catch(() => []) : Promise.resolve([]);
      this.previous = { runId: run.id, run: history.then((runs) => previousRun(run, runs)) };
    }
    return this.previous.run;
  }

  private findRun(runId: string): RunRecord | undefined {
    const active = this.runs.getActive(runId);
    if (active) return active.handle.run;
    const latest = this.runs.latestRun();
    if (latest?.id === runId) return latest;
    return this.pinned?.id === runId ? this.pinned : undefined;
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

  private pipelineList(): BoardState['pipelines'] {
    return this.model.folders().flatMap((f) =>
      (f.snapshot?.pipelines ?? []).map((p) => ({ folder: f.folder.uri.fsPath, folderName: f.folder.name, id: pipelineKey(p), name: p.def.name })),
    );
  }

  private onRunEvent(e: RunEvent): void {
    if (!this.host.canPost || this.remoteShown) return;
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
      // The last patch, then the whole board: its critical path is known now.
      this.flush();
      this.postState();
      return;
    }
    // At most one patch per interval; the first change after a quiet spell goes out on the next turn of the loop.
    if (!this.timer) this.timer = setTimeout(() => this.flush(), Math.max(0, PATCH_INTERVAL_MS - (performance.now() - this.lastPatchAt)));
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
          ...(j.status === 'success' && unsupportedSteps(j).length > 0 ? { partial: true } : {}),
          tests: j.tests,
          append,
        };
      }),
    };
    this.dirty.clear();
    this.postedPatches++;
    this.lastPatchAt = performance.now();
    if (patch.jobs.some((j) => j.append.length > 0)) this.lastLinePatchAt = this.lastPatchAt;
    this.host.post({ type: 'patch', patch });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
