// A row that only says something ("No runs yet", why a probe failed), shared by both trees. A long text is not cut
// off at the view's edge: its first part is the row, the rest follows in rows under it (open when it is short).
import * as vscode from 'vscode';
import { plainText } from '../../core/sanitize';
import { wrapText } from '../../core/wrap';
import { treeItemText } from './treeItemText';

/** Characters of a row that show whole in a sidebar of the default width, under two levels of indentation. */
export const ROW_WIDTH = 30;
/** A text of up to this many rows more shows whole (expanded); a longer one is one click away (collapsed). */
const OPEN_UP_TO = 3;

/** How a row whose text continues in `more` rows under it starts: open when that is short. */
export function wrappedState(more: number): vscode.TreeItemCollapsibleState {
  return more === 0 ? vscode.TreeItemCollapsibleState.None : more <= OPEN_UP_TO ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
}

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
  private lines(): string[] {
    // The text may come from a target (why a probe failed): shown as plain text, control characters visible.
    return wrapText(plainText(this.text), ROW_WIDTH);
  }
  treeItem(): vscode.TreeItem {
    const lines = this.lines();
    const item = new vscode.TreeItem(lines[0], wrappedState(lines.length - 1));
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.tooltip = plainText(this.text);
    item.contextValue = 'info';
    return item;
  }
  shown(): string {
    return JSON.stringify(treeItemText(this.treeItem()));
  }
  /** The rest of a long text, a row per line. */
  children(): InfoNode[] {
    return this.lines()
      .slice(1)
      .map((line, i) => new InfoNode(`${this.id}:${i + 1}`, line, 'blank'));
  }
}
