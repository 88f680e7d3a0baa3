// What importing each pipeline file gave, kept between sessions (one JSON file per workspace folder, in its state
// folder): a later session lists the pipelines of a folder with hundreds of workflows without parsing them again.
//
// An entry is used only when every input of that import is as it was: the file itself and each file the importer
// read (includes, local actions, the project's variables; absent ones must still be absent), each listing it made
// (include globs, `rules: exists`), and the code that imported it. Inputs are compared by size, mtime, ctime,
// inode and device, taken before they were read; a file changed within the last 2 s is not trusted (a rewrite
// within the file system's timestamp granularity could keep all of them), nor is anything the entry does not name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PipelineDef, Problem } from '../shared/model';
import { writeFileAtomic } from './atomicFile';

/**
 * Its name in a folder's state folder (stateDir.ts), one per front end: the CLI and the editor run different
 * bundles, and each keeps only what its own code imported.
 */
export const SOURCE_CACHE_FILE = { cli: 'source-cache-cli.json', editor: 'source-cache-editor.json' } as const;
/** After a change, how long the cache waits for more before it is written (a checkout changes many files). */
const SAVE_DELAY_MS = 1000;

/** A file changed this recently may change again within the same timestamp: its import is not kept. */
const RACY_MS = 2000;
const FORMAT = 1;

/** One import, with what it depended on. */
export interface CachedImport {
  /** The importer's kind (delivery, github, gitlab). */
  kind: string;
  /** Each file read, the imported one first, with its stamp (null: it did not exist). */
  reads: Array<[rel: string, stamp: string | null]>;
  /** Each listing made (a glob) and the files it gave. */
  lists: Array<[glob: string, files: string[]]>;
  defs: PipelineDef[];
  problems: Problem[];
  dependsOn: string[];
}

interface CacheFile {
  format: number;
  code: string;
  entries: Record<string, CachedImport>;
}

/**
 * Size, times, inode and device of `abs` (symlinks followed, as reads follow them); null when it does not exist.
 * `racy`: changed less than `racyMs` ago.
 */
export async function fileStamp(abs: string, racyMs = RACY_MS): Promise<{ stamp: string | null; racy: boolean }> {
  try {
    return stampOf(await fs.promises.stat(abs), racyMs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { stamp: null, racy: false };
    throw e;
  }
}

/** fileStamp of a file's stats (the fstat of a file opened to be read gives the same). */
export function stampOf(st: fs.Stats, racyMs = RACY_MS): { stamp: string; racy: boolean } {
  return { stamp: `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}`, racy: Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < racyMs };
}

/** What identifies the code that imports: the running bundle (its path, size and times). */
async function codeStamp(): Promise<string> {
  const st = await fs.promises.stat(__filename);
  return `${__filename}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export class SourceCache {
  private entries = new Map<string, CachedImport>();
  private code = '';
  private loaded: Promise<void> | null = null;
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * `file`: where the cache lives (or a promise of it: the state folder may be found asynchronously). `racyMs`: how
   * recent a change makes a file untrusted (tests that change sizes may use 0).
   */
  constructor(
    private readonly file: string | Promise<string>,
    readonly racyMs = RACY_MS,
  ) {}

  /** Reads the cache once; a missing, damaged or other code's cache starts empty. */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      this.code = await codeStamp();
      try {
        const parsed = JSON.parse(await fs.promises.readFile(await this.file, 'utf8')) as CacheFile;
        if (parsed.format === FORMAT && parsed.code === this.code && parsed.entries && typeof parsed.entries === 'object') {
          this.entries = new Map(Object.entries(parsed.entries));
        }
      } catch {
        // None yet, or unreadable: start empty.
      }
    })();
    return this.loaded;
  }

  get(rel: string): CachedImport | undefined {
    return this.entries.get(rel);
  }

  set(rel: string, entry: CachedImport): void {
    this.entries.set(rel, entry);
    this.dirty = true;
  }

  delete(rel: string): void {
    if (this.entries.delete(rel)) this.dirty = true;
  }

  /** Keeps only these files' entries (files gone from the folder are forgotten). */
  retain(rels: ReadonlySet<string>): void {
    for (const rel of [...this.entries.keys()]) if (!rels.has(rel)) this.delete(rel);
  }

  /** save() a little later, once for every change made meanwhile (the timer does not keep a process alive). */
  saveSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.save();
    }, SAVE_DELAY_MS);
    this.timer.unref?.();
  }

  /** Writes the cache if it changed (atomically; writes never overlap). A failure only costs the next session time. */
  save(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.saving = this.saving.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        const file = await this.file;
        await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        const data: CacheFile = { format: FORMAT, code: this.code, entries: Object.fromEntries(this.entries) };
        await writeFileAtomic(file, JSON.stringify(data));
      } catch {
        // A read-only or full disk: the next session parses again.
      }
    });
    return this.saving;
  }
}
