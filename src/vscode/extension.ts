// Composition root: builds the services, wires them together, registers what VS Code needs. Nothing else —
// no file I/O here (loading starts after activation returns).
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Log } from './log';
import { RunManager } from './runManager';
import { RunStatusItem } from './statusBar/runStatusItem';
import { EnvironmentsTreeProvider } from './views/environmentsTree';
import { PipelinesTreeProvider } from './views/pipelinesTree';
import { DeliveryPanel } from './panel/deliveryPanel';
import { WorkspaceModel } from './workspaceModel';
import { createApi, type DeliveryApi } from './api';
import { DeliveryTaskProvider } from './tasks/taskProvider';
import { Secrets } from './secrets';
import { EnvironmentService } from './environments/environmentService';
import { RevisionProvider } from './environments/revisionProvider';
import { DeployStatusItem } from './statusBar/deployStatusItem';
import { RemoteService } from './remote/remoteService';
import { RemoteLogProvider } from './remote/remoteLogs';
import { LOG_SCHEME, LogDocumentProvider, LogLinkProvider } from './logDocuments';
import { LogProblems } from './logProblems';
import { TestExplorer } from './testing/testExplorer';
import { PipelineCodeLensProvider } from './editor/pipelineCodeLens';
import { WalkthroughProgress } from './walkthroughProgress';

export function activate(context: vscode.ExtensionContext): DeliveryApi {
  const started = performance.now();
  const log = new Log();
  const model = new WorkspaceModel(log);
  const runs = new RunManager(log);
  const secrets = new Secrets(context.secrets, log, context.workspaceState);
  const remote = new RemoteService(secrets, log, context.workspaceState);
  const pipelinesTree = new PipelinesTreeProvider(model, runs, remote);
  const envs = new EnvironmentService(model, secrets, log);
  const environmentsTree = new EnvironmentsTreeProvider(model, envs);
  const logProblems = new LogProblems(runs, log);
  const board = new DeliveryPanel(context.extensionUri, model, runs, envs, remote, log, (file) => logProblems.placeOf(file));
  const runStatus = new RunStatusItem(runs, model, remote);
  const deployStatus = new DeployStatusItem(envs);
  const tests = new TestExplorer(model, runs, log);
  const codeLens = new PipelineCodeLensProvider(model, runs);
  context.subscriptions.push(
    log,
    model,
    runs,
    envs,
    remote,
    model.onDidChange(() => remote.reset()),
    // A deploy's build run is a run like any other: the trees and the status bar show it once the deploy ends.
    envs.onDidEndDeploy((d) => {
      const state = d.buildRunId ? model.folder(d.folder) : undefined;
      // It ran in the deploy's checkout (gone now): it belongs to the workspace folder.
      if (state && d.buildRunId) void state.store.read(d.buildRunId).then((run) => run && runs.adopt(d.folder, { ...run, folder: d.folder }));
    }),
    deployStatus,
    new RevisionProvider(),
    new LogDocumentProvider(),
    logProblems,
    vscode.languages.registerDocumentLinkProvider({ scheme: LOG_SCHEME }, new LogLinkProvider((file) => logProblems.placeOf(file))),
    new RemoteLogProvider(remote, (folder, key) => {
      const p = model.findPipeline(folder, key);
      const state = model.folder(folder);
      return p && state ? { state, pipeline: p } : undefined;
    }),
    pipelinesTree,
    environmentsTree,
    board,
    runStatus,
    tests,
    new DeliveryTaskProvider(model, runs),
    codeLens,
    new WalkthroughProgress(runs, envs),
    vscode.window.registerTreeDataProvider('delivery.pipelines', pipelinesTree),
    vscode.window.registerTreeDataProvider('delivery.environments', environmentsTree),
    ...registerCommands({ context, log, model, runs, board, pipelinesTree, environmentsTree, secrets, envs, deployStatus, remote }),
  );
  const ready = model.reloadAll().then(() => runs.loadHistory(model.folders()));
  // The last runs' test reports are read after `ready`: the trees and the status bar do not wait for them.
  void ready.then(() => tests.loadHistory());
  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return createApi({ model, runs, board, runStatus, deployStatus, envs, pipelinesTree, environmentsTree, tests, codeLens, ready, activationMs });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (running jobs are cancelled by RunManager.dispose).
}
