// The Pipelines tree: (folder →) (source →) pipeline → job → step, with the last run's status on each row.
// One class per node kind; each knows its own children. The model is not the TreeItem.
import * as vscode from 'vscode';
import type { ImportedPipeline } from '../../core/sources';
import { formatDuration } from '../../core/duration';
import { jobRow } from '../../core/board';
import type { JobDef, JobRecord, Problem, RunRecord, Severity, SourceKind, StepDef } from '../../shared/model';
import { sourceOf } from '../../core/importers';
import { remoteEngineOf } from '../../core/remote/config';
import { engineSpec } from '../../core/remote/engines';
import { pipelineBlocked, runPipelineKey } from '../../core/targeting';
import type { RunManager } from '../runManager';
import { RemoteService } from '../remote/remoteService';
import type { RemoteJob, RemoteRun } from '../../core/remote/types';
import { markdownText, plainText } from '../../core/sanitize';
import { isTrusted } from '../trust';
import { pipelineKey, type FolderState, type WorkspaceModel } from '../workspaceModel';
import { statusIcon } from './icons';
import { InfoNode, ROW_WIDTH, wrappedState } from './infoNode';
import { wrapText } from '../../core/wrap';
import { RowRefresher, type RefreshableRow } from './rowRefresher';
import type { NodeTarget, TargetRow } from '../../shared/commandArgs';
import { treeItemText } from './treeItemText';

/** A problem row's icon and colour by severity (info shows as a warning). */
const PROBLEM_ICON: Record<Severity, [icon: string, color: string]> = {
  error: ['error', 'list.errorForeground'],
  warning: ['warning', 'list.warningForeground'],
  info: ['warning', 'list.warningForeground'],
};

export abstract class PipelineTreeNode {
  abstract treeItem(): vscode.TreeItem;
  children(): PipelineTreeNode[] | Promise<PipelineTreeNode[]> {
    return [];
  }
  /** What the row shows, as one string: when it changes, the row is refreshed. */
  shown(): string {
    return JSON.stringify(treeItemText(this.treeItem()));
  }
}

interface Ctx {
  runs: RunManager;
  remote: RemoteService;
  trusted: boolean;
  /** One node per row, the same object while the row exists (see RowRefresher). */
  rows: RowRefresher<PipelineTreeNode>;
  /** The pipeline row's node, brought up to date in place. */
  pipelineNode(state: FolderState, pipeline: ImportedPipeline): PipelineNode;
}

function infoRow(ctx: Ctx, id: string, text: string, icon: string): InfoNode {
  return ctx.rows.node(id, () => new InfoNode(id, text, icon), (n: InfoNode) => n.update(text, icon));
}

class FolderNode extends PipelineTreeNode {
  constructor(
    public state: FolderState,
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
  const folder = state.folder.uri.fsPath;
  const problems = snap.problems.map((p, i) => ctx.rows.node(`problem:${folder}:${i}`, () => new ProblemNode(state, p, `problem:${folder}:${i}`), (n: ProblemNode) => n.update(state, p)));
  if (kinds.length <= 1) return [...problems, ...snap.pipelines.map((p) => ctx.pipelineNode(state, p))];
  return [
    ...kinds.map((k) => {
      const pipelines = snap.pipelines.filter((p) => p.def.source.kind === k);
      const mine = problems.filter((p) => snap.pipelines.some((x) => x.def.source.kind === k && x.def.source.file === p.problem.file));
      return ctx.rows.node(`source:${folder}:${k}`, () => new SourceNode(state, k, pipelines, mine, ctx), (n: SourceNode) => n.update(state, pipelines, mine));
    }),
    ...problems.filter((p) => !snap.pipelines.some((x) => x.def.source.file === p.problem.file)),
  ];
}

class SourceNode extends PipelineTreeNode {
  constructor(
    public state: FolderState,
    readonly kind: SourceKind,
    public pipelines: ImportedPipeline[],
    public problems: ProblemNode[],
    private readonly ctx: Ctx,
  ) {
    super();
  }
  update(state: FolderState, pipelines: ImportedPipeline[], problems: ProblemNode[]): boolean {
    this.state = state;
    this.pipelines = pipelines;
    this.problems = problems;
    return false;
  }
  treeItem(): vscode.TreeItem {
    const source = sourceOf(this.kind);
    const item = new vscode.TreeItem(source.label, vscode.TreeItemCollapsibleState.Expanded);
    item.iconPath = new vscode.ThemeIcon(source.icon);
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
    public state: FolderState,
    public problem: Problem,
    private readonly id: string,
  ) {
    super();
  }
  update(state: FolderState, problem: Problem): boolean {
    const moved = problem !== this.problem;
    this.state = state;
    this.problem = problem;
    return moved;
  }
  treeItem(): vscode.TreeItem {
    const p = this.problem;
    // A long message is not cut off at the view's edge: the rest follows in rows under it.
    const lines = this.lines();
    const item = new vscode.TreeItem(lines[0], wrappedState(lines.length - 1));
    item.id = this.id;
    item.description = `${p.file}:${p.line}:${p.column}`;
    const [icon, color] = PROBLEM_ICON[p.severity];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    item.tooltip = plainText(`${p.file}:${p.line}:${p.column}: ${p.message}`);
    item.contextValue = `problem ${p.severity}`;
    item.command = { command: 'delivery.definition.open', title: 'Open Definition', arguments: [this] };
    return item;
  }
  private lines(): string[] {
    return wrapText(plainText(this.problem.message), ROW_WIDTH);
  }
  children(): PipelineTreeNode[] {
    return this.lines()
      .slice(1)
      .map((line, i) => new InfoNode(`${this.id}:${i + 1}`, line, 'blank'));
  }
  location(): { folder: vscode.Uri; file: string; line: number; column: number } {
    return { folder: this.state.folder.uri, file: this.problem.file, line: this.problem.line, column: this.problem.column };
  }
}

export class PipelineNode extends PipelineTreeNode implements RefreshableRow, TargetRow {
  constructor(
    public state: FolderState,
    public pipeline: ImportedPipeline,
    readonly ctx: Ctx,
  ) {
    super();
  }
  /** A new configuration for this row; true when the pipeline's definition changed. */
  update(state: FolderState, pipeline: ImportedPipeline): boolean {
    const moved = state !== this.state || pipeline !== this.pipeline;
    this.state = state;
    this.pipeline = pipeline;
    return moved;
  }
  target(): NodeTarget {
    return { node: 'pipeline', folder: this.state.folder.uri.fsPath, pipelineKey: this.key };
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
    return pipelineBlocked(this.state.snapshot?.problems ?? [], this.pipeline) !== null;
  }
  treeItem(): vscode.TreeItem {
    const def = this.pipeline.def;
    const run = this.lastRun();
    const item = new vscode.TreeItem(def.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = PipelineNode.rowId(this.state.folder.uri.fsPath, this.key);
    item.iconPath = run ? statusIcon(run.status) : new vscode.ThemeIcon(sourceOf(def.source.kind).pipelineIcon);
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
    // Matrix and parallel jobs run as several ids ("test (18)", "build: [1/2]"): the row shows the leg that needs a look.
    const row = run ? jobRow(run, job.id) : undefined;
    const rec = row?.record;
    const legs = row?.legs ?? null;
    const id = `job:${this.state.folder.uri.fsPath}:${this.key}:${job.id}`;
    return this.ctx.rows.node(id, () => new JobNode(this, job, rec, legs, this.ctx), (n: JobNode) => n.update(job, rec, legs));
  }
  children(): PipelineTreeNode[] {
    const def = this.pipeline.def;
    const staged = def.stages !== null || def.jobs.some((j) => j.stage !== null);
    if (!staged) return [...def.jobs.map((j) => this.jobNode(j)), ...this.remoteNode()];
    const order = [...(def.stages ?? [])];
    for (const j of def.jobs) if (j.stage !== null && !order.includes(j.stage)) order.push(j.stage);
    const loose = def.jobs.filter((j) => j.stage === null).map((j) => this.jobNode(j));
    const stages = order
      .map((name) => {
        const jobs = def.jobs.filter((j) => j.stage === name);
        return this.ctx.rows.node(StageNode.rowId(this, name), () => new StageNode(this, name, jobs), (n: StageNode) => n.update(jobs));
      })
      .filter((st) => st.jobs.length > 0);
    return [...loose, ...stages, ...this.remoteNode()];
  }
  private remoteNode(): PipelineTreeNode[] {
    // The local runs of the pipeline (its history), then its remote engine's.
    const local = this.lastRun() ? [this.ctx.rows.node(`runs:${this.state.folder.uri.fsPath}:${this.key}`, () => new LocalRunsNode(this, this.ctx))] : [];
    return [...local, ...(this.ctx.trusted && RemoteService.canHaveRemote(this.pipeline) ? [this.ctx.rows.node(`remote:${this.state.folder.uri.fsPath}:${this.key}`, () => new RemoteRunsNode(this, this.ctx))] : [])];
  }
  location() {
    return { folder: this.state.folder.uri, ...this.pipeline.def.location };
  }
}

class StageNode extends PipelineTreeNode {
  constructor(
    readonly parent: PipelineNode,
    readonly name: string,
    public jobs: JobDef[],
  ) {
    super();
  }
  static rowId(parent: PipelineNode, name: string): string {
    return `stage:${parent.state.folder.uri.fsPath}:${parent.key}:${name}`;
  }
  update(jobs: JobDef[]): boolean {
    this.jobs = jobs;
    return false;
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = StageNode.rowId(this.parent, this.name);
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

export class JobNode extends PipelineTreeNode implements TargetRow {
  constructor(
    readonly parent: PipelineNode,
    public job: JobDef,
    public record: JobRecord | undefined,
    /** How its legs ended ("1 failed, 2 success") when it ran as several; `record` is then the one that needs a look. */
    public legs: string | null,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  get id(): string {
    return `job:${this.parent.state.folder.uri.fsPath}:${this.parent.key}:${this.job.id}`;
  }
  update(job: JobDef, record: JobRecord | undefined, legs: string | null): boolean {
    const moved = job !== this.job;
    this.job = job;
    this.record = record;
    this.legs = legs;
    return moved;
  }
  target(): NodeTarget {
    return { node: 'job', folder: this.parent.state.folder.uri.fsPath, pipelineKey: this.parent.key, jobId: this.job.id, logFile: this.record?.logFile ?? null, workspace: this.record?.workspace ?? null };
  }
  treeItem(): vscode.TreeItem {
    const job = this.job;
    const rec = this.record;
    const showSteps = job.steps.length > 1 || job.steps.some((s) => s.kind === 'uses');
    const item = new vscode.TreeItem(job.name, showSteps ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = rec ? statusIcon(rec.status, rec.allowFailure) : job.unsupported ? statusIcon('unsupported') : new vscode.ThemeIcon('circle-large-outline');
    const parts: string[] = [];
    if (rec && this.legs) parts.push(this.legs);
    else if (rec) parts.push(rec.status === 'running' ? 'running' : `${rec.status}${rec.durationMs ? ` · ${formatDuration(rec.durationMs)}` : ''}`);
    if (rec?.tests) parts.push(`${rec.tests.total - rec.tests.failed - rec.tests.errors - rec.tests.skipped}/${rec.tests.total} tests`);
    if (!rec && job.needs.length) parts.push(`needs ${job.needs.join(', ')}`);
    if (job.unsupported) parts.push('unsupported locally');
    else if (job.image) parts.push(`in ${job.image}`);
    item.description = parts.join(' · ');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(job.name)}**${job.stage ? ` — stage ${escapeMd(job.stage)}` : ''}\n\n`);
    if (job.needs.length) md.appendMarkdown(`Needs: ${job.needs.map((n) => `${escapeMd(n)}`).join(', ')}\n\n`);
    if (job.unsupported) md.appendMarkdown(`$(warning) Unsupported locally: ${escapeMd(job.unsupported)}\n\n`);
    if (job.image) md.appendMarkdown(`Runs in a container of image ${escapeMd(job.image)}${job.services?.length ? `, with services ${job.services.map(escapeMd).join(', ')}` : ''}\n\n`);
    if (rec?.workspace) md.appendMarkdown(`Its workspace is kept: ${escapeMd(rec.workspace)}\n\n`);
    if (rec) {
      if (this.legs) md.appendMarkdown(`Last run of its legs: ${escapeMd(this.legs)}\n\n`);
      md.appendMarkdown(`${this.legs ? escapeMd(rec.name) : 'Last run'}: **${rec.status}**${rec.exitCode !== null ? ` (exit ${rec.exitCode})` : ''}, ${formatDuration(rec.durationMs)}${rec.attempts > 1 ? `, ${rec.attempts} attempts` : ''}\n\n`);
      if (rec.reason) md.appendMarkdown(`${escapeMd(rec.reason)}\n\n`);
    }
    item.tooltip = md;
    const tokens = ['job'];
    if (this.ctx.trusted && !this.parent.hasErrors() && !job.unsupported) tokens.push('runnable');
    if (rec?.status === 'running') tokens.push('running');
    if (rec?.logFile) tokens.push('hasLog');
    if (rec?.workspace) tokens.push('hasWorkspace');
    item.contextValue = tokens.join(' ');
    item.command = rec?.logFile
      ? { command: 'delivery.run.showLog', title: 'Show Job Log', arguments: [this] }
      : { command: 'delivery.definition.open', title: 'Open Definition', arguments: [this] };
    return item;
  }
  children(): PipelineTreeNode[] {
    return this.job.steps.map((s, i) => this.ctx.rows.node(`${this.id}:step:${i}`, () => new StepNode(this, s, i), (n: StepNode) => n.update(s)));
  }
  location() {
    return { folder: this.parent.state.folder.uri, ...this.job.location };
  }
}

class StepNode extends PipelineTreeNode {
  constructor(
    readonly parent: JobNode,
    public step: StepDef,
    readonly index: number,
  ) {
    super();
  }
  update(step: StepDef): boolean {
    const moved = step !== this.step;
    this.step = step;
    return moved;
  }
  treeItem(): vscode.TreeItem {
    const s = this.step;
    const label = s.name ?? (s.kind === 'uses' ? s.uses ?? `step ${this.index + 1}` : firstLine(s.script ?? '') || `step ${this.index + 1}`);
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `${this.parent.id}:step:${this.index}`;
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

/** "Remote runs": the pipeline's recent runs on its engine, fetched when expanded. */
/** "Runs": the pipeline's local runs, newest first (commit, trigger, attempt, result, duration); one opens on the board. */
export class LocalRunsNode extends PipelineTreeNode {
  constructor(
    readonly parent: PipelineNode,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  get id(): string {
    return `runs:${this.parent.state.folder.uri.fsPath}:${this.parent.key}`;
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem('Runs', vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('history');
    item.description = 'this machine';
    item.tooltip = 'The local runs of this pipeline, newest first: click one to show it on the board';
    item.contextValue = 'localRuns';
    return item;
  }
  async children(): Promise<PipelineTreeNode[]> {
    const key = this.parent.key;
    const runs = (await this.parent.state.store.list(50, this.parent.pipeline.def.id).catch(() => [] as RunRecord[])).filter((r) => runPipelineKey(r) === key).slice(0, 20);
    if (runs.length === 0) return [infoRow(this.ctx, `${this.id}:empty`, 'No runs yet', 'info')];
    return runs.map((r) => this.ctx.rows.node(`${this.id}:${r.id}`, () => new LocalRunNode(this, r), (n: LocalRunNode) => n.update(r)));
  }
}

export class LocalRunNode extends PipelineTreeNode implements TargetRow {
  constructor(
    readonly parent: LocalRunsNode,
    public run: RunRecord,
  ) {
    super();
  }
  update(run: RunRecord): boolean {
    this.run = run;
    return false;
  }
  get jobId(): string {
    return this.run.id;
  }
  target(): NodeTarget {
    return { node: 'localRun', folder: this.parent.parent.state.folder.uri.fsPath, runId: this.run.id, sha: this.run.sha };
  }
  treeItem(): vscode.TreeItem {
    const r = this.run;
    const failed = r.jobs.filter((j) => (j.status === 'failed' || j.status === 'unsupported') && !j.allowFailure).length;
    const item = new vscode.TreeItem(new Date(r.startedAt).toLocaleString(), vscode.TreeItemCollapsibleState.None);
    item.id = `${this.parent.id}:${r.id}`;
    item.iconPath = statusIcon(r.status);
    item.description = [
      r.status === 'failed' && failed > 0 ? `${failed} of ${r.jobs.length} failed` : r.status,
      r.sha ? r.sha.slice(0, 7) : null,
      r.trigger,
      r.attempt && r.attempt > 1 ? `attempt ${r.attempt}` : null,
      r.durationMs > 0 ? formatDuration(r.durationMs) : null,
    ]
      .filter(Boolean)
      .join(' · ');
    item.tooltip = `Run ${r.id}: ${r.status}${r.sha ? ` at ${r.sha.slice(0, 7)}` : ''}, started from ${r.trigger}`;
    item.contextValue = 'localRun';
    item.command = { command: 'delivery.run.show', title: 'Show Run on the Board', arguments: [this] };
    return item;
  }
}

export class RemoteRunsNode extends PipelineTreeNode implements TargetRow {
  constructor(
    readonly parent: PipelineNode,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  get id(): string {
    return `remote:${this.parent.state.folder.uri.fsPath}:${this.parent.key}`;
  }
  target(): NodeTarget {
    return { node: 'remoteRuns', folder: this.parent.state.folder.uri.fsPath, pipelineKey: this.parent.key };
  }
  get ref() {
    return { state: this.parent.state, pipeline: this.parent.pipeline };
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem('Remote runs', vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    const kind = remoteEngineOf(this.parent.pipeline.def);
    item.iconPath = new vscode.ThemeIcon(kind ? engineSpec(kind).icon : 'cloud');
    const latest = this.ctx.remote.cachedRuns(this.ref)?.[0];
    item.description = latest ? `#${latest.number ?? latest.id} ${latest.status}` : kind ?? undefined;
    item.contextValue = 'remoteRuns';
    return item;
  }
  async children(): Promise<PipelineTreeNode[]> {
    const runs = await this.ctx.remote.runs(this.ref);
    if ('error' in runs) return [infoRow(this.ctx, `${this.id}:error`, runs.error, 'warning')];
    if (runs.length === 0) return [infoRow(this.ctx, `${this.id}:empty`, 'No runs yet', 'info')];
    return runs.map((r) => this.ctx.rows.node(`${this.id}:${r.id}`, () => new RemoteRunNode(this, r, this.ctx), (n: RemoteRunNode) => n.update(r)));
  }
}

export class RemoteRunNode extends PipelineTreeNode implements TargetRow {
  constructor(
    readonly parent: RemoteRunsNode,
    public run: RemoteRun,
    private readonly ctx: Ctx,
  ) {
    super();
  }
  get id(): string {
    return `remote-run:${this.parent.parent.state.folder.uri.fsPath}:${this.parent.parent.key}:${this.run.id}`;
  }
  update(run: RemoteRun): boolean {
    this.run = run;
    return false;
  }
  target(): NodeTarget {
    return { node: 'remoteRun', folder: this.parent.parent.state.folder.uri.fsPath, pipelineKey: this.parent.parent.key, runId: this.run.id };
  }
  treeItem(): vscode.TreeItem {
    const r = this.ctx.remote.knownState(this.parent.ref, this.run.id)?.run ?? this.run;
    // Titles, branches and actors come from the remote service: plain text, control characters visible.
    const item = new vscode.TreeItem(plainText(`#${r.number ?? r.id}${r.title ? ` ${r.title}` : ''}`, { oneLine: true }), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
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
    if ('error' in s) return [infoRow(this.ctx, `${this.id}:error`, s.error, 'warning')];
    return s.jobs.map((j) => this.ctx.rows.node(`${this.id}:job:${j.id}`, () => new RemoteJobNode(this, j), (n: RemoteJobNode) => n.update(j)));
  }
}

export class RemoteJobNode extends PipelineTreeNode implements TargetRow {
  constructor(
    readonly parent: RemoteRunNode,
    public job: RemoteJob,
  ) {
    super();
  }
  update(job: RemoteJob): boolean {
    this.job = job;
    return false;
  }
  target(): NodeTarget {
    const p = this.parent.parent.parent;
    return { node: 'remoteJob', folder: p.state.folder.uri.fsPath, pipelineKey: p.key, runId: this.parent.run.id, jobId: this.job.id, jobName: this.job.name };
  }
  treeItem(): vscode.TreeItem {
    const j = this.job;
    const item = new vscode.TreeItem(j.name, vscode.TreeItemCollapsibleState.None);
    item.id = `${this.parent.id}:job:${j.id}`;
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
  /** One node per row; runs and remote runs refresh only the rows that changed (see RowRefresher). */
  private readonly rows = new RowRefresher<PipelineTreeNode>((nodes) => this.emitter.fire(nodes));
  private readonly ctx: Ctx;

  constructor(
    private readonly model: WorkspaceModel,
    runs: RunManager,
    remote: RemoteService,
  ) {
    const changed = () => this.rows.changed();
    const rows = this.rows;
    const ctx: Ctx = {
      runs,
      remote,
      trusted: isTrusted(),
      rows,
      pipelineNode: (state, pipeline) =>
        rows.node(PipelineNode.rowId(state.folder.uri.fsPath, pipelineKey(pipeline)), () => new PipelineNode(state, pipeline, ctx), (n: PipelineNode) => n.update(state, pipeline)),
    };
    this.ctx = ctx;
    const reconcile = () => this.rows.reconcile(() => this.structure(this.top()));
    this.subs = [model.onDidChange(reconcile), runs.onDidChange(changed), remote.onDidChange(changed), vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()), this.emitter];
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

  /** The tree's top rows: (folder →) (source →) pipelines and problems. */
  private top(): PipelineTreeNode[] {
    this.ctx.trusted = isTrusted();
    const folders = this.model.folders().filter((f) => (f.snapshot?.pipelines.length ?? 0) + (f.snapshot?.problems.length ?? 0) > 0);
    if (folders.length === 1 && (vscode.workspace.workspaceFolders?.length ?? 0) <= 1) return folderChildren(folders[0], this.ctx);
    return folders.map((f) =>
      this.rows.node(`folder:${f.folder.uri.fsPath}`, () => new FolderNode(f, this.ctx), (n: FolderNode) => {
        n.state = f;
        return false;
      }),
    );
  }

  /** The ids of the rows above the pipelines' own children: when they change, the whole tree is refreshed. */
  private structure(nodes: PipelineTreeNode[]): string[] {
    return nodes.flatMap((n) => {
      const id = n.treeItem().id ?? '';
      return n instanceof FolderNode || n instanceof SourceNode ? [id, ...this.structure(n.children())] : [id];
    });
  }

  getChildren(node?: PipelineTreeNode): PipelineTreeNode[] | Promise<PipelineTreeNode[]> {
    if (node) return node.children();
    const top = this.top();
    this.rows.shownStructure(this.structure(top));
    return top;
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
