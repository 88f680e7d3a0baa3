// Pipeline sources: each file kind (delivery.yml, GitHub workflows, .gitlab-ci.yml) has an importer that reads it
// into PipelineDefs with located problems, and each imported pipeline knows how to plan a run of itself.
import type { PipelineDef, Problem, RemoteEngineKind, SourceKind } from '../shared/model';
import type { RunPlan } from './engine/plan';
import type { RunRequest } from './engine/select';
import type { HostFacts } from './clock';
import type { Toolchain } from './github/toolchains';
import { parseDeliveryConfig, DELIVERY_FILE, type EnvironmentConfig } from './config/delivery';
import { planDeliveryPipeline } from './engine/planDelivery';
import { blockingProblems } from './targeting';

export interface SourceFile {
  /** Path relative to the workspace folder, forward slashes. */
  path: string;
  text: string;
}

/**
 * File access an importer may use (includes, local actions). Paths are relative to the workspace folder, and
 * nothing outside it is read or listed.
 */
export interface ImportContext {
  /**
   * The file's text, or null when it does not exist. Rejects, with a message that names the file and says why,
   * when the file is not read: it resolves outside the folder (a symlink, `..`), is not a regular file (a FIFO, a
   * device, a folder) or is too large.
   */
  readFile(rel: string): Promise<string | null>;
  /** Relative paths of the regular files inside the folder matching a glob (`*`, `**`, `?`). */
  listFiles(glob: string): Promise<string[]>;
}

/** File access a planner may need at run time (step files such as GITHUB_ENV, job scratch folders). */
export interface PlanIO {
  /** A fresh empty folder for the run's scratch files (removed by the caller after the run). */
  /**
   * Whether steps can run in containers here: null when a container engine answers, else why not (steps that need
   * one are then unsupported, naming it). Absent: no engine.
   */
  containerReady?(): Promise<string | null>;
  tempDir(prefix: string): Promise<string>;
  /** A scratch file's text (size-capped), or null when it is missing or unreadable. */
  readText(path: string): Promise<string | null>;
  /**
   * A file of the repository at `folder` (`rel` relative to it), with ImportContext.readFile's rules: null when
   * missing, rejects with the reason when it is outside the repository, not a regular file or too large.
   */
  readRepoFile(folder: string, rel: string): Promise<string | null>;
  writeText(path: string, text: string): Promise<void>;
  /**
   * Makes each of `paths` an empty file, replacing what is there (GITHUB_OUTPUT and the other step files). Absent:
   * writeText(path, '') each. An adapter may reuse files given back by recycleFiles in the same folder (creating a
   * file costs many times what renaming and truncating one does on some file systems).
   */
  freshFiles?(paths: string[]): Promise<void>;
  /** Files of freshFiles that were read and are needed no more: a later freshFiles in their folder may reuse them. */
  recycleFiles?(paths: string[]): void;
  /**
   * A folder of tempDir its job is done with: emptied but for the names in `keep` (and files given to recycleFiles),
   * it may be a later tempDir of the same prefix in this run.
   */
  releaseDir?(dir: string, keep: string[]): void;
  /**
   * GitHub's hashFiles() over the repository at `folder` (adapters/hashFiles.ts): `args` as the expression gives
   * them; '' when nothing matches; throws with the reason. Synchronous, as expressions are evaluated.
   */
  hashFiles?(folder: string, args: string[]): string;
  /** Where remote actions (`uses: owner/repo@ref`) come from; absent: they are not fetched in this run. */
  actions?: ActionSource;
  /**
   * This machine's version of a toolchain (`node --version`, `python3 --version`, `go version`, `java -version`),
   * as the tool prints it without its name (`20.20.2`); null when the command is missing or says nothing we read.
   * Absent: setup actions (actions/setup-node, …) are unsupported in this run.
   */
  toolVersion?(tool: Toolchain): Promise<string | null>;
}

/** A remote action named by a workflow (`owner/repo[/path]@ref`), its parts checked (core/github/actions.ts). */
export interface RemoteActionRef {
  owner: string;
  repo: string;
  /** Folder of the action inside the repository ('' for its root), forward slashes. */
  path: string;
  ref: string;
}

/** A remote action's repository at a commit, on this machine (read-only: shared by runs). */
export interface FetchedAction {
  /** Absolute folder of the repository's files at that commit. */
  root: string;
  commit: string;
  /** Whether it was fetched now or found in the cache (and why the host was not asked). */
  source: 'fetched' | 'cache';
  /** The host's answer when it could not be reached and the cache served the action. */
  note: string | null;
}

/** Fetches remote actions from a git host (adapters: actions/gitActions.ts), keeping a cache by repository and commit. */
export interface ActionSource {
  /** Base URL of the host (https://github.com, a GitHub Enterprise Server, file:// in tests). */
  readonly host: string;
  /** The action's repository at `ref`, or why it cannot be had (host unreachable and not in the cache, no such ref). */
  fetch(ref: RemoteActionRef, signal?: AbortSignal): Promise<FetchedAction | { unsupported: string }>;
}

export interface PlanContext {
  /** Absolute path of the workspace folder. */
  folder: string;
  /** When the run starts, in ms since the epoch (adapters: planFacts()). */
  now: number;
  /** The machine the run happens on (adapters: hostFacts). */
  host: HostFacts;
  /** Local git facts, where known. */
  git?: {
    sha: string | null;
    ref: string | null;
    branch: string | null;
    /** Default branch of the repository (origin/HEAD), when known. */
    defaultBranch?: string | null;
    /** URL of the `origin` remote, when there is one. */
    remoteUrl?: string | null;
    author?: { name: string; email: string } | null;
  };
  /** Variables from outside the file (CLI --variable, settings), applied last. */
  variables?: Record<string, string>;
  io?: PlanIO;
  /**
   * Where a job runs when it runs in a workspace of its own (its planned id -> an absolute path that does not exist
   * yet; the engine makes it); absent: every job runs in the folder.
   */
  workspaceFor?: (jobId: string) => string | null;
  /**
   * The run's choice (--workspace, DELIVERY_WORKSPACE, the setting): every job isolated or every job in the folder.
   * Absent: each source's default (GitHub: isolated; GitLab: the folder; delivery.yml: a job's `workspace:`).
   */
  workspace?: 'shared' | 'isolated';
}

export interface ImportedPipeline {
  def: PipelineDef;
  plan(request: RunRequest, ctx: PlanContext): RunPlan | { error: string } | Promise<RunPlan | { error: string }>;
}

export { pipelineByName } from './targeting';

export interface ImportResult {
  pipelines: ImportedPipeline[];
  environments: EnvironmentConfig[];
  problems: Problem[];
  /** Other files this result depends on (included files): a change to one of them re-imports this file. */
  dependsOn: string[];
}

export interface Importer {
  kind: SourceKind;
  /** Globs (relative to the folder) of the files this importer reads. */
  patterns: readonly string[];
  matches(rel: string): boolean;
  parse(file: SourceFile, ctx: ImportContext): Promise<ImportResult>;
  /**
   * A pipeline listed from an earlier import (kept between sessions) that plans without importing its file first:
   * for importers whose plan reads the file again anyway. Without it, a plan imports the file and then plans.
   */
  revive?(def: PipelineDef, file: string, ctx: ImportContext): ImportedPipeline;
}

export const deliveryImporter: Importer = {
  kind: 'delivery',
  patterns: [DELIVERY_FILE],
  matches: (rel) => rel === DELIVERY_FILE,
  async parse(file) {
    const cfg = parseDeliveryConfig(file.text, file.path);
    const hasErrors = blockingProblems(cfg.problems).length > 0;
    return {
      pipelines: cfg.pipelines.map((def) => ({
        def,
        plan: (request, ctx) =>
          hasErrors
            ? { error: `${file.path} has errors; fix them first (see Problems)` }
            : planDeliveryPipeline(def, ctx.folder, request, ctx),
      })),
      environments: cfg.environments,
      problems: cfg.problems,
      dependsOn: [],
    };
  },
};


/**
 * A pipeline source: its importer (which files, how they are read) and how the product shows and runs its
 * pipelines. One per SourceKind, registered in core/importers.ts (SOURCES).
 */
export interface PipelineSourceDescriptor<K extends SourceKind = SourceKind> {
  kind: K;
  /** The source in the Pipelines tree: "GitHub Actions". */
  label: string;
  /** Codicon of the source's row. */
  icon: string;
  /** Codicon of a pipeline's row before its first run. */
  pipelineIcon: string;
  /** Reads the source's files (its `kind` is this descriptor's). */
  importer: Importer;
  /**
   * Where its pipelines run remotely when they have no `remote:`: on the engine of the repository's git remote
   * (the engine derives the target), or nowhere (`none` says what to write instead).
   */
  remote: { engine: RemoteEngineKind } | { none(def: PipelineDef): string };
  /** A job without `needs` waits for the jobs of the stages before its own (GitLab); false: only `needs` orders jobs. */
  stagesOrderJobs: boolean;
}

export const deliverySource: PipelineSourceDescriptor<'delivery'> = {
  kind: 'delivery',
  label: DELIVERY_FILE,
  icon: 'rocket',
  pipelineIcon: 'rocket',
  importer: deliveryImporter,
  stagesOrderJobs: false,
  remote: {
    none: (def) =>
      `pipeline "${def.id}" in ${def.source.file} has no "remote:"; name where it runs, e.g. ` +
      `remote: { buildbot: { url: http://127.0.0.1:8010, builder: ${def.id} } } or remote: { github: { repo: owner/name, workflow: ${def.id}.yml } }`,
  },
};
