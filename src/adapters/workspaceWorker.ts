// A thread that makes job workspaces with synchronous file calls, for a run of many jobs on a small folder. Each
// asynchronous file call of Node is a hand-over to libuv's thread pool and back (a wake-up of another thread: on a
// virtual machine often 0.05–0.15 ms of the main thread per call, about what the call itself costs), and a workspace
// is dozens of them; here the engine's thread posts one message per workspace and goes on running jobs.
import type * as fsModule from 'node:fs';
import type * as pathModule from 'node:path';
import { createRequire } from 'node:module';
import type * as threads from 'node:worker_threads';

type Worker = threads.Worker;

/** What the thread needs to make a workspace (plain data: it is copied to the thread once). */
export interface WorkspacePlan {
  source: string;
  /** Folders to make under the workspace, parents first. */
  dirs: string[];
  entries: Array<{ rel: string; kind: 'file' | 'link' | 'dir'; target?: string }>;
  /** Files of `.git` (relative path → content), null when it is not a git work tree. */
  git: Array<[string, string | Uint8Array]> | null;
}

/**
 * What a workspace is at a moment: every entry's inode, mode, size, times and links (the root's ctime left out: a
 * rename changes it), and the newest of those times (ms since the epoch). Two equal states: nothing in it changed,
 * provided the first was taken a clock tick of the file system after its newest time (see runWorkspaces).
 */
export interface TreeState {
  entries: Record<string, string>;
  newest: number;
}

type Request = { op: 'plan'; id: number; plan: WorkspacePlan } | { op: 'make'; id: number; plan: number; dest: string };
type Reply = { id: number; error: string | null; state?: TreeState };

/**
 * The thread's code: self-contained (it is started from this function's source), synchronous, one request at a
 * time. A file gone from the folder since the run began is left out, as the main thread's copy does.
 */
function threadMain(wt: typeof threads, fs: typeof fsModule, path: typeof pathModule, treeState: (fs: typeof fsModule, path: typeof pathModule, root: string) => TreeState): void {
  const plans = new Map<number, WorkspacePlan>();
  const gone = (e: unknown) => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException)?.code ?? '');
  const make = (plan: WorkspacePlan, dest: string) => {
    fs.mkdirSync(dest, { recursive: true });
    if (plan.git) {
      fs.mkdirSync(path.join(dest, '.git', 'objects', 'info'), { recursive: true });
      fs.mkdirSync(path.join(dest, '.git', 'refs'), { recursive: true });
      for (const [rel, data] of plan.git) {
        const to = path.join(dest, '.git', rel);
        if (rel.startsWith('refs/')) fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.writeFileSync(to, data);
      }
    }
    for (const d of plan.dirs) fs.mkdirSync(path.join(dest, d), { recursive: true });
    for (const e of plan.entries) {
      const from = path.join(plan.source, e.rel);
      const to = path.join(dest, e.rel);
      try {
        if (e.kind === 'file') fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE);
        else if (e.kind === 'link') fs.symlinkSync(e.target ?? fs.readlinkSync(from), to);
        else fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true, filter: (src) => path.basename(src) !== '.git' });
      } catch (err) {
        if (!gone(err)) throw err;
      }
    }
  };
  const stateOf = (root: string) => treeState(fs, path, root);
  wt.parentPort?.on('message', (m: Request) => {
    let error: string | null = null;
    let state: TreeState | undefined;
    try {
      if (m.op === 'plan') plans.set(m.id, m.plan);
      else {
        const plan = plans.get(m.plan);
        if (!plan) throw new Error(`no plan ${m.plan}`);
        make(plan, m.dest);
        state = stateOf(m.dest);
      }
    } catch (e) {
      error = (e as Error)?.message ?? String(e);
    }
    wt.parentPort?.postMessage({ id: m.id, error, ...(state ? { state } : {}) } satisfies Reply);
  });
}

/**
 * The state of the tree at `root` (synchronous: a few microseconds an entry). Self-contained (it is also started in
 * the thread from its source).
 */
export function treeState(fs: typeof fsModule, path: typeof pathModule, root: string): TreeState {
  const entries: Record<string, string> = {};
  let newest = 0;
  const visit = (abs: string, rel: string) => {
    const st = fs.lstatSync(abs);
    // As entryState() says it (inlined: this function is also started in the thread from its source).
    entries[rel] = `${st.ino}:${st.mode}:${st.size}:${st.nlink}:${st.mtimeMs}:${rel === '' ? '' : st.ctimeMs}`;
    newest = Math.max(newest, st.mtimeMs, rel === '' ? 0 : st.ctimeMs);
    if (st.isDirectory()) for (const name of fs.readdirSync(abs)) visit(path.join(abs, name), rel === '' ? name : `${rel}/${name}`);
  };
  visit(root, '');
  return { entries, newest };
}

/**
 * One entry of a TreeState: what treeState() records of it (the root's ctime left out: a rename changes it). Times
 * as fractional milliseconds (a double keeps them to a fraction of a microsecond, far finer than the file system's
 * clock ticks): a stat without BigInts costs less, and every entry of a workspace is read after each job.
 */
export function entryState(st: fsModule.Stats, root: boolean): string {
  return `${st.ino}:${st.mode}:${st.size}:${st.nlink}:${st.mtimeMs}:${root ? '' : st.ctimeMs}`;
}

/** The thread, started on first use; it never keeps the process alive. */
export class WorkspaceThread {
  private worker: Worker | null = null;
  private failed: string | null = null;
  private serial = 0;
  private readonly pending = new Map<number, { resolve: (state: TreeState | undefined) => void; reject: (e: Error) => void }>();
  private readonly plans = new WeakMap<WorkspacePlan, number>();

  /** Why the thread cannot be used (it failed to start or died), or null. */
  get broken(): string | null {
    return this.failed;
  }

  /** Makes `dest` (which must not exist) from `plan`: its state once made; rejects when the thread cannot. */
  async make(plan: WorkspacePlan, dest: string): Promise<TreeState> {
    const w = this.start();
    let planId = this.plans.get(plan);
    if (planId === undefined) {
      planId = ++this.serial;
      this.plans.set(plan, planId);
      void this.request(w, { op: 'plan', id: planId, plan }).catch(() => undefined);
    }
    const state = await this.request(w, { op: 'make', id: ++this.serial, plan: planId, dest });
    if (!state) throw new Error('the workspace thread gave no state');
    return state;
  }


  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private request(w: Worker, m: Request): Promise<TreeState | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      w.postMessage(m);
    });
  }

  private start(): Worker {
    if (this.failed) throw new Error(this.failed);
    if (this.worker) return this.worker;
    let w: Worker;
    try {
      // worker_threads is loaded when the first workspace is made, not with the CLI (most runs never need it).
      const { Worker } = createRequire(__filename)('node:worker_threads') as typeof threads;
      w = new Worker(`(${threadMain.toString()})(require('node:worker_threads'), require('node:fs'), require('node:path'), ${treeState.toString()})`, { eval: true });
    } catch (e) {
      this.failed = `the workspace thread could not start: ${(e as Error).message}`;
      throw new Error(this.failed);
    }
    w.unref();
    w.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.error === null) p?.resolve(r.state);
      else p?.reject(new Error(r.error));
    });
    const fail = (why: string) => {
      this.failed ??= why;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(new Error(why));
      this.pending.clear();
    };
    w.on('error', (e) => fail(`the workspace thread failed: ${e.message}`));
    w.on('exit', () => fail('the workspace thread ended'));
    this.worker = w;
    return w;
  }
}
