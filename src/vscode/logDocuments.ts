// Local job and deploy logs as read-only documents (`delivery-log:`) whose place says what they are — pipeline › run ›
// job (or environment › deploy) — in the tab and the breadcrumb, instead of the state folder's internal path. A
// read-only file system provider (a content provider gets no breadcrumb): the document follows the file while it
// grows (a running job), its size checked every second while VS Code watches it.
import * as vscode from 'vscode';
import { logPlace, logStat, readLogTail } from '../adapters/logFiles';

export const LOG_SCHEME = 'delivery-log';
const POLL_MS = 1000;
/** A document holds at most this much of a log's end; the file itself keeps everything. */
const MAX_TEXT = 32 * 1024 * 1024;

export async function logUri(logFile: string): Promise<vscode.Uri> {
  const place = await logPlace(logFile);
  return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${place.join('/')}`, query: JSON.stringify({ file: logFile }) });
}

function fileOf(uri: vscode.Uri): string | null {
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
