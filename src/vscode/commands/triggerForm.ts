// What the run and trigger commands give the panel's trigger form: the folder's environments and the pipeline's
// presets in the workspace state (one store per kind of run, one entry per pipeline).
import { repositoryEnvironments } from '../../core/triggerForm';
import type { TriggerPresets } from '../panel/triggerFormController';
import { presetsOf, readPresets, withSaved } from '../remote/presets';
import type { FolderState } from '../workspaceModel';
import type { CommandDeps } from './types';

/** The environments a `type: environment` input offers: delivery.yml's and those the folder's jobs deploy to. */
export function folderEnvironments(state: FolderState): string[] {
  const snapshot = state.snapshot;
  if (!snapshot) return [];
  return repositoryEnvironments(
    snapshot.environments.map((e) => e.id),
    snapshot.pipelines.flatMap((p) => p.def.jobs),
  );
}

/** The presets of pipeline `key` kept under `storeKey` in the workspace state. */
export function storedPresets(deps: CommandDeps, storeKey: string, key: string): TriggerPresets {
  const store = deps.context.workspaceState;
  return {
    saved: () => presetsOf(readPresets(store.get<unknown>(storeKey)), key).saved,
    save: (name, preset) => store.update(storeKey, withSaved(readPresets(store.get<unknown>(storeKey)), key, name, preset)),
  };
}
