// Reads the pipeline sources of one workspace folder and keeps them per file, so a change re-imports only the
// file that changed (and the files that include it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Problem } from '../shared/model';
import type { EnvironmentConfig } from '../core/config/delivery';
import { IMPORTERS } from '../core/importers';
import type { ImportContext, ImportedPipeline, Importer, ImportResult } from '../core/sources';
import { globFiles } from './files';

/** Larger files are not read at all (the importer reports them). */
const MAX_READ_BYTES = 4 * 1024 * 1024;
/** Source files read at once by loadAll() (the thread pool has 4 threads; a few more keep it busy). */
const READ_CONCURRENCY = 16;

export interface FolderSnapshot {
  folder: string;
  pipelines: ImportedPipeline[];
  environments: EnvironmentConfig[];
  problems: Problem[];
  /** Relative paths of the source files found. */
  files: string[];
}

export class FolderSources {
  private readonly results = new Map<string, { importer: Importer; result: ImportResult }>();

  constructor(
    readonly folder: string,
    private readonly importers: readonly Importer[] = IMPORTERS,
  ) {}

  private context(): ImportContext {
    return {
      readFile: async (rel) => readText(path.join(this.folder, rel)),
      listFiles: (glob) => globFiles(this.folder, [glob]),
    };
  }

  /**
   * Finds and imports every source file of the folder. Files are read several at a time: one after the other,
   * each read waited ~1 ms for the thread pool, most of the first load of a folder with hundreds of workflows.
   */
  async loadAll(): Promise<FolderSnapshot> {
    this.results.clear();
    for (const importer of this.importers) {
      const files = await globFiles(this.folder, importer.patterns);
      let next = 0;
      const worker = async () => {
        while (next < files.length) await this.importFile(importer, files[next++]);
      };
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
    }
    return this.snapshot();
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
    return true;
  }

  private async importFile(importer: Importer, rel: string): Promise<void> {
    const failed = (message: string): ImportResult => ({
      pipelines: [],
      environments: [],
      dependsOn: [],
      problems: [{ file: rel, line: 1, column: 1, endLine: 1, endColumn: 2, severity: 'error', message }],
    });
    let size = 0;
    try {
      const st = await fs.promises.stat(path.join(this.folder, rel));
      if (!st.isFile()) return;
      size = st.size;
    } catch {
      return; // deleted
    }
    if (size > MAX_READ_BYTES) {
      this.results.set(rel, { importer, result: failed(`${rel} is too large to be a pipeline file (${Math.round(size / 1024 / 1024)} MB; the limit is ${MAX_READ_BYTES / 1024 / 1024} MB)`) });
      return;
    }
    const text = await readText(path.join(this.folder, rel));
    if (text === null) return;
    let result: ImportResult;
    try {
      result = await importer.parse({ path: rel, text }, this.context());
    } catch (e) {
      result = failed(`could not read ${rel}: ${(e as Error).message}`);
    }
    this.results.set(rel, { importer, result });
  }

  snapshot(): FolderSnapshot {
    const order = (kind: string) => this.importers.findIndex((i) => i.kind === kind);
    const entries = [...this.results.entries()].sort(
      ([a, x], [b, y]) => order(x.importer.kind) - order(y.importer.kind) || a.localeCompare(b),
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

async function readText(file: string): Promise<string | null> {
  try {
    const buf = await fs.promises.readFile(file);
    if (buf.length > MAX_READ_BYTES) return null;
    // Invalid UTF-8 becomes U+FFFD, which the YAML reader reports with its position.
    return new TextDecoder('utf-8', { fatal: false }).decode(buf);
  } catch {
    return null;
  }
}
