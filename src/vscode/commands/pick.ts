// Resolving a command's target: a tree node, a plain argument object (webview, API, keybinding), or a quick pick.
import * as vscode from 'vscode';
import type { ImportedPipeline } from '../../core/sources';
import type { FolderState } from '../workspaceModel';
import { pipelineKey } from '../workspaceModel';
import { JobNode, PipelineNode } from '../views/pipelinesTree';
import type { CommandDeps } from './types';
import { notificationText } from '../../core/sanitize';

export interface PipelineTarget {
  state: FolderState;
  pipeline: ImportedPipeline;
  jobs?: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** A pipeline from a PipelineNode/JobNode, `{folder, pipelineKey}` / `{folder, pipeline: id}`, or a quick pick. */
export async function pipelineTarget(deps: CommandDeps, arg: unknown, placeHolder: string): Promise<PipelineTarget | undefined> {
  await deps.model.whenLoaded();
  if (arg instanceof PipelineNode) return { state: arg.state, pipeline: arg.pipeline };
  if (arg instanceof JobNode) return { state: arg.parent.state, pipeline: arg.parent.pipeline, jobs: [arg.job.id] };
  if (isRecord(arg) && typeof arg.folder === 'string') {
    const state = deps.model.folder(arg.folder);
    const pipelines = state?.snapshot?.pipelines ?? [];
    const found =
      typeof arg.pipelineKey === 'string'
        ? pipelines.find((p) => pipelineKey(p) === arg.pipelineKey)
        : typeof arg.pipeline === 'string'
          ? pipelines.find((p) => p.def.id === arg.pipeline || `${p.def.source.kind}:${p.def.id}` === arg.pipeline)
          : undefined;
    if (!state || !found) {
      void vscode.window.showErrorMessage(notificationText(`No such pipeline: ${String(arg.pipelineKey ?? arg.pipeline)} in ${arg.folder}`));
      return undefined;
    }
    const jobs = Array.isArray(arg.jobs) ? arg.jobs.filter((j): j is string => typeof j === 'string') : undefined;
    return { state, pipeline: found, jobs };
  }
  const items = deps.model.folders().flatMap((state) =>
    (state.snapshot?.pipelines ?? []).map((pipeline) => ({
      label: pipeline.def.name,
      description: `${pipeline.def.source.file}${deps.model.folders().length > 1 ? ` — ${state.folder.name}` : ''}`,
      detail: `${pipeline.def.jobs.length} job${pipeline.def.jobs.length === 1 ? '' : 's'}: ${pipeline.def.jobs.map((j) => j.id).join(', ')}`,
      state,
      pipeline,
    })),
  );
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No pipelines in this workspace. Create a delivery.yml, a GitHub workflow or a .gitlab-ci.yml.');
    return undefined;
  }
  const choice = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
  return choice ? { state: choice.state, pipeline: choice.pipeline } : undefined;
}
