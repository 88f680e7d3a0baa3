// Starting a local run of an imported pipeline: shared by the VS Code extension and the CLI.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ActionSource, PlanIO } from '../core/sources';
import { startRun, type EngineOptions, type RunHandle } from '../core/engine/engine';
import type { RunRequest, WorkspaceMode } from '../core/engine/select';
import { maskPlanNames, type Masker } from '../core/secrets';
import type { ImportedPipeline } from '../core/sources';
import type { RunRecord } from '../shared/model';
import { planFacts, systemClock } from './clock';
import { localExecutors } from './executors';
import { containerReady } from './executors/container';
import { runWorkspaces } from './workspaces';
import { scratchPool } from './scratch';
import { LocalWorkspaceFiles, localPlanIO } from './files';
import { headFacts } from './git';
import { LocalProcessRunner, orphanMark } from './processRunner';
import { type FileRunStore, newRunId } from './runStore';

export interface LocalRunOptions {
  folder: string;
  store: FileRunStore;
  trigger: RunRecord['trigger'];
  parallelism?: number;
  /** Secrets to mask in the output, the logs and the record. */
  masker?: Masker;
  /** Skip reading git facts (faster; the run records no commit). */
  noGit?: boolean;
  runner?: EngineOptions['runner'];
  /** The container engine's command (docker, podman, a path); default: DELIVERY_CONTAINER_ENGINE, docker, podman. */
  containerEngine?: string;
  /** A new attempt of this run (its failed jobs run again, the others keep their result). */
  rerunOf?: RunRecord;
  /** Where remote actions (`uses: owner/repo@ref`) come from, for the plan and the run; absent: localPlanIO's. */
  actions?: ActionSource;
}

export async function startLocalRun(
  pipeline: ImportedPipeline,
  request: RunRequest,
  opts: LocalRunOptions,
): Promise<RunHandle | { error: string }> {
  const git = opts.noGit ? null : await headFacts(opts.folder).catch(() => null);
  // Scratch folders the planner makes (GITHUB_ENV files, file variables) serve the run's jobs one after another and
  // go when the run ends.
  const scratch = scratchPool();
  const io: PlanIO = {
    ...localPlanIO,
    ...(opts.actions ? { actions: opts.actions } : {}),
    containerReady: () => containerReady(opts.containerEngine),
    tempDir: scratch.tempDir,
    freshFiles: scratch.freshFiles,
    recycleFiles: scratch.recycleFiles,
    releaseDir: scratch.releaseDir,
  };
  const removeScratch = () => Promise.all(scratch.made.map((d) => fs.promises.rm(d, { recursive: true, force: true }).catch(() => undefined)));
  const id = newRunId();
  const slugs = new Set<string>();
  const workspaceFor = (jobId: string) => {
    // One folder per planned job, named after it (readable in the run's folder), unique in the run.
    const base = jobId.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80) || 'job';
    let slug = base;
    for (let n = 2; slugs.has(slug); n++) slug = `${base}-${n}`;
    slugs.add(slug);
    return path.join(opts.store.runDir(id), 'workspaces', slug);
  };
  const mode = workspaceMode(request);
  const plan = await pipeline.plan(request, {
    folder: opts.folder,
    workspaceFor,
    ...(mode ? { workspace: mode } : {}),
    ...planFacts(),
    git: git ? { sha: git.sha, ref: git.ref, branch: git.branch, defaultBranch: git.defaultBranch, remoteUrl: git.remoteUrl, author: git.author } : undefined,
    variables: request.variables,
    io,
  });
  if ('error' in plan) {
    await removeScratch();
    return plan;
  }
  // No job of the run works in the folder itself: the run's workspaces may be made from one reading of it.
  const isolated = plan.jobs.filter((j) => j.workspace && !j.unsupported);
  const workspaces = runWorkspaces({ reuse: plan.jobs.every((j) => j.workspace || j.unsupported || j.expand), planned: isolated.length });
  const handle = startRun(
    maskPlanNames(plan, opts.masker),
    { id, folder: opts.folder, trigger: opts.trigger, sha: git?.sha ?? null, pid: process.pid, ...(opts.rerunOf ? { rerunOf: opts.rerunOf } : {}) },
    {
      runner: opts.runner ?? new LocalProcessRunner({ ownerMark: orphanMark('run', id) }),
      // A runner given by the caller runs every job itself (tests that count or shape processes).
      executors: opts.runner ? undefined : localExecutors({ ownerMark: orphanMark('run', id), masker: opts.masker, containerEngine: opts.containerEngine }),
      store: opts.store,
      workspaces,
      files: new LocalWorkspaceFiles(opts.folder),
      parallelism: opts.parallelism ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
      masker: opts.masker,
      clock: systemClock,
      // What the plan's steps need while they run (step files, actions; workspaces of jobs made as the run goes).
      ports: { io, workspaceFor },
    },
  );
  // The run is done once what its workspaces and scratch folders left behind (a spare, succeeded jobs' folders) is gone.
  return { ...handle, done: handle.done.then(async (record) => (await Promise.all([workspaces.close(), removeScratch()]), record)) };
}

/**
 * The run's choice of workspaces: the request's, else DELIVERY_WORKSPACE (shared|isolated); undefined: each
 * source's default (GitHub jobs isolated, as each gets a fresh checkout on GitHub; GitLab jobs in the folder, as
 * gitlab-ci-local runs them; delivery.yml jobs as their `workspace:` says, else in the folder).
 */
export function workspaceMode(request: RunRequest): WorkspaceMode | undefined {
  if (request.workspace) return request.workspace;
  const env = process.env.DELIVERY_WORKSPACE;
  return env === 'shared' || env === 'isolated' ? env : undefined;
}
