// Pipelines as VS Code tasks (type "delivery"): *Run Task* lists every pipeline; tasks.json can name one (and
// jobs). The task runs through the same RunManager as the tree, in a pseudoterminal that owns its cancellation:
// closing or terminating the task cancels the run and kills its processes.
import * as vscode from 'vscode';
import type { RunHandle } from '../../core/engine/engine';
import { formatDuration } from '../../core/duration';
import type { RunManager } from '../runManager';
import { isTrusted } from '../trust';
import type { FolderState, WorkspaceModel } from '../workspaceModel';
import { pipelineBlocked, pipelineByKeyOrName, problemLine, qualifiedName } from '../../core/targeting';
import type { ImportedPipeline } from '../../core/sources';

export const TASK_TYPE = 'delivery';

export interface DeliveryTaskDefinition extends vscode.TaskDefinition {
  type: 'delivery';
  /** Pipeline id, `<source>:<id>`, or the key `<file>#<id>`. */
  pipeline: string;
  jobs?: string[];
  needs?: boolean;
}

export class DeliveryTaskProvider implements vscode.TaskProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly model: WorkspaceModel,
    private readonly runs: RunManager,
  ) {
    this.registration = vscode.tasks.registerTaskProvider(TASK_TYPE, this);
  }

  async provideTasks(): Promise<vscode.Task[]> {
    await this.model.whenLoaded();
    return this.model.folders().flatMap((state) =>
      (state.snapshot?.pipelines ?? []).map((p) => this.task(state, p, { type: TASK_TYPE, pipeline: qualifiedName(p) })),
    );
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const def = task.definition as DeliveryTaskDefinition;
    if (typeof def.pipeline !== 'string') return undefined;
    await this.model.whenLoaded();
    const folder = typeof task.scope === 'object' ? (task.scope as vscode.WorkspaceFolder) : undefined;
    const state = folder ? this.model.folder(folder.uri.fsPath) : this.model.folders()[0];
    const found = state && pipelineByKeyOrName(state.snapshot?.pipelines ?? [], def.pipeline);
    if (!state || !found || 'error' in found) return undefined;
    return this.task(state, found.pipeline, def);
  }

  private task(state: FolderState, pipeline: ImportedPipeline, def: DeliveryTaskDefinition): vscode.Task {
    const label = def.jobs?.length ? `${pipeline.def.name}: ${def.jobs.join(', ')}` : pipeline.def.name;
    const task = new vscode.Task(
      def,
      state.folder,
      label,
      'delivery',
      new vscode.CustomExecution(async () => new RunTerminal(this.runs, state, pipeline, def)),
    );
    task.detail = `${pipeline.def.source.file} — ${pipeline.def.jobs.length} job${pipeline.def.jobs.length === 1 ? '' : 's'}`;
    task.group = vscode.TaskGroup.Build;
    return task;
  }

  dispose(): void {
    this.registration.dispose();
  }
}

/** A terminal that shows one run's output and ends with its result. */
class RunTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  private readonly closer = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.writer.event;
  readonly onDidClose = this.closer.event;
  private handle: RunHandle | undefined;

  constructor(
    private readonly runs: RunManager,
    private readonly state: FolderState,
    private readonly pipeline: ImportedPipeline,
    private readonly def: DeliveryTaskDefinition,
  ) {}

  private line(text: string): void {
    this.writer.fire(`${text.replace(/\r?\n/g, '\r\n')}\r\n`);
  }

  async open(): Promise<void> {
    if (!isTrusted()) {
      this.line('Software Delivery runs nothing in an untrusted workspace.');
      this.closer.fire(1);
      return;
    }
    const blocked = pipelineBlocked(this.state.snapshot?.problems ?? [], this.pipeline);
    if (blocked) {
      for (const p of blocked.errors) this.line(problemLine(p));
      this.line('Nothing was run.');
      this.closer.fire(2);
      return;
    }
    this.handle = await this.runs.start(this.state, this.pipeline, { jobs: this.def.jobs, withNeeds: this.def.needs }, { trigger: 'task', progress: false });
    if (!this.handle) {
      this.closer.fire(2);
      return;
    }
    const width = Math.min(24, Math.max(...this.handle.run.jobs.map((j) => j.id.length), 1));
    this.handle.onEvent((e) => {
      if (e.type === 'line') this.line(`${e.jobId.padEnd(width)} ${e.stream === 'system' ? '|' : '>'} ${e.text}`);
      else if (e.type === 'job' && e.job.status !== 'running' && e.job.status !== 'queued') {
        this.line(`${e.job.id.padEnd(width)} ${e.job.status}${e.job.reason ? ` (${e.job.reason})` : ''}`);
      }
    });
    const final = await this.handle.done;
    this.line(`\r\n${final.pipelineName}: ${final.status} in ${formatDuration(final.durationMs)}`);
    this.closer.fire(final.status === 'success' ? 0 : 1);
  }

  close(): void {
    this.handle?.cancel();
  }
}
