// Starting a local run of an imported pipeline: shared by the VS Code extension and the CLI.
import * as os from 'node:os';
import { startRun, type EngineOptions, type RunHandle } from '../core/engine/engine';
import type { RunRequest } from '../core/engine/select';
import type { ImportedPipeline } from '../core/sources';
import type { RunRecord } from '../shared/model';
import { LocalWorkspaceFiles, localPlanIO } from './files';
import { headInfo } from './git';
import { LocalProcessRunner } from './processRunner';
import { type FileRunStore, newRunId } from './runStore';

export interface LocalRunOptions {
  folder: string;
  store: FileRunStore;
  trigger: RunRecord['trigger'];
  parallelism?: number;
  redact?: (s: string) => string;
  /** Skip reading git facts (faster; the run records no commit). */
  noGit?: boolean;
  runner?: EngineOptions['runner'];
}

export async function startLocalRun(
  pipeline: ImportedPipeline,
  request: RunRequest,
  opts: LocalRunOptions,
): Promise<RunHandle | { error: string }> {
  const git = opts.noGit ? null : await headInfo(opts.folder).catch(() => null);
  const plan = await pipeline.plan(request, {
    folder: opts.folder,
    git: git ? { sha: git.sha, ref: git.ref, branch: git.branch, defaultBranch: git.defaultBranch, remoteUrl: git.remoteUrl, author: git.author } : undefined,
    variables: request.variables,
    io: localPlanIO,
  });
  if ('error' in plan) return plan;
  return startRun(
    plan,
    { id: newRunId(), folder: opts.folder, trigger: opts.trigger, sha: git?.sha ?? null, pid: process.pid },
    {
      runner: opts.runner ?? new LocalProcessRunner(),
      store: opts.store,
      files: new LocalWorkspaceFiles(),
      parallelism: opts.parallelism ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
      redact: opts.redact,
    },
  );
}
