// What every command gets: the extension's services, injected at activation.
import type * as vscode from 'vscode';
import type { Log } from '../log';
import type { CommandId } from './ids';
import type { Secrets } from '../secrets';
import type { EnvironmentService } from '../environments/environmentService';
import type { DeployStatusItem } from '../statusBar/deployStatusItem';
import type { RemoteService } from '../remote/remoteService';
import type { RunManager } from '../runManager';
import type { WorkspaceModel } from '../workspaceModel';
import type { BoardController } from '../panel/boardPanel';
import type { PipelinesTreeProvider } from '../views/pipelinesTree';
import type { EnvironmentsTreeProvider } from '../views/environmentsTree';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  log: Log;
  model: WorkspaceModel;
  runs: RunManager;
  board: BoardController;
  pipelinesTree: PipelinesTreeProvider;
  environmentsTree: EnvironmentsTreeProvider;
  secrets: Secrets;
  envs: EnvironmentService;
  deployStatus: DeployStatusItem;
  remote: RemoteService;
}

export interface CommandSpec {
  id: CommandId;
  run: (deps: CommandDeps, ...args: unknown[]) => unknown;
}
