// What every CLI command gets, and the error type for bad usage (exit status 2).
import { FolderSources, type FolderSnapshot } from '../adapters/folderSources';
import { problemLine } from '../core/targeting';

export class UsageError extends Error {}

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
  allowImages: boolean;
  /** remote trigger: --input NAME=VALUE, as given. */
  inputs?: string[];
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
}

export async function loadFolder(folder: string): Promise<FolderSnapshot> {
  return new FolderSources(folder).loadAll();
}

export function printProblems(snapshot: FolderSnapshot, stream: NodeJS.WritableStream): void {
  for (const p of snapshot.problems) stream.write(`${problemLine(p)}\n`);
}

export type CliCommand = (ctx: CliContext) => Promise<number>;
