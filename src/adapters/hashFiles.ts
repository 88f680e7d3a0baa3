// hashFiles() of a workspace, as the GitHub runner computes it: the files the patterns match (core/github/hashFiles.ts),
// met in the runner's order — each search path in turn, depth first, a folder's entries sorted by name as Node's
// readdir returns them — each hashed with SHA-256; the result is the SHA-256 of those digests, '' when nothing
// matches. Files outside the workspace are ignored, as the runner does. Unlike the runner, a file that resolves
// outside the repository or is not a regular file (a FIFO, a device) is refused rather than read.
// Synchronous: expressions are evaluated synchronously (a step's `if:` too).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashFilesRequest, matchKind, MatchKind, partialMatch } from '../core/github/hashFiles';
import { nodeCrypto } from './random';

/** Entries visited at most; a walk of more is refused (a pattern such as `/**` would otherwise walk the disk). */
const MAX_ENTRIES = 500_000;

export function hashWorkspaceFiles(workspace: string, args: string[]): string {
  const root = toSlashes(path.resolve(workspace));
  const req = hashFilesRequest(args, root, toSlashes(os.homedir()));
  const realRoot = fs.realpathSync(root);
  const result = nodeCrypto().createHash('sha256');
  let count = 0;
  let visited = 0;
  const stack: { p: string; level: number }[] = [];
  for (const sp of req.searchPaths) {
    if (lstat(sp)) stack.unshift({ p: sp, level: 1 });
  }
  const chain: string[] = [];
  while (stack.length) {
    const item = stack.pop()!;
    if (++visited > MAX_ENTRIES) throw new Error(`hashFiles: the patterns walk more than ${MAX_ENTRIES.toLocaleString('en-US')} files and folders`);
    const match = matchKind(req.patterns, item.p);
    const partial = match !== MatchKind.None || partialMatch(req.patterns, item.p);
    if (!partial) continue;
    let st: fs.Stats | null;
    if (req.followSymbolicLinks) {
      try {
        st = fs.statSync(item.p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`hashFiles: no information found for the path '${item.p}' (a broken symbolic link?)`);
        throw e;
      }
    } else st = lstat(item.p);
    if (!st) continue;
    if (st.isDirectory()) {
      if (req.followSymbolicLinks) {
        const real = fs.realpathSync(item.p);
        while (chain.length >= item.level) chain.pop();
        if (chain.includes(real)) continue;
        chain.push(real);
      }
      if (!(match & MatchKind.Directory) && !partial) continue;
      const names = fs.readdirSync(item.p).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (let i = names.length - 1; i >= 0; i--) stack.push({ p: `${item.p === '/' ? '' : item.p}/${names[i]}`, level: item.level + 1 });
    } else if (match & MatchKind.File) {
      if (!item.p.startsWith(`${root}/`)) continue; // not under the workspace: the runner ignores it
      const digest = hashOne(item.p, root, realRoot);
      if (digest === null) continue; // a folder reached through a link
      result.update(digest);
      count++;
    }
  }
  return count === 0 ? '' : result.digest('hex');
}

function hashOne(file: string, root: string, realRoot: string): Buffer | null {
  const rel = file.slice(root.length + 1);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    throw new Error(`hashFiles: ${rel} is a broken symbolic link`);
  }
  const inside = path.relative(realRoot, real);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) throw new Error(`hashFiles: ${rel} resolves outside the repository (-> ${real}); not read`);
  const st = fs.statSync(real);
  if (st.isDirectory()) return null;
  if (!st.isFile()) throw new Error(`hashFiles: ${rel} is not a regular file; not read`);
  const hash = nodeCrypto().createHash('sha256');
  const fd = fs.openSync(real, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    for (let n = fs.readSync(fd, buf, 0, buf.length, null); n > 0; n = fs.readSync(fd, buf, 0, buf.length, null)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest();
}

function lstat(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function toSlashes(p: string): string {
  return path.sep === '\\' ? p.replace(/\\/g, '/') : p;
}
