// The Pipelines tree: (folder →) (source →) pipeline → job → step, with the last run's status on each row.
// One class per node kind; each knows its own children. The model is not the TreeItem.
import * as vscode from 'vscode';
import type { ImportedPipeline } from '../../core/sources';
import { formatDuration } from '../../core/duration';
import type { JobDef, JobRecord, Problem, RunRecord, SourceKind, StepDef } from '../../shared/model';
import type { RunManager } from '../runManager';
import { RemoteService } from '../remote/remoteService';
import type { RemoteJob, RemoteRun } from '../../core/remote/types';
import { markdownText, plainText } from '../../core/sanitize';
import { isTrusted } from '../trust';
import { pipelineKey, type FolderState, type WorkspaceModel } from '../workspaceModel';
import { statusIcon } from './icons';
import { InfoNode } from './infoNode';
import { RowRefresher, type RefreshableRow } from './rowRefresher';
import { treeItemText } from './treeItemText';

const SOURCE_LABEL: Record<SourceKind, string> = { delivery: 'delivery.yml', github: 'GitHub Actions', gitlab: 'GitLab CI' };

export abstract class PipelineTreeNode {
  abstract treeItem(): vscode.TreeItem;
  children(): PipelineTreeNode[] | Promise<PipelineTreeNode[]> {
    return [];
  }
}

interface Ctx {
  runs: RunManager;
  remote: RemoteService;
  trusted: boolean;
  /** The pipeline row's node: the same object while its definition is the same (see RowRefresher). */
  pipelineNode(state: FolderState, pipeline: ImportedPipeline): PipelineNode;
}

class FolderNode extends PipelineTreeNode {
  constructor(
    readonly state: FolderState,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.state.folder.name, vscode.TreeItemCollapsibleState.Expanded);
    item.iconPath = vscode.ThemeIcon.Folder;
    item.resourceUri = this.state.folder.uri;
    item.contextValue = 'folder';
    item.id = `folder:${this.state.folder.uri.fsPath}`;
    return item;
  }
  children(): PipelineTreeNode[] {
    return folderChildren(this.state, this.ctx);
  }
}

function folderChildren(state: FolderState, ctx: Ctx): PipelineTreeNode[] {
  const snap = state.snapshot;
  if (!snap) return [];
  const kinds = [...new Set(snap.pipelines.map((p) => p.def.source.kind))];
  const problems = snap.problems.map((p) => new ProblemNode(state, p));
  if (kinds.length <= 1) return [...problems, ...snap.pipelines.map((p) => ctx.pipelineNode(state, p))];
  return [
    ...kinds.map(
      (k) =>
        new SourceNode(
          state,
          k,
          snap.pipelines.filter((p) => p.def.source.kind === k),
          problems.filter((p) => snap.pipelines.some((x) => x.def.source.kind === k && x.def.source.file === p.problem.file)),
          ctx,
        ),
    ),
    ...problems.filter((p) => !snap.pipelines.some((x) => x.def.source.file === p.problem.file)),
  ];
}

class SourceNode extends PipelineTreeNode {
  constructor(
    readonly state: FolderState,
    readonly kind: SourceKind,
    readonly pipelines: ImportedPipeline[],
    readonly problems: ProblemNode[],
    private readonly ctx: Ctx,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(SOURCE_LABEL[this.kind], vscode.TreeItemCollapsibleState.Expanded);
    item.iconPath = new vscode.ThemeIcon(this.kind === 'github' ? 'github' : this.kind === 'gitlab' ? 'git-merge' : 'rocket');
    item.description = `${this.pipelines.length} pipeline${this.pipelines.length === 1 ? '' : 's'}`;
    item.contextValue = `source ${this.kind}`;
    item.id = `source:${this.state.folder.uri.fsPath}:${this.kind}`;
    return item;
  }
  children(): PipelineTreeNode[] {
    return [...this.problems, ...this.pipelines.map((p) => this.ctx.pipelineNode(this.state, p))];
  }
}

export class ProblemNode extends PipelineTreeNode {
  constructor(
    readonly state: FolderState,
    readonly problem: Problem,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const p = this.problem;
    const item = new vscode.TreeItem(p.message, vscode.TreeItemCollapsibleState.None);
    item.description = `${p.file}:${p.line}:${p.column}`;
    item.iconPath = new vscode.ThemeIcon(
      p.severity === 'error' ? 'error' : 'warning',
      new vscode.ThemeColor(p.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground'),
    );
    item.tooltip = plainText(`${p.file}:${p.line}:${p.column}: ${p.message}`);
    item.contextValue = `problem ${p.severity}`;
    item.command = { command: 'delivery.definition.open', title: 'Open Definition', arguments: [this] };
    return item;
  }
  location(): { folder: vscode.Uri; file: string; line: number; column: number } {
    return { folder: this.state.folder.uri, file: this.problem.file, line: this.problem.line, column: this.problem.column };
  }
}

export class PipelineNode extends PipelineTreeNode implements RefreshableRow {
  constructor(
    readonly state: FolderState,
    readonly pipeline: ImportedPipeline,
    readonly ctx: Ctx,
  ) {
    super();
  }
  get key(): string {
    return pipelineKey(this.pipeline);
  }
  static rowId(folder: string, key: string): string {
    return `pipeline:${folder}:${key}`;
  }
  /** What the row and everything under it show (last run, jobs, remote runs), as one string. */
  shown(): string {
    const run = this.lastRun();
    const jobs = run?.jobs.map((j) => [j.id, j.status, j.durationMs, j.attempts, j.logFile, j.tests, j.steps.map((st) => st.status)]);
    const ref = { state: this.state, pipeline: this.pipeline };
    const remote = RemoteService.canHaveRemote(this.pipeline)
      ? this.ctx.remote.cachedRuns(ref)?.map((r) => {
          const known = this.ctx.remote.knownState(ref, r.id);
          return [r.id, r.status, known?.run.status, known?.jobs.map((j) => `${j.name}:${j.status}`)];
        })
      : undefined;
    return JSON.stringify([treeItemText(this.treeItem()), run?.id, jobs, remote]);
  }
  lastRun(): RunRecord | undefined {
    return this.ctx.runs.lastRun(this.state.folder.uri.fsPath, this.key);
  }
  hasErrors(): boolean {
    return (this.state.snapshot?.problems ?? []).some((p) => p.file === this.pipeline.def.source.file && p.severity === 'error');
  }
  treeItem(): vscode.TreeItem {
    const def = this.pipeline.def;
    const run = this.lastRun();
    const item = new vscode.TreeItem(def.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = PipelineNode.rowId(this.state.folder.uri.fsPath, this.key);
    item.iconPath = run ? statusIcon(run.status) : new vscode.ThemeIcon(def.source.kind === 'github' ? 'github-action' : 'rocket');
    item.description = run
      ? run.status === 'running'
        ? `running · ${formatDuration(Date.now() - run.startedAt)}`
        : run.durationMs > 0
          ? `${run.status} · ${formatDuration(run.durationMs)}`
          : run.status
      : def.source.file;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(def.name)}** — ${escapeMd(def.source.file)}\n\n`);
    md.appendMarkdown(`${def.jobs.length} job${def.jobs.length === 1 ? '' : 's'}${def.stages ? `, stages: ${def.stages.map(escapeMd).join(' → ')}` : ''}\n\n`);
    if (run) md.appendMarkdown(`Last run: **${run.status}** ${new Date(run.startedAt).toLocaleString()} (${formatDuration(run.durationMs)})${run.sha ? ` at \`${run.sha.slice(0, 7)}\`` : ''}\n\n`);
    if (this.hasErrors()) md.appendMarkdown('$(error) This file has errors: nothing runs until they are fixed (see Problems).');
    if (!this.ctx.trusted) md.appendMarkdown('\n\n$(shield) Untrusted workspace: pipelines are shown but not run.');
    item.tooltip = md;
    const tokens = ['pipeline', def.source.kind];
    if (this.ctx.trusted && !this.hasErrors()) tokens.push('runnable');
    if (this.ctx.runs.activeFor(this.state.folder.uri.fsPath, this.key)) tokens.push('running');
    if (run && run.jobs.some((j) => j.status === 'failed' || j.status === 'cancelled')) tokens.push('hasFailed');
    item.contextValue = tokens.join(' ');
    return item;
  }
  jobNode(job: JobDef): JobNode {
    const run = this.lastRun();
    // Matrix and parallel jobs run as several ids ("test (18)", "build: [1/2]"): show the first one's record.
    const rec = run?.jobs.find((r) => r.id === job.id) ?? run?.jobs.find((r) => r.id.startsWith(`${job.id} `) || r.id.startsWith(`${job.id}:`));
    return new JobNode(this, job, rec, this.ctx);
  }
  children(): PipelineTreeNode[] {
    const def = this.pipeline.def;
    const staged = def.stages !== null || def.jobs.some((j) => j.stage !== null);
    if (!staged) return [...def.jobs.map((j) => this.jobNode(j)), ...this.remoteNode()];
    const order = [...(def.stages ?? [])];
    for (const j of def.jobs) if (j.stage !== null && !order.includes(j.stage)) order.push(j.stage);
    const loose = def.jobs.filter((j) => j.stage === null).map((j) => this.jobNode(j));
    const stages = order
      .map((name) => new StageNode(this, name, def.jobs.filter((j) => j.stage === name)))
      .filter((st) => st.jobs.length > 0);
    return [...loose, ...stages, ...this.remoteNode()];
  }
  private remoteNode(): PipelineTreeNode[] {
    return this.ctx.trusted && RemoteService.canHaveRemote(this.pipeline) ? [new RemoteRunsNode(this, this.ctx)] : [];
  }
  location() {
    return { folder: this.state.folder.uri, ...this.pipeline.def.location };
  }
}

class StageNode extends PipelineTreeNode {
  constructor(
    readonly parent: PipelineNode,
    readonly name: string,
    readonly jobs: JobDef[],
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `stage:${this.parent.state.folder.uri.fsPath}:${this.parent.key}:${this.name}`;
    const recs = this.children().map((c) => (c as JobNode).record).filter((r): r is JobRecord => !!r);
    const status = recs.some((r) => r.status === 'running')
      ? 'running'
      : recs.some((r) => r.status === 'failed' && !r.allowFailure)
        ? 'failed'
        : recs.length > 0 && recs.every((r) => r.status === 'success' || (r.status === 'failed' && r.allowFailure))
          ? 'success'
          : null;
    item.iconPath = status ? statusIcon(status) : new vscode.ThemeIcon('layers');
    item.description = `${this.jobs.length} job${this.jobs.length === 1 ? '' : 's'}`;
    item.contextValue = 'stage';
    return item;
  }
  children(): PipelineTreeNode[] {
    return this.jobs.map((j) => this.parent.jobNode(j));
  }
}

export class JobNode extends PipelineTreeNode {
  constructor(
    readonly parent: PipelineNode,
    readonly job: JobDef,
    readonly record: JobRecord | undefined,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const job = this.job;
    const rec = this.record;
    const showSteps = job.steps.length > 1 || job.steps.some((s) => s.kind === 'uses');
    const item = new vscode.TreeItem(job.name, showSteps ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `job:${this.parent.state.folder.uri.fsPath}:${this.parent.key}:${job.id}`;
    item.iconPath = rec ? statusIcon(rec.status, rec.allowFailure) : job.unsupported ? statusIcon('unsupported') : new vscode.ThemeIcon('circle-large-outline');
    const parts: string[] = [];
    if (rec) parts.push(rec.status === 'running' ? 'running' : `${rec.status}${rec.durationMs ? ` · ${formatDuration(rec.durationMs)}` : ''}`);
    if (rec?.tests) parts.push(`${rec.tests.total - rec.tests.failed - rec.tests.errors - rec.tests.skipped}/${rec.tests.total} tests`);
    if (!rec && job.needs.length) parts.push(`needs ${job.needs.join(', ')}`);
    if (job.unsupported) parts.push('unsupported locally');
    item.description = parts.join(' · ');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(job.name)}**${job.stage ? ` — stage ${escapeMd(job.stage)}` : ''}\n\n`);
    if (job.needs.length) md.appendMarkdown(`Needs: ${job.needs.map((n) => `${escapeMd(n)}`).join(', ')}\n\n`);
    if (job.unsupported) md.appendMarkdown(`$(warning) Unsupported locally: ${escapeMd(job.unsupported)}\n\n`);
    if (rec) {
      md.appendMarkdown(`Last run: **${rec.status}**${rec.exitCode !== null ? ` (exit ${rec.exitCode})` : ''}, ${formatDuration(rec.durationMs)}${rec.attempts > 1 ? `, ${rec.attempts} attempts` : ''}\n\n`);
      if (rec.reason) md.appendMarkdown(`${escapeMd(rec.reason)}\n\n`);
    }
    item.tooltip = md;
    const tokens = ['job'];
    if (this.ctx.trusted && !this.parent.hasErrors() && !job.unsupported) tokens.push('runnable');
    if (rec?.status === 'running') tokens.push('running');
    if (rec?.logFile) tokens.push('hasLog');
    item.contextValue = tokens.join(' ');
    item.command = rec?.logFile
      ? { command: 'delivery.run.showLog', title: 'Show Job Log', arguments: [this] }
      : { command: 'delivery.definition.open', title: 'Open Definition', arguments: [this] };
    return item;
  }
  children(): PipelineTreeNode[] {
    return this.job.steps.map((s, i) => new StepNode(this, s, i));
  }
  location() {
    return { folder: this.parent.state.folder.uri, ...this.job.location };
  }
}

class StepNode extends PipelineTreeNode {
  constructor(
    readonly parent: JobNode,
    readonly step: StepDef,
    readonly index: number,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const s = this.step;
    const label = s.name ?? (s.kind === 'uses' ? s.uses ?? `step ${this.index + 1}` : firstLine(s.script ?? '') || `step ${this.index + 1}`);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    const rec = this.parent.record?.steps[this.index];
    item.iconPath = rec ? statusIcon(rec.status) : new vscode.ThemeIcon(s.kind === 'uses' ? 'package' : 'terminal');
    item.description = s.unsupported ? 'unsupported locally' : rec ? `${rec.status}${rec.durationMs ? ` · ${formatDuration(rec.durationMs)}` : ''}` : s.kind === 'uses' ? s.uses ?? '' : '';
    item.tooltip = s.unsupported ? `Unsupported locally: ${s.unsupported}` : s.script ?? s.uses ?? undefined;
    item.contextValue = `step ${s.kind}`;
    item.command = { command: 'delivery.definition.open', title: 'Open Definition', arguments: [this] };
    return item;
  }
  location() {
    return { folder: this.parent.parent.state.folder.uri, ...this.step.location };
  }
}

const REMOTE_ICON: Record<string, string> = { github: 'github', gitlab: 'git-merge', buildbot: 'server-process' };

/** "Remote runs": the pipeline's recent runs on its engine, fetched when expanded. */
export class RemoteRunsNode extends PipelineTreeNode {
  constructor(
    readonly parent: PipelineNode,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  get ref() {
    return { state: this.parent.state, pipeline: this.parent.pipeline };
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem('Remote runs', vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `remote:${this.parent.state.folder.uri.fsPath}:${this.parent.key}`;
    const kind = this.parent.pipeline.def.remote?.engine ?? this.parent.pipeline.def.source.kind;
    item.iconPath = new vscode.ThemeIcon(REMOTE_ICON[kind] ?? 'cloud');
    const latest = this.ctx.remote.cachedRuns(this.ref)?.[0];
    item.description = latest ? `#${latest.number ?? latest.id} ${latest.status}` : kind;
    item.contextValue = 'remoteRuns';
    return item;
  }
  async children(): Promise<PipelineTreeNode[]> {
    const runs = await this.ctx.remote.runs(this.ref);
    if ('error' in runs) return [new InfoNode(runs.error, 'warning')];
    if (runs.length === 0) return [new InfoNode('No runs yet', 'info')];
    return runs.map((r) => new RemoteRunNode(this, r, this.ctx));
  }
}

export class RemoteRunNode extends PipelineTreeNode {
  constructor(
    readonly parent: RemoteRunsNode,
    readonly run: RemoteRun,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const r = this.ctx.remote.knownState(this.parent.ref, this.run.id)?.run ?? this.run;
    // Titles, branches and actors come from the remote service: plain text, control characters visible.
    const item = new vscode.TreeItem(plainText(`#${r.number ?? r.id}${r.title ? ` ${r.title}` : ''}`, { oneLine: true }), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `remote-run:${this.parent.parent.state.folder.uri.fsPath}:${this.parent.parent.key}:${r.id}`;
    item.iconPath = statusIcon(r.status === 'unknown' ? 'queued' : r.status);
    const start = r.startedAt ?? r.createdAt;
    const took = start !== null ? formatDuration((r.finishedAt ?? Date.now()) - start) : '';
    item.description = plainText([r.status, r.branch, r.sha?.slice(0, 7), took, r.actor].filter(Boolean).join(' · '), { oneLine: true });
    item.tooltip = plainText([`${r.title ?? `Run #${r.number ?? r.id}`}`, `${r.status} (${r.rawStatus})`, r.branch ? `branch ${r.branch}` : '', r.sha ? `commit ${r.sha}` : '', r.actor ? `by ${r.actor}` : '', r.event ? `event ${r.event}` : '', r.url ?? '']
      .filter(Boolean)
      .join('\n'));
    const tokens = ['remoteRun'];
    if (!isFinishedStatus(r.status)) tokens.push('remoteActive');
    if (r.status === 'failed' || r.status === 'cancelled') tokens.push('remoteFailed');
    if (r.url) tokens.push('hasUrl');
    item.contextValue = tokens.join(' ');
    item.command = { command: 'delivery.remote.showRun', title: 'Show on Board', arguments: [this] };
    return item;
  }
  async children(): Promise<PipelineTreeNode[]> {
    const s = await this.ctx.remote.runState(this.parent.ref, this.run.id);
    if ('error' in s) return [new InfoNode(s.error, 'warning')];
    return s.jobs.map((j) => new RemoteJobNode(this, j));
  }
}

export class RemoteJobNode extends PipelineTreeNode {
  constructor(
    readonly parent: RemoteRunNode,
    readonly job: RemoteJob,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const j = this.job;
    const item = new vscode.TreeItem(j.name, vscode.TreeItemCollapsibleState.None);
    item.iconPath = statusIcon(j.status === 'unknown' ? 'queued' : j.status);
    const took = j.startedAt !== null ? formatDuration((j.finishedAt ?? Date.now()) - j.startedAt) : '';
    item.description = [j.stage, j.status, took].filter(Boolean).join(' · ');
    item.contextValue = 'remoteJob';
    item.command = { command: 'delivery.remote.showLog', title: 'Show Log', arguments: [this] };
    return item;
  }
}

function isFinishedStatus(s: string): boolean {
  return s === 'success' || s === 'failed' || s === 'cancelled' || s === 'skipped';
}

export class PipelinesTreeProvider implements vscode.TreeDataProvider<PipelineTreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<PipelineTreeNode | PipelineTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subs: vscode.Disposable[];
  /** Runs and remote runs refresh only the pipelines whose rows changed (see RowRefresher). */
  private readonly rows = new RowRefresher<PipelineNode>((nodes) => this.emitter.fire(nodes));

  constructor(
    private readonly model: WorkspaceModel,
    private readonly runs: RunManager,
    private readonly remote: RemoteService,
  ) {
    const changed = () => this.rows.changed();
    this.subs = [model.onDidChange(() => this.refresh()), runs.onDidChange(changed), remote.onDidChange(changed), vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()), this.emitter];
  }

  get refreshes(): { whole: number; rows: number } {
    return { ...this.rows.counts };
  }

  refresh(): void {
    this.rows.whole();
  }

  getTreeItem(node: PipelineTreeNode): vscode.TreeItem {
    return node.treeItem();
  }

  getChildren(node?: PipelineTreeNode): PipelineTreeNode[] | Promise<PipelineTreeNode[]> {
    if (node) return node.children();
    const trusted = isTrusted();
    const ctx: Ctx = {
      runs: this.runs,
      remote: this.remote,
      trusted,
      pipelineNode: (state, pipeline) =>
        this.rows.node(
          PipelineNode.rowId(state.folder.uri.fsPath, pipelineKey(pipeline)),
          (n): n is PipelineNode => n.state === state && n.pipeline === pipeline && n.ctx.trusted === trusted,
          () => new PipelineNode(state, pipeline, ctx),
        ),
    };
    const folders = this.model.folders().filter((f) => (f.snapshot?.pipelines.length ?? 0) + (f.snapshot?.problems.length ?? 0) > 0);
    if (folders.length === 1 && (vscode.workspace.workspaceFolders?.length ?? 0) <= 1) return folderChildren(folders[0], ctx);
    return folders.map((f) => new FolderNode(f, ctx));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

function firstLine(s: string): string {
  const line = s.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}

/** Repository and run text in a Markdown tooltip: shown as it is, never as markup, icons or links. */
function escapeMd(s: string): string {
  return markdownText(s);
}
