// Local git facts through execFile (simple-git waits 50 ms after a command that prints nothing, and this runs
// before every local run), cancellable with an AbortSignal.
import { execFile } from 'node:child_process';

export interface HeadInfo {
  sha: string | null;
  branch: string | null;
  ref: string | null;
  dirty: boolean;
  defaultBranch: string | null;
  remoteUrl: string | null;
  author: { name: string; email: string } | null;
}

/**
 * HEAD of the repository containing `folder`; null when it is not a git repository. Three git calls at once,
 * straight through execFile: simple-git waits 50 ms after every command that prints nothing (a clean
 * `status`, a missing config key), which made these facts cost ~200 ms of every run and status refresh.
 */
export async function headInfo(folder: string, signal?: AbortSignal): Promise<HeadInfo | null> {
  const [status, config, originHead] = await Promise.all([
    gitOutput(folder, ['--no-optional-locks', 'status', '--porcelain=v2', '--branch', '--untracked-files=normal'], signal),
    gitOutput(folder, ['config', '-z', '--get-regexp', '^(remote\\.origin\\.url|user\\.name|user\\.email)$'], signal),
    gitOutput(folder, ['symbolic-ref', '-q', '--short', 'refs/remotes/origin/HEAD'], signal),
  ]);
  if (status === null) return null; // not a work tree (or git is missing)
  let sha: string | null = null;
  let branch: string | null = null;
  let dirty = false;
  for (const line of status.split('\n')) {
    if (line.startsWith('# branch.oid ')) sha = /^[0-9a-f]{40,64}$/.test(line.slice(13)) ? line.slice(13) : null; // `(initial)`: empty repository
    else if (line.startsWith('# branch.head ')) branch = line.slice(14) === '(detached)' ? null : line.slice(14);
    else if (line !== '' && !line.startsWith('#')) dirty = true;
  }
  // `key\nvalue\0` per entry; the last value wins, as with `git config --get`.
  const values = new Map<string, string>();
  for (const entry of (config ?? '').split('\0')) {
    const nl = entry.indexOf('\n');
    if (nl > 0) values.set(entry.slice(0, nl), entry.slice(nl + 1).trim());
  }
  const name = values.get('user.name') || null;
  const defaultHead = originHead?.trim() || null;
  return {
    sha,
    branch,
    ref: branch ? `refs/heads/${branch}` : sha,
    dirty,
    defaultBranch: defaultHead ? defaultHead.replace(/^origin\//, '') : null,
    remoteUrl: values.get('remote.origin.url') || null,
    author: name ? { name, email: values.get('user.email') ?? '' } : null,
  };
}

/** stdout of `git <args>` run in `folder` (argv, no shell), or null when it fails or is cancelled. */
function gitOutput(folder: string, args: string[], signal?: AbortSignal): Promise<string | null> {
  // Like simple-git: the caller's GIT_* variables (GIT_DIR from a hook...) must not redirect git elsewhere.
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' };
  for (const [k, v] of Object.entries(process.env)) if (!/^git_/i.test(k)) env[k] = v;
  return new Promise((resolve) => {
    execFile('git', args, { cwd: folder, env, signal, maxBuffer: 32 * 1024 * 1024 }, (error, stdout) => resolve(error ? null : stdout));
  });
}
