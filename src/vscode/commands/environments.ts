// Environment commands. Deploys and diffs are driven by the environments module.
import * as vscode from 'vscode';
import { DeployNode, EnvironmentNode } from '../views/environmentsTree';
import { deployFlow, type DeployFlowDeps } from '../environments/deployFlow';
import type { CommandDeps, CommandSpec } from './types';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { FolderState } from '../workspaceModel';
import { SECRET_NAME } from '../secrets';
import { notificationText } from '../../core/sanitize';

/** The environment a command acts on: a tree node, `{environment, folder?}`, or a quick pick (skipped when there is one and `single` allows it). */
export async function environmentTarget(deps: CommandDeps, arg: unknown, placeHolder: string, single: 'pick' | 'ask' = 'ask'): Promise<{ state: FolderState; env: EnvironmentConfig } | undefined> {
  await deps.model.whenLoaded();
  if (arg instanceof EnvironmentNode) return { state: arg.state, env: arg.env };
  const all = deps.model.folders().flatMap((state) => (state.snapshot?.environments ?? []).map((env) => ({ state, env })));
  if (typeof arg === 'object' && arg !== null && typeof (arg as { environment?: unknown }).environment === 'string') {
    const a = arg as { environment: string; folder?: string };
    const found = all.find((x) => x.env.id === a.environment && (!a.folder || x.state.folder.uri.fsPath === a.folder));
    if (!found) void vscode.window.showErrorMessage(notificationText(`No environment "${a.environment}" in delivery.yml.`));
    return found;
  }
  if (all.length === 0) {
    void vscode.window.showInformationMessage('No environments: describe them under `environments:` in delivery.yml.');
    return undefined;
  }
  if (all.length === 1 && single === 'pick') return all[0];
  const pick = await vscode.window.showQuickPick(
    all.map((x) => ({ label: x.env.name, description: [x.env.id, x.env.url].filter(Boolean).join(' · '), x })),
    { placeHolder },
  );
  return pick?.x;
}

export const openUrl: CommandSpec = {
  id: 'delivery.environment.openUrl',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to open', 'pick');
    if (!t?.env.url) return;
    await vscode.env.openExternal(vscode.Uri.parse(t.env.url));
  },
};

export const selectStatusEnvironment: CommandSpec = {
  id: 'delivery.statusBar.selectEnvironment',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment for the status-bar deploy indicator');
    if (!t) return undefined;
    await vscode.workspace.getConfiguration('delivery', t.state.folder.uri).update('statusBar.environment', t.env.id, vscode.ConfigurationTarget.Workspace);
    return t.env.id;
  },
};

function flowDeps(deps: CommandDeps): DeployFlowDeps {
  return { envs: deps.envs, log: deps.log, apiHosts: deps.remote.apiHosts, showDiff: async (state, envId, ref) => void (await deps.board.showDiff(state, envId, ref)) };
}

function refArg(arg: unknown, key: 'ref' | 'to'): string | undefined {
  const v = typeof arg === 'object' && arg !== null ? (arg as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && v.length > 0 && v.length < 256 ? v : undefined;
}

export const deploy: CommandSpec = {
  id: 'delivery.environment.deploy',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to deploy to');
    if (!t) return undefined;
    return deployFlow(flowDeps(deps), t, 'deploy', { ref: refArg(arg, 'ref') });
  },
};

export const rollback: CommandSpec = {
  id: 'delivery.environment.rollback',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg instanceof DeployNode ? arg.parent : arg, 'Environment to roll back');
    if (!t) return undefined;
    const to = arg instanceof DeployNode ? arg.record.sha : refArg(arg, 'to');
    return deployFlow(flowDeps(deps), t, 'rollback', { to });
  },
};

export const promote: CommandSpec = {
  id: 'delivery.environment.promote',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to promote to');
    if (!t) return undefined;
    return deployFlow(flowDeps(deps), t, 'promote');
  },
};

export const diff: CommandSpec = {
  id: 'delivery.environment.diff',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to compare with the local checkout', 'pick');
    if (!t) return undefined;
    if (!t.env.version) {
      void vscode.window.showErrorMessage(notificationText(`${t.env.name} has no "version" in delivery.yml, so what it runs is unknown.`));
      return undefined;
    }
    const to = refArg(arg, 'to');
    if (to !== undefined && !deps.envs.find(t.state.folder.uri.fsPath, to)) {
      void vscode.window.showErrorMessage(notificationText(`No environment "${to}" to compare ${t.env.name} with.`));
      return undefined;
    }
    return deps.board.showDiff(t.state, t.env.id, refArg(arg, 'ref'), to);
  },
};

export const refreshEnvironments: CommandSpec = {
  id: 'delivery.environment.refresh',
  run: async (deps) => {
    await deps.envs.refresh(true);
  },
};

export const statusBarActions: CommandSpec = {
  id: 'delivery.statusBar.actions',
  run: async (deps) => {
    const current = deps.deployStatus.current;
    const t = current ? deps.envs.find(current.folder, current.id) : undefined;
    if (!t) return vscode.commands.executeCommand('delivery.statusBar.selectEnvironment');
    const arg = { folder: current!.folder, environment: t.env.id };
    const items: (vscode.QuickPickItem & { command: string })[] = [
      { label: '$(rocket) Deploy…', description: t.env.name, command: 'delivery.environment.deploy' },
      { label: '$(diff) Show Diff', description: 'deployed ↔ local', command: 'delivery.environment.diff' },
      { label: '$(history) Roll Back…', description: 'to the previous successful deploy', command: 'delivery.environment.rollback' },
      ...(t.env.promotesFrom ? [{ label: '$(arrow-up) Promote…', description: `what ${t.env.promotesFrom} runs`, command: 'delivery.environment.promote' }] : []),
      ...(t.env.url ? [{ label: '$(link-external) Open URL', description: t.env.url, command: 'delivery.environment.openUrl' }] : []),
      { label: '$(refresh) Refresh', description: 'probe every environment now', command: 'delivery.environment.refresh' },
      { label: '$(list-selection) Follow Another Environment…', command: 'delivery.statusBar.selectEnvironment' },
    ];
    const pick = await vscode.window.showQuickPick(items, { placeHolder: `${t.env.name}: what now?` });
    if (!pick) return undefined;
    return vscode.commands.executeCommand(pick.command, pick.command === 'delivery.statusBar.selectEnvironment' || pick.command === 'delivery.environment.refresh' ? undefined : arg);
  },
};

export const setSecret: CommandSpec = {
  id: 'delivery.secret.set',
  run: async (deps, arg) => {
    const preset = typeof arg === 'object' && arg !== null && typeof (arg as { name?: unknown }).name === 'string' ? (arg as { name: string }).name : undefined;
    const name =
      preset ??
      (await vscode.window.showInputBox({
        title: 'Set Secret',
        prompt: 'Name used as ${secret:NAME} in delivery.yml',
        placeHolder: 'HOOK_KEY',
        validateInput: (v) => (SECRET_NAME.test(v) ? null : 'Letters, digits and _ only; not starting with a digit'),
      }));
    if (!name || !SECRET_NAME.test(name)) return undefined;
    // Automation (another extension, a test) may pass the value; people type it in a password box.
    const given = typeof arg === 'object' && arg !== null && typeof (arg as { value?: unknown }).value === 'string' ? (arg as { value: string }).value : undefined;
    const value =
      given ??
      (await vscode.window.showInputBox({ title: `Set Secret ${name}`, prompt: 'Stored in the OS keychain (VS Code SecretStorage); never written to a file', password: true, ignoreFocusOut: true }));
    if (value === undefined || value === '') return undefined;
    await deps.secrets.set(name, value);
    if (given === undefined) void vscode.window.showInformationMessage(notificationText(`Secret ${name} stored.`));
    return name;
  },
};

export const deleteSecret: CommandSpec = {
  id: 'delivery.secret.delete',
  run: async (deps, arg) => {
    const preset = typeof arg === 'object' && arg !== null && typeof (arg as { name?: unknown }).name === 'string' ? (arg as { name: string }).name : undefined;
    const name = preset ?? (await vscode.window.showInputBox({ title: 'Delete Secret', prompt: 'Name of the secret to delete' }));
    if (!name || !SECRET_NAME.test(name)) return undefined;
    await deps.secrets.delete(name);
    void vscode.window.showInformationMessage(notificationText(`Secret ${name} deleted.`));
    return name;
  },
};
