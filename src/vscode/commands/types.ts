// What every command gets: the extension's services, injected at activation.
import type * as vscode from 'vscode';
import type { Log } from '../log';
import type { CommandId } from './ids';
import type { ArgCommand, CommandArgs } from '../../shared/commandArgs';
import type { Secrets } from '../secrets';
import type { EnvironmentService } from '../environments/environmentService';
import type { DeployStatusItem } from '../statusBar/deployStatusItem';
import type { RemoteService } from '../remote/remoteService';
import type { RunManager } from '../runManager';
import type { WorkspaceModel } from '../workspaceModel';
import type { DeliveryPanel } from '../panel/deliveryPanel';
import type { PipelinesTreeProvider } from '../views/pipelinesTree';
import type { EnvironmentsTreeProvider } from '../views/environmentsTree';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  log: Log;
  model: WorkspaceModel;
  runs: RunManager;
  board: DeliveryPanel;
  pipelinesTree: PipelinesTreeProvider;
  environmentsTree: EnvironmentsTreeProvider;
  secrets: Secrets;
  envs: EnvironmentService;
  deployStatus: DeployStatusItem;
  remote: RemoteService;
}

/** A command's argument: typed and already parsed for the commands in CommandArgs (null: none given, ask). */
export type ArgOf<K extends CommandId> = K extends ArgCommand ? CommandArgs[K] | null : unknown;

export interface CommandSpec<K extends CommandId = CommandId> {
  id: K;
  run: (deps: CommandDeps, arg: ArgOf<K>) => unknown;
}

/** A command spec whose argument type follows from its id. */
export function command<K extends CommandId>(id: K, run: CommandSpec<K>['run']): CommandSpec<K> {
  return { id, run };
}
