// Remote runs: trigger with typed inputs (the panel's trigger form, with saved presets), show on the board, follow logs, cancel, rerun,
// open in the browser, refresh.
import * as vscode from 'vscode';
import { checkInputs } from '../../core/remote/inputs';
import { headInfo } from '../../adapters/git';
import type { RemoteRef } from '../remote/remoteService';
import { RemoteService } from '../remote/remoteService';
import { remoteLogUri } from '../remote/remoteLogs';
import { requireTrust } from '../trust';
import { pipelineKey } from '../workspaceModel';
import { pipelineTarget } from './pick';
import { command, type CommandDeps } from './types';
import type { RemoteArg } from '../../shared/commandArgs';
import { presetsOf, readPresets, withLastUsed, type Preset } from '../remote/presets';
import { folderEnvironments, storedPresets } from './triggerForm';
import { notificationText } from '../../core/sanitize';
import { describeBlocked, pipelineBlocked } from '../../core/targeting';

const PRESETS_KEY = 'delivery.remote.presets';

interface RunArg {
  ref: RemoteRef;
  runId: string | null;
}

/** The pipeline (and run) a remote command acts on: the one `arg` names, or a quick pick. */
async function remoteTarget(deps: CommandDeps, arg: RemoteArg | null): Promise<RunArg | undefined> {
  const t = await pipelineTarget(deps, arg, 'Pipeline');
  if (!t) return undefined;
  return { ref: { state: t.state, pipeline: t.pipeline }, runId: arg?.runId ?? null };
}

export const triggerRemote = command('delivery.remote.trigger', async (deps, arg) => {
  if (!requireTrust('trigger remote runs')) return undefined;
  const t = await remoteTarget(deps, arg);
  if (!t) return undefined;
  if (!RemoteService.canHaveRemote(t.ref.pipeline)) {
    void vscode.window.showErrorMessage(notificationText(`${t.ref.pipeline.def.name} has no "remote:" in delivery.yml, so it runs only locally.`));
    return undefined;
  }
  // The same refusal as `delivery remote trigger`: a file with errors sends nothing.
  const blocked = pipelineBlocked(t.ref.state.snapshot?.problems ?? [], t.ref.pipeline);
  if (blocked) {
    deps.log.warn(`cannot trigger ${t.ref.pipeline.def.name}: ${describeBlocked(blocked)}`);
    void vscode.window.showErrorMessage(notificationText(`Cannot trigger ${t.ref.pipeline.def.name}: ${describeBlocked(blocked)}; nothing was sent.`));
    return undefined;
  }
  // The stored key (workspace state) stays `folder#pipelineKey`.
  const key = `${t.ref.state.folder.uri.fsPath}#${pipelineKey(t.ref.pipeline)}`;
  const mine = presetsOf(readPresets(deps.context.workspaceState.get<unknown>(PRESETS_KEY)), key);
  let gitRef = arg?.ref;
  let inputs: Record<string, string> | null = arg?.inputs ?? null;
  const declared = await deps.remote.inputs(t.ref);
  if ('error' in declared) {
    void vscode.window.showErrorMessage(notificationText(`${t.ref.pipeline.def.name}: ${declared.error}`));
    return undefined;
  }
  // One form asks the ref and the inputs (none when both are given), with the pipeline's presets.
  if (inputs === null || gitRef === undefined) {
    const ref = gitRef ?? (await headInfo(t.ref.state.folder.uri.fsPath).catch(() => null))?.branch ?? 'main';
    const asked = await deps.board.askInputs({
      title: `Trigger ${t.ref.pipeline.def.name}`,
      action: 'Trigger',
      inputs: declared,
      environments: folderEnvironments(t.ref.state),
      last: inputs ?? mine.lastUsed?.inputs ?? {},
      ref,
      presets: storedPresets(deps, PRESETS_KEY, key),
      omitDefaults: false,
    });
    if (!asked) return undefined;
    gitRef = asked.ref ?? ref;
    inputs = asked.inputs;
  }
  const check = checkInputs(declared, inputs);
  const refuse = (why: string) => {
    deps.log.warn(`cannot trigger ${t.ref.pipeline.def.name}: ${why}`);
    void vscode.window.showErrorMessage(notificationText(`Cannot trigger ${t.ref.pipeline.def.name}: ${why}`));
    return undefined;
  };
  if (check.errors.length) return refuse(check.errors.join('; '));
  const run = await deps.remote.trigger(t.ref, gitRef, inputs);
  if ('error' in run) return refuse(run.error);
  const used: Preset = { ref: gitRef, inputs };
  await deps.context.workspaceState.update(PRESETS_KEY, withLastUsed(readPresets(deps.context.workspaceState.get<unknown>(PRESETS_KEY)), key, used));
  void vscode.window.showInformationMessage(notificationText(`Triggered ${t.ref.pipeline.def.name} #${run.number ?? run.id} on ${gitRef}.`));
  await deps.board.showRemoteRun(t.ref, run.id);
  return run;
});

export const showRemoteRun = command('delivery.remote.showRun', async (deps, arg) => {
  const t = await remoteTarget(deps, arg);
  if (!t?.runId) return undefined;
  await deps.board.showRemoteRun(t.ref, t.runId);
  return t.runId;
});

export const cancelRemote = command('delivery.remote.cancel', async (deps, arg) => {
  const t = await remoteTarget(deps, arg);
  if (!t?.runId) return undefined;
  const err = await deps.remote.cancel(t.ref, t.runId);
  if (err) void vscode.window.showErrorMessage(notificationText(`Cannot cancel: ${err}`));
  return err === null;
});

export const rerunRemote = command('delivery.remote.rerunFailed', async (deps, arg) => {
  const t = await remoteTarget(deps, arg);
  if (!t?.runId) return undefined;
  const r = await deps.remote.rerunFailed(t.ref, t.runId);
  if ('error' in r) {
    void vscode.window.showErrorMessage(notificationText(`Cannot rerun: ${r.error}`));
    return undefined;
  }
  await deps.board.showRemoteRun(t.ref, r.id);
  return r;
});

export const openRemoteInBrowser = command('delivery.remote.openInBrowser', async (deps, arg) => {
  const t = await remoteTarget(deps, arg);
  if (!t?.runId) return undefined;
  const s = deps.remote.knownState(t.ref, t.runId) ?? (await deps.remote.runState(t.ref, t.runId));
  const url = 'run' in s ? s.run.url : null;
  if (url) await vscode.env.openExternal(vscode.Uri.parse(url));
  return url;
});

export const showRemoteLog = command('delivery.remote.showLog', async (_deps, arg) => {
  if (!arg) return undefined;
  const query = { folder: arg.folder, pipelineKey: arg.pipelineKey, runId: arg.runId, jobId: arg.jobId };
  const doc = await vscode.workspace.openTextDocument(remoteLogUri(query, arg.jobName ?? arg.jobId));
  await vscode.window.showTextDocument(doc, { preview: true });
  return doc.uri.toString();
});

export const refreshRemote = command('delivery.remote.refresh', async (deps, arg) => {
  const t = await remoteTarget(deps, arg);
  if (t) await deps.remote.runs(t.ref, true);
  deps.pipelinesTree.refresh();
});
