// Reads the pipeline sources of one workspace folder and keeps them per file, so a change re-imports only the
// file that changed (and the files that include it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PipelineDef, Problem } from '../shared/model';
import type { EnvironmentConfig } from '../core/config/delivery';
import { IMPORTERS } from '../core/importers';
import type { ImportContext, ImportedPipeline, Importer, ImportResult } from '../core/sources';
import { globFiles, MAX_YAML_BYTES, readRepoTextSync, realpathNow, RefusedFile } from './files';
import { fileStamp, stampOf, type CachedImport, type SourceCache } from './sourceCache';

/** localeCompare's order, without making a collator per comparison (~10 ms for 500 files). */
const byName = new Intl.Collator().compare;

/** Source files imported at once by loadAll(): what one waits for (its stamps, a listing) overlaps with the others. */
const READ_CONCURRENCY = 16;

export interface FolderSnapshot {
  folder: string;
  pipelines: ImportedPipeline[];
  environments: EnvironmentConfig[];
  problems: Problem[];
  /** Relative paths of the source files found. */
  files: string[];
}

export interface FolderSourcesOptions {
  /** Import results kept between sessions (sourceCache.ts): a later session parses only what changed. */
  cache?: SourceCache;
}

/** What an import read and listed, for the cache: null once something makes it unfit to keep. */
interface Inputs {
  reads: Array<[string, string | null]>;
  lists: Array<[string, string[]]>;
}

export class FolderSources {
  private readonly results = new Map<string, { importer: Importer; result: ImportResult }>();
  /** The folder's real path during loadAll() (one look-up for all its files). */
  private realRoot: string | undefined;
  /** The cache's write after the last loadAll(). */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly folder: string,
    private readonly importers: readonly Importer[] = IMPORTERS,
    private readonly options: FolderSourcesOptions = {},
  ) {}

  private context(inputs: { current: Inputs | null } = { current: null }): ImportContext {
    return {
      // Refusals (outside the folder, not a regular file, too large) reject with the reason: the importer reports it.
      readFile: async (rel) => {
        try {
          return this.read(inputs, rel, '');
        } catch (e) {
          if (e instanceof RefusedFile) await this.noteRead(inputs, rel); // kept with the refusal it gave
          throw e;
        }
      },
      listFiles: async (glob) => {
        const files = await globFiles(this.folder, [glob]);
        inputs?.current?.lists.push([glob, files]);
        return files;
      },
    };
  }

  /**
   * A file's text, or null when it does not exist, stamped by the fstat of the file opened, taken before it is read
   * (a change while reading then shows next time). Read in one go: a folder's hundreds of small pipeline files cost
   * more in waits for the thread pool (six file operations each) than in reading.
   */
  private read(inputs: { current: Inputs | null }, rel: string, what: string): string | null {
    const realRoot = this.realRoot ?? realRootOf(this.folder);
    const read = realRoot === null ? null : readRepoTextSync(this.folder, rel, realRoot, MAX_YAML_BYTES, what);
    if (inputs.current) {
      const now = read ? stampOf(read.stat, this.options.cache?.racyMs) : { stamp: null, racy: false };
      if (now.racy) inputs.current = null;
      else inputs.current.reads.push([rel, now.stamp]);
    }
    return read?.text ?? null;
  }

  /** Stamps a file that was not read (refused); unfit when it is too fresh. */
  private async noteRead(inputs: { current: Inputs | null }, rel: string): Promise<void> {
    if (!inputs.current) return;
    try {
      const { stamp, racy } = await fileStamp(path.join(this.folder, rel), this.options.cache?.racyMs);
      if (racy) inputs.current = null;
      else inputs.current?.reads.push([rel, stamp]);
    } catch {
      inputs.current = null;
    }
  }

  /**
   * Finds and imports every source file of the folder, several at a time: a later session checks the stamps of
   * what each import read (a wait for the thread pool per file) while others are checked.
   */
  async loadAll(): Promise<FolderSnapshot> {
    this.results.clear();
    const cache = this.options.cache;
    [this.realRoot] = await Promise.all([fs.promises.realpath(this.folder).catch(() => undefined), cache?.load()]);
    try {
      for (const importer of this.importers) {
        // A source file that is a symlink out of the folder, or a FIFO, is reported on itself and never read.
        const files = await globFiles(this.folder, importer.patterns, (why, rel) => {
          if (importer.matches(rel)) this.results.set(rel, { importer, result: failedResult(rel, why) });
        });
        let next = 0;
        const worker = async () => {
          while (next < files.length) await this.importFile(importer, files[next++]);
        };
        await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
      }
    } finally {
      this.realRoot = undefined;
    }
    if (cache) {
      cache.retain(new Set(this.results.keys()));
      // Written once the pipelines are listed: serialising every import (~15 ms for 500 workflows) is not needed
      // to show them.
      this.saving = cache.save();
    }
    return this.snapshot();
  }

  /** Resolves once the cache is written after the last loadAll() (a process about to exit waits for it). */
  saved(): Promise<void> {
    return this.saving;
  }

  /** Re-imports one changed (created, deleted) file, and every file that depends on it. Returns false if unrelated. */
  async reload(rel: string): Promise<boolean> {
    const norm = rel.split(path.sep).join('/');
    const targets = new Set<string>();
    const importer = this.importers.find((i) => i.matches(norm));
    if (importer) targets.add(norm);
    for (const [file, { result }] of this.results) if (result.dependsOn.includes(norm)) targets.add(file);
    if (targets.size === 0) return false;
    for (const file of targets) {
      const imp = this.importers.find((i) => i.matches(file));
      if (!imp) continue;
      this.results.delete(file);
      await this.importFile(imp, file);
    }
    this.options.cache?.saveSoon();
    return true;
  }

  private async importFile(importer: Importer, rel: string): Promise<void> {
    const cache = this.options.cache;
    if (cache) {
      const cached = cache.get(rel);
      if (cached && cached.kind === importer.kind && (await this.unchanged(cached))) {
        this.results.set(rel, { importer, result: this.revive(importer, rel, cached) });
        return;
      }
      cache.delete(rel);
    }
    const inputs = { current: cache ? ({ reads: [], lists: [] } as Inputs | null) : null };
    const imported = await this.importNow(importer, rel, inputs);
    if (imported === null) return; // deleted
    this.results.set(rel, { importer, result: imported });
    // Kept unless a read was refused or failed, or a file was too fresh; environments are not kept (a deploy reads
    // its configuration as it is).
    const kept = inputs.current;
    if (cache && kept && imported.environments.length === 0) {
      cache.set(rel, { kind: importer.kind, reads: kept.reads, lists: kept.lists, defs: imported.pipelines.map((p) => p.def), problems: imported.problems, dependsOn: imported.dependsOn });
    }
  }

  /** Reads and imports the file as it is now; null when it does not exist. */
  private async importNow(importer: Importer, rel: string, inputs: { current: Inputs | null } = { current: null }): Promise<ImportResult | null> {
    const failed = (message: string) => failedResult(rel, message);
    let text: string | null;
    try {
      text = this.read(inputs, rel, 'a pipeline file');
    } catch (e) {
      inputs.current = null;
      if (e instanceof RefusedFile) return failed(e.message);
      return null;
    }
    if (text === null) return null;
    try {
      return await importer.parse({ path: rel, text }, this.context(inputs));
    } catch (e) {
      inputs.current = null;
      return failed(`could not read ${rel}: ${(e as Error).message}`);
    }
  }

  /** True when every file the cached import read, and every listing it made, is as it was. */
  private async unchanged(entry: CachedImport): Promise<boolean> {
    try {
      for (const [rel, stamp] of entry.reads) {
        const now = await fileStamp(path.join(this.folder, rel), this.options.cache?.racyMs);
        if (now.stamp !== stamp || now.racy) return false;
      }
      for (const [glob, files] of entry.lists) {
        const now = await globFiles(this.folder, [glob]);
        if (now.length !== files.length || now.some((f, i) => f !== files[i])) return false;
      }
      return entry.reads.length > 0;
    } catch {
      return false;
    }
  }

  /**
   * The cached import as pipelines: their definitions as listed, and a plan that imports the file again first — a
   * run always plans from the file as it is then, and an importer refuses to plan a file with errors.
   */
  private revive(importer: Importer, rel: string, entry: CachedImport): ImportResult {
    const pipeline = (def: PipelineDef): ImportedPipeline => importer.revive?.(def, rel, this.context()) ?? ({
      def,
      plan: async (request, ctx) => {
        const fresh = await this.importNow(importer, rel);
        const now = fresh?.pipelines.find((p) => p.def.id === def.id);
        if (!now) return { error: `${rel} no longer has the pipeline "${def.id}"` };
        return now.plan(request, ctx);
      },
    });
    return { pipelines: entry.defs.map(pipeline), environments: [], problems: entry.problems, dependsOn: entry.dependsOn };
  }

  snapshot(): FolderSnapshot {
    const order = (kind: string) => this.importers.findIndex((i) => i.kind === kind);
    const entries = [...this.results.entries()].sort(
      ([a, x], [b, y]) => order(x.importer.kind) - order(y.importer.kind) || byName(a, b),
    );
    return {
      folder: this.folder,
      pipelines: entries.flatMap(([, { result }]) => result.pipelines),
      environments: entries.flatMap(([, { result }]) => result.environments),
      problems: entries.flatMap(([, { result }]) => result.problems),
      files: entries.map(([f]) => f),
    };
  }
}

/** The folder's real path, or null when it is gone. */
function realRootOf(folder: string): string | null {
  try {
    return realpathNow(folder);
  } catch {
    return null;
  }
}

function failedResult(rel: string, message: string): ImportResult {
  return {
    pipelines: [],
    environments: [],
    dependsOn: [],
    problems: [{ file: rel, line: 1, column: 1, endLine: 1, endColumn: 2, severity: 'error', message }],
  };
}
