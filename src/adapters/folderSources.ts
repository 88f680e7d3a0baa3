// Reads the pipeline sources of one workspace folder and keeps them per file, so a change re-imports only the
// file that changed (and the files that include it).
import * as path from 'node:path';
import type { Problem } from '../shared/model';
import type { EnvironmentConfig } from '../core/config/delivery';
import { IMPORTERS } from '../core/importers';
import type { ImportContext, ImportedPipeline, Importer, ImportResult } from '../core/sources';
import { globFiles, MAX_YAML_BYTES, readRepoText, RefusedFile } from './files';

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
      // Refusals (outside the folder, not a regular file, too large) reject with the reason: the importer reports it.
      readFile: (rel) => readRepoText(this.folder, rel, MAX_YAML_BYTES),
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
    const failed = (message: string) => failedResult(rel, message);
    let text: string | null;
    try {
      text = await readRepoText(this.folder, rel, MAX_YAML_BYTES, 'a pipeline file');
    } catch (e) {
      if (e instanceof RefusedFile) this.results.set(rel, { importer, result: failed(e.message) });
      return;
    }
    if (text === null) return; // deleted
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

function failedResult(rel: string, message: string): ImportResult {
  return {
    pipelines: [],
    environments: [],
    dependsOn: [],
    problems: [{ file: rel, line: 1, column: 1, endLine: 1, endColumn: 2, severity: 'error', message }],
  };
}
