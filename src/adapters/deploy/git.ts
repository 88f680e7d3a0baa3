// Git facts a deploy needs: the commit a ref names, the deployed commits a target would revert, and a clean
// checkout of the commit to deploy from (so uncommitted changes are never deployed, and a rollback deploys the old
// files). Refs are argv elements after checks, never parts of a command string.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { DeployRepo } from '../environments/repo';
import { gitOutput } from '../git';

/** simple-git for a folder, cancellable with an AbortSignal. */
export function gitAt(folder: string, signal?: AbortSignal): SimpleGit {
  return simpleGit({ baseDir: folder, abort: signal, maxConcurrentProcesses: 4, trimmed: false });
}

export function checkRef(ref: string): string | null {
  if (ref.length === 0) return 'the ref is empty';
  if (ref.startsWith('-')) return `"${ref}" is not a valid ref (it starts with "-")`;
  if (/[\u0000-\u001f]/.test(ref)) return 'the ref contains a control character';
  return null;
}

/** The full SHA of the commit `ref` names, or an error saying why not. */
export async function resolveCommit(folder: string, ref: string, signal?: AbortSignal): Promise<{ sha: string } | { error: string }> {
  const bad = checkRef(ref);
  if (bad) return { error: bad };
  try {
    const sha = (await gitAt(folder, signal).raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim();
    if (/^[0-9a-f]{40,64}$/.test(sha)) return { sha };
  } catch {
    // falls through
  }
  // Say why when the folder has no commits at all: "HEAD does not name a commit" alone puzzles people.
  const inRepo = await gitAt(folder).raw(['rev-parse', '--git-dir']).then(() => true, () => false);
  if (!inRepo) return { error: `${folder} is not in a git repository: deploys need committed work (git init, then commit)` };
  const hasHead = await gitAt(folder).raw(['rev-parse', '--verify', '--quiet', 'HEAD']).then((o) => o.trim().length > 0, () => false);
  if (!hasHead) return { error: `the repository of ${folder} has no commits yet: commit what you want to deploy` };
  return { error: `"${ref}" does not name a commit in ${folder}` };
}

export async function commitExists(folder: string, sha: string): Promise<boolean> {
  return 'sha' in (await resolveCommit(folder, sha));
}

/** Commits in `deployed` that `target` does not contain (what deploying `target` reverts), newest first. */
export async function revertedCommits(folder: string, target: string, deployed: string): Promise<{ sha: string; subject: string }[] | null> {
  if (!(await commitExists(folder, deployed))) return null;
  if (await new DeployRepo(folder).shallowGap(target, deployed, new AbortController().signal)) return null; // unknown, not "all of them"
  // Not through simple-git: it waits 50 ms after a command that prints nothing, and an empty list is the usual answer.
  const out = await gitOutput(folder, ['log', '--format=%H%x09%s', '--end-of-options', deployed, `^${target}`], undefined, process.env);
  if (out === null) return null;
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const tab = l.indexOf('\t');
      return { sha: l.slice(0, tab), subject: l.slice(tab + 1) };
    });
}

/** A detached worktree of `sha` under `parent`; remove() takes it away again. */
export async function checkoutCommit(folder: string, sha: string, parent: string): Promise<{ dir: string; remove(): Promise<void> }> {
  await fs.promises.mkdir(parent, { recursive: true });
  const dir = path.join(parent, sha.slice(0, 12) + '-' + process.pid + '-' + Date.now().toString(36));
  const git = gitAt(folder);
  await git.raw(['worktree', 'add', '--detach', '--force', '--quiet', dir, sha]);
  return {
    dir,
    remove: async () => {
      await git.raw(['worktree', 'remove', '--force', dir]).catch(() => undefined);
      await fs.promises.rm(dir, { recursive: true, force: true });
      await git.raw(['worktree', 'prune']).catch(() => undefined);
    },
  };
}

/** Files that differ between two commits, as `git diff --name-status` lines (M path, R100 old new...). */
export async function changedFiles(folder: string, from: string, to: string): Promise<string[]> {
  try {
    const out = await gitAt(folder).raw(['diff', '--name-status', '--no-renames', '--end-of-options', from, to]);
    return out.split('\n').filter((l) => l.length > 0).map((l) => l.replace('\t', ' '));
  } catch {
    return [];
  }
}
