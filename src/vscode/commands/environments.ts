// Environment commands. Deploys and diffs are driven by the environments module.
import * as vscode from 'vscode';
import { EnvironmentNode } from '../views/environmentsTree';
import type { CommandDeps, CommandSpec } from './types';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { FolderState } from '../workspaceModel';

export async function environmentTarget(deps: CommandDeps, arg: unknown, placeHolder: string): Promise<{ state: FolderState; env: EnvironmentConfig } | undefined> {
  await deps.model.whenLoaded();
  if (arg instanceof EnvironmentNode) return { state: arg.state, env: arg.env };
  const all = deps.model.folders().flatMap((state) => (state.snapshot?.environments ?? []).map((env) => ({ state, env })));
  if (typeof arg === 'object' && arg !== null && typeof (arg as { environment?: unknown }).environment === 'string') {
    const a = arg as { environment: string; folder?: string };
    const found = all.find((x) => x.env.id === a.environment && (!a.folder || x.state.folder.uri.fsPath === a.folder));
    if (!found) void vscode.window.showErrorMessage(`No environment "${a.environment}" in delivery.yml.`);
    return found;
  }
  if (all.length === 0) {
    void vscode.window.showInformationMessage('No environments: describe them under `environments:` in delivery.yml.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    all.map((x) => ({ label: x.env.name, description: [x.env.id, x.env.url].filter(Boolean).join(' · '), x })),
    { placeHolder },
  );
  return pick?.x;
}

export const openUrl: CommandSpec = {
  id: 'delivery.environment.openUrl',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to open');
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

export const deploy: CommandSpec = {
  id: 'delivery.environment.deploy',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to deploy to');
    if (!t) return undefined;
    void vscode.window.showInformationMessage(`Deploying to ${t.env.name}: deploy kinds are not available in this build yet.`);
    return undefined;
  },
};

export const diff: CommandSpec = {
  id: 'delivery.environment.diff',
  run: async (deps, arg) => {
    const t = await environmentTarget(deps, arg, 'Environment to compare with the local checkout');
    if (!t) return undefined;
    void vscode.window.showInformationMessage(`Diff for ${t.env.name}: version probes are not available in this build yet.`);
    return undefined;
  },
};
