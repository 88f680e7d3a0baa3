// A one-line row that only says something ("No runs yet", why a probe failed), shared by both trees.
import * as vscode from 'vscode';

export class InfoNode {
  constructor(
    private readonly text: string,
    private readonly icon: string,
  ) {}
  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.text, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.tooltip = this.text;
    item.contextValue = 'info';
    return item;
  }
  children(): [] {
    return [];
  }
}
