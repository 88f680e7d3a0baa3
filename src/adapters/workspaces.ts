// Job workspaces: a copy of the folder as it is now — committed files and uncommitted changes, untracked files that
// are not ignored, without ignored build output — for a job that must not share the working tree (each GitHub job
// and matrix leg, as each gets a fresh checkout on GitHub). Files are copied, never hard-linked: a job that rewrites
// a file in place (a formatter, `npm version`) must not change yours. The copy has its own `.git` (a clone that
// borrows the folder's objects: refs and index of its own), so `git status` shows your changes and a commit made by
// the job stays in the workspace.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkspacePort } from '../core/engine/ports';

/** Files copied at once (the copies are kernel work: a few in flight keep both cores busy). */
const COPY_CONCURRENCY = 16;

function git(cwd: string, args: string[], signal?: AbortSignal): Promise<{ ok: boolean; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, signal, encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (e, out, err) =>
      resolve({ ok: !e, out: out as Buffer, err: String(err) }),
    );
  });
}

/** Paths (relative, `/`-separated) of the folder's files a checkout would have now, or null when it is not a git work tree. */
async function listFiles(folder: string, signal?: AbortSignal): Promise<string[] | null> {
  const r = await git(folder, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate'], signal);
  if (!r.ok) return null;
  return r.out.toString('utf8').split('\0').filter((p) => p !== '');
}

/** Every file under `folder` except `.git` (a folder that is not a git work tree). */
async function walk(folder: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(path.join(folder, rel), { withFileTypes: true })) {
    if (rel === '' && e.name === '.git') continue;
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(folder, p)));
    else out.push(p);
  }
  return out;
}

/** Copies one entry: a regular file (mode kept), a symlink as a symlink, a directory (a submodule) as a tree. */
async function copyEntry(from: string, to: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(from);
  } catch {
    return; // deleted in the working tree: a checkout as it is now does not have it
  }
  if (st.isSymbolicLink()) await fs.promises.symlink(await fs.promises.readlink(from), to);
  else if (st.isFile()) await fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE);
  else if (st.isDirectory()) await fs.promises.cp(from, to, { recursive: true, verbatimSymlinks: true, filter: (src) => path.basename(src) !== '.git' });
}

/**
 * Makes `dest` (which must not exist) a workspace of `source`. Returns notes for the job's log.
 */
export async function makeWorkspace(source: string, dest: string, signal?: AbortSignal): Promise<{ notes: string[] }> {
  const notes: string[] = [];
  const files = await listFiles(source, signal);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  if (files !== null) {
    // A clone that borrows the objects: its own refs, HEAD at the same commit, its index made from HEAD.
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
  } else {
    await fs.promises.mkdir(dest);
    notes.push('the folder is not a git work tree: every file is copied');
  }
  const list = files ?? (await walk(source));
  const dirs = new Set<string>();
  for (const f of list) {
    const d = path.posix.dirname(f);
    if (d !== '.') dirs.add(d);
  }
  for (const d of [...dirs].sort()) await fs.promises.mkdir(path.join(dest, d), { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      if (signal?.aborted) throw new Error('cancelled');
      const f = list[next++];
      await copyEntry(path.join(source, f), path.join(dest, f));
    }
  };
  await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, list.length) }, worker));
  return { notes };
}

export const localWorkspaces: WorkspacePort = {
  prepare: async (source, dest, signal, overlays = []) => {
    await fs.promises.rm(dest, { recursive: true, force: true });
    const made = await makeWorkspace(source, dest, signal);
    for (const dir of overlays) await fs.promises.cp(dir, dest, { recursive: true, force: true, verbatimSymlinks: true });
    return made;
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
  remove: (dest) => fs.promises.rm(dest, { recursive: true, force: true }).catch(() => undefined),
};
