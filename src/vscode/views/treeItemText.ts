import * as vscode from 'vscode';

/** What a tree item shows (description, icon and colour, tooltip, context value), for comparing renderings. */
export function treeItemText(item: vscode.TreeItem): unknown[] {
  const icon = item.iconPath instanceof vscode.ThemeIcon ? `${item.iconPath.id}/${item.iconPath.color?.id ?? ''}` : '';
  const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : String(item.tooltip ?? '');
  return [item.label, item.description, icon, tooltip, item.contextValue];
}
