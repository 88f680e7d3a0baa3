// The Environments tree: each environment with its deployed commit, distance from HEAD, health and last deploy;
// children for a deploy in progress, the commits a deploy would bring (and revert), and recent deploys.
import * as vscode from 'vscode';
import { formatDuration } from '../../core/duration';
import type { EnvironmentConfig } from '../../core/config/delivery';
import { shortSha } from '../../core/environments/diff';
import { deployIndicator } from '../../core/environments/indicator';
import type { CommitInfo, DeployRecord } from '../../shared/model';
import type { EnvironmentService } from '../environments/environmentService';
import { markdownText, plainText } from '../../core/sanitize';
import { isTrusted } from '../trust';
import type { FolderState, WorkspaceModel } from '../workspaceModel';
import { statusIcon } from './icons';
import { InfoNode } from './infoNode';
import { RowRefresher, type RefreshableRow } from './rowRefresher';
import { treeItemText } from './treeItemText';

export abstract class EnvironmentTreeNode {
  abstract treeItem(): vscode.TreeItem;
  children(): EnvironmentTreeNode[] | Promise<EnvironmentTreeNode[]> {
    return [];
  }
}

class EnvFolderNode extends EnvironmentTreeNode {
  constructor(
    readonly state: FolderState,
    private readonly node: (state: FolderState, env: EnvironmentConfig) => EnvironmentNode,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.state.folder.name, vscode.TreeItemCollapsibleState.Expanded);
    item.iconPath = vscode.ThemeIcon.Folder;
    item.contextValue = 'folder';
    return item;
  }
  children(): EnvironmentTreeNode[] {
    return (this.state.snapshot?.environments ?? []).map((e) => this.node(this.state, e));
  }
}

export class EnvironmentNode extends EnvironmentTreeNode implements RefreshableRow {
  constructor(
    readonly state: FolderState,
    readonly env: EnvironmentConfig,
    private readonly envs: EnvironmentService,
  ) {
    super();
  }
  get folder(): string {
    return this.state.folder.uri.fsPath;
  }
  static rowId(folder: string, envId: string): string {
    return `env:${folder}:${envId}`;
  }
  /** What the row and its children show, as one string: when it changes, the row is refreshed. */
  shown(): string {
    const status = this.envs.status(this.folder, this.env.id);
    const history = this.envs.deploys(this.folder, this.env.id).slice(0, 10).map((d) => `${d.id}:${d.status}:${d.durationMs}`);
    return JSON.stringify([treeItemText(this.treeItem()), status?.deployed.error, status?.local.sha, history]);
  }
  treeItem(): vscode.TreeItem {
    const e = this.env;
    const status = this.envs.status(this.folder, e.id) ?? null;
    const active = this.envs.activeDeploy(this.folder, e.id);
    const history = this.envs.deploys(this.folder, e.id);
    const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = EnvironmentNode.rowId(this.folder, e.id);
    const parts: string[] = [];
    if (active) parts.push(`deploying: ${active.step}`);
    else if (status?.deployed.sha) {
      parts.push(shortSha(status.deployed.sha));
      if (status.ahead) parts.push(`↓${status.ahead}`);
      if (status.behind) parts.push(`↺${status.behind}`);
      if (status.ahead === 0 && status.behind === 0) parts.push('up to date');
    } else if (status) parts.push(status.deployed.error ? 'unknown' : 'no version');
    if (status && status.health !== 'unknown') parts.push(status.health);
    if (!active && history[0]) parts.push(`${history[0].user.split('@')[0]} ${ago(history[0].startedAt)}`);
    item.description = plainText(parts.join(' · '), { oneLine: true });
    item.iconPath = active
      ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'))
      : status?.health === 'down' || history[0]?.status === 'failed'
        ? new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'))
        : status?.behind
          ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
          : status && !status.deployed.sha && status.deployed.error
            ? new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground'))
            : new vscode.ThemeIcon(e.protected ? 'lock' : 'server-environment', status?.health === 'up' ? new vscode.ThemeColor('testing.iconPassed') : undefined);
    const model = deployIndicator(e, status, active ? { step: active.step, sha: active.handle.record.sha } : null, history[0] ?? null);
    // model.tooltip escapes what targets said; the URL and names come from the repository: escaped too. Untrusted
    // Markdown: no command links, no HTML.
    const md = new vscode.MarkdownString(`${model.tooltip}${e.url ? `\n\n${markdownText(e.url)}` : ''}${e.promotesFrom ? `\n\nPromotes from ${markdownText(e.promotesFrom)}` : ''}${isTrusted() ? '' : '\n\n$(shield) Untrusted workspace: not probed, nothing deploys.'}`, true);
    md.isTrusted = false;
    md.supportHtml = false;
    item.tooltip = md;
    const tokens = ['environment'];
    if (e.deploy && isTrusted()) tokens.push('canDeploy');
    if (e.url) tokens.push('hasUrl');
    if (e.protected) tokens.push('protected');
    if (active) tokens.push('deploying');
    if (history.some((d) => d.status === 'success')) tokens.push('hasHistory');
    if (e.promotesFrom && e.deploy && isTrusted()) tokens.push('canPromote');
    item.contextValue = tokens.join(' ');
    return item;
  }
  async children(): Promise<EnvironmentTreeNode[]> {
    const out: EnvironmentTreeNode[] = [];
    const active = this.envs.activeDeploy(this.folder, this.env.id);
    if (active) out.push(new InfoNode(`Deploying ${shortSha(active.handle.record.sha)}: ${active.step}`, 'sync~spin'));
    const status = this.envs.status(this.folder, this.env.id);
    if (status?.deployed.error) out.push(new InfoNode(status.deployed.error, 'question'));
    if (status?.deployed.sha && status.local.sha && (status.ahead || status.behind)) {
      const commits = await this.envs.commits(this.folder, status.deployed.sha, status.local.sha).catch(() => null);
      if (commits?.toDeploy.length) out.push(new CommitsNode(this, `To deploy (${status.ahead})`, commits.toDeploy, 'arrow-down', false));
      if (commits?.toRevert.length) out.push(new CommitsNode(this, `Would revert (${status.behind})`, commits.toRevert, 'warning', true));
    }
    const history = this.envs.deploys(this.folder, this.env.id);
    if (history.length) out.push(new HistoryNode(this, history));
    if (out.length === 0) out.push(new InfoNode(this.env.deploy ? 'No deploys recorded yet' : 'No "deploy" in delivery.yml', 'info'));
    return out;
  }
  location() {
    return { folder: this.state.folder.uri, ...this.env.location };
  }
}

class CommitsNode extends EnvironmentTreeNode {
  constructor(
    readonly parent: EnvironmentNode,
    private readonly label: string,
    readonly commits: CommitInfo[],
    private readonly icon: string,
    private readonly revert: boolean,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label, this.revert ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.iconPath = new vscode.ThemeIcon(this.icon, this.revert ? new vscode.ThemeColor('list.warningForeground') : undefined);
    item.contextValue = this.revert ? 'commits revert' : 'commits deploy';
    item.id = `env:${this.parent.folder}:${this.parent.env.id}:${this.revert ? 'revert' : 'deploy'}`;
    return item;
  }
  children(): EnvironmentTreeNode[] {
    return this.commits.map((c) => new CommitNode(c));
  }
}

class CommitNode extends EnvironmentTreeNode {
  constructor(readonly commit: CommitInfo) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const c = this.commit;
    const item = new vscode.TreeItem(plainText(c.subject, { oneLine: true }), vscode.TreeItemCollapsibleState.None);
    item.description = plainText(`${shortSha(c.sha)} · ${c.author}`, { oneLine: true });
    item.tooltip = plainText(`${c.sha}\n${c.author}, ${c.date}\n\n${c.subject}`);
    item.iconPath = new vscode.ThemeIcon('git-commit');
    item.contextValue = 'commit';
    return item;
  }
}

class HistoryNode extends EnvironmentTreeNode {
  constructor(
    readonly parent: EnvironmentNode,
    readonly deploys: DeployRecord[],
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(`Recent deploys (${this.deploys.length})`, vscode.TreeItemCollapsibleState.Collapsed);
    item.iconPath = new vscode.ThemeIcon('history');
    item.contextValue = 'history';
    item.id = `env:${this.parent.folder}:${this.parent.env.id}:history`;
    return item;
  }
  children(): EnvironmentTreeNode[] {
    return this.deploys.slice(0, 10).map((d) => new DeployNode(this.parent, d));
  }
}

export class DeployNode extends EnvironmentTreeNode {
  constructor(
    readonly parent: EnvironmentNode,
    readonly record: DeployRecord,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const d = this.record;
    const item = new vscode.TreeItem(`${d.action} ${shortSha(d.sha)}`, vscode.TreeItemCollapsibleState.None);
    item.description = plainText(`${d.status} · ${d.user} · ${ago(d.startedAt)} · ${formatDuration(d.durationMs)}`, { oneLine: true });
    item.iconPath = statusIcon(d.status === 'running' ? 'running' : d.status === 'interrupted' ? 'interrupted' : d.status);
    item.tooltip = plainText(`${d.action} ${d.sha} (${d.ref}) by ${d.user}\n${new Date(d.startedAt).toLocaleString()}, ${formatDuration(d.durationMs)}\nfrom ${d.previousSha ?? 'unknown'}${d.reason ? `\n${d.reason}` : ''}`);
    const tokens = ['deploy'];
    if (d.logFile) tokens.push('hasLog');
    if (d.status === 'success' && isTrusted() && this.parent.env.deploy) tokens.push('canRollback');
    item.contextValue = tokens.join(' ');
    item.command = d.logFile ? { command: 'delivery.run.showLog', title: 'Show Log', arguments: [{ logFile: d.logFile }] } : undefined;
    return item;
  }
}

export class EnvironmentsTreeProvider implements vscode.TreeDataProvider<EnvironmentTreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<EnvironmentTreeNode | EnvironmentTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subs: vscode.Disposable[];
  /** Probes and deploys refresh only the environments whose rows changed (see RowRefresher). */
  private readonly rows = new RowRefresher<EnvironmentNode>((nodes) => this.emitter.fire(nodes));

  constructor(
    private readonly model: WorkspaceModel,
    private readonly envs: EnvironmentService,
  ) {
    this.subs = [model.onDidChange(() => this.refresh()), envs.onDidChange(() => this.rows.changed()), this.emitter];
  }

  get refreshes(): { whole: number; rows: number } {
    return { ...this.rows.counts };
  }

  refresh(): void {
    this.rows.whole();
  }

  private node = (state: FolderState, env: EnvironmentConfig): EnvironmentNode =>
    this.rows.node(
      EnvironmentNode.rowId(state.folder.uri.fsPath, env.id),
      (n): n is EnvironmentNode => n.state === state && n.env === env,
      () => new EnvironmentNode(state, env, this.envs),
    );

  getTreeItem(node: EnvironmentTreeNode): vscode.TreeItem {
    return node.treeItem();
  }

  getChildren(node?: EnvironmentTreeNode): EnvironmentTreeNode[] | Promise<EnvironmentTreeNode[]> {
    if (node) return node.children();
    const folders = this.model.folders().filter((f) => (f.snapshot?.environments.length ?? 0) > 0);
    if (folders.length === 1 && (vscode.workspace.workspaceFolders?.length ?? 0) <= 1) return new EnvFolderNode(folders[0], this.node).children();
    return folders.map((f) => new EnvFolderNode(f, this.node));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

function ago(t: number): string {
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
