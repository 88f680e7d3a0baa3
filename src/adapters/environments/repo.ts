// The local repository as the environments see it: HEAD, turning a reported version into a commit (fetching it
// once when the clone lacks it), the distance between two commits, and `git ls-remote` for git version probes.
// Through simple-git with an AbortSignal; every value that came from a target is checked before it reaches git
// and follows --end-of-options.
import { simpleGit, type SimpleGit } from 'simple-git';
import { distanceFromCount, isFullSha, isSafeRevision, isShaLike, parseLeftRightCount, shortSha } from '../../core/environments/diff';
import { waitedFor, type LocalHead, type Resolution } from '../../core/environments/status';
import { headInfo } from '../git';

/** How long one `git fetch` of a missing deployed commit may take. */
export const FETCH_TIMEOUT_MS = 30_000;

export class GitCallError extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'cancelled' | 'failed',
  ) {
    super(message);
  }
  static is(e: unknown, reason?: GitCallError['reason']): e is GitCallError {
    return e instanceof GitCallError && (reason === undefined || e.reason === reason);
  }
}

/** The first line git wrote that says what went wrong (without `fatal: `/`error: `). */
export function gitErrorLine(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? text;
  return line.replace(/^(fatal|error):\s*/, '');
}

const PASSED_GIT_VARIABLES = ['GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND', 'GIT_SSH'] as const;
/** Variables simple-git refuses to pass on (they change what git runs); the rest of the environment is kept. */
const GUARDED = new Set(['editor', 'visual', 'pager', 'prefix', 'ssh_askpass']);

/** The environment for git: the base one without GIT_* (but the ssh command) and pagers/editors, prompts off. */
export function gitEnvironment(base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue;
    const lower = k.toLowerCase();
    if (GUARDED.has(lower)) continue;
    if (lower.startsWith('git_') && !(PASSED_GIT_VARIABLES as readonly string[]).includes(k)) continue;
    env[k] = v;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

export class DeployRepo {
  /** Values whose fetch failed, with the reason: fetched at most once until forgetFetchFailures(). */
  private readonly fetchFailures = new Map<string, string>();
  private fetchQueue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly folder: string,
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  /** simple-git bound to a signal; prompts are off so a probe never waits for a password. */
  git(signal: AbortSignal): SimpleGit {
    const env = gitEnvironment(this.baseEnv);
    return simpleGit({
      baseDir: this.folder,
      abort: signal,
      maxConcurrentProcesses: 6,
      trimmed: false,
      allowEnvironment: [...PASSED_GIT_VARIABLES],
      // The user's own GIT_SSH_COMMAND (a deploy key for an ssh remote) comes from their environment, not a target.
      unsafe: { allowUnsafeSshCommand: env.GIT_SSH_COMMAND !== undefined || env.GIT_SSH !== undefined },
    }).env(env);
  }

  /** Runs `git <args>`, turning an abort into a GitCallError that says whether it timed out. */
  async raw(args: string[], signal: AbortSignal, timeoutMs?: number): Promise<string> {
    const timeout = timeoutMs ? AbortSignal.timeout(timeoutMs) : null;
    const abort = timeout ? AbortSignal.any([signal, timeout]) : signal;
    try {
      return await this.git(abort).raw(args);
    } catch (e) {
      if (signal.aborted) throw new GitCallError('cancelled', 'cancelled');
      if (timeout?.aborted) throw new GitCallError(`git ${args[0]} gave no answer within ${waitedFor(timeoutMs!)}`, 'timeout');
      throw new GitCallError(gitErrorLine(e), 'failed');
    }
  }

  async head(signal: AbortSignal): Promise<LocalHead | null> {
    const info = await headInfo(this.folder, signal);
    return info ? { sha: info.sha, branch: info.branch, dirty: info.dirty } : null;
  }

  /**
   * A local commit for a revision (SHA, short SHA, tag); null when this repository has none. A revision the user
   * typed (`userRef`: `HEAD~2`, `main^`) may use git's revision syntax; one a target reported may not.
   */
  async commitOf(revision: string, signal: AbortSignal, opts: { userRef?: boolean } = {}): Promise<string | null> {
    const acceptable = opts.userRef ? revision !== '' && !revision.startsWith('-') && !/[\s\0]/.test(revision) : isSafeRevision(revision);
    if (!acceptable) return null;
    try {
      const out = (await this.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], signal)).trim();
      return isFullSha(out) ? out : null;
    } catch (e) {
      if (GitCallError.is(e, 'cancelled')) throw e;
      return null; // ambiguous short SHA, not a repository
    }
  }

  async isRepository(signal: AbortSignal): Promise<boolean> {
    try {
      return (await this.raw(['rev-parse', '--is-inside-work-tree'], signal)).trim() === 'true';
    } catch {
      return false;
    }
  }

  /** Remote names, `origin` first. */
  async remotes(signal: AbortSignal): Promise<string[]> {
    try {
      const names = (await this.raw(['remote'], signal)).split('\n').map((s) => s.trim()).filter(Boolean);
      return names.sort((a, b) => (a === 'origin' ? -1 : b === 'origin' ? 1 : a.localeCompare(b)));
    } catch {
      return [];
    }
  }

  /**
   * The commit a target reported: found locally, or fetched (once) from the remote that reported it, origin or
   * another remote. The error says what was tried.
   */
  async resolve(version: string, hint: { remote: string | null }, signal: AbortSignal): Promise<Resolution> {
    if (!isSafeRevision(version)) return { error: `"${version}" is not a commit SHA or tag` };
    const local = await this.commitOf(version, signal);
    if (local) return { sha: local };
    const what = isShaLike(version) ? `deployed commit ${shortSha(version)}` : `deployed version "${version}"`;
    if (!(await this.isRepository(signal))) return { error: `${what} cannot be checked: ${this.folder} is not in a git repository` };
    const failure = await this.fetchOnce(version, hint.remote, signal);
    const after = await this.commitOf(version, signal);
    if (after) return { sha: after };
    return { error: `${what} is not in this repository (${failure ?? 'fetched, but it is still missing'})` };
  }

  /** Forget failed fetches, so an explicit refresh tries again. */
  forgetFetchFailures(): void {
    this.fetchFailures.clear();
  }

  private fetchOnce(version: string, preferred: string | null, signal: AbortSignal): Promise<string | null> {
    const known = this.fetchFailures.get(version);
    if (known !== undefined) return Promise.resolve(known);
    // One fetch at a time per repository: concurrent fetches would contend for the same locks.
    const run = this.fetchQueue.then(async () => {
      if (await this.commitOf(version, signal)) return null;
      const failure = await this.fetchFromRemotes(version, preferred, signal);
      if (failure !== null && !signal.aborted) this.fetchFailures.set(version, failure);
      return failure;
    });
    this.fetchQueue = run.catch(() => undefined);
    return run;
  }

  /** Null when a fetch brought the revision; else why not. */
  private async fetchFromRemotes(version: string, preferred: string | null, signal: AbortSignal): Promise<string | null> {
    const names = await this.remotes(signal);
    const sources = [...new Set([...(preferred ? [preferred] : []), ...names])];
    if (sources.length === 0) return 'no remote to fetch it from';
    const errors: string[] = [];
    for (const remote of sources) {
      if (remote.startsWith('-')) continue;
      // A full SHA is fetched by itself; a short SHA only with the remote's branches; a tag by name.
      const spec = isFullSha(version) ? [version] : isShaLike(version) ? [] : [`refs/tags/${version}:refs/tags/${version}`];
      try {
        await this.raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', remote, ...spec], signal, FETCH_TIMEOUT_MS);
        if (await this.commitOf(version, signal)) return null;
        errors.push(`${remote}: not there`);
      } catch (e) {
        if (GitCallError.is(e, 'cancelled')) return 'cancelled';
        errors.push(`${remote}: ${(e as Error).message}`);
      }
    }
    return `fetch failed: ${errors.join('; ')}`;
  }

  /**
   * Why the commits between `a` and `b` cannot be listed here, or null when they can: in a shallow clone without
   * their common history, git would count every commit it has on each side (false "to revert" warnings).
   */
  async shallowGap(a: string, b: string, signal: AbortSignal): Promise<string | null> {
    try {
      if ((await this.raw(['rev-parse', '--is-shallow-repository'], signal)).trim() !== 'true') return null;
    } catch {
      return null;
    }
    const base = await this.raw(['merge-base', '--end-of-options', a, b], signal).catch(() => '');
    if (base.trim()) return null;
    return `this clone is shallow and lacks the history joining ${shortSha(a)} and ${shortSha(b)}; run "git fetch --unshallow" to compare them`;
  }

  /** Commits in `local` not in `deployed` (ahead) and in `deployed` not in `local` (behind). */
  async distance(deployed: string, local: string, signal: AbortSignal): Promise<{ ahead: number; behind: number } | null> {
    if (!isFullSha(deployed) || !isFullSha(local)) return null;
    if (await this.shallowGap(deployed, local, signal)) return null;
    try {
      const out = await this.raw(['rev-list', '--left-right', '--count', '--end-of-options', `${deployed}...${local}`], signal);
      return distanceFromCount(parseLeftRightCount(out));
    } catch {
      return null;
    }
  }

  /** `git ls-remote <remote> <ref>`: the commit the remote's ref points at (a tag peeled to its commit). */
  async lsRemote(remote: string, ref: string, signal: AbortSignal, timeoutMs: number): Promise<{ sha: string; line: string } | { error: string }> {
    if (remote.startsWith('-') || ref.startsWith('-')) return { error: 'a git remote or ref must not start with "-"' };
    let out: string;
    try {
      out = await this.raw(['ls-remote', '--end-of-options', remote, ref, `${ref}^{}`], signal, timeoutMs);
    } catch (e) {
      if (GitCallError.is(e, 'timeout')) return { error: `no answer within ${waitedFor(timeoutMs)} from git remote ${remote}` };
      return { error: `git ls-remote ${remote}: ${(e as Error).message}` };
    }
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, name] = line.trim().split('\t');
      if (sha && name && isFullSha(sha)) refs.set(name, sha);
    }
    const candidates = ref.startsWith('refs/') || ref === 'HEAD' ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`, ref];
    for (const name of candidates) {
      const sha = refs.get(`${name}^{}`) ?? refs.get(name);
      if (sha) return { sha, line: `${sha}\t${name}` };
    }
    return { error: `git remote ${remote} has no ref "${ref}"` };
  }
}
