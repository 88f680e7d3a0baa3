// Workspace Trust: in an untrusted workspace nothing executes; commands say why and offer to manage trust.
import * as vscode from 'vscode';
import { notificationText } from '../core/sanitize';

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/** True when trusted; otherwise explains (without waiting for the user) and returns false. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  void vscode.window
    .showWarningMessage(
      notificationText(`Software Delivery does not ${action} in an untrusted workspace: it would run commands from this folder's files. Trust the workspace to enable it.`),
      manage,
    )
    .then((choice) => choice === manage && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}
