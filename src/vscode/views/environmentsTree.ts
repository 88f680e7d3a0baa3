// The Environments tree: each environment with its deployed commit, distance from HEAD, health, last deploy and —
// with `verify: prometheus` — its first check's value now (amber near its bound, red past it); children for a deploy
// in progress, the commits a deploy would bring (and revert), and recent deploys.
import * as vscode from 'vscode';
import { formatDuration } from '../../core/duration';
import type { EnvironmentConfig } from '../../core/config/delivery';
import { shortSha } from '../../core/environments/diff';
import { deployIndicator, deployProgressText } from '../../core/environments/indicator';
import type { CommitInfo, DeployHistoryItem } from '../../shared/model';
import type { CheckNow } from '../../shared/views';
import type { EnvironmentService } from '../environments/environmentService';
import { markdownText, plainText } from '../../core/sanitize';
import { isTrusted } from '../trust';
import type { FolderState, WorkspaceModel } from '../workspaceModel';
import { statusIcon } from './icons';
import { InfoNode } from './infoNode';
import { RowRefresher, type RefreshableRow } from './rowRefresher';
import type { NodeTarget, TargetRow } from '../../shared/commandArgs';
import { treeItemText } from './treeItemText';

export abstract class EnvironmentTreeNode implements RefreshableRow {
  abstract treeItem(): vscode.TreeItem;
  children(): EnvironmentTreeNode[] | Promise<EnvironmentTreeNode[]> {
    return [];
  }
  /** What the row shows, as one string: when it changes, the row is refreshed. */
  shown(): string {
    return JSON.stringify(treeItemText(this.treeItem()));
  }
}

/** Hands out the one node of each row (see RowRefresher): the same object while the row exists, updated in place. */
type Rows = RowRefresher<EnvironmentTreeNode>;

class EnvFolderNode extends EnvironmentTreeNode {
  constructor(
    public state: FolderState,
    private readonly rows: Rows,
    private readonly envs: EnvironmentService,
  ) {
    super();
  }
  static rowId(folder: string): string {
    return `envfolder:${folder}`;
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.state.folder.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = EnvFolderNode.rowId(this.state.folder.uri.fsPath);
    item.iconPath = vscode.ThemeIcon.Folder;
    item.contextValue = 'folder';
    return item;
  }
  children(): EnvironmentNode[] {
    return environmentRows(this.state, this.rows, this.envs);
  }
}

function environmentRows(state: FolderState, rows: Rows, envs: EnvironmentService): EnvironmentNode[] {
  return (state.snapshot?.environments ?? []).map((env) =>
    rows.node(
      EnvironmentNode.rowId(state.folder.uri.fsPath, env.id),
      () => new EnvironmentNode(state, env, envs, rows),
      (n: EnvironmentNode) => n.update(state, env),
    ),
  );
}

export class EnvironmentNode extends EnvironmentTreeNode implements TargetRow {
  constructor(
    public state: FolderState,
    public env: EnvironmentConfig,
    private readonly envs: EnvironmentService,
    private readonly rows: Rows,
  ) {
    super();
  }
  /** A new configuration for this row; true when the environment's definition changed. */
  update(state: FolderState, env: EnvironmentConfig): boolean {
    const moved = state !== this.state || env !== this.env;
    this.state = state;
    this.env = env;
    return moved;
  }
  get folder(): string {
    return this.state.folder.uri.fsPath;
  }
  get id(): string {
    return EnvironmentNode.rowId(this.folder, this.env.id);
  }
  static rowId(folder: string, envId: string): string {
    return `env:${folder}:${envId}`;
  }
  target(): NodeTarget {
    return { node: 'environment', folder: this.folder, environment: this.env.id };
  }
  /** What the row and its children show, as one string: when it changes, the row is refreshed. */
  shown(): string {
    const status = this.envs.status(this.folder, this.env.id);
    const history = this.envs.events(this.folder, this.env.id).slice(0, 10).map((d) => `${d.id}:${d.status}:${d.durationMs}`);
    return JSON.stringify([treeItemText(this.treeItem()), status?.deployed.error, status?.local.sha, history, this.envs.teamState(this.folder, this.env.id)]);
  }
  treeItem(): vscode.TreeItem {
    const e = this.env;
    const status = this.envs.status(this.folder, e.id) ?? null;
    const active = this.envs.activeDeploy(this.folder, e.id);
    const progress = this.envs.progress(this.folder, e.id);
    const history = this.envs.deploys(this.folder, e.id);
    const team = this.envs.teamState(this.folder, e.id);
    const lock = active ? null : (team?.lockedBy ?? null);
    const check = this.envs.checkNow(this.folder, e.id);
    const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = EnvironmentNode.rowId(this.folder, e.id);
    const parts: string[] = [];
    if (lock) parts.push(lock.deployId ? `being deployed by ${lock.user}` : `locked by ${lock.user}${lock.message ? `: ${lock.message}` : ''}`);
    if (progress) parts.push(deployProgressText(progress));
    else if (status?.deployed.sha) {
      parts.push(shortSha(status.deployed.sha));
      if (status.ahead) parts.push(`↓${status.ahead}`);
      if (status.behind) parts.push(`↺${status.behind}`);
      if (status.ahead === 0 && status.behind === 0) parts.push('up to date');
    } else if (status) parts.push(status.deployed.error ? 'unknown' : 'no version');
    if (status && status.health !== 'unknown') parts.push(status.health);
    if (check) parts.push(check.text);
    if (!active && !lock && history[0]) parts.push(`${history[0].user.split('@')[0]} ${ago(history[0].startedAt)}`);
    if (team?.store === 'local') parts.push('local only');
    item.description = plainText(parts.join(' · '), { oneLine: true });
    item.iconPath = active
      ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'))
      : lock
        ? new vscode.ThemeIcon(lock.deployId ? 'sync~spin' : 'lock', new vscode.ThemeColor('list.warningForeground'))
        : status?.health === 'down' || history[0]?.status === 'failed'
          ? new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'))
          : check?.level === 'past'
            ? new vscode.ThemeIcon('graph-line', new vscode.ThemeColor('list.errorForeground'))
            : status?.behind
              ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
              : (status && !status.deployed.sha && status.deployed.error) || history[0]?.status === 'unverified'
                ? new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground'))
                : check?.level === 'near'
                  ? new vscode.ThemeIcon('graph-line', new vscode.ThemeColor('list.warningForeground'))
                  : new vscode.ThemeIcon(e.protected ? 'lock' : 'server-environment', status?.health === 'up' ? new vscode.ThemeColor('testing.iconPassed') : undefined);
    const model = deployIndicator(e, status, progress, history[0] ?? null, {
      lockedBy: lock,
      store: team?.store ?? null,
      where: team?.where ?? null,
    });
    // model.tooltip escapes what targets said; the URL and names come from the repository: escaped too. Untrusted
    // Markdown: no command links, no HTML.
    const md = new vscode.MarkdownString(`${model.tooltip}${check ? `\n\n${checkTooltip(check)}` : ''}${e.url ? `\n\n${markdownText(e.url)}` : ''}${e.promotesFrom ? `\n\nPromotes from ${markdownText(e.promotesFrom)}` : ''}${e.protected ? `\n\n$(lock) Protected: its id must be typed to deploy, roll back or promote it` : ''}${isTrusted() ? '' : '\n\n$(shield) Untrusted workspace: not probed, nothing deploys.'}`, true);
    md.isTrusted = false;
    md.supportHtml = false;
    item.tooltip = md;
    const tokens = ['environment'];
    if (e.deploy && isTrusted()) tokens.push('canDeploy');
    if (e.url) tokens.push('hasUrl');
    if (e.protected) tokens.push('protected');
    if (active) tokens.push('deploying');
    if (lock) tokens.push('locked');
    if (history.some((d) => d.status === 'success')) tokens.push('hasHistory');
    if (e.promotesFrom && e.deploy && isTrusted()) tokens.push('canPromote');
    item.contextValue = tokens.join(' ');
    return item;
  }
  /**
   * The commits between the deployed and the local commit, kept for the last few pairs: children listed again (each
   * refresh of the row) come without waiting for git, so two fetches of them cannot overlap in VS Code.
   */
  private readonly commitsCache = new Map<string, Promise<{ toDeploy: CommitInfo[]; toRevert: CommitInfo[] } | null>>();
  private commits(deployed: string, local: string): Promise<{ toDeploy: CommitInfo[]; toRevert: CommitInfo[] } | null> {
    const key = `${deployed}..${local}`;
    let found = this.commitsCache.get(key);
    if (!found) {
      found = this.envs.commits(this.folder, deployed, local).catch(() => {
        this.commitsCache.delete(key); // asked again next time
        return null;
      });
      this.commitsCache.set(key, found);
      for (const old of this.commitsCache.keys()) if (this.commitsCache.size > 8) this.commitsCache.delete(old);
    }
    return found;
  }
  private info(purpose: string, text: string, icon: string): InfoNode {
    return this.rows.node(`${this.id}:${purpose}`, () => new InfoNode(`${this.id}:${purpose}`, text, icon), (n: InfoNode) => n.update(text, icon));
  }
  async children(): Promise<EnvironmentTreeNode[]> {
    const out: EnvironmentTreeNode[] = [];
    const active = this.envs.activeDeploy(this.folder, this.env.id);
    const progress = this.envs.progress(this.folder, this.env.id);
    if (active && progress) {
      const text = progress.rollingBackTo
        ? `${shortSha(active.handle.record.sha)} failed its verification: rolling back to ${shortSha(progress.rollingBackTo)}`
        : progress.verify
          ? `Verifying ${shortSha(active.handle.record.sha)} against its metrics: ${deployProgressText(progress).replace(/^verifying · /, '')}`
          : `Deploying ${shortSha(active.handle.record.sha)}: ${active.step}`;
      out.push(this.info('deploying', text, 'sync~spin'));
    }
    const status = this.envs.status(this.folder, this.env.id);
    if (status?.deployed.error) out.push(this.info('probe', status.deployed.error, 'question'));
    if (status?.deployed.sha && status.local.sha && (status.ahead || status.behind)) {
      const commits = await this.commits(status.deployed.sha, status.local.sha);
      const list = (revert: boolean, label: string, items: CommitInfo[]) =>
        this.rows.node(CommitsNode.rowId(this, revert), () => new CommitsNode(this, label, items, revert, this.rows), (n: CommitsNode) => n.update(label, items));
      if (commits?.toDeploy.length) out.push(list(false, `To deploy (${status.ahead})`, commits.toDeploy));
      if (commits?.toRevert.length) out.push(list(true, `Would revert (${status.behind})`, commits.toRevert));
    }
    const history = this.envs.events(this.folder, this.env.id);
    if (history.length) out.push(this.rows.node(`${this.id}:history`, () => new HistoryNode(this, history, this.rows), (n: HistoryNode) => n.update(history)));
    const team = this.envs.teamState(this.folder, this.env.id);
    if (team?.error) out.push(this.info('store', team.error, 'warning'));
    if (out.length === 0) out.push(this.info('empty', this.env.deploy ? 'No deploys recorded yet' : 'No "deploy" in delivery.yml', 'info'));
    return out;
  }
  location() {
    return { folder: this.state.folder.uri, ...this.env.location };
  }
  envsTeam() {
    return this.envs.teamState(this.folder, this.env.id);
  }
}

class CommitsNode extends EnvironmentTreeNode {
  constructor(
    readonly parent: EnvironmentNode,
    private label: string,
    public commits: CommitInfo[],
    private readonly revert: boolean,
    private readonly rows: Rows,
  ) {
    super();
  }
  static rowId(parent: EnvironmentNode, revert: boolean): string {
    return `${parent.id}:${revert ? 'revert' : 'deploy'}`;
  }
  update(label: string, commits: CommitInfo[]): boolean {
    this.label = label;
    this.commits = commits;
    return false;
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label, this.revert ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.iconPath = new vscode.ThemeIcon(this.revert ? 'warning' : 'arrow-down', this.revert ? new vscode.ThemeColor('list.warningForeground') : undefined);
    item.contextValue = this.revert ? 'commits revert' : 'commits deploy';
    item.id = CommitsNode.rowId(this.parent, this.revert);
    return item;
  }
  children(): EnvironmentTreeNode[] {
    const id = CommitsNode.rowId(this.parent, this.revert);
    return this.commits.map((c) => this.rows.node(`${id}:${c.sha}`, () => new CommitNode(`${id}:${c.sha}`, c)));
  }
}

class CommitNode extends EnvironmentTreeNode {
  constructor(
    private readonly id: string,
    readonly commit: CommitInfo,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const c = this.commit;
    const item = new vscode.TreeItem(plainText(c.subject, { oneLine: true }), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
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
    public deploys: DeployHistoryItem[],
    private readonly rows: Rows,
  ) {
    super();
  }
  update(deploys: DeployHistoryItem[]): boolean {
    this.deploys = deploys;
    return false;
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(`Recent deploys (${this.deploys.length})`, vscode.TreeItemCollapsibleState.Collapsed);
    const team = this.parent.envsTeam();
    if (team) item.description = team.store === 'local' ? 'this machine only' : team.where;
    item.iconPath = new vscode.ThemeIcon('history');
    item.contextValue = 'history';
    item.id = `${this.parent.id}:history`;
    return item;
  }
  children(): EnvironmentTreeNode[] {
    return this.deploys.slice(0, 10).map((d) => {
      const id = `${this.parent.id}:deploy:${d.id}`;
      return this.rows.node(id, () => new DeployNode(id, this.parent, d), (n: DeployNode) => n.update(d));
    });
  }
}

export class DeployNode extends EnvironmentTreeNode implements TargetRow {
  constructor(
    private readonly id: string,
    readonly parent: EnvironmentNode,
    public record: DeployHistoryItem,
  ) {
    super();
  }
  update(record: DeployHistoryItem): boolean {
    this.record = record;
    return false;
  }
  target(): NodeTarget {
    return { node: 'deploy', folder: this.parent.folder, environment: this.parent.env.id, sha: this.record.sha ?? '', logFile: this.record.logFile };
  }
  treeItem(): vscode.TreeItem {
    const d = this.record;
    const who = `${d.user}${d.host ? ` on ${d.host}` : ''}`;
    if (d.action === 'lock' || d.action === 'unlock') {
      const item = new vscode.TreeItem(d.action === 'lock' ? 'locked' : 'unlocked', vscode.TreeItemCollapsibleState.None);
      item.id = this.id;
      item.description = plainText(`${who} · ${ago(d.startedAt)}${d.message ? ` · ${d.message}` : ''}`, { oneLine: true });
      item.tooltip = plainText(`${d.action === 'lock' ? 'Locked' : 'Unlocked'} by ${who}\n${new Date(d.startedAt).toLocaleString()}${d.message ? `\n${d.message}` : ''}`);
      item.iconPath = new vscode.ThemeIcon(d.action === 'lock' ? 'lock' : 'unlock');
      item.contextValue = 'lockEvent';
      return item;
    }
    const item = new vscode.TreeItem(`${d.action} ${d.sha ? shortSha(d.sha) : '?'}`, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    const took = d.durationMs === null ? '' : ` · ${formatDuration(d.durationMs)}`;
    item.description = plainText(`${d.status} · ${who} · ${ago(d.startedAt)}${took}${d.origin === 'local' ? ' · local record' : ''}`, { oneLine: true });
    item.iconPath = statusIcon(d.status === 'running' ? 'running' : d.status === 'interrupted' ? 'interrupted' : d.status === 'done' ? 'success' : d.status);
    item.tooltip = plainText(
      `${d.action} ${d.sha ?? 'unknown'}${d.ref ? ` (${d.ref})` : ''} by ${who}\n${new Date(d.startedAt).toLocaleString()}${took ? `, ${formatDuration(d.durationMs ?? 0)}` : ''}\nfrom ${d.fromSha ?? 'unknown'}${d.message ? `\n${d.message}` : ''}${d.logFile ? '' : '\n(made on another machine: its log stays there)'}`,
    );
    const tokens = ['deploy'];
    if (d.logFile) tokens.push('hasLog');
    if (d.status === 'success' && d.sha && isTrusted() && this.parent.env.deploy) tokens.push('canRollback');
    item.contextValue = tokens.join(' ');
    item.command = d.logFile ? { command: 'delivery.run.showLog', title: 'Show Log', arguments: [{ logFile: d.logFile }] } : undefined;
    return item;
  }
}

export class EnvironmentsTreeProvider implements vscode.TreeDataProvider<EnvironmentTreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<EnvironmentTreeNode | EnvironmentTreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subs: vscode.Disposable[];
  /** One node per row; probes and deploys refresh only the rows that changed (see RowRefresher). */
  private readonly rows: Rows = new RowRefresher<EnvironmentTreeNode>((nodes) => this.emitter.fire(nodes));

  constructor(
    private readonly model: WorkspaceModel,
    private readonly envs: EnvironmentService,
  ) {
    this.subs = [model.onDidChange(() => this.rows.reconcile(() => this.structure(this.top()))), envs.onDidChange(() => this.rows.changed()), this.emitter];
  }

  get refreshes(): { whole: number; rows: number } {
    return { ...this.rows.counts };
  }

  refresh(): void {
    this.rows.whole();
  }

  /** The tree's top rows: the environments, under a row per folder when the workspace has several. */
  private top(): EnvironmentTreeNode[] {
    const folders = this.model.folders().filter((f) => (f.snapshot?.environments.length ?? 0) > 0);
    if (folders.length === 1 && (vscode.workspace.workspaceFolders?.length ?? 0) <= 1) return environmentRows(folders[0], this.rows, this.envs);
    return folders.map((f) =>
      this.rows.node(EnvFolderNode.rowId(f.folder.uri.fsPath), () => new EnvFolderNode(f, this.rows, this.envs), (n: EnvFolderNode) => {
        n.state = f;
        return false;
      }),
    );
  }

  /** The ids of the rows above the environments' own children: when they change, the whole tree is refreshed. */
  private structure(top: EnvironmentTreeNode[]): string[] {
    return top.flatMap((n) => (n instanceof EnvFolderNode ? [`folder:${n.state.folder.uri.fsPath}`, ...n.children().map((e) => e.id)] : n instanceof EnvironmentNode ? [n.id] : []));
  }

  getTreeItem(node: EnvironmentTreeNode): vscode.TreeItem {
    return node.treeItem();
  }

  getChildren(node?: EnvironmentTreeNode): EnvironmentTreeNode[] | Promise<EnvironmentTreeNode[]> {
    if (node) return node.children();
    const top = this.top();
    this.rows.shownStructure(this.structure(top));
    return top;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

/** The tooltip's line about the first verify: check (Markdown; check names and Prometheus's words escaped). */
function checkTooltip(c: CheckNow): string {
  const icon = c.level === 'past' ? '$(error) ' : c.level === 'near' ? '$(warning) ' : '';
  const state = c.level === 'past' ? ': past its bound' : c.level === 'near' ? ': within 20% of its bound' : '';
  if (c.value === null) return `$(question) ${markdownText(c.name)} (${markdownText(c.boundText)}): ${markdownText(c.error ?? 'no value')}`;
  return `${icon}${markdownText(c.text)} (${markdownText(c.boundText)})${state}`;
}

function ago(t: number): string {
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
