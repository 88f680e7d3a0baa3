// Local git facts: read from the repository's files where their layout is the common one (gitFiles.ts), else
// through execFile (simple-git waits 50 ms after a command that prints nothing, and this runs before every local
// run), cancellable with an AbortSignal.
import { execFile } from 'node:child_process';
import { ASK_GIT, type AskGit, locateRepo, readConfigs, readHead, readOriginHead } from './gitFiles';

/** What a run needs to know about HEAD: no `git` process in the common case. */
export interface HeadFacts {
  sha: string | null;
  branch: string | null;
  ref: string | null;
  defaultBranch: string | null;
  remoteUrl: string | null;
  author: { name: string; email: string } | null;
}

export interface HeadInfo extends HeadFacts {
  dirty: boolean;
}

export interface GitFactsOptions {
  /** The environment git runs with and whose HOME / XDG_CONFIG_HOME / PATH locate its config (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Runs `git <args>` in the folder: stdout, or null when it fails (default: execFile; tests count the calls). */
  runGit?: GitRunner;
}

export type GitRunner = (folder: string, args: string[], signal: AbortSignal | undefined, env: NodeJS.ProcessEnv) => Promise<string | null>;

/**
 * HEAD of the repository containing `folder` with whether the work tree is dirty (one `git status`; the rest
 * from the files); null when it is not a git repository.
 */
export async function headInfo(folder: string, signal?: AbortSignal, opts: GitFactsOptions = {}): Promise<HeadInfo | null> {
  return (await gitFacts(folder, true, signal, opts)) as HeadInfo | null;
}

/**
 * HEAD of the repository containing `folder`, its branch, origin URL, default branch and configured author,
 * without `dirty`: read from the repository's files, with `git` only when their layout is unusual (see
 * gitFiles.ts). null when it is not a git repository.
 */
export async function headFacts(folder: string, signal?: AbortSignal, opts: GitFactsOptions = {}): Promise<HeadFacts | null> {
  return gitFacts(folder, false, signal, opts);
}

async function gitFacts(folder: string, withDirty: boolean, signal: AbortSignal | undefined, opts: GitFactsOptions): Promise<HeadFacts | HeadInfo | null> {
  const env = opts.env ?? process.env;
  const git = (args: string[]) => (opts.runGit ?? gitOutput)(folder, args, signal, env);
  const repo = await locateRepo(folder);
  if (repo === null) return null;
  const files = repo === ASK_GIT ? null : repo;
  const askGit = Promise.resolve<AskGit>(ASK_GIT);
  const [head, configs, originHead] = await Promise.all([
    files && !withDirty ? readHead(files) : askGit,
    files ? readConfigs(files, env) : askGit,
    files ? readOriginHead(files) : askGit,
  ]);
  // What the files could not answer, git does (at once).
  const [status, config, gitOriginHead] = await Promise.all([
    head === ASK_GIT ? git(['--no-optional-locks', 'status', '--porcelain=v2', '--branch', `--untracked-files=${withDirty ? 'normal' : 'no'}`]) : null,
    configs === ASK_GIT ? git(['config', '-z', '--get-regexp', '^(remote\\.origin\\.url|user\\.name|user\\.email)$']) : null,
    originHead === ASK_GIT ? git(['symbolic-ref', '-q', '--short', 'refs/remotes/origin/HEAD']) : null,
  ]);
  let sha: string | null = null;
  let branch: string | null = null;
  let dirty = false;
  if (head !== ASK_GIT) ({ sha, branch } = head);
  else {
    if (status === null) return null; // not a work tree (or git is missing)
    for (const line of status.split('\n')) {
      if (line.startsWith('# branch.oid ')) sha = /^[0-9a-f]{40,64}$/.test(line.slice(13)) ? line.slice(13) : null; // `(initial)`: empty repository
      else if (line.startsWith('# branch.head ')) branch = line.slice(14) === '(detached)' ? null : line.slice(14);
      else if (line !== '' && !line.startsWith('#')) dirty = true;
    }
  }
  // The last value wins, as with `git config --get`; a key without a value does not count.
  const values = new Map<string, string>();
  if (configs !== ASK_GIT) {
    for (const { name, value } of configs) if (value !== null) values.set(name, value.trim());
  } else {
    // `key\nvalue\0` per entry.
    for (const entry of (config ?? '').split('\0')) {
      const nl = entry.indexOf('\n');
      if (nl > 0) values.set(entry.slice(0, nl), entry.slice(nl + 1).trim());
    }
  }
  const name = values.get('user.name') || null;
  const defaultHead = originHead !== ASK_GIT ? originHead : gitOriginHead?.trim().replace(/^origin\//, '') || null;
  const facts: HeadFacts = {
    sha,
    branch,
    ref: branch ? `refs/heads/${branch}` : sha,
    defaultBranch: defaultHead || null,
    remoteUrl: values.get('remote.origin.url') || null,
    author: name ? { name, email: values.get('user.email') ?? '' } : null,
  };
  return withDirty ? { ...facts, dirty } : facts;
}

/** stdout of `git <args>` run in `folder` (argv, no shell), or null when it fails or is cancelled. */
export function gitOutput(folder: string, args: string[], signal: AbortSignal | undefined, base: NodeJS.ProcessEnv): Promise<string | null> {
  // Like simple-git: the caller's GIT_* variables (GIT_DIR from a hook...) must not redirect git elsewhere.
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' };
  for (const [k, v] of Object.entries(base)) if (!/^git_/i.test(k)) env[k] = v;
  return new Promise((resolve) => {
    execFile('git', args, { cwd: folder, env, signal, maxBuffer: 32 * 1024 * 1024 }, (error, stdout) => resolve(error ? null : stdout));
  });
}
