// File access for the core's ports: globbing inside a folder and reading text.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import type { WorkspaceFiles } from '../core/engine/ports';
import type { PlanIO } from '../core/sources';
import { globBase, globToRegExp } from '../core/glob';

const SKIP_DIRS = new Set(['.git', 'node_modules']);
const MAX_ENTRIES = 50_000;

/** Relative paths (forward slashes) of files under `root` that match any of the globs. */
export async function globFiles(root: string, patterns: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const clean = pattern.replace(/^\.\//, '');
    if (!/[*?{]/.test(clean)) {
      try {
        if ((await fs.promises.stat(path.join(root, clean))).isFile()) out.add(clean);
      } catch {
        // Missing: not a match.
      }
      continue;
    }
    const re = globToRegExp(clean);
    const base = globBase(clean);
    const deep = clean.includes('**');
    let seen = 0;
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (++seen > MAX_ENTRIES) return;
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && (deep || child.split('/').length < clean.split('/').length)) await walk(child);
        } else if (re.test(child)) out.add(child);
      }
    };
    await walk(base);
  }
  return [...out].sort();
}

export class LocalWorkspaceFiles implements WorkspaceFiles {
  async glob(cwd: string, patterns: readonly string[]): Promise<string[]> {
    return (await globFiles(cwd, patterns)).map((r) => path.join(cwd, r));
  }

  readText(p: string): Promise<string> {
    return fs.promises.readFile(p, 'utf8');
  }
}

/** The last `lines` lines of a text file (reads at most the last 64 KB); empty when unreadable. */
export async function readTail(file: string, lines: number): Promise<string[]> {
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(file, 'r');
    const { size } = await fh.stat();
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const text = buf.toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    if (length < size) all.shift(); // first line is probably cut
    return all.slice(-lines);
  } catch {
    return [];
  } finally {
    await fh?.close();
  }
}

export const localPlanIO: PlanIO = {
  tempDir: (prefix) => fs.promises.mkdtemp(path.join(os.tmpdir(), prefix.replace(/[^A-Za-z0-9_-]/g, '_'))),
  readText: async (p) => {
    try {
      return await fs.promises.readFile(p, 'utf8');
    } catch {
      return null;
    }
  },
  writeText: (p, text) => fs.promises.writeFile(p, text),
};
