// Remote actions (`uses: owner/repo[/path]@ref`) fetched with git from a configurable host (github.com, a GitHub
// Enterprise Server, a file:// mirror), kept in a cache by host, repository and commit, so a run without the
// network still finds what an earlier run fetched. Git runs with argument arrays only; the names reaching it were
// checked by core/github/actions.ts (remoteRef) and are checked again here. A copy in the cache is read-only to
// runs by convention: every run of that commit shares it.
//
//   <cache>/<host key>/<owner>/<repo>/<commit>/   the repository's files at that commit (no .git)
//   <cache>/<host key>/<owner>/<repo>/refs.json   ref -> commit, as last resolved (for runs without the host)
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCommitSha, remoteRef } from '../../core/github/actions';
import { sha256Hex } from '../../core/sha256';
import type { ActionSource, FetchedAction, ImportedPipeline, RemoteActionRef } from '../../core/sources';
import { writeFileAtomic } from '../atomicFile';
import { randomHex } from '../random';
import { stateRoot } from '../stateDir';

export const DEFAULT_ACTIONS_HOST = 'https://github.com';

export interface GitActionsOptions {
  /** Base URL: https://github.com, https://ghe.example.com, file:///srv/mirrors. */
  host: string;
  /** Folder of the cache (shared by every workspace). */
  cacheDir: string;
  /** Longest a git command may take (ms). */
  timeoutMs?: number;
  /** The environment git runs with (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** The host setting, checked: an http(s) or file URL without a query; null with the reason otherwise. */
export function checkActionsHost(raw: string): { host: string } | { error: string } {
  const text = raw.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `"${raw}" is not a URL (https://github.com or https://ghe.example.com)` };
  }
  if (!['https:', 'http:', 'file:'].includes(url.protocol)) return { error: `"${raw}": only https://, http:// and file:// hosts are supported` };
  if (url.search || url.hash) return { error: `"${raw}": a host URL has no query or fragment` };
  // As the URL parser writes it (spaces and the like escaped): it becomes part of a git argument.
  return { host: url.toString().replace(/\/+$/, '') };
}

/** The host from DELIVERY_ACTIONS_HOST, else github.com. */
export function actionsHostFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.DELIVERY_ACTIONS_HOST?.trim() || DEFAULT_ACTIONS_HOST;
}

/** The cache folder: DELIVERY_ACTIONS_CACHE, else `actions` under the state root (beside the run history). */
export function actionsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DELIVERY_ACTIONS_CACHE ? path.resolve(env.DELIVERY_ACTIONS_CACHE) : path.join(stateRoot(env), 'actions');
}

/** The action source of a run: the host from the environment (or `host`), the shared cache. */
export function actionSource(opts: { host?: string; env?: NodeJS.ProcessEnv } = {}): ActionSource {
  const env = opts.env ?? process.env;
  return new GitActionSource({ host: opts.host?.trim() || actionsHostFrom(env), cacheDir: actionsCacheDir(env), env });
}

/**
 * The pipeline with its runs fetching remote actions from `actions` (a front end's own setting: the CLI's
 * --actions-host, the editor's delivery.actions.host) instead of DELIVERY_ACTIONS_HOST.
 */
export function withActionSource(pipeline: ImportedPipeline, actions: ActionSource): ImportedPipeline {
  return { ...pipeline, plan: (request, ctx) => pipeline.plan(request, { ...ctx, io: ctx.io ? { ...ctx.io, actions } : ctx.io }) };
}

/** A URL as shown in messages: without a user name or password. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

class GitError extends Error {}

export class GitActionSource implements ActionSource {
  readonly host: string;
  private readonly hostError: string | null;
  private readonly inFlight = new Map<string, Promise<FetchedAction | { unsupported: string }>>();

  constructor(private readonly opts: GitActionsOptions) {
    const h = checkActionsHost(opts.host);
    this.host = 'host' in h ? h.host : opts.host;
    this.hostError = 'error' in h ? h.error : null;
  }

  fetch(ref: RemoteActionRef, _signal?: AbortSignal): Promise<FetchedAction | { unsupported: string }> {
    const key = `${ref.owner}/${ref.repo}/${ref.path}@${ref.ref}`.toLowerCase();
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.fetchOnce(ref).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async fetchOnce(ref: RemoteActionRef): Promise<FetchedAction | { unsupported: string }> {
    const name = `${ref.owner}/${ref.repo}${ref.path ? `/${ref.path}` : ''}@${ref.ref}`;
    if (this.hostError) return { unsupported: `cannot fetch ${name}: the actions host ${this.hostError}` };
    // The names reach git and the file system: the core checked them; check again at this boundary.
    const again = remoteRef(name);
    if ('invalid' in again) return { unsupported: again.invalid };
    const repoDir = path.join(this.opts.cacheDir, hostKey(this.host), ref.owner.toLowerCase(), ref.repo.toLowerCase());
    const url = `${this.host}/${ref.owner}/${ref.repo}`;
    const where = `${shown(this.host)}/${ref.owner}/${ref.repo}`;
    const refs = await readRefs(repoDir);
    const cached = async (commit: string | undefined): Promise<string | null> => (commit && (await isDir(path.join(repoDir, commit))) ? commit : null);

    let commit: string | null = null;
    if (isCommitSha(ref.ref)) {
      const hit = await cached(ref.ref);
      if (hit) return { root: path.join(repoDir, hit), commit: hit, source: 'cache', note: null };
      commit = ref.ref;
    } else {
      let remote: { commit: string; refName: string } | null;
      try {
        remote = await this.resolve(url, ref.ref);
      } catch (e) {
        const hit = await cached(refs.get(ref.ref));
        const why = (e as Error).message;
        if (hit) return { root: path.join(repoDir, hit), commit: hit, source: 'cache', note: `${shown(this.host)} could not be reached (${why}); using the copy of ${ref.ref} fetched earlier` };
        return { unsupported: `cannot fetch ${name} from ${where} (${why}), and the action cache (${this.opts.cacheDir}) has no copy of it` };
      }
      if (!remote) return { unsupported: `${where} has no branch or tag "${ref.ref}" (${name})` };
      commit = remote.commit;
      const hit = await cached(commit);
      if (hit) {
        await this.remember(repoDir, refs, ref.ref, hit);
        return { root: path.join(repoDir, hit), commit: hit, source: 'cache', note: null };
      }
    }
    try {
      const fetched = await this.download(url, repoDir, commit);
      if (!isCommitSha(ref.ref)) await this.remember(repoDir, refs, ref.ref, fetched);
      return { root: path.join(repoDir, fetched), commit: fetched, source: 'fetched', note: null };
    } catch (e) {
      return { unsupported: `cannot fetch ${name} from ${where} (${(e as Error).message}), and the action cache (${this.opts.cacheDir}) has no copy of it` };
    }
  }

  /** The commit a branch or tag names on the host (an annotated tag: the commit it points to); null: no such ref. */
  private async resolve(url: string, ref: string): Promise<{ commit: string; refName: string } | null> {
    const out = await this.git(['ls-remote', url, `refs/tags/${ref}`, `refs/tags/${ref}^{}`, `refs/heads/${ref}`], null);
    const lines = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, name] = line.trim().split('\t');
      if (sha && name && /^[0-9a-f]{40,64}$/.test(sha)) lines.set(name, sha);
    }
    for (const name of [`refs/tags/${ref}^{}`, `refs/tags/${ref}`, `refs/heads/${ref}`]) {
      const sha = lines.get(name);
      if (sha) return { commit: sha, refName: name.replace(/\^\{\}$/, '') };
    }
    return null;
  }

  /** Fetches one commit (shallow) into a scratch folder and moves its files into the cache; returns the commit. */
  private async download(url: string, repoDir: string, commit: string): Promise<string> {
    await fs.promises.mkdir(repoDir, { recursive: true });
    const tmp = path.join(repoDir, `.fetch-${process.pid}-${randomHex(4)}`);
    try {
      await this.git(['init', '-q', tmp], null);
      await this.git(['fetch', '-q', '--depth', '1', '--no-tags', url, commit], tmp);
      await this.git(['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', 'FETCH_HEAD'], tmp);
      const head = (await this.git(['rev-parse', 'HEAD'], tmp)).trim();
      if (head !== commit) throw new GitError(`the host sent commit ${head.slice(0, 12)} for ${commit.slice(0, 12)}`);
      await fs.promises.rm(path.join(tmp, '.git'), { recursive: true, force: true });
      const final = path.join(repoDir, head);
      try {
        await fs.promises.rename(tmp, final);
      } catch (e) {
        // Another run put the same commit there first: theirs is as good as ours.
        if (!(await isDir(final))) throw e;
      }
      return head;
    } finally {
      await fs.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async remember(repoDir: string, refs: Map<string, string>, ref: string, commit: string): Promise<void> {
    if (refs.get(ref) === commit) return;
    refs.set(ref, commit);
    try {
      await fs.promises.mkdir(repoDir, { recursive: true });
      await writeFileAtomic(path.join(repoDir, 'refs.json'), `${JSON.stringify(Object.fromEntries(refs), null, 2)}\n`);
    } catch {
      // Only runs without the host need it; this one has the action.
    }
  }

  private git(args: string[], cwd: string | null): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...(this.opts.env ?? process.env),
      // Never wait for a password: a private action without credentials fails at once.
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'never',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      LC_ALL: 'C',
    };
    // No `ext::` transports, whatever the user's git configuration says.
    const argv = ['-c', 'protocol.ext.allow=never', ...args];
    return new Promise((resolve, reject) => {
      execFile('git', argv, { cwd: cwd ?? undefined, env, timeout: this.opts.timeoutMs ?? 120_000, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
        if (err) {
          const text = String(stderr || '').trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join('; ');
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : err.killed ? 'git took too long' : text || err.message;
          reject(new GitError(why.replace(/https?:\/\/[^/\s@]+@/g, (m) => m.replace(/\/\/[^@]+@/, '//'))));
        } else resolve(String(stdout));
      });
    });
  }
}

function hostKey(host: string): string {
  let name = 'local';
  try {
    const u = new URL(host);
    name = (u.host || u.protocol.replace(':', '')).replace(/[^A-Za-z0-9_.-]/g, '_');
  } catch {
    // Checked before; a key is made anyway.
  }
  return `${name}-${sha256Hex(host).slice(0, 8)}`;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.promises.lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readRefs(repoDir: string): Promise<Map<string, string>> {
  try {
    const v = JSON.parse(await fs.promises.readFile(path.join(repoDir, 'refs.json'), 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return new Map();
    return new Map(Object.entries(v as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && isCommitSha(e[1]) && e[0].length < 256));
  } catch {
    return new Map();
  }
}
