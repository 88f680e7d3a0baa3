// Resolving a command's target: the parsed argument (a tree row's ids or a JSON object), or a quick pick.
import * as vscode from 'vscode';
import type { ImportedPipeline } from '../../core/sources';
import type { FolderState } from '../workspaceModel';
import { pipelineByKeyOrName } from '../../core/targeting';
import type { PipelineArg } from '../../shared/commandArgs';
import type { CommandDeps } from './types';
import { notificationText } from '../../core/sanitize';

export interface PipelineTarget {
  state: FolderState;
  pipeline: ImportedPipeline;
  jobs?: string[];
}

/** The pipeline `arg` names (`{folder, pipelineKey}` / `{folder, pipeline: name}`, from a tree row or JSON), or a quick pick. */
export async function pipelineTarget(deps: CommandDeps, arg: PipelineArg | null, placeHolder: string): Promise<PipelineTarget | undefined> {
  await deps.model.whenLoaded();
  if (arg) {
    const state = deps.model.folder(arg.folder);
    const pipelines = state?.snapshot?.pipelines ?? [];
    const name = arg.pipelineKey ?? arg.pipeline;
    const found = name === undefined ? undefined : pipelineByKeyOrName(pipelines, name);
    if (!state || !found || 'error' in found) {
      void vscode.window.showErrorMessage(notificationText(`No such pipeline: ${found && 'error' in found ? found.error : String(name)} in ${arg.folder}`));
      return undefined;
    }
    return { state, pipeline: found.pipeline, jobs: arg.jobs };
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
