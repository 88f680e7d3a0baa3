// Local job and deploy logs as read-only documents (`delivery-log:`) whose place says what they are — pipeline › run ›
// job (or environment › deploy) — in the tab and the breadcrumb, instead of the state folder's internal path. A
// read-only file system provider (a content provider gets no breadcrumb): the document follows the file while it
// grows (a running job), its size checked every second while VS Code watches it.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { logPlace, logStat, readLogTail } from '../adapters/logFiles';
import { existingFiles, logJobPlace } from '../adapters/problemFiles';
import { fileReferences } from '../core/problems/logText';
import { mapToFolder, type JobPlace } from '../core/problems/scanner';

export const LOG_SCHEME = 'delivery-log';
const POLL_MS = 1000;
/** A document holds at most this much of a log's end; the file itself keeps everything. */
const MAX_TEXT = 32 * 1024 * 1024;

export async function logUri(logFile: string): Promise<vscode.Uri> {
  const place = await logPlace(logFile);
  return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${place.join('/')}`, query: JSON.stringify({ file: logFile }) });
}

export function fileOf(uri: vscode.Uri): string | null {
  if (!uri.query) return null;
  try {
    const file = (JSON.parse(uri.query) as { file?: unknown }).file;
    return typeof file === 'string' && file ? file : null;
  } catch {
    return null;
  }
}

export class LogDocumentProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  private readonly registration = vscode.workspace.registerFileSystemProvider(LOG_SCHEME, this, { isReadonly: true, isCaseSensitive: true });

  watch(uri: vscode.Uri): vscode.Disposable {
    const file = fileOf(uri);
    if (!file) return new vscode.Disposable(() => undefined);
    let last: number | null = null;
    const timer = setInterval(() => {
      void logStat(file).then((s) => {
        const size = s?.size ?? null;
        if (last !== null && size !== last) this.emitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
        last = size;
      });
    }, POLL_MS);
    return new vscode.Disposable(() => clearInterval(timer));
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const file = fileOf(uri);
    // The segments above a log (pipeline, run) are folders of nothing: they only name the place.
    if (!file) return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    const s = await logStat(file);
    if (!s) throw vscode.FileSystemError.FileNotFound(uri);
    return { type: vscode.FileType.File, ctime: s.ctimeMs, mtime: s.mtimeMs, size: s.size, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const file = fileOf(uri);
    if (!file) throw vscode.FileSystemError.FileNotFound(uri);
    return Buffer.from((await readLogTail(file, MAX_TEXT)).text, 'utf8');
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  dispose(): void {
    this.registration.dispose();
    this.emitter.dispose();
  }
}

/** A log document holds links to at most this many places. */
const MAX_LINKS = 2000;

/**
 * `file:line:col` in a job's log opens the file there: relative paths from where the job ran, paths in a job's own
 * workspace as the same paths in the user's folder; only files that exist are links.
 */
export class LogLinkProvider implements vscode.DocumentLinkProvider {
  constructor(
    /** Where the job of a log ran, when this session ran it (else its run's record says). */
    private readonly placeOf: (logFile: string) => JobPlace | undefined,
  ) {}

  async provideDocumentLinks(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.DocumentLink[]> {
    const file = fileOf(doc.uri);
    const place = file ? (this.placeOf(file) ?? (await logJobPlace(file))) : null;
    if (!place) return [];
    const found: { range: vscode.Range; file: string; line: number; column: number | null }[] = [];
    for (let i = 0; i < doc.lineCount && found.length < MAX_LINKS; i++) {
      if (i % 10_000 === 0 && token.isCancellationRequested) return [];
      const text = doc.lineAt(i).text;
      for (const r of fileReferences(text)) {
        const target = mapToFolder(path.resolve(place.cwd, r.file), place);
        found.push({ range: new vscode.Range(i, r.start, i, r.end), file: target, line: r.line, column: r.column });
      }
    }
    const exists = await existingFiles(found.map((f) => f.file));
    return found
      .filter((f) => exists.has(f.file))
      .map((f) => {
        const link = new vscode.DocumentLink(f.range, vscode.Uri.file(f.file).with({ fragment: `L${f.line}${f.column ? `,${f.column}` : ''}` }));
        link.tooltip = `Open ${path.relative(place.folder, f.file) || f.file} at line ${f.line}`;
        return link;
      });
  }
}
