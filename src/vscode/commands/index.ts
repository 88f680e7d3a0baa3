// The command table: every contributed command is registered here (a unit test compares it with package.json).
import * as vscode from 'vscode';
import { cancelRun, rerunFailed, runJob, runPipeline } from './runs';
import { compareRun, createConfig, openDefinition, openPanel, openWorkspace, refresh, showCommit, showLog, showOutput, showRun } from './views';
import { deleteSecret, deploy, diff, openUrl, promote, refreshEnvironments, rollback, selectStatusEnvironment, setSecret, statusBarActions } from './environments';
import type { CommandDeps, CommandSpec } from './types';
import { cancelRemote, openRemoteInBrowser, refreshRemote, rerunRemote, showRemoteLog, showRemoteRun, triggerRemote } from './remote';
import { COMMAND_IDS, type CommandId } from './ids';
import { notificationText } from '../../core/sanitize';
import { isArgCommand, parseCommandArg } from '../../shared/commandArgs';

/** Keyed by id and typed against COMMAND_IDS: a contributed command without an implementation does not compile. */
export const COMMANDS: { [K in CommandId]: CommandSpec<K> } = {
  'delivery.refresh': refresh,
  'delivery.pipeline.run': runPipeline,
  'delivery.job.run': runJob,
  'delivery.run.cancel': cancelRun,
  'delivery.run.rerunFailed': rerunFailed,
  'delivery.run.showLog': showLog,
  'delivery.job.openWorkspace': openWorkspace,
  'delivery.run.show': showRun,
  'delivery.run.compare': compareRun,
  'delivery.commit.show': showCommit,
  'delivery.panel.open': openPanel,
  'delivery.environment.deploy': deploy,
  'delivery.environment.diff': diff,
  'delivery.environment.rollback': rollback,
  'delivery.environment.promote': promote,
  'delivery.environment.refresh': refreshEnvironments,
  'delivery.statusBar.actions': statusBarActions,
  'delivery.environment.openUrl': openUrl,
  'delivery.statusBar.selectEnvironment': selectStatusEnvironment,
  'delivery.config.create': createConfig,
  'delivery.definition.open': openDefinition,
  'delivery.output.show': showOutput,
  'delivery.secret.set': setSecret,
  'delivery.secret.delete': deleteSecret,
  'delivery.remote.trigger': triggerRemote,
  'delivery.remote.showRun': showRemoteRun,
  'delivery.remote.cancel': cancelRemote,
  'delivery.remote.rerunFailed': rerunRemote,
  'delivery.remote.openInBrowser': openRemoteInBrowser,
  'delivery.remote.showLog': showRemoteLog,
  'delivery.remote.refresh': refreshRemote,
};

/** Registers every command behind one wrapper: errors are logged and shown once; cancellation stays silent. */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return COMMAND_IDS.map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        // Only the first argument counts (a tree's context menu may add the selected rows as a second).
        const parsed = isArgCommand(id) ? parseCommandArg(id, args[0]) : { arg: args[0] };
        if ('error' in parsed) {
          deps.log.warn(parsed.error);
          void vscode.window.showErrorMessage(notificationText(`Software Delivery: ${parsed.error}`));
          return undefined;
        }
        return await (COMMANDS[id] as CommandSpec).run(deps, parsed.arg);
      } catch (e) {
        if (e instanceof vscode.CancellationError || (e as Error)?.name === 'AbortError') return undefined;
        deps.log.error(`${id} failed`, e);
        const show = 'Show Log';
        void vscode.window.showErrorMessage(notificationText(`Software Delivery: ${(e as Error)?.message ?? String(e)}`), show).then((c) => {
          if (c === show) deps.log.channel.show(true);
        });
        return undefined;
      }
    }),
  );
}
