// The scratch folders and step files of one run (PlanIO.tempDir, freshFiles, recycleFiles, releaseDir): a GitHub job
// gets a folder (RUNNER_TEMP, event.json) and each of its steps five fresh files (GITHUB_ENV, GITHUB_OUTPUT, …).
// Creating a file is the expensive part on some file systems (0.3–0.75 ms each on this machine's ext4, where
// renaming one costs 0.035 ms and truncating one 0.01 ms), so files that were read are renamed and truncated for the
// next step, and a folder its job is done with — emptied of what the job left — serves the run's next job. Calls are
// synchronous: each is a few microseconds, where one of Node's asynchronous file calls costs a trip through its
// thread pool.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ScratchPool {
  tempDir(prefix: string): Promise<string>;
  freshFiles(paths: string[]): Promise<void>;
  recycleFiles(paths: string[]): void;
  releaseDir(dir: string, keep: string[]): void;
  /** Every folder made, for removal when the run ends. */
  readonly made: readonly string[];
}

export function scratchPool(): ScratchPool {
  const made: string[] = [];
  /** prefix → folders given back, ready for another job. */
  const free = new Map<string, string[]>();
  const prefixOf = new Map<string, string>();
  /** folder → files in it that may be renamed and truncated into fresh ones. */
  const spares = new Map<string, string[]>();
  const clean = (prefix: string) => prefix.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    made,
    tempDir: async (prefix) => {
      const p = clean(prefix);
      const reuse = free.get(p)?.pop();
      if (reuse !== undefined) return reuse;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), p));
      made.push(dir);
      prefixOf.set(dir, p);
      return dir;
    },
    freshFiles: async (paths) => {
      for (const file of paths) {
        const dir = path.dirname(file);
        const list = spares.get(dir) ?? [];
        // The same name again (a later job in a folder given back) needs no rename; else any spare of the folder.
        const same = list.indexOf(file);
        const spare = same >= 0 ? list.splice(same, 1)[0] : list.pop();
        if (spare !== undefined && renewed(spare, file)) continue;
        fs.writeFileSync(file, '');
      }
    },
    recycleFiles: (paths) => {
      for (const file of paths) {
        const dir = path.dirname(file);
        let list = spares.get(dir);
        if (!list) spares.set(dir, (list = []));
        if (!list.includes(file)) list.unshift(file);
      }
    },
    releaseDir: (dir, keep) => {
      const p = prefixOf.get(dir);
      if (p === undefined) return;
      const keepNames = new Set(keep);
      try {
        // What the job left in RUNNER_TEMP goes: the next job starts with an empty one, as on a CI runner.
        // What is kept must still be a plain file of its own (not a link, a FIFO, a second name of another file).
        // Spare step files are looked at when they are renewed.
        const spareNames = new Set((spares.get(dir) ?? []).map((f) => path.basename(f)));
        for (const name of fs.readdirSync(dir)) {
          const full = path.join(dir, name);
          if (spareNames.has(name)) continue;
          if (!keepNames.has(name) || !plainFile(fs.lstatSync(full))) fs.rmSync(full, { recursive: true, force: true });
        }
      } catch {
        return; // not reused: removed with the others when the run ends
      }
      let list = free.get(p);
      if (!list) free.set(p, (list = []));
      list.push(dir);
    },
  };

  /** `spare` (a file made earlier in this run and read since) becomes `file`, empty; false when it cannot. */
  function renewed(spare: string, file: string): boolean {
    try {
      // Still an empty plain file (what a step that wrote nothing to it leaves): the new name is all it needs.
      const st = fs.lstatSync(spare);
      if (plainFile(st) && st.size === 0) {
        if (spare !== file) fs.renameSync(spare, file);
        return true;
      }
      if (spare !== file) fs.renameSync(spare, file);
      // Not through a link a step may have put there (O_NOFOLLOW), and only a plain file is emptied.
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      try {
        if (!plainFile(fs.fstatSync(fd))) throw new Error('not a plain file');
        fs.ftruncateSync(fd, 0);
      } finally {
        fs.closeSync(fd);
      }
      return true;
    } catch {
      fs.rmSync(file, { recursive: true, force: true });
      return false;
    }
  }
}

/** A regular file with no other name (a hard link to someone's file is never emptied or rewritten). */
function plainFile(st: fs.Stats): boolean {
  return st.isFile() && st.nlink === 1;
}
