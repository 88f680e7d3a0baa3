// A local HTTP(S) server that replays recorded API responses (test/fixtures/recorded/, written from the GitHub
// and GitLab REST API documentation): routes by method + path (+ query where it matters), a sequence of answers
// per route (a run that changes state between polls), ETag / If-None-Match → 304, Range on text bodies, and every
// request recorded so that tests assert what the client sent. Binds 127.0.0.1 on a port the kernel picks.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export const RECORDED = path.resolve(__dirname, '../../../test/fixtures/recorded');

export interface Recorded {
  status: number;
  headers?: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  /** A text body. */
  text?: string;
  /** A body file under test/fixtures/recorded/ (served as JSON when it ends in .json). */
  file?: string;
  /** The answer's ETag: a request whose If-None-Match holds it gets 304 without a body. */
  etag?: string;
  /** Honour `Range: bytes=N-` on this body (206 / 416). */
  ranges?: boolean;
}

export interface Route {
  method: string;
  /** The path as sent, percent-encoding included (/api/v4/projects/group%2Fapp/pipelines). */
  path: string;
  /** Query parameters that must be present with these values (others are ignored). */
  query?: Record<string, string>;
  /** Served one per request, in order; the last one repeats. */
  responses: Recorded[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The answer's status. */
  status: number;
}

export class ReplayServer {
  readonly requests: RecordedRequest[] = [];
  /** Values for `{{name}}` in bodies and header values; `base` is this server's origin. */
  readonly vars: Record<string, string> = {};
  private readonly routes: { route: Route; served: number }[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {
    this.vars.base = url;
  }

  static async start(opts: { tls?: { key: string; cert: string } } = {}): Promise<ReplayServer> {
    let self: ReplayServer | null = null;
    const handler: http.RequestListener = (req, res) => self!.handle(req, res);
    const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    self = new ReplayServer(server, `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
    return self;
  }

  /** Adds routes; a later route for the same method, path and query replaces the earlier one. */
  route(...routes: Route[]): this {
    for (const route of routes) {
      const same = this.routes.findIndex((r) => r.route.method === route.method && r.route.path === route.path && JSON.stringify(r.route.query ?? {}) === JSON.stringify(route.query ?? {}));
      if (same >= 0) this.routes.splice(same, 1);
      this.routes.push({ route, served: 0 });
    }
    return this;
  }

  /** Requests for a path (and method), in order. */
  sent(method: string, pathname: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === pathname);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://replay');
      const rawPath = (req.url ?? '/').split('?')[0]!;
      const query = Object.fromEntries(u.searchParams);
      const entry = this.match(req.method ?? 'GET', rawPath, query);
      const record = (status: number) => this.requests.push({ method: req.method ?? 'GET', path: rawPath, query, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      if (!entry) {
        record(404);
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `Not Found (nothing recorded for ${req.method} ${req.url})` }));
        return;
      }
      const answer = entry.route.responses[Math.min(entry.served, entry.route.responses.length - 1)]!;
      entry.served++;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(answer.headers ?? {})) headers[k.toLowerCase()] = this.fill(v);
      if (answer.etag) headers.etag = answer.etag;
      if (answer.etag && req.headers['if-none-match'] === answer.etag) {
        record(304);
        res.writeHead(304, headers);
        res.end();
        return;
      }
      let body = this.body(answer, headers);
      let status = answer.status;
      const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
      if (answer.ranges && range) {
        const from = Number(range[1]);
        if (from >= body.length) {
          status = 416;
          headers['content-range'] = `bytes */${body.length}`;
          body = Buffer.alloc(0);
        } else {
          status = 206;
          headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
          body = body.subarray(from);
        }
      }
      record(status);
      res.writeHead(status, { ...headers, 'content-length': String(body.length) });
      res.end(body);
    });
  }

  private match(method: string, rawPath: string, query: Record<string, string>): { route: Route; served: number } | undefined {
    // The route that asks most of the query wins, so a page-2 route beats the first-page route.
    return this.routes
      .filter((r) => r.route.method === method && r.route.path === rawPath && Object.entries(r.route.query ?? {}).every(([k, v]) => query[k] === v))
      .sort((a, b) => Object.keys(b.route.query ?? {}).length - Object.keys(a.route.query ?? {}).length)[0];
  }

  private body(answer: Recorded, headers: Record<string, string>): Buffer {
    if (answer.json !== undefined) {
      headers['content-type'] ??= 'application/json; charset=utf-8';
      return Buffer.from(this.fill(JSON.stringify(answer.json)));
    }
    if (answer.text !== undefined) {
      headers['content-type'] ??= 'text/plain; charset=utf-8';
      return Buffer.from(this.fill(answer.text));
    }
    if (answer.file !== undefined) {
      headers['content-type'] ??= answer.file.endsWith('.json') ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
      return Buffer.from(this.fill(fs.readFileSync(path.join(RECORDED, answer.file), 'utf8')));
    }
    return Buffer.alloc(0);
  }

  /** `{{name}}` → vars[name]; `{{epoch+N}}` → seconds since the epoch, N seconds from now. */
  private fill(text: string): string {
    return text.replace(/\{\{\s*([a-z]+)(?:\+(\d+))?\s*\}\}/gi, (m, name: string, plus?: string) => {
      if (name === 'epoch') return String(Math.floor(Date.now() / 1000) + Number(plus ?? 0));
      return this.vars[name] ?? m;
    });
  }
}

/** The parsed JSON of a recorded body file. */
export function recordedJson<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(RECORDED, file), 'utf8')) as T;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure, but it succeeded');
}
