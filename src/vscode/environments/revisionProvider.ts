// Read-only documents of a file at a commit (`delivery-rev:` URIs), the left side of the native diff editor:
// "what the environment runs" next to the local file.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { features } from '../lazy';

export const REVISION_SCHEME = 'delivery-rev';

/** delivery-rev:/<path>?<json {folder, sha, path}> — the path part keeps the editor's language detection working. */
export function revisionUri(folder: string, sha: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: REVISION_SCHEME, path: `/${file}`, query: JSON.stringify({ folder, sha, path: file }) });
}

/** delivery-rev:/commit-<short>.diff?<json {folder, sha, commit: true}> — a commit as `git show` gives it. */
export function commitUri(folder: string, sha: string): vscode.Uri {
  return vscode.Uri.from({ scheme: REVISION_SCHEME, path: `/commit-${sha.slice(0, 7)}.diff`, query: JSON.stringify({ folder, sha, commit: true }) });
}

export class RevisionProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(REVISION_SCHEME, this);

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    let q: { folder?: unknown; sha?: unknown; path?: unknown; commit?: unknown };
    try {
      q = JSON.parse(uri.query) as typeof q;
    } catch {
      return '';
    }
    if (q.commit === true && typeof q.folder === 'string' && typeof q.sha === 'string' && /^[0-9a-f]{40}$/.test(q.sha)) {
      try {
        return await (await features()).commitText(q.folder, q.sha);
      } catch (e) {
        return `Cannot show commit ${q.sha.slice(0, 7)}: ${(e as Error).message}`;
      }
    }
    if (typeof q.folder !== 'string' || typeof q.sha !== 'string' || typeof q.path !== 'string' || !/^[0-9a-f]{7,40}$/.test(q.sha)) return '';
    const buf = await (await features()).fileAtRevision(q.folder, q.sha, q.path);
    if (buf === null) return ''; // the file does not exist at that commit (added since)
    if (buf.subarray(0, 8000).includes(0)) return `(binary file ${path.basename(q.path)}, ${buf.length} bytes at ${q.sha.slice(0, 7)})`;
    return buf.toString('utf8');
  }

  dispose(): void {
    this.registration.dispose();
  }
}
