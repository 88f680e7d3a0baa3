// Job workspaces: a copy of the folder as it is now — committed files and uncommitted changes, untracked files that
// are not ignored, without ignored build output — for a job that must not share the working tree (each GitHub job
// and matrix leg, as each gets a fresh checkout on GitHub). Files are copied, never hard-linked: a job that rewrites
// a file in place (a formatter, `npm version`) must not change yours. The copy has its own `.git` that borrows the
// folder's objects (refs, HEAD and index of its own), so `git status` shows your changes and a commit made by the
// job stays in the workspace.
//
// What cannot change during a run is read once per run (the run's snapshot: the file list and their kinds, HEAD, the
// refs, the index, the config), so a later workspace of the run costs its copy and a few writes, not git processes.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkspacePort } from '../core/engine/ports';
import { ASK_GIT, locateRepo, readHead, type RepoLocation } from './gitFiles';
import { WorkspaceThread, entryState, treeState, type TreeState, type WorkspacePlan } from './workspaceWorker';

/** Files copied at once by Node (the copies are kernel work in libuv's pool of 4 threads). */
const COPY_CONCURRENCY = 4;
/**
 * From this many regular files on, `cp` copies them (on Linux): it creates each file with its mode in one call
 * where libuv's copyfile adds a truncate and a chmod per file (twice the kernel work on ext4), and costs one
 * process start (a few ms) — a loss for a handful of files.
 */
const CP_MIN_FILES = 200;
/** Argument bytes per `cp` (well under Linux's 2 MB limit for the arguments and environment). */
const CP_ARG_BYTES = 256 * 1024;
/** `cp` processes at once. */
const CP_PROCESSES = 2;

type EntryKind = 'file' | 'link' | 'dir';

interface Entry {
  /** Relative, `/`-separated. */
  rel: string;
  kind: EntryKind;
  /** A symlink's target, read once. */
  target?: string;
}

/** The `.git` of a workspace, as files to write: HEAD, config, refs and index of their own, the folder's objects borrowed. */
interface GitFiles {
  head: string;
  config: string;
  packedRefs: string;
  /** Symbolic refs (`refs/remotes/origin/HEAD`): path under `.git` → content. */
  symrefs: Array<[string, string]>;
  alternates: string;
  index: Buffer | null;
  shallow: Buffer | null;
}

/** What every workspace of a run is made from: read once, when the run makes its first workspace. */
export interface WorkspaceSnapshot {
  source: string;
  entries: Entry[];
  /** Folders to make, parents before children. */
  dirs: string[];
  /** The `.git` to write; 'clone' when the repository's layout is unusual (git itself makes it); null: not a git work tree. */
  git: GitFiles | 'clone' | null;
  notes: string[];
}

function git(cwd: string, args: string[], signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, signal, encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...env } }, (e, out, err) =>
      resolve({ ok: !e, out: out as Buffer, err: String(err) }),
    );
  });
}

/** Runs `fn` on every item, `limit` at a time (thousands of loose refs or links must not open thousands of files at once). */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const missing = (e: unknown) => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException)?.code ?? '');

async function readOrNull(p: string): Promise<Buffer | null> {
  try {
    return await fs.promises.readFile(p);
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}

/** Paths (relative, `/`-separated) of the folder's files a checkout would have now, or null when it is not a git work tree. */
async function listFiles(folder: string, signal?: AbortSignal): Promise<string[] | null> {
  const r = await git(folder, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'], signal);
  if (!r.ok) return null;
  return r.out.toString('utf8').split('\0').filter((p) => p !== '');
}

/** Every entry under `folder` except `.git` (a folder that is not a git work tree), with its kind. */
async function walk(folder: string, rel = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const e of await fs.promises.readdir(path.join(folder, rel), { withFileTypes: true })) {
    if (rel === '' && e.name === '.git') continue;
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(folder, p)));
    else if (e.isSymbolicLink()) out.push({ rel: p, kind: 'link' });
    else if (e.isFile()) out.push({ rel: p, kind: 'file' });
  }
  return out;
}

/**
 * The kinds of git's listed paths, from one readdir per folder (its entry types) instead of a stat per file. A
 * path that is gone (deleted in the working tree) is left out: a checkout as it is now does not have it.
 */
async function kindsOf(folder: string, list: string[]): Promise<Entry[]> {
  const byDir = new Map<string, string[]>();
  for (const raw of list) {
    const rel = raw.endsWith('/') ? raw.slice(0, -1) : raw; // an untracked nested repository: "sub/"
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '' : rel.slice(0, slash);
    (byDir.get(dir) ?? byDir.set(dir, []).get(dir)!).push(rel);
  }
  const types = new Map<string, EntryKind>();
  const dirs = [...byDir.keys()];
  let next = 0;
  const reader = async () => {
    while (next < dirs.length) {
      const dir = dirs[next++];
      let found: fs.Dirent[];
      try {
        found = await fs.promises.readdir(path.join(folder, dir), { withFileTypes: true });
      } catch (e) {
        if (missing(e)) continue;
        throw e;
      }
      for (const d of found) {
        const kind: EntryKind | null = d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : d.isDirectory() ? 'dir' : null;
        if (kind) types.set(dir ? `${dir}/${d.name}` : d.name, kind);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, dirs.length) }, reader));
  const out: Entry[] = [];
  for (const rels of byDir.values()) {
    for (const rel of rels) {
      const kind = types.get(rel);
      if (kind) out.push({ rel, kind });
    }
  }
  return out;
}

/** Folders holding the entries, parents first. */
function foldersOf(entries: Entry[]): string[] {
  const dirs = new Set<string>();
  for (const e of entries) {
    for (let d = path.posix.dirname(e.rel); d !== '.' && !dirs.has(d); d = path.posix.dirname(d)) dirs.add(d);
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
}

/** A config value git reads back as written (quoted, with its escapes). */
function configValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/**
 * The workspace's `.git`, read from the folder's repository files; 'clone' when the layout is not one this reader
 * is sure about (git then makes it: `git clone --shared`).
 */
async function gitFilesOf(source: string): Promise<GitFiles | 'clone'> {
  const repo = await locateRepo(source);
  if (repo === null || repo === ASK_GIT) return 'clone';
  // The folder must be the work tree's top (a subfolder's workspace is not a checkout of the repository).
  if (repo.top !== (await fs.promises.realpath(source))) return 'clone';
  const head = await readHead(repo);
  if (head === ASK_GIT) return 'clone';
  const gitDirNames = await fs.promises.readdir(repo.gitDir);
  // A split index lives in two files; the index alone would not read.
  if (gitDirNames.some((n) => n.startsWith('sharedindex.'))) return 'clone';
  const objects = await fs.promises.realpath(path.join(repo.commonDir, 'objects'));
  if (/[\r\n]/.test(objects)) return 'clone';
  const refs = await refsOf(repo);
  if (refs === null) return 'clone';
  const [index, shallow] = await Promise.all([readOrNull(path.join(repo.gitDir, 'index')), readOrNull(path.join(repo.commonDir, 'shallow'))]);
  return {
    head: head.branch === null ? `${head.sha}\n` : `ref: refs/heads/${head.branch}\n`,
    config: workspaceConfig(repo, head.branch),
    packedRefs: [...refs.direct].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ref, sha]) => `${sha} ${ref}\n`).join(''),
    symrefs: refs.symbolic,
    alternates: `${objects}\n`,
    index,
    shallow,
  };
}

/**
 * The folder's branches, tags and remote-tracking branches (packed and loose; a loose ref wins, as in git). null
 * when a ref file is not one git would write.
 */
async function refsOf(repo: RepoLocation): Promise<{ direct: Map<string, string>; symbolic: Array<[string, string]> } | null> {
  const hex = new RegExp(`^[0-9a-f]{${repo.hexLength}}$`);
  const direct = new Map<string, string>();
  const symbolic: Array<[string, string]> = [];
  const packed = await readOrNull(path.join(repo.commonDir, 'packed-refs'));
  for (const line of (packed?.toString('utf8') ?? '').split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const sp = line.indexOf(' ');
    const sha = line.slice(0, sp);
    const ref = line.slice(sp + 1).replace(/\r$/, '');
    if (sp < 0 || !hex.test(sha)) return null;
    if (/^refs\/(heads|tags|remotes)\//.test(ref)) direct.set(ref, sha);
  }
  let ok = true;
  const loose: string[] = [];
  const visit = async (ref: string): Promise<void> => {
    let found: fs.Dirent[];
    try {
      found = await fs.promises.readdir(path.join(repo.commonDir, ref), { withFileTypes: true });
    } catch (e) {
      if (!missing(e)) ok = false;
      return;
    }
    for (const d of found) {
      const name = `${ref}/${d.name}`;
      if (d.isDirectory()) await visit(name);
      else if (d.isFile() && !d.name.endsWith('.lock')) loose.push(name);
    }
  };
  for (const top of ['refs/heads', 'refs/tags', 'refs/remotes']) await visit(top);
  await eachLimited(loose, 16, async (name) => {
    const text = (await fs.promises.readFile(path.join(repo.commonDir, name), 'utf8')).replace(/\r?\n$/, '');
    const sym = /^ref: *(refs\/[^\0\n]+)$/.exec(text);
    if (hex.test(text)) direct.set(name, text);
    else if (sym) symbolic.push([name, `ref: ${sym[1]}\n`]);
    else ok = false;
  });
  return ok ? { direct, symbolic } : null;
}

/** The workspace's config: the folder's object format and file-system facts, its origin and its branch's upstream. */
function workspaceConfig(repo: RepoLocation, branch: string | null): string {
  const get = (name: string) => {
    let value: string | null | undefined;
    for (const e of repo.config) if (e.name === name) value = e.value;
    return value;
  };
  const lines = ['[core]', `\trepositoryformatversion = ${repo.hexLength === 64 ? 1 : 0}`];
  for (const key of ['filemode', 'symlinks', 'ignorecase', 'precomposeunicode']) {
    const v = get(`core.${key}`);
    if (v !== undefined) lines.push(`\t${key} = ${v === null ? 'true' : configValue(v)}`);
  }
  lines.push('\tbare = false', '\tlogallrefupdates = true');
  if (repo.hexLength === 64) lines.push('[extensions]', '\tobjectformat = sha256');
  const origin = get('remote.origin.url');
  if (origin) lines.push('[remote "origin"]', `\turl = ${configValue(origin)}`, '\tfetch = +refs/heads/*:refs/remotes/origin/*');
  if (branch !== null) {
    const remote = get(`branch.${branch}.remote`);
    const merge = get(`branch.${branch}.merge`);
    if (remote && merge) lines.push(`[branch ${configValue(branch)}]`, `\tremote = ${configValue(remote)}`, `\tmerge = ${configValue(merge)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Reads what every workspace of `source` is made from (once per run). A file added to the folder later is not in
 * the run's workspaces; the contents are copied when each workspace is made.
 */
export async function snapshotOf(source: string, signal?: AbortSignal): Promise<WorkspaceSnapshot> {
  const [list, gitFiles] = await Promise.all([listFiles(source, signal), gitFilesOf(source).catch(() => 'clone' as const)]);
  const notes: string[] = [];
  let entries: Entry[];
  if (list === null) {
    notes.push('the folder is not a git work tree: every file is copied');
    entries = await walk(source);
  } else entries = await kindsOf(source, list);
  await eachLimited(
    entries.filter((e) => e.kind === 'link'),
    COPY_CONCURRENCY,
    async (e) => {
      e.target = await fs.promises.readlink(path.join(source, e.rel)).catch(() => undefined);
    },
  );
  return { source, entries, dirs: foldersOf(entries), git: list === null ? null : gitFiles, notes };
}

/** The files of a workspace's `.git`, relative to it. */
function gitFileList(g: GitFiles): Array<[string, string | Buffer]> {
  const writes: Array<[string, string | Buffer]> = [
    ['HEAD', g.head],
    ['config', g.config],
    ['packed-refs', g.packedRefs],
    ['objects/info/alternates', g.alternates],
  ];
  if (g.index) writes.push(['index', g.index]);
  if (g.shallow) writes.push(['shallow', g.shallow]);
  for (const [ref, text] of g.symrefs) writes.push([ref, text]);
  return writes;
}

/** Writes the workspace's `.git` (the folder's objects borrowed through `objects/info/alternates`). */
async function writeGit(dest: string, g: GitFiles): Promise<void> {
  const dotGit = path.join(dest, '.git');
  // What git needs to see a repository (objects/, refs/, HEAD); it makes objects/pack, refs/heads, refs/tags when it
  // writes there (the workspace thread makes the same).
  await Promise.all(['objects/info', 'refs'].map((d) => fs.promises.mkdir(path.join(dotGit, d), { recursive: true })));
  const writes = gitFileList(g);
  await Promise.all(
    writes.map(async ([rel, data]) => {
      const to = path.join(dotGit, rel);
      if (rel.startsWith('refs/')) await fs.promises.mkdir(path.dirname(to), { recursive: true });
      await fs.promises.writeFile(to, data);
    }),
  );
}

/** The workspace's `.git` made by git: a clone that borrows the objects, HEAD at the same commit, its index from HEAD. */
async function cloneGit(source: string, dest: string, signal?: AbortSignal): Promise<void> {
  const cloned = await git(path.dirname(dest), ['clone', '--quiet', '--shared', '--no-checkout', '--', source, dest], signal);
  if (!cloned.ok) throw new Error(`git clone of the folder failed: ${cloned.err.trim().split('\n').pop()}`);
  const head = await git(source, ['rev-parse', '--verify', '-q', 'HEAD'], signal);
  if (head.ok) {
    const sha = head.out.toString().trim();
    const branch = await git(source, ['symbolic-ref', '-q', 'HEAD'], signal);
    const ref = branch.ok ? branch.out.toString().trim() : null;
    if (ref?.startsWith('refs/heads/')) {
      await git(dest, ['update-ref', ref, sha], signal);
      await git(dest, ['symbolic-ref', 'HEAD', ref], signal);
    } else await git(dest, ['update-ref', '--no-deref', 'HEAD', sha], signal);
    await git(dest, ['read-tree', 'HEAD'], signal);
  }
  const origin = await git(source, ['config', '--get', 'remote.origin.url'], signal);
  if (origin.ok) await git(dest, ['remote', 'set-url', 'origin', origin.out.toString().trim()], signal);
  else await git(dest, ['remote', 'remove', 'origin'], signal);
}

/** Waits for every promise, then throws the first failure (nothing is left writing when the caller cleans up). */
async function settleAll(promises: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Copies one entry with Node: a regular file (mode kept), a symlink as a symlink, a directory (a submodule) as a tree. */
async function copyEntry(source: string, dest: string, e: Entry): Promise<void> {
  const from = path.join(source, e.rel);
  const to = path.join(dest, e.rel);
  try {
    if (e.kind === 'file') await fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE);
    else if (e.kind === 'link') await fs.promises.symlink(e.target ?? (await fs.promises.readlink(from)), to);
    else await fs.promises.cp(from, to, { recursive: true, verbatimSymlinks: true, filter: (src) => path.basename(src) !== '.git' });
  } catch (err) {
    if (!missing(err)) throw err; // gone since the run began: a checkout as it is now does not have it
  }
}

async function copyWithNode(source: string, dest: string, entries: Entry[], signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      if (signal?.aborted) throw new Error('cancelled');
      await copyEntry(source, dest, entries[next++]);
    }
  };
  await settleAll(Array.from({ length: Math.min(COPY_CONCURRENCY, entries.length) }, worker));
}

/** Runs `cp` on one batch of relative paths (into folders that exist); false when it did not copy them all. */
function cpBatch(source: string, dest: string, rels: string[], signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    // --parents keeps each relative path under dest; -P copies nothing a link points to. Each file is created with
    // the source's mode (less the umask) in the same call; keeping times or ACLs would be more calls per file.
    const child = spawn('cp', ['-P', '--parents', '-t', dest, '--', ...rels], {
      cwd: source,
      stdio: 'ignore',
      signal,
    });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Copies regular files with `cp` in batches; what a batch could not copy (a file gone, no GNU cp) Node copies. */
async function copyWithCp(source: string, dest: string, files: Entry[], signal?: AbortSignal): Promise<void> {
  const batches: Entry[][] = [];
  let bytes = 0;
  for (const e of files) {
    const size = Buffer.byteLength(e.rel) + 1;
    if (batches.length === 0 || bytes + size > CP_ARG_BYTES) {
      batches.push([]);
      bytes = 0;
    }
    batches[batches.length - 1].push(e);
    bytes += size;
  }
  // Even halves when the list fits one batch, so both cores copy.
  if (batches.length === 1 && files.length >= 2 * CP_MIN_FILES) batches.splice(0, 1, files.slice(0, files.length >> 1), files.slice(files.length >> 1));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      if (!(await cpBatch(source, dest, batch.map((e) => e.rel), signal))) {
        if (signal?.aborted) throw new Error('cancelled');
        await copyWithNode(source, dest, batch, signal);
      }
    }
  };
  await settleAll(Array.from({ length: Math.min(CP_PROCESSES, batches.length) }, worker));
}

/**
 * Makes `dest` (which must not exist) a workspace of `source`, from the run's `snapshot` (read now when not given).
 * Returns notes for the job's log.
 */
export async function makeWorkspace(source: string, dest: string, signal?: AbortSignal, snapshot?: WorkspaceSnapshot): Promise<{ notes: string[] }> {
  const snap = snapshot ?? (await snapshotOf(source, signal));
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const g = snap.git;
  const dotGit = g === null ? Promise.resolve() : g === 'clone' ? cloneGit(source, dest, signal) : writeGit(dest, g);
  // The folders first, a level at a time (the clone makes dest itself).
  const tree = (async () => {
    if (g === 'clone') await dotGit;
    else await fs.promises.mkdir(dest, { recursive: true });
    let level: string[] = [];
    const flush = async () => {
      await Promise.all(level.map((d) => fs.promises.mkdir(path.join(dest, d), { recursive: true })));
      level = [];
    };
    let depth = 0;
    for (const d of snap.dirs) {
      const n = d.split('/').length;
      if (n !== depth) await flush();
      depth = n;
      level.push(d);
    }
    await flush();
    if (signal?.aborted) throw new Error('cancelled');
    const files = snap.entries.filter((e) => e.kind === 'file');
    if (process.platform === 'linux' && files.length >= CP_MIN_FILES) {
      await settleAll([copyWithCp(source, dest, files, signal), copyWithNode(source, dest, snap.entries.filter((e) => e.kind !== 'file'), signal)]);
    } else await copyWithNode(source, dest, snap.entries, signal);
  })();
  await settleAll([dotGit, tree]);
  return { notes: snap.notes };
}

/** Removes a folder: by `rm -rf` on Linux (one process for thousands of files), else (or when it fails) by Node. */
function removeTree(dir: string): Promise<void> {
  const byNode = () => fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  if (process.platform !== 'linux') return byNode();
  return new Promise<boolean>((resolve) => {
    const child = spawn('rm', ['-rf', '--', dir], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  }).then((ok) => (ok ? undefined : byNode()));
}

export interface RunWorkspaceOptions {
  /**
   * No job of the run works in the folder itself (so none adds files to it while the run goes): the folder is read
   * once, for the first workspace, and a spare workspace is made ahead for the next job. Otherwise every workspace
   * reads the folder again, seeing what the jobs before it wrote there.
   */
  reuse: boolean;
  /** Workspaces the run's plan makes (a matrix computed while the run goes may add more): no spare beyond them. */
  planned?: number;
}

/** A spare workspace is made ahead only for a folder this small (its copy is cheap; a spare left unused is too). */
const SPARE_MAX_ENTRIES = 1000;
/**
 * A workspace's state must be taken this long after the newest time in it for an equal state later to prove that
 * nothing changed: file times come from a clock that moves in ticks (1–10 ms), so a write within the tick of the
 * copy could leave every time as it was.
 */
const TIME_TICK_MS = 25;
/** From this many planned workspaces on, spares are made by a thread of their own (starting it costs a few ms). */
const THREAD_MIN_WORKSPACES = 4;

/**
 * The workspaces of one run. With `reuse`, what cannot change during the run is read once and, for a small folder,
 * the next job's workspace is made while the current job runs (taking it is a rename). A succeeded job's workspace
 * is renamed away and removed in the background. `close()` (when the run has ended) removes what is left over.
 */
export function runWorkspaces(opts: RunWorkspaceOptions = { reuse: false }): WorkspacePort & { close(): Promise<void> } {
  const snapshots = new Map<string, Promise<WorkspaceSnapshot>>();
  const stop = new AbortController();
  const removals = new Set<Promise<void>>();
  let spare: { source: string; dir: string; made: Promise<{ at: string; state: TreeState | null } | null> } | null = null;
  /**
   * Workspaces whose state was taken when their job started: a succeeded job's workspace still in that state (the
   * job changed nothing in it: a lint, a test that writes nothing) is the next job's, not copied again.
   */
  const states = new Map<string, { source: string; state: TreeState }>();
  /** A succeeded job's unchanged workspace, waiting for the next job. */
  let unchanged: { source: string; dir: string; at: string; state: TreeState } | null = null;
  /** Whether the last workspace handed back unchanged was taken again. */
  let reusing = false;
  /**
   * No job has changed a workspace whose state was taken (or the last one checked was unchanged): no spare is made
   * ahead (nor the thread started: a process with a second thread takes longer to start each job's processes).
   */
  let hopeful = opts.reuse;
  const thread = opts.reuse && (opts.planned ?? Infinity) >= THREAD_MIN_WORKSPACES ? new WorkspaceThread() : null;
  const plans = new WeakMap<WorkspaceSnapshot, WorkspacePlan | null>();
  /** What the thread makes a workspace of this snapshot from; null when only git can make its `.git`. */
  const planOf = (snapshot: WorkspaceSnapshot): WorkspacePlan | null => {
    if (plans.has(snapshot)) return plans.get(snapshot) ?? null;
    const g = snapshot.git;
    const plan = g === 'clone' ? null : { source: snapshot.source, dirs: snapshot.dirs, entries: snapshot.entries, git: g === null ? null : gitFileList(g) };
    plans.set(snapshot, plan);
    return plan;
  };
  const notes: string[] = [];
  let made = 0;
  let serial = 0;
  const snapshotFor = (source: string, signal: AbortSignal) => {
    if (!opts.reuse) return snapshotOf(source, signal);
    let s = snapshots.get(source);
    if (!s) {
      s = snapshotOf(source, signal);
      snapshots.set(source, s);
      s.catch(() => snapshots.delete(source)); // a cancelled or failed read is tried again by the next job
    }
    return s;
  };
  const rmQuietly = (p: string) => fs.promises.rm(p, { recursive: true, force: true }).catch(() => undefined);
  const track = (removal: Promise<void>) => {
    const r = removal.finally(() => removals.delete(r));
    removals.add(r);
  };
  const removeLater = (p: string) => track(removeTree(p));
  /** Workspaces of a small folder, made by this port: removed together when the run ends (see remove). */
  const small = new Set<string>();
  /** Folders (`<workspaces>/.removed`) holding the succeeded jobs' workspaces of a small folder until the run ends. */
  const trash = new Set<string>();
  /** Starts the next job's workspace, when more jobs are planned and the folder is small. */
  const makeSpare = (source: string, dir: string, snapshot: WorkspaceSnapshot) => {
    if (!opts.reuse || spare || stop.signal.aborted || snapshot.entries.length > SPARE_MAX_ENTRIES) return;
    if (opts.planned !== undefined && made >= opts.planned) return;
    const at = path.join(dir, `.spare-${++serial}`);
    const plan = thread && !thread.broken ? planOf(snapshot) : null;
    const making =
      plan && thread
        ? thread.make(plan, at).catch((e: unknown) => {
            notes.push(`the next workspaces are made by the run's own thread no more: ${(e as Error).message}`);
            throw e;
          })
        : makeWorkspace(source, at, stop.signal, snapshot);
    const ready = making.then(
      (made) => ({ at, state: made && 'entries' in made ? made : null }),
      () => (removeLater(at), null),
    );
    spare = { source, dir, made: ready };
  };
  /** A workspace made ahead (a spare, or an unchanged one), moved to `dest`: its state, null when it has none; false when there is none for it. */
  const takeReady = async (source: string, dest: string): Promise<{ state: TreeState | null } | false> => {
    const u = unchanged;
    if (u && u.source === source && u.dir === path.dirname(dest)) {
      unchanged = null;
      try {
        fs.renameSync(u.at, dest); // one call on the job's path: not worth a trip through the thread pool
        reusing = true;
        return { state: u.state };
      } catch {
        removeLater(u.at);
      }
    }
    reusing = false;
    const s = spare;
    if (!s || s.source !== source || s.dir !== path.dirname(dest)) return false;
    spare = null;
    const got = await s.made;
    if (got === null) return false;
    try {
      await fs.promises.rename(got.at, dest);
      return { state: got.state };
    } catch {
      removeLater(got.at);
      return false;
    }
  };
  /** More jobs of the run will take a workspace after this one. */
  const moreToCome = () => opts.planned === undefined || made < opts.planned;
  return {
    prepare: async (source, dest, signal, overlays = []) => {
      // Usually nothing is there (a retry's path may hold the attempt before): asked once, synchronously.
      if (fs.existsSync(dest)) await fs.promises.rm(dest, { recursive: true, force: true });
      made++;
      // Read with the signal of the job that came first: when that job alone was stopped, the next one reads again.
      const snapshot = await snapshotFor(source, signal).catch((e: unknown) => {
        if (signal.aborted) throw e;
        return snapshotFor(source, signal);
      });
      const ready = await takeReady(source, dest);
      const fresh = ready ? { notes: snapshot.notes } : await makeWorkspace(source, dest, signal, snapshot);
      const result = { notes: [...fresh.notes, ...notes.splice(0)], ...(ready && reusing ? { reused: true } : {}) };
      if (snapshot.entries.length <= SPARE_MAX_ENTRIES) small.add(dest);
      else small.delete(dest);
      states.delete(dest);
      const state = !opts.reuse || !moreToCome() || overlays.length > 0 || !small.has(dest) ? null : ready ? ready.state : hopeful ? stateNow(dest) : null;
      if (state) {
        // Its state proves nothing changed only once the file system's clock has moved past the copy: the run's
        // first workspace, copied moments ago, waits for that (a few ms, once: the copies after it are older, or it
        // itself serves the next job); a later one too young to tell is not handed on.
        const wait = state.newest + TIME_TICK_MS - Date.now();
        const first = hopeful && made === 1;
        if (wait > 0 && first) await new Promise((r) => setTimeout(r, wait));
        if (wait <= 0 || first) states.set(dest, { source, state });
      }
      if (!hopeful) makeSpare(source, path.dirname(dest), snapshot);
      for (const dir of overlays) await fs.promises.cp(dir, dest, { recursive: true, force: true, verbatimSymlinks: true });
      return result;
    },
    keep: async (from, files, into) => {
      const out: string[] = [];
      for (const f of files) {
        const rel = path.relative(from, f);
        if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
        const to = path.join(into, rel);
        await fs.promises.mkdir(path.dirname(to), { recursive: true });
        await fs.promises.copyFile(f, to, fs.constants.COPYFILE_FICLONE);
        out.push(to);
      }
      return out;
    },
    remove: async (dest) => {
      const dir = path.dirname(dest);
      const before = states.get(dest);
      states.delete(dest);
      if (before && !unchanged && !stop.signal.aborted && moreToCome()) {
        // The job changed nothing in it: the next job's workspace, as it was made.
        hopeful = unchangedSince(dest, before.state);
        if (hopeful) {
          const at = path.join(dir, `.spare-${++serial}`);
          try {
            fs.renameSync(dest, at);
            small.delete(dest);
            unchanged = { source: before.source, dir, at, state: before.state };
            return;
          } catch {
            // Removed below.
          }
        }
      }
      // Out of the way at once (a retry may make the same path again). A small folder's copies go all together when
      // the run ends, by one `rm` (a file removed through Node's promises costs several times what `rm` spends on
      // it); a large one's go in the background now, not to hold its space until then.
      const keepForEnd = small.delete(dest);
      const away = keepForEnd ? path.join(dir, '.removed', String(++serial)) : path.join(dir, `.removed-${++serial}`);
      try {
        if (keepForEnd) await fs.promises.mkdir(path.dirname(away), { recursive: true });
        await fs.promises.rename(dest, away);
        if (keepForEnd) trash.add(path.dirname(away));
        else removeLater(away);
      } catch {
        await rmQuietly(dest);
      }
    },
    close: async () => {
      stop.abort();
      const s = spare;
      spare = null;
      if (s) {
        const got = await s.made;
        if (got) removeLater(got.at);
      }
      if (unchanged) removeLater(unchanged.at);
      unchanged = null;
      for (const dir of trash) track(removeTree(dir));
      trash.clear();
      while (removals.size > 0) await Promise.all([...removals]);
      await thread?.close();
    },
  };
}

/**
 * Whether every entry of the workspace is as `before` recorded it (inode, mode, size, links, times). An entry added,
 * removed or renamed changes its folder's mtime and ctime, so the recorded entries are all that need reading; the
 * first difference ends it.
 */
function unchangedSince(dest: string, before: TreeState): boolean {
  try {
    for (const [rel, was] of Object.entries(before.entries)) {
      const st = fs.lstatSync(rel === '' ? dest : path.join(dest, rel));
      if (entryState(st, rel === '') !== was) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The state of a (small) workspace now, read on this thread (a few microseconds an entry); null when unreadable. */
function stateNow(dest: string): TreeState | null {
  try {
    return treeState(fs, path, dest);
  } catch {
    return null;
  }
}
