// What a deploy would change: commits to deploy and to revert, changed files with +/- counts, uncommitted
// changes, and per-file hunks and contents for the diff editor. A handful of git calls with -z output, run at
// once, never one call per file (thousands of changed files must stay fast). Paths are relative to the
// repository root (what git prints), see repositoryRoot().
import type { DeployDiff } from '../../shared/model';
import { isFullSha, LOG_FORMAT, parseLeftRightLog, parsePorcelainZ, parseRawNumstat } from '../../core/environments/diff';
import { DeployRepo, GitCallError } from './repo';

const NO_DRIVERS = ['--no-color', '--no-ext-diff', '--no-textconv'];

export interface DiffSide {
  /** The environment it stands for (null: a ref of the local repository). */
  env: string | null;
  /** What the user named: an environment id, a ref, `HEAD`. */
  ref: string;
  /** Full commit SHA. */
  sha: string;
}

/**
 * Deploying `to` over `from`: commits only in `to` (to deploy) and only in `from` (to revert), the files that
 * differ, and, when `to` is the checked-out HEAD (`workingTree`), the uncommitted changes, listed apart.
 */
export async function deployDiff(
  folder: string,
  from: { env: string | null; sha: string },
  to: { ref: string; sha: string; workingTree?: boolean },
  opts: { signal?: AbortSignal; repo?: DeployRepo } = {},
): Promise<DeployDiff> {
  if (!isFullSha(from.sha) || !isFullSha(to.sha)) throw new Error(`deployDiff needs full commit SHAs, not "${from.sha}" and "${to.sha}"`);
  const repo = opts.repo ?? new DeployRepo(folder);
  const signal = opts.signal ?? new AbortController().signal;
  const same = from.sha === to.sha;
  const [log, files, status] = await Promise.all([
    same ? '' : repo.raw(['log', '-z', '--left-right', ...NO_DRIVERS, `--format=${LOG_FORMAT}`, '--end-of-options', `${from.sha}...${to.sha}`], signal),
    same ? '' : repo.raw(['diff', '--raw', '--numstat', '-z', '-M', ...NO_DRIVERS, '--end-of-options', from.sha, to.sha], signal),
    to.workingTree ? repo.raw(['status', '--porcelain=v1', '-z', '--untracked-files=normal'], signal) : '',
  ]);
  const commits = parseLeftRightLog(log);
  return {
    from: { env: from.env, sha: from.sha },
    to: { ref: to.ref, sha: to.sha },
    commits: { toDeploy: commits.right, toRevert: commits.left },
    files: parseRawNumstat(files),
    uncommitted: parsePorcelainZ(status),
  };
}

/**
 * The unified diff of one file between two commits (`to` null: the working tree), for the webview. A renamed
 * file passes its old path too, so git pairs the two.
 */
export async function fileHunks(
  folder: string,
  change: { from: string; to: string | null; path: string; oldPath?: string | null },
  opts: { signal?: AbortSignal; repo?: DeployRepo } = {},
): Promise<string> {
  for (const p of [change.path, change.oldPath]) if (p != null) checkRepoPath(p);
  if (!isFullSha(change.from) || (change.to !== null && !isFullSha(change.to))) throw new Error('fileHunks needs full commit SHAs');
  const repo = opts.repo ?? new DeployRepo(folder);
  const paths = change.oldPath && change.oldPath !== change.path ? [change.oldPath, change.path] : [change.path];
  const revs = change.to === null ? [change.from] : [change.from, change.to];
  // `:(top)` makes each path relative to the repository root whatever the folder is; `:(literal)` keeps * and ? plain.
  return repo.raw(['diff', '-M', ...NO_DRIVERS, '--end-of-options', ...revs, '--', ...paths.map((p) => `:(top,literal)${p}`)], opts.signal ?? new AbortController().signal);
}

/** A file's bytes at a commit (the left side of the diff editor); null when the file is not in that commit. */
/** A commit as `git show` gives it (header, message, stat and patch), capped: the document a commit SHA opens. */
export async function commitText(folder: string, sha: string, opts: { signal?: AbortSignal; maxChars?: number } = {}): Promise<string> {
  if (!isFullSha(sha)) throw new Error(`commitText needs a full commit SHA, not "${sha}"`);
  const max = opts.maxChars ?? 1_000_000;
  // No diff drivers or textconv from the repository's config: nothing of it runs.
  const text = await new DeployRepo(folder).raw(['show', ...NO_DRIVERS, '--format=fuller', '--stat', '--patch', '--end-of-options', sha, '--'], opts.signal ?? new AbortController().signal);
  return text.length > max ? `${text.slice(0, max)}\n… (cut at ${max} characters; \`git show ${sha}\` has the rest)\n` : text;
}

export async function fileAtRevision(folder: string, sha: string, path: string, opts: { signal?: AbortSignal; repo?: DeployRepo } = {}): Promise<Buffer | null> {
  checkRepoPath(path);
  if (!isFullSha(sha)) throw new Error(`fileAtRevision needs a full commit SHA, not "${sha}"`);
  const repo = opts.repo ?? new DeployRepo(folder);
  try {
    return await repo.git(opts.signal ?? new AbortController().signal).binaryCatFile(['blob', `${sha}:${path}`]);
  } catch (e) {
    if (opts.signal?.aborted) throw new GitCallError('cancelled', 'cancelled');
    if (/does not exist|exists on disk, but not in|not a valid object name|invalid object name|is a tree|bad file/i.test(String((e as Error)?.message))) return null;
    throw e;
  }
}

/** The root of the repository holding `folder` (the diff's paths are relative to it); null outside a repository. */
export async function repositoryRoot(folder: string, signal?: AbortSignal): Promise<string | null> {
  try {
    const root = (await new DeployRepo(folder).raw(['rev-parse', '--show-toplevel'], signal ?? new AbortController().signal)).trim();
    return root || null;
  } catch {
    return null;
  }
}

/** A path as git prints it in a diff: relative to the root, no `.`/`..` steps (those would change its meaning). */
function checkRepoPath(p: string): void {
  if (p === '' || p.startsWith('/') || p.includes('\0') || p.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`not a repository path: ${JSON.stringify(p)}`);
  }
}
