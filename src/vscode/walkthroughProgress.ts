// Context keys the walkthrough's steps complete on (package.json `contributes.walkthroughs`, `onContext:`): a step is
// done when the user has done it, whichever way (tree, palette, CodeLens, a run from the CLI in the history).
import * as vscode from 'vscode';
import type { EnvironmentService } from './environments/environmentService';
import type { RunManager } from './runManager';

export class WalkthroughProgress implements vscode.Disposable {
  private ran = false;
  private readonly disposables: vscode.Disposable[];

  constructor(runs: RunManager, envs: EnvironmentService) {
    this.disposables = [
      runs.onDidChange(() => {
        if (this.ran || !runs.latestRun()) return;
        this.ran = true;
        void vscode.commands.executeCommand('setContext', 'delivery.hasRun', true);
      }),
      // A deploy that happened (verified or not); a failed or cancelled one is not done yet.
      envs.onDidEndDeploy((d) => (d.status === 'success' || d.status === 'unverified') && void vscode.commands.executeCommand('setContext', 'delivery.hasDeployed', true)),
    ];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
