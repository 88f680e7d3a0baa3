// The Environments tree: one row per environment of delivery.yml (per folder in a multi-root workspace).
import * as vscode from 'vscode';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { FolderState, WorkspaceModel } from '../workspaceModel';

export abstract class EnvironmentTreeNode {
  abstract treeItem(): vscode.TreeItem;
  children(): EnvironmentTreeNode[] {
    return [];
  }
}

class EnvFolderNode extends EnvironmentTreeNode {
  constructor(readonly state: FolderState) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.state.folder.name, vscode.TreeItemCollapsibleState.Expanded);
    item.iconPath = vscode.ThemeIcon.Folder;
    item.contextValue = 'folder';
    return item;
  }
  children(): EnvironmentTreeNode[] {
    return (this.state.snapshot?.environments ?? []).map((e) => new EnvironmentNode(this.state, e));
  }
}

export class EnvironmentNode extends EnvironmentTreeNode {
  constructor(
    readonly state: FolderState,
    readonly env: EnvironmentConfig,
  ) {
    super();
  }
  treeItem(): vscode.TreeItem {
    const e = this.env;
    const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.None);
    item.id = `env:${this.state.folder.uri.fsPath}:${e.id}`;
    item.iconPath = new vscode.ThemeIcon(e.protected ? 'lock' : 'server-environment');
    item.description = [e.id !== e.name ? e.id : '', e.url ?? ''].filter(Boolean).join(' · ');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${e.name}** (\`${e.id}\`)${e.protected ? ' $(lock) protected' : ''}\n\n`);
    if (e.url) md.appendMarkdown(`${e.url}\n\n`);
    if (e.promotesFrom) md.appendMarkdown(`Promotes from \`${e.promotesFrom}\`\n\n`);
    item.tooltip = md;
    item.contextValue = ['environment', e.url ? 'hasUrl' : '', e.protected ? 'protected' : ''].filter(Boolean).join(' ');
    item.command = { command: 'delivery.definition.open', title: 'Open Definition', arguments: [this] };
    return item;
  }
  location() {
    return { folder: this.state.folder.uri, ...this.env.location };
  }
}

export class EnvironmentsTreeProvider implements vscode.TreeDataProvider<EnvironmentTreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<EnvironmentTreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly model: WorkspaceModel) {
    this.sub = model.onDidChange(() => this.emitter.fire(undefined));
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getTreeItem(node: EnvironmentTreeNode): vscode.TreeItem {
    return node.treeItem();
  }

  getChildren(node?: EnvironmentTreeNode): EnvironmentTreeNode[] {
    if (node) return node.children();
    const folders = this.model.folders().filter((f) => (f.snapshot?.environments.length ?? 0) > 0);
    if (folders.length === 1 && (vscode.workspace.workspaceFolders?.length ?? 0) <= 1) return new EnvFolderNode(folders[0]).children();
    return folders.map((f) => new EnvFolderNode(f));
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
