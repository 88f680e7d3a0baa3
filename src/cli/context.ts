// What every CLI command gets, and the error type for bad usage (exit status 2).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources, type FolderSnapshot } from '../adapters/folderSources';
import { SOURCE_CACHE_FILE, SourceCache } from '../adapters/sourceCache';
import { folderStateDir } from '../adapters/stateDir';
import type { Masker } from '../core/secrets';
import { problemLine } from '../core/targeting';

export class UsageError extends Error {}

/** The folder a command works on cannot be used (exit status 2, without the usage text). */
export class FolderError extends Error {}

/**
 * The workspace folder of a command: `--cwd` (default: the current directory), which must be a folder; inside a
 * git repository, the repository's root as git finds it (the nearest folder upwards holding `.git`), so a command
 * run from a subfolder sees the repository's delivery.yml and workflows.
 */
export function workspaceFolder(given: string | undefined, cwd: string): string {
  const abs = path.resolve(cwd, given ?? '.');
  const what = given === undefined ? `the current directory (${abs})` : `--cwd ${given}`;
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FolderError(code === 'ENOENT' || code === 'ENOTDIR' ? `${what}: no such folder` : `${what}: cannot be read (${code ?? (e as Error).message})`);
  }
  if (!st.isDirectory()) throw new FolderError(`${what}: not a folder`);
  for (let dir = abs; ; ) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return abs;
    dir = up;
  }
}

export interface CliOptions {
  json: boolean;
  needs: boolean;
  parallel?: number;
  yes: boolean;
  ref?: string;
  to?: string;
  variables: Record<string, string>;
  unsetVariables: string[];
  /** Run the jobs of this stage (run command). */
  stage?: string;
  manual: string[];
  forceShellExecutor: boolean;
  /** --workspace: shared or isolated (checked where it is used). */
  workspace?: string;
  /** run: where remote actions are fetched from (--actions-host; default DELIVERY_ACTIONS_HOST, else https://github.com). */
  actionsHost?: string;
  /** run: GitHub runs-on labels mapped to "host" or an image (--platform LABEL=VALUE, as given). */
  platforms?: string[];
  /** remote trigger, run: --input NAME=VALUE, as given. */
  inputs?: string[];
  /** run: the event the run stands for (--event NAME). */
  event?: string;
  /** run: a JSON file, the event's payload (--event-payload FILE). */
  eventPayload?: string;
  /** run: --secret NAME (its value from the environment) or NAME=VALUE, as given. */
  secrets?: string[];
  /** run: dotenv files of secrets (--secret-file FILE). */
  secretFiles?: string[];
  /** remote trigger / rerun: wait for the run to end. */
  wait?: boolean;
  /** remote logs: follow until the run ends. */
  follow?: boolean;
  /** remote runs: how many (default 20). */
  limit?: number;
  /** remote runs: only runs of this branch. */
  branch?: string;
  /** remote logs/cancel/rerun: the pipeline of a run named by its bare id. */
  pipeline?: string;
  /** remote: API hosts named by delivery.yml that may get the token (--trust-api-host, repeatable). */
  trustApiHosts?: string[];
  /** lock acquire/release, deploy: a message recorded with the lock and in the history (-m, --message). */
  message?: string;
  /** lock release: release someone else's lock (recorded). */
  force?: boolean;
}

export interface CliContext {
  /** Absolute path of the workspace folder (--cwd). */
  folder: string;
  args: string[];
  options: CliOptions;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where progress goes: stderr with --json (stdout stays pure JSON), else stdout. */
  progress: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Set when the user interrupts (Ctrl-C): commands cancel their work. */
  signal: AbortSignal;
  /** What stdout and stderr mask; a command adds the secrets it is given (run --secret). */
  masker?: Masker;
}

export async function loadFolder(folder: string): Promise<FolderSnapshot> {
  // What was imported in an earlier session and has not changed since is not parsed again.
  const sources = new FolderSources(folder, undefined, { cache: new SourceCache(path.join(folderStateDir(folder), SOURCE_CACHE_FILE.cli)) });
  const snapshot = await sources.loadAll();
  // The CLI exits soon after: a write cut short would lose the cache (and leave its temporary file).
  await sources.saved();
  return snapshot;
}

export function printProblems(snapshot: FolderSnapshot, stream: NodeJS.WritableStream): void {
  for (const p of snapshot.problems) stream.write(`${problemLine(p)}\n`);
}

export type CliCommand = (ctx: CliContext) => Promise<number>;
