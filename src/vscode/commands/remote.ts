// Remote runs: trigger with typed inputs (and saved presets), show on the board, follow logs, cancel, rerun,
// open in the browser, refresh.
import * as vscode from 'vscode';
import { checkInputs } from '../../core/remote/inputs';
import type { TriggerInput } from '../../core/remote/types';
import { headInfo } from '../../adapters/git';
import type { RemoteRef } from '../remote/remoteService';
import { RemoteService } from '../remote/remoteService';
import { remoteLogUri } from '../remote/remoteLogs';
import { requireTrust } from '../trust';
import { JobNode, PipelineNode, RemoteJobNode, RemoteRunNode, RemoteRunsNode } from '../views/pipelinesTree';
import { pipelineKey } from '../workspaceModel';
import { pipelineTarget } from './pick';
import type { CommandDeps, CommandSpec } from './types';
import { notificationText } from '../../core/sanitize';

const PRESETS_KEY = 'delivery.remote.presets';

interface RunArg {
  ref: RemoteRef;
  runId: string | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The pipeline (and run) a remote command acts on. */
async function remoteTarget(deps: CommandDeps, arg: unknown): Promise<RunArg | undefined> {
  if (arg instanceof RemoteRunsNode) return { ref: arg.ref, runId: null };
  if (arg instanceof RemoteRunNode) return { ref: arg.parent.ref, runId: arg.run.id };
  if (arg instanceof RemoteJobNode) return { ref: arg.parent.parent.ref, runId: arg.parent.run.id };
  const t = await pipelineTarget(deps, arg instanceof JobNode ? arg.parent : arg instanceof PipelineNode ? arg : arg, 'Pipeline');
  if (!t) return undefined;
  const runId = isRecord(arg) && typeof arg.runId === 'string' ? arg.runId : null;
  return { ref: { state: t.state, pipeline: t.pipeline }, runId };
}

type Presets = Record<string, Record<string, { ref: string; inputs: Record<string, string> }>>;

/** Asks for each input the engine declares, the way its type suggests; null when the user gave up. */
async function askInputs(inputs: TriggerInput[], last: Record<string, string>): Promise<Record<string, string> | null> {
  const out: Record<string, string> = {};
  for (const input of inputs) {
    const def = last[input.name] ?? input.default ?? '';
    const title = `${input.name}${input.required ? ' (required)' : ''}`;
    let value: string | undefined;
    if (input.type === 'boolean') {
      const items = def === 'true' ? ['true', 'false'] : ['false', 'true'];
      value = (await vscode.window.showQuickPick(items, { title, placeHolder: input.description ?? input.name }))?.toString();
    } else if ((input.type === 'choice' || input.type === 'environment') && input.options.length > 0) {
      const items = [...input.options].sort((a, b) => (a === def ? -1 : b === def ? 1 : 0));
      value = await vscode.window.showQuickPick(items, { title, placeHolder: input.description ?? input.name });
    } else {
      value = await vscode.window.showInputBox({
        title,
        prompt: input.description ?? undefined,
        value: def,
        validateInput: (v) => {
          if (input.required && v === '') return `${input.name} is required`;
          if (input.type === 'number' && v !== '' && !Number.isFinite(Number(v))) return 'a number';
          return null;
        },
      });
    }
    if (value === undefined) return null;
    if (value !== '' || input.required) out[input.name] = value;
  }
  return out;
}

export const triggerRemote: CommandSpec = {
  id: 'delivery.remote.trigger',
  run: async (deps, arg) => {
    if (!requireTrust('trigger remote runs')) return undefined;
    const t = await remoteTarget(deps, arg);
    if (!t) return undefined;
    if (!RemoteService.canHaveRemote(t.ref.pipeline)) {
      void vscode.window.showErrorMessage(notificationText(`${t.ref.pipeline.def.name} has no "remote:" in delivery.yml, so it runs only locally.`));
      return undefined;
    }
    const key = `${t.ref.state.folder.uri.fsPath}#${pipelineKey(t.ref.pipeline)}`;
    const presets = deps.context.workspaceState.get<Presets>(PRESETS_KEY, {});
    const mine = presets[key] ?? {};
    let gitRef: string | undefined = isRecord(arg) && typeof arg.ref === 'string' ? arg.ref : undefined;
    let inputs: Record<string, string> | null = isRecord(arg) && isRecord(arg.inputs) ? (Object.fromEntries(Object.entries(arg.inputs).map(([k, v]) => [k, String(v)])) as Record<string, string>) : null;
    const declared = await deps.remote.inputs(t.ref);
    if ('error' in declared) {
      void vscode.window.showErrorMessage(notificationText(`${t.ref.pipeline.def.name}: ${declared.error}`));
      return undefined;
    }
    if (inputs === null) {
      const names = Object.keys(mine);
      if (names.length > 0) {
        const pick = await vscode.window.showQuickPick(
          [...names.map((n) => ({ label: n, description: `${mine[n].ref} · ${Object.entries(mine[n].inputs).map(([k, v]) => `${k}=${v}`).join(', ')}`, preset: n })), { label: '$(edit) Enter inputs…', description: '', preset: '' }],
          { placeHolder: `Trigger ${t.ref.pipeline.def.name}: a saved preset, or new inputs` },
        );
        if (!pick) return undefined;
        if (pick.preset) {
          gitRef = gitRef ?? mine[pick.preset].ref;
          inputs = mine[pick.preset].inputs;
        }
      }
    }
    if (gitRef === undefined) {
      const branch = (await headInfo(t.ref.state.folder.uri.fsPath).catch(() => null))?.branch ?? 'main';
      gitRef = await vscode.window.showInputBox({ title: `Trigger ${t.ref.pipeline.def.name}`, prompt: 'Branch, tag or commit to run', value: branch, validateInput: (v) => (v.trim() ? null : 'a ref') });
      if (!gitRef) return undefined;
    }
    if (inputs === null) {
      inputs = await askInputs(declared, mine['last used']?.inputs ?? {});
      if (inputs === null) return undefined;
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
    await deps.context.workspaceState.update(PRESETS_KEY, { ...presets, [key]: { ...mine, 'last used': { ref: gitRef, inputs } } });
    const save = 'Save Inputs as Preset';
    void vscode.window.showInformationMessage(notificationText(`Triggered ${t.ref.pipeline.def.name} #${run.number ?? run.id} on ${gitRef}.`), save).then(async (c) => {
      if (c !== save) return;
      const name = await vscode.window.showInputBox({ prompt: 'Preset name', validateInput: (v) => (v.trim() ? null : 'a name') });
      if (!name) return;
      const all = deps.context.workspaceState.get<Presets>(PRESETS_KEY, {});
      await deps.context.workspaceState.update(PRESETS_KEY, { ...all, [key]: { ...(all[key] ?? {}), [name]: { ref: gitRef!, inputs: inputs! } } });
    });
    await deps.board.showRemoteRun(t.ref, run.id);
    return run;
  },
};

export const showRemoteRun: CommandSpec = {
  id: 'delivery.remote.showRun',
  run: async (deps, arg) => {
    const t = await remoteTarget(deps, arg);
    if (!t?.runId) return undefined;
    await deps.board.showRemoteRun(t.ref, t.runId);
    return t.runId;
  },
};

export const cancelRemote: CommandSpec = {
  id: 'delivery.remote.cancel',
  run: async (deps, arg) => {
    const t = await remoteTarget(deps, arg);
    if (!t?.runId) return undefined;
    const err = await deps.remote.cancel(t.ref, t.runId);
    if (err) void vscode.window.showErrorMessage(notificationText(`Cannot cancel: ${err}`));
    return err === null;
  },
};

export const rerunRemote: CommandSpec = {
  id: 'delivery.remote.rerunFailed',
  run: async (deps, arg) => {
    const t = await remoteTarget(deps, arg);
    if (!t?.runId) return undefined;
    const r = await deps.remote.rerunFailed(t.ref, t.runId);
    if ('error' in r) {
      void vscode.window.showErrorMessage(notificationText(`Cannot rerun: ${r.error}`));
      return undefined;
    }
    await deps.board.showRemoteRun(t.ref, r.id);
    return r;
  },
};

export const openRemoteInBrowser: CommandSpec = {
  id: 'delivery.remote.openInBrowser',
  run: async (deps, arg) => {
    const t = await remoteTarget(deps, arg);
    if (!t?.runId) return undefined;
    const s = deps.remote.knownState(t.ref, t.runId) ?? (await deps.remote.runState(t.ref, t.runId));
    const url = 'run' in s ? s.run.url : null;
    if (url) await vscode.env.openExternal(vscode.Uri.parse(url));
    return url;
  },
};

export const showRemoteLog: CommandSpec = {
  id: 'delivery.remote.showLog',
  run: async (_deps, arg) => {
    let query: { folder: string; pipelineKey: string; runId: string; jobId: string } | null = null;
    let name = 'job';
    if (arg instanceof RemoteJobNode) {
      const ref = arg.parent.parent.ref;
      query = { folder: ref.state.folder.uri.fsPath, pipelineKey: pipelineKey(ref.pipeline), runId: arg.parent.run.id, jobId: arg.job.id };
      name = arg.job.name;
    } else if (isRecord(arg) && typeof arg.folder === 'string' && typeof arg.pipelineKey === 'string' && typeof arg.runId === 'string' && typeof arg.jobId === 'string') {
      query = { folder: arg.folder, pipelineKey: arg.pipelineKey, runId: arg.runId, jobId: arg.jobId };
      name = typeof arg.jobName === 'string' ? arg.jobName : arg.jobId;
    }
    if (!query) return undefined;
    const doc = await vscode.workspace.openTextDocument(remoteLogUri(query, name));
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc.uri.toString();
  },
};

export const refreshRemote: CommandSpec = {
  id: 'delivery.remote.refresh',
  run: async (deps, arg) => {
    const t = arg instanceof RemoteRunsNode ? { ref: arg.ref } : await remoteTarget(deps, arg);
    if (t) await deps.remote.runs(t.ref, true);
    deps.pipelinesTree.refresh();
  },
};
