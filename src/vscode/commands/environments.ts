// Environment commands. Deploys and diffs are driven by the environments module.
import * as vscode from 'vscode';
import { deployFlow, type DeployFlowDeps } from '../environments/deployFlow';
import { command, type CommandDeps } from './types';
import type { EnvironmentArg } from '../../shared/commandArgs';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { FolderState } from '../workspaceModel';
import { SECRET_NAME } from '../secrets';
import { notificationText } from '../../core/sanitize';
import { features } from '../lazy';

/** The environment a command acts on: the one named by `arg` (a tree row or `{environment, folder?}`), or a quick pick (skipped when there is one and `single` allows it). */
export async function environmentTarget(
  deps: CommandDeps,
  arg: EnvironmentArg | null,
  placeHolder: string,
  single: 'pick' | 'ask' = 'ask',
  only: (env: EnvironmentConfig) => boolean = () => true,
): Promise<{ state: FolderState; env: EnvironmentConfig } | undefined> {
  await deps.model.whenLoaded();
  const every = deps.model.folders().flatMap((state) => (state.snapshot?.environments ?? []).map((env) => ({ state, env })));
  // Asked (no argument): only the environments the command applies to.
  const all = arg ? every : every.filter((x) => only(x.env));
  if (arg) {
    const found = all.find((x) => x.env.id === arg.environment && (!arg.folder || x.state.folder.uri.fsPath === arg.folder));
    if (!found) void vscode.window.showErrorMessage(notificationText(`No environment "${arg.environment}" in delivery.yml.`));
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

export const openUrl = command('delivery.environment.openUrl', async (deps, arg) => {
  const t = await environmentTarget(deps, arg, 'Environment to open', 'pick');
  if (!t?.env.url) return;
  await vscode.env.openExternal(vscode.Uri.parse(t.env.url));
});

export const selectStatusEnvironment = command('delivery.statusBar.selectEnvironment', async (deps, arg) => {
  const t = await environmentTarget(deps, arg, 'Environment for the status-bar deploy indicator');
  if (!t) return undefined;
  await vscode.workspace.getConfiguration('delivery', t.state.folder.uri).update('statusBar.environment', t.env.id, vscode.ConfigurationTarget.Workspace);
  return t.env.id;
});

function flowDeps(deps: CommandDeps): DeployFlowDeps {
  return { envs: deps.envs, log: deps.log, apiHosts: deps.remote.apiHosts, showDiff: async (state, envId, ref) => void (await deps.board.showDiff(state, envId, ref)) };
}

export const deploy = command('delivery.environment.deploy', async (deps, arg) => {
  const t = await environmentTarget(deps, arg, 'Environment to deploy to');
  if (!t) return undefined;
  return deployFlow(flowDeps(deps), t, 'deploy', { ref: arg?.ref });
});

export const rollback = command('delivery.environment.rollback', async (deps, arg) => {
  const t = await environmentTarget(deps, arg, 'Environment to roll back');
  if (!t) return undefined;
  // Without a commit named (the palette, the environment's row): pick one of the deploy history's.
  const to = arg?.to ?? (await pickRollbackTarget(deps, t));
  if (to === undefined) return undefined;
  return deployFlow(flowDeps(deps), t, 'rollback', { to });
});

/** The commit to roll back to, picked from the commits the environment's history deployed successfully. */
async function pickRollbackTarget(deps: CommandDeps, t: { state: FolderState; env: EnvironmentConfig }): Promise<string | undefined> {
  const { rollbackOptions } = await features();
  const services = { stateDir: t.state.store.stateDir, secrets: deps.envs.secrets.resolver, masker: deps.envs.secrets.masker };
  let options: Awaited<ReturnType<typeof rollbackOptions>>;
  try {
    options = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Roll back ${t.env.name}: reading its deploy history…` }, () =>
      rollbackOptions(t.state.folder.uri.fsPath, t.env, services),
    );
  } catch (e) {
    void vscode.window.showErrorMessage(notificationText(`Cannot roll back ${t.env.name}: ${(e as Error).message}`));
    return undefined;
  }
  const runs = options.current ? ` (it runs ${options.current.slice(0, 7)})` : '';
  if (options.choices.length === 0) {
    void vscode.window.showInformationMessage(notificationText(`${t.env.name} has no earlier successful deploy to roll back to${runs}.`));
    return undefined;
  }
  const items = options.choices.map((c, i) => ({
    label: `$(git-commit) ${c.sha.slice(0, 7)}`,
    description: [c.message, i === 0 ? 'the deploy before the current one' : null].filter(Boolean).join(' · '),
    detail: `deployed ${new Date(c.startedAt).toLocaleString()} by ${c.user}${c.action !== 'deploy' ? ` (${c.action})` : ''}`,
    sha: c.sha,
  }));
  const pick = await vscode.window.showQuickPick(items, {
    title: `Roll back ${t.env.name}${runs} to…`,
    placeHolder: 'A commit this environment ran before; the diff opens next, then you confirm',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return pick?.sha;
}

export const promote = command('delivery.environment.promote', async (deps, arg) => {
  const t = await environmentTarget(deps, arg, 'Environment to promote to (it gets what the one it promotes from runs)', 'ask', (env) => env.promotesFrom !== null && env.promotesFrom !== undefined);
  if (!t) return undefined;
  return deployFlow(flowDeps(deps), t, 'promote');
});

export const diff = command('delivery.environment.diff', async (deps, arg) => {
  const t = await environmentTarget(deps, arg, 'Environment to compare with the local checkout', 'pick');
  if (!t) return undefined;
  if (!t.env.version) {
    void vscode.window.showErrorMessage(notificationText(`${t.env.name} has no "version" in delivery.yml, so what it runs is unknown.`));
    return undefined;
  }
  const to = arg?.to;
  if (to !== undefined && !deps.envs.find(t.state.folder.uri.fsPath, to)) {
    void vscode.window.showErrorMessage(notificationText(`No environment "${to}" to compare ${t.env.name} with.`));
    return undefined;
  }
  return deps.board.showDiff(t.state, t.env.id, arg?.ref, to);
});

export const refreshEnvironments = command('delivery.environment.refresh', async (deps) => {
  // Probing every environment can take seconds: said while it runs, and what it found when it is done.
  const n = deps.envs.environments().length;
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Checking ${n} environment${n === 1 ? '' : 's'}…` }, () => deps.envs.refresh(true));
  vscode.window.setStatusBarMessage(`$(check) Environments checked (${n})`, 4000);
});

export const statusBarActions = command('delivery.statusBar.actions', async (deps) => {
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
});

export const setSecret = command('delivery.secret.set', async (deps, arg) => {
  const name =
    arg?.name ??
    (await vscode.window.showInputBox({
      title: 'Set Secret',
      prompt: 'Name used as ${secret:NAME} in delivery.yml',
      placeHolder: 'HOOK_KEY',
      validateInput: (v) => (SECRET_NAME.test(v) ? null : 'Letters, digits and _ only; not starting with a digit'),
    }));
  if (!name || !SECRET_NAME.test(name)) return undefined;
  // Automation (another extension, a test) may pass the value; people type it in a password box.
  const given = arg?.value;
  const value =
    given ??
    (await vscode.window.showInputBox({ title: `Set Secret ${name}`, prompt: 'Stored in the OS keychain (VS Code SecretStorage); never written to a file', password: true, ignoreFocusOut: true }));
  if (value === undefined || value === '') return undefined;
  await deps.secrets.set(name, value);
  if (given === undefined) void vscode.window.showInformationMessage(notificationText(`Secret ${name} stored.`));
  return name;
});

export const deleteSecret = command('delivery.secret.delete', async (deps, arg) => {
  const name = arg?.name ?? (await vscode.window.showInputBox({ title: 'Delete Secret', prompt: 'Name of the secret to delete' }));
  if (!name || !SECRET_NAME.test(name)) return undefined;
  await deps.secrets.delete(name);
  void vscode.window.showInformationMessage(notificationText(`Secret ${name} deleted.`));
  return name;
});
