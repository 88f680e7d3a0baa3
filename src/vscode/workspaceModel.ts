// The pipelines and environments of every workspace folder, kept current as files change (only the changed
// file and the files that include it are re-read), with their problems in the Problems panel.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FolderSources, type FolderSnapshot } from '../adapters/folderSources';
import { FileRunStore } from '../adapters/runStore';
import { SOURCE_CACHE_FILE, SourceCache } from '../adapters/sourceCache';
import { folderStateDirAsync } from '../adapters/stateDir';
import type { ImportedPipeline } from '../core/sources';
import { pipelineByKey, pipelineKey } from '../core/targeting';
import type { Problem, Severity } from '../shared/model';
import type { Log } from './log';

export interface FolderState {
  readonly folder: vscode.WorkspaceFolder;
  readonly sources: FolderSources;
  readonly store: FileRunStore;
  snapshot: FolderSnapshot | null;
}

// A pipeline's key inside its folder (`<file>#<id>`): unique even when two sources use the same id.
export { pipelineKey };

export class WorkspaceModel implements vscode.Disposable {
  private readonly states = new Map<string, FolderState>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('delivery');
  private readonly disposables: vscode.Disposable[] = [this.changed, this.diagnostics];
  private readonly pending = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private loading: Promise<void> = Promise.resolve();
  loaded = false;

  constructor(private readonly log: Log) {
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reloadAll()),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{yml,yaml}');
    const onFile = (uri: vscode.Uri) => this.queue(uri);
    this.disposables.push(watcher, watcher.onDidChange(onFile), watcher.onDidCreate(onFile), watcher.onDidDelete(onFile));
    // A file written right after its new folder (a first workflow: mkdir -p .github/workflows, then the file) can be
    // missed: the watcher has no watch on the folder yet. The folder's creation is heard, and what is in it read.
    // And a removed folder may be heard as that folder alone, not as each of its files: everything is read again.
    // Only a folder's own .github counts (workflows are read there), not one deep in node_modules.
    const folders = vscode.workspace.createFileSystemWatcher('**/.github{,/workflows}', false, true, false);
    this.disposables.push(
      folders,
      folders.onDidCreate((uri) => this.workflowsFolder(uri) && void this.queueFolder(uri.fsPath, 2)),
      folders.onDidDelete((uri) => this.workflowsFolder(uri) && void this.reloadAll()),
    );
  }

  /** Whether `uri` is `.github` or `.github/workflows` of a workspace folder this model reads. */
  private workflowsFolder(uri: vscode.Uri): boolean {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder || !this.states.has(folder.uri.fsPath)) return false;
    const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
    return rel === '.github' || rel === '.github/workflows';
  }

  /** Queues the YAML files of a newly created folder (and of its sub-folders, `depth` levels down). */
  private async queueFolder(dir: string, depth: number): Promise<void> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      return; // gone again
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isFile() && /\.ya?ml$/.test(e.name)) this.queue(vscode.Uri.file(full));
      else if (e.isDirectory() && depth > 1) await this.queueFolder(full, depth - 1);
    }
  }

  folders(): FolderState[] {
    return [...this.states.values()];
  }

  folder(fsPath: string): FolderState | undefined {
    return this.states.get(fsPath);
  }

  /** Resolves when the current load (if any) has finished. */
  whenLoaded(): Promise<void> {
    return this.loading;
  }

  reloadAll(): Promise<void> {
    this.loading = this.loading.then(() => this.doReloadAll());
    return this.loading;
  }

  private async doReloadAll(): Promise<void> {
    const started = Date.now();
    const folders = vscode.workspace.workspaceFolders ?? [];
    const keep = new Set(folders.map((f) => f.uri.fsPath));
    for (const key of [...this.states.keys()]) if (!keep.has(key)) this.states.delete(key);
    await Promise.all(
      folders
        .filter((f) => f.uri.scheme === 'file')
        .map(async (folder) => {
          const fsPath = folder.uri.fsPath;
          let state = this.states.get(fsPath);
          if (!state) {
            const stateDir = await folderStateDirAsync(fsPath);
            // What was imported in an earlier session and has not changed since is not parsed again.
            const cache = new SourceCache(path.join(stateDir, SOURCE_CACHE_FILE.editor));
            state = { folder, sources: new FolderSources(fsPath, undefined, { cache }), store: new FileRunStore(stateDir), snapshot: null };
          }
          this.states.set(fsPath, state);
          try {
            state.snapshot = await state.sources.loadAll();
          } catch (e) {
            this.log.error(`could not read the pipelines of ${fsPath}`, e);
          }
        }),
    );
    this.loaded = true;
    this.publish();
    const count = this.folders().reduce((n, s) => n + (s.snapshot?.pipelines.length ?? 0), 0);
    this.log.info(`found ${count} pipeline(s) in ${this.states.size} folder(s) in ${Date.now() - started} ms`);
  }

  private queue(uri: vscode.Uri): void {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder || !this.states.has(folder.uri.fsPath)) return;
    const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
    const set = this.pending.get(folder.uri.fsPath) ?? new Set<string>();
    set.add(rel);
    this.pending.set(folder.uri.fsPath, set);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.loading = this.loading.then(() => this.flush());
    }, 100);
  }

  private async flush(): Promise<void> {
    const batches = [...this.pending.entries()];
    this.pending.clear();
    let any = false;
    for (const [fsPath, files] of batches) {
      const state = this.states.get(fsPath);
      if (!state) continue;
      for (const rel of files) {
        if (await state.sources.reload(rel)) {
          any = true;
          this.log.info(`re-read ${rel}`);
        }
      }
      if (any) state.snapshot = state.sources.snapshot();
    }
    if (any) this.publish();
  }

  private publish(): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    let pipelines = 0;
    let environments = 0;
    for (const state of this.states.values()) {
      pipelines += state.snapshot?.pipelines.length ?? 0;
      environments += state.snapshot?.environments.length ?? 0;
      for (const p of state.snapshot?.problems ?? []) {
        const file = vscode.Uri.joinPath(state.folder.uri, p.file).toString();
        const list = byFile.get(file) ?? [];
        list.push(toDiagnostic(p));
        byFile.set(file, list);
      }
    }
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.parse(file), list);
    void vscode.commands.executeCommand('setContext', 'delivery.loaded', true);
    void vscode.commands.executeCommand('setContext', 'delivery.hasPipelines', pipelines > 0);
    void vscode.commands.executeCommand('setContext', 'delivery.hasEnvironments', environments > 0);
    this.changed.fire();
  }

  findPipeline(folder: string, key: string): ImportedPipeline | undefined {
    return pipelineByKey(this.states.get(folder)?.snapshot?.pipelines ?? [], key);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

const DIAGNOSTIC_SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

function toDiagnostic(p: Problem): vscode.Diagnostic {
  const range = new vscode.Range(p.line - 1, p.column - 1, p.endLine - 1, Math.max(p.endColumn - 1, p.column));
  const d = new vscode.Diagnostic(range, p.message, DIAGNOSTIC_SEVERITY[p.severity]);
  d.source = 'Software Delivery';
  return d;
}
