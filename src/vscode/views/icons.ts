// Status icons: codicons with theme colours, the same everywhere in the trees.
import * as vscode from 'vscode';
import type { DeployStatus, JobStatus, RunStatus, StepStatus } from '../../shared/model';

export function statusIcon(status: JobStatus | RunStatus | StepStatus | DeployStatus | null, allowFailure = false): vscode.ThemeIcon {
  switch (status) {
    case 'running':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'queued':
    case 'pending':
      return new vscode.ThemeIcon('circle-outline', new vscode.ThemeColor('descriptionForeground'));
    case 'success':
      return new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed'));
    case 'failed':
      return allowFailure
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('testing.iconQueued'))
        : new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'interrupted':
      return new vscode.ThemeIcon('warning', new vscode.ThemeColor('testing.iconFailed'));
    case 'unverified':
      // Deployed, but its verification could not decide: not a pass.
      return new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground'));
    case 'cancelled':
      return new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('testing.iconSkipped'));
    case 'skipped':
      return new vscode.ThemeIcon('debug-step-over', new vscode.ThemeColor('testing.iconSkipped'));
    case 'manual':
      return new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('descriptionForeground'));
    case 'unsupported':
      return new vscode.ThemeIcon('circle-large-outline', new vscode.ThemeColor('list.warningForeground'));
    default:
      return new vscode.ThemeIcon('circle-large-outline');
  }
}
