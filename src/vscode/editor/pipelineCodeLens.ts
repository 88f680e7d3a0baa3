// CodeLens above the pipelines, jobs and environments of pipeline files: "Run pipeline", "Run job · with needs ·
// last: …", "Deploy · Diff". What they say is core/codeLens.ts; this places them. Registered only for the files the
// pipelines come from (delivery.yml, workflows, .gitlab-ci.yml and its local includes), so other files cost nothing.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { pipelineFileLenses, type LensSpec } from '../../core/codeLens';
import { shiftThrough, type TextEdit } from '../../core/editTracking';
import { sourceOf } from '../../core/importers';
import type { RunManager } from '../runManager';
import { pipelineKey, type FolderState, type WorkspaceModel } from '../workspaceModel';

const SETTING = 'codeLens.enabled';

/** Edits made to an open pipeline file since the pipelines were last read from disk. */
interface EditLog {
  edits: TextEdit[];
  /** How many of them were on disk at the last save (dropped when the re-read file arrives). */
  saved: number;
}

export class PipelineCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  /** How often VS Code asked for lenses (tests: a file that is not a pipeline never asks). */
  requests = 0;
  private registration: vscode.Disposable | undefined;
  private registeredFor = '';
  /** The pipeline files, by document URI. */
  private files = new Set<string>();
  private readonly logs = new Map<string, EditLog>();
  private shownRuns = '';
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly model: WorkspaceModel,
    private readonly runs: RunManager,
  ) {
    this.disposables = [
      this.changed,
      model.onDidChange(() => this.onModel()),
      runs.onDidChange(() => this.onRuns()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`delivery.${SETTING}`) && this.register()),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidSaveTextDocument((d) => {
        const log = this.logs.get(d.uri.toString());
        if (log) log.saved = log.edits.length;
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.logs.delete(d.uri.toString())),
    ];
    this.onModel();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    this.requests++;
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    const state = folder && this.model.folder(folder.uri.fsPath);
    if (!folder || !state?.snapshot) return [];
    const file = path.relative(folder.uri.fsPath, document.uri.fsPath).split(path.sep).join('/');
    const edits = this.editsOf(document);
    const out: vscode.CodeLens[] = [];
    for (const spec of this.specs(state, file)) {
      const at = shiftThrough({ line: spec.line - 1, character: spec.column - 1 }, edits);
      if (!at || at.line >= document.lineCount) continue;
      out.push(new vscode.CodeLens(new vscode.Range(at.line, at.character, at.line, at.character), command(spec)));
    }
    return out;
  }

  private specs(state: FolderState, file: string): LensSpec[] {
    const snap = state.snapshot;
    if (!snap) return [];
    const folder = state.folder.uri.fsPath;
    return pipelineFileLenses({
      file,
      folder,
      pipelines: snap.pipelines.map((p) => {
        const key = pipelineKey(p);
        return { def: p.def, key, lastRun: this.runs.lastRun(folder, key), stagesOrderJobs: sourceOf(p.def.source.kind).stagesOrderJobs };
      }),
      environments: snap.environments,
    });
  }

  /** New pipelines: the files that have lenses may have changed; edits now on disk are in the positions. */
  private onModel(): void {
    const files = new Set<string>();
    for (const state of this.model.folders()) {
      const snap = state.snapshot;
      if (!snap) continue;
      const places = [...snap.pipelines.flatMap((p) => [p.def.location, ...p.def.jobs.map((j) => j.location)]), ...snap.environments.map((e) => e.location)];
      for (const rel of new Set(places.map((l) => l.file))) {
        // Only files of the folder (a GitLab remote include or template has no document here).
        if (rel.startsWith('../') || path.isAbsolute(rel) || rel.includes('://')) continue;
        files.add(vscode.Uri.joinPath(state.folder.uri, rel).toString());
      }
    }
    this.files = files;
    for (const [uri, log] of this.logs) {
      log.edits.splice(0, log.saved);
      log.saved = 0;
      if (!files.has(uri)) this.logs.delete(uri);
    }
    this.register();
    this.changed.fire();
  }

  /** Registered for exactly the pipeline files (and only while the setting is on): VS Code asks for no other file. */
  private register(): void {
    const on = vscode.workspace.getConfiguration('delivery').get<boolean>(SETTING, true);
    const files = on ? [...this.files].sort() : [];
    const key = files.join('\n');
    if (key === this.registeredFor) return;
    this.registeredFor = key;
    this.registration?.dispose();
    this.registration = undefined;
    if (files.length === 0) return;
    const selector = files.map((uri): vscode.DocumentFilter => {
      const u = vscode.Uri.parse(uri);
      return { scheme: u.scheme, pattern: new vscode.RelativePattern(vscode.Uri.joinPath(u, '..'), path.posix.basename(u.path)) };
    });
    this.registration = vscode.languages.registerCodeLensProvider(selector, this);
  }

  /** A run's state changed: lenses say "last: …", so they follow when what they would show changed. */
  private onRuns(): void {
    const shown = this.model
      .folders()
      .flatMap((state) => (state.snapshot?.pipelines ?? []).map((p) => this.runs.lastRun(state.folder.uri.fsPath, pipelineKey(p))))
      .map((run) => (run ? `${run.id}:${run.status}:${run.jobs.map((j) => `${j.status}${j.durationMs}`).join(',')}` : '-'))
      .join(';');
    if (shown === this.shownRuns) return;
    this.shownRuns = shown;
    this.changed.fire();
  }

  /** The edits to follow in `document`: none once it is back to the text its positions were read from. */
  private editsOf(document: vscode.TextDocument): readonly TextEdit[] {
    const uri = document.uri.toString();
    const log = this.logs.get(uri);
    if (!log) return [];
    // Not dirty and nothing saved since the file was read: undone or reverted to that text. (The dirty state is
    // known here, not when the edit event arrives.)
    if (!document.isDirty && log.saved === 0) {
      this.logs.delete(uri);
      return [];
    }
    return log.edits;
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    if (!this.files.has(uri) || e.contentChanges.length === 0) return;
    const log = this.logs.get(uri) ?? { edits: [], saved: 0 };
    for (const c of e.contentChanges) log.edits.push({ start: c.range.start, end: c.range.end, text: c.text });
    this.logs.set(uri, log);
  }

  dispose(): void {
    this.registration?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function command(spec: LensSpec): vscode.Command {
  // No command id: VS Code shows the title as a label.
  return spec.command ? { title: spec.title, tooltip: spec.tooltip, command: spec.command.id, arguments: [spec.command.arg] } : { title: spec.title, tooltip: spec.tooltip, command: '' };
}
