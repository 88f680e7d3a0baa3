// The team state of a gitPush environment, kept as refs on its deploy remote, so everyone who can push there sees
// the same lock and history:
//   refs/delivery/<environment>/lock     a commit whose message is the holder (JSON); absent: free
//   refs/delivery/<environment>/history  a chain of commits, one event (JSON) each, oldest at the root
// The commits have the empty tree: they carry no files and never touch the repository's branches.
//
// Every write is one `git push --force-with-lease` of one ref: the remote updates it under its ref lock only if it
// still has the value we read (or, for a new lock, none), so a write is atomic and a compare-and-swap; a rejected
// lease means someone else wrote first. Reads fetch the two refs into a namespace of their own
// (refs/delivery-cache/<remote>/<environment>/<random>/…, removed after reading), so two processes working in the
// same clone never see each other's half-updated cache. Git runs in the user's clone with argv arrays (no shell);
// over ssh through the same constant GIT_SSH wrapper as gitPush deploys.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { parseLockHolder, unreadableLock, describeStore, parseHistoryEvent, type HistoryEvent, type StateSpec, type StoredLock, type TeamStateStore } from '../../../core/environments/teamState';
import { sshWrapper, sshWrapperEnv } from '../../ssh';

type GitSpec = Extract<StateSpec, { kind: 'git' }>;

const ENVIRONMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Appends that lose the race re-read the tip and try again, this many times. */
const APPEND_ATTEMPTS = 20;
const CREATE_ATTEMPTS = 5;
/** Our commits are made without the user's git identity, hooks or signing. */
const IDENTITY = { GIT_AUTHOR_NAME: 'Software Delivery', GIT_AUTHOR_EMAIL: 'delivery@localhost', GIT_COMMITTER_NAME: 'Software Delivery', GIT_COMMITTER_EMAIL: 'delivery@localhost' };
/** The user's hooks (pre-push test runs, reference-transaction) are not ours to run for our own refs. */
const NO_HOOKS = ['-c', 'core.hooksPath=/dev/null'];
/** A remote's refusal that means "someone else updated this ref first" (the lease, or the remote's own ref lock). */
const LOST_RACE = /stale info|failed to update ref|failed to lock|cannot lock ref|reference already exists|but expected|incorrect old value/i;

interface GitOut {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RemoteState {
  /** The lock commit and its message (first paragraph), or null when the lock is free. */
  lock: { sha: string; text: string } | null;
  /** The newest history commit, or null when there is no history yet. */
  history: string | null;
}

type PushResult = { ok: true } | { ok: false; lostRace: boolean; reason: string };

/** Why `spec`/`environment` cannot name refs safely, or null. */
function invalidInput(remote: string, environment: string): string | null {
  if (remote.length === 0) return 'the git remote is empty';
  if (remote.startsWith('-')) return `"${remote}" is not a git remote (it starts with "-")`;
  if (/[\u0000-\u001f\u007f]/.test(remote)) return 'the git remote contains a control character';
  if (!ENVIRONMENT.test(environment) || environment.includes('..') || environment.endsWith('.lock') || environment.endsWith('.')) {
    return `"${environment}" cannot name a git ref (letters, digits, "_", "-" and "." only)`;
  }
  return null;
}

export function gitStateStore(spec: GitSpec, ctx: { environment: string; folder: string }): TeamStateStore {
  const where = describeStore(spec);
  const remote = spec.remote;
  const env = ctx.environment;
  const invalid = invalidInput(remote, env);
  const lockRef = `refs/delivery/${env}/lock`;
  const historyRef = `refs/delivery/${env}/history`;
  const cacheRoot = `refs/delivery-cache/${createHash('sha256').update(remote).digest('hex').slice(0, 16)}/${env}`;
  let emptyTree: Promise<string> | null = null;

  const gitEnv = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...IDENTITY, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
    if (spec.ssh) {
      // GIT_SSH_COMMAND would win over GIT_SSH.
      delete e.GIT_SSH_COMMAND;
      Object.assign(e, { GIT_SSH: sshWrapper(), GIT_SSH_VARIANT: 'ssh' }, sshWrapperEnv(spec.ssh, { withPort: false }));
    }
    return e;
  };

  const git = (args: string[], signal: AbortSignal | undefined): Promise<GitOut> => runGit(ctx.folder, [...NO_HOOKS, ...args], gitEnv(), signal);

  /** Output of a local git command that must succeed (object and ref plumbing in the clone). */
  const local = async (args: string[], signal: AbortSignal | undefined, stdin?: string): Promise<string> => {
    const out = await runGit(ctx.folder, [...NO_HOOKS, ...args], gitEnv(), signal, stdin);
    if (out.code !== 0) throw new Error(`git ${args[0]} failed in ${ctx.folder} (for ${where}): ${gitReason(out)}`);
    return out.stdout;
  };

  const check = (): void => {
    if (invalid) throw new Error(`${where}: ${invalid}`);
  };

  /** Fetches the environment's refs into a namespace of this call, runs `use` with them, then removes the namespace. */
  const withState = async <T>(what: string, signal: AbortSignal | undefined, use: (s: RemoteState) => Promise<T>): Promise<T> => {
    const ns = `${cacheRoot}/${randomBytes(8).toString('hex')}`;
    const fetched = await git(
      ['fetch', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', '--no-auto-maintenance', '--quiet', '--', remote, `+refs/delivery/${env}/*:${ns}/*`],
      signal,
    );
    let names: string[] | null = null;
    try {
      if (fetched.code !== 0) throw new Error(`could not reach ${where} to ${what}: ${gitReason(fetched)}`);
      const refs = await local(['for-each-ref', '--format=%(objectname) %(refname) %(contents:subject)', `${ns}/`], signal);
      names = [];
      const state: RemoteState = { lock: null, history: null };
      for (const line of refs.split('\n')) {
        const m = /^([0-9a-f]{40,64}) (\S+) ?(.*)$/.exec(line);
        if (!m) continue;
        names.push(m[2]);
        if (m[2] === `${ns}/lock`) state.lock = { sha: m[1], text: m[3] };
        if (m[2] === `${ns}/history`) state.history = m[1];
      }
      return await use(state);
    } finally {
      await dropNamespace(ns, names);
    }
  };

  /** Removes a call's cache refs (best effort: a leftover costs a few bytes and is never read again). */
  const dropNamespace = async (ns: string, known: string[] | null): Promise<void> => {
    try {
      const names = known ?? (await local(['for-each-ref', '--format=%(refname)', `${ns}/`], undefined)).split('\n').filter((l) => l.startsWith(`${ns}/`));
      if (names.length > 0) await local(['update-ref', '--stdin'], undefined, names.map((n) => `delete ${n}\n`).join(''));
    } catch {
      // leave it
    }
  };

  /** A new commit with the empty tree whose message is `value` as one line of JSON. */
  const commit = async (value: unknown, parent: string | null, signal: AbortSignal | undefined): Promise<string> => {
    emptyTree ??= local(['hash-object', '-t', 'tree', '-w', '--stdin'], undefined, '').then((s) => s.trim());
    const tree = await emptyTree.catch((e: unknown) => {
      emptyTree = null;
      throw e;
    });
    const args = ['commit-tree', '--no-gpg-sign', ...(parent ? ['-p', parent] : []), '-m', JSON.stringify(value), tree];
    return (await local(args, signal)).trim();
  };

  /** Pushes `sha` (or a deletion: null) to `ref` only if the remote still has `expect` there ('' = no such ref). */
  const push = async (ref: string, sha: string | null, expect: string, signal: AbortSignal | undefined): Promise<PushResult> => {
    const out = await git(
      ['push', '--porcelain', '--no-verify', '--no-signed', `--force-with-lease=${ref}:${expect}`, '--', remote, `${sha ?? ''}:${ref}`],
      signal,
    );
    const line = out.stdout.split('\n').find((l) => /^[ +\-*=!]\t/.test(l) && l.split('\t')[1]?.endsWith(`:${ref}`));
    if (line && line[0] !== '!') return { ok: true };
    if (!line) return { ok: false, lostRace: false, reason: gitReason(out) };
    const summary = line.split('\t')[2] ?? 'rejected';
    if (LOST_RACE.test(summary) || LOST_RACE.test(out.stderr)) return { ok: false, lostRace: true, reason: summary };
    const said = remoteLines(out.stderr);
    return { ok: false, lostRace: false, reason: `${summary}${said ? `; ${said}` : ''}` };
  };

  const writeFailed = (ref: string, reason: string): Error => new Error(`could not write ${ref} to ${where}: ${reason}`);

  const stored = (lock: { sha: string; text: string }): StoredLock => ({ holder: parseLockHolder(lock.text) ?? unreadableLock(`unreadable-${lock.sha}`, `the lock commit ${lock.sha.slice(0, 12)} on the remote cannot be read`), ageMs: null });

  return {
    kind: 'git',
    where,

    async readLock(signal) {
      check();
      return withState('read the lock', signal, async (s) => (s.lock ? stored(s.lock) : null));
    },

    async createLock(holder, signal) {
      check();
      let last = '';
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        const r = await withState('take the lock', signal, async (s): Promise<{ ok: true } | { ok: false; current: StoredLock } | null> => {
          if (s.lock) return { ok: false, current: stored(s.lock) };
          const sha = await commit(holder, null, signal);
          const pushed = await push(lockRef, sha, '', signal);
          if (pushed.ok) return { ok: true };
          if (!pushed.lostRace) throw writeFailed(lockRef, pushed.reason);
          last = pushed.reason;
          return null; // someone else was first: read what is there now
        });
        if (r) return r;
      }
      // Created and removed again every time we looked, or a remote that refuses to create it for another reason.
      throw writeFailed(lockRef, `it kept changing (${last})`);
    },

    async swapLock(token, next, signal) {
      check();
      const tried = await withState('replace the lock', signal, async (s) => {
        if (!s.lock || stored(s.lock).holder.token !== token) return { done: false as const };
        const sha = next ? await commit(next, s.lock.sha, signal) : null;
        return { done: true as const, from: s.lock.sha, pushed: await push(lockRef, sha, s.lock.sha, signal) };
      });
      if (!tried.done) return false;
      if (tried.pushed.ok) return true;
      if (!tried.pushed.lostRace) throw writeFailed(lockRef, tried.pushed.reason);
      // The lock changed under us, unless the remote failed to update an unchanged ref (then it is an error).
      const now = await withState('replace the lock', signal, async (s) => s.lock?.sha ?? null);
      if (now === tried.from) throw writeFailed(lockRef, tried.pushed.reason);
      return false;
    },

    async append(event, signal) {
      check();
      let lost: { tip: string | null; reason: string } | null = null;
      for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
        const r = await withState('append to the history', signal, async (s) => {
          // Refused again at the same tip: not a race but a remote that cannot update the ref.
          if (lost && lost.tip === s.history) throw writeFailed(historyRef, lost.reason);
          const sha = await commit(event, s.history, signal);
          return { tip: s.history, pushed: await push(historyRef, sha, s.history ?? '', signal) };
        });
        if (r.pushed.ok) return;
        if (!r.pushed.lostRace) throw writeFailed(historyRef, r.pushed.reason);
        lost = { tip: r.tip, reason: r.pushed.reason };
        await pause(5 + Math.random() * 20 * (attempt + 1), signal);
      }
      throw writeFailed(historyRef, `${APPEND_ATTEMPTS} attempts lost to other writers`);
    },

    async readHistory(signal) {
      check();
      return withState('read the history', signal, async (s) => {
        if (!s.history) return [];
        const out = await local(['log', '--reverse', '--first-parent', '--format=%B%x00', s.history], signal);
        const events: HistoryEvent[] = [];
        for (const text of out.split('\u0000')) {
          const e = text.trim() ? parseHistoryEvent(text.trim()) : null;
          if (e) events.push(e);
        }
        return events;
      });
    },
  };
}

/** What git (or ssh) said went wrong, without git's boilerplate ("Please make sure you have the correct access rights"). */
function gitReason(out: GitOut): string {
  const boilerplate = /^(Please make sure you have the correct access rights|and the repository exists\.|error: failed to push some refs|hint:|To )/;
  const said = out.stderr
    .split('\n')
    .map(clean)
    .filter((l) => l.length > 0 && !boilerplate.test(l));
  return said.slice(0, 4).join('; ') || (out.code === null ? 'git was killed' : `git exited with code ${out.code}`);
}

/** The remote's own words (a hook's message), on one line. */
function remoteLines(stderr: string): string {
  return stderr
    .split('\n')
    .map(clean)
    .filter((l) => l.startsWith('remote:') && l.length > 'remote:'.length)
    .slice(0, 4)
    .join('; ');
}

/** A line without terminal control sequences (git's "remote:" lines end in erase-line codes) and padding. */
function clean(line: string): string {
  return line
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs git in `cwd` (argv, no shell) in a process group of its own, so that cancelling kills it together with the
 * ssh it started.
 */
function runGit(cwd: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal | undefined, stdin?: string): Promise<GitOut> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error(`cancelled before git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''} started`));
    const child = spawn('git', args, { cwd, env, detached: true, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    }
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(e.code === 'ENOENT' ? `git could not start in ${cwd} (is git installed, does the folder exist?)` : `could not start git: ${e.message}`));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (aborted) return reject(new Error('cancelled'));
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
