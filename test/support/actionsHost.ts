// A git host for remote actions that a test writes itself: repositories <root>/<owner>/<repo>, served as file://
// (the folder itself) or over HTTP on 127.0.0.1 through `git http-backend` (the smart HTTP protocol GitHub speaks).
// Never GitHub's code.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { git, tempDir, writeFiles } from './tmp';

export class ActionsHost {
  readonly root = tempDir('delivery-actions-host-');

  get fileUrl(): string {
    return `file://${this.root}`;
  }

  /** Commits `files` to <owner>/<repo> (made on first use, branch main); tags the commit when asked. Returns its SHA. */
  commit(owner: string, repo: string, files: Record<string, string>, opts: { tag?: string; annotated?: boolean; message?: string } = {}): string {
    const dir = path.join(this.root, owner, repo);
    if (!fs.existsSync(path.join(dir, '.git'))) {
      fs.mkdirSync(dir, { recursive: true });
      git(dir, 'init', '-q', '-b', 'main');
    }
    writeFiles(dir, files);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--allow-empty', '-m', opts.message ?? 'action');
    if (opts.tag) {
      if (opts.annotated) git(dir, 'tag', '-f', '-a', '-m', `release ${opts.tag}`, opts.tag);
      else git(dir, 'tag', '-f', opts.tag);
    }
    return git(dir, 'rev-parse', 'HEAD');
  }

  /** The host goes away: every repository is deleted. */
  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Serves the host's repositories over HTTP on 127.0.0.1 with `git http-backend` (read-only: upload-pack). */
export async function serveOverHttp(host: ActionsHost): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(`${req.method} ${url.pathname}`);
      if (url.pathname.includes('git-receive-pack') || url.searchParams.get('service') === 'git-receive-pack') {
        res.writeHead(403).end('read-only');
        return;
      }
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: host.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: String(body.length),
        REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      };
      const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
      const out: Buffer[] = [];
      cgi.stdout.on('data', (c: Buffer) => out.push(c));
      cgi.on('close', () => {
        const all = Buffer.concat(out);
        let split = all.indexOf('\r\n\r\n');
        let sep = 4;
        if (split < 0) {
          split = all.indexOf('\n\n');
          sep = 2;
        }
        if (split < 0) {
          res.writeHead(502).end();
          return;
        }
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of all.subarray(0, split).toString('latin1').split(/\r?\n/)) {
          const i = line.indexOf(':');
          if (i <= 0) continue;
          const k = line.slice(0, i).trim();
          const v = line.slice(i + 1).trim();
          if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 200;
          else headers[k] = v;
        }
        res.writeHead(status, headers).end(all.subarray(split + sep));
      });
      cgi.stdin.on('error', () => undefined); // git http-backend may answer without reading it all
      cgi.stdin.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fresh, empty cache folder for a test's fetched actions. */
export function actionsCache(): string {
  return path.join(tempDir('delivery-actions-cache-'), 'cache');
}
