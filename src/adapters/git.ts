// Local git facts through simple-git, cancellable with an AbortSignal.
import { simpleGit, type SimpleGit } from 'simple-git';

export interface HeadInfo {
  sha: string | null;
  branch: string | null;
  ref: string | null;
  dirty: boolean;
  defaultBranch: string | null;
  remoteUrl: string | null;
  author: { name: string; email: string } | null;
}

export function gitAt(folder: string, signal?: AbortSignal): SimpleGit {
  return simpleGit({ baseDir: folder, abort: signal, maxConcurrentProcesses: 4, trimmed: false });
}

/** HEAD of the repository containing `folder`; null when it is not a git repository. */
export async function headInfo(folder: string, signal?: AbortSignal): Promise<HeadInfo | null> {
  const git = gitAt(folder, signal);
  try {
    if (!(await git.checkIsRepo())) return null;
  } catch {
    return null;
  }
  let sha: string | null = null;
  try {
    sha = (await git.revparse(['--verify', '-q', 'HEAD'])).trim() || null;
  } catch {
    sha = null; // empty repository
  }
  let branch: string | null = null;
  try {
    const b = (await git.raw(['symbolic-ref', '-q', '--short', 'HEAD'])).trim();
    branch = b || null;
  } catch {
    branch = null; // detached HEAD
  }
  let dirty = false;
  try {
    dirty = (await git.raw(['status', '--porcelain', '--untracked-files=normal'])).trim().length > 0;
  } catch {
    dirty = false;
  }
  const optional = async (args: string[]): Promise<string | null> => {
    try {
      return (await git.raw(args)).trim() || null;
    } catch {
      return null;
    }
  };
  const originHead = await optional(['symbolic-ref', '-q', '--short', 'refs/remotes/origin/HEAD']);
  const remoteUrl = await optional(['config', '--get', 'remote.origin.url']);
  const name = await optional(['config', 'user.name']);
  const email = await optional(['config', 'user.email']);
  return {
    sha,
    branch,
    ref: branch ? `refs/heads/${branch}` : sha,
    dirty,
    defaultBranch: originHead ? originHead.replace(/^origin\//, '') : null,
    remoteUrl,
    author: name ? { name, email: email ?? '' } : null,
  };
}
