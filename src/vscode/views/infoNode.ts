// A one-line row that only says something ("No runs yet", why a probe failed), shared by both trees.
import * as vscode from 'vscode';
import { plainText } from '../../core/sanitize';
import { treeItemText } from './treeItemText';

export class InfoNode {
  /** `id`: stable for the row's purpose under its parent (`…:probe`, `…:empty`), so the row keeps its handle. */
  constructor(
    readonly id: string,
    private text: string,
    private icon: string,
  ) {}
  /** A cached row says something new: same row, new text. */
  update(text: string, icon: string): boolean {
    this.text = text;
    this.icon = icon;
    return false;
  }
  treeItem(): vscode.TreeItem {
    // The text may come from a target (why a probe failed): shown as plain text, control characters visible.
    const item = new vscode.TreeItem(plainText(this.text, { oneLine: true }), vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.tooltip = plainText(this.text);
    item.contextValue = 'info';
    return item;
  }
  shown(): string {
    return JSON.stringify(treeItemText(this.treeItem()));
  }
  children(): [] {
    return [];
  }
}
