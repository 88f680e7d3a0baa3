// A one-line row that only says something ("No runs yet", why a probe failed), shared by both trees.
import * as vscode from 'vscode';
import { plainText } from '../../core/sanitize';

export class InfoNode {
  constructor(
    private readonly text: string,
    private readonly icon: string,
  ) {}
  treeItem(): vscode.TreeItem {
    // The text may come from a target (why a probe failed): shown as plain text, control characters visible.
    const item = new vscode.TreeItem(plainText(this.text, { oneLine: true }), vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.tooltip = plainText(this.text);
    item.contextValue = 'info';
    return item;
  }
  children(): [] {
    return [];
  }
}
