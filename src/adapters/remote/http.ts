// The HTTP client of the GitHub and GitLab engines: conditional requests (ETag / If-None-Match) so that polling a
// run costs no rate limit while nothing changes, rate limits honoured (waits when the reset is near, a clear error
// when it is not, no requests while blocked), retries with backoff for idempotent requests, pagination by Link
// header or X-Next-Page, redirects that never carry the token to another origin, an HTTP(S)_PROXY / NO_PROXY
// proxy (absolute-URI forwarding for http://, a CONNECT tunnel for https://), and extra trusted CAs.
// Built on node:http/https rather than fetch: Node 20's fetch reads no proxy settings and takes no CA option
// without the undici package (docs/decisions.md).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { waitedFor } from '../../core/environments/status';
import { mayCarryToken } from '../../core/remote/tokens';
import { redactor } from '../../core/secrets';

// ---- errors ----

export type RemoteErrorKind =
  | 'auth' // 401: no token, or a token the server rejects
  | 'forbidden' // 403 that is not a rate limit
  | 'notFound' // 404 (GitHub also answers 404 for private things the token cannot see)
  | 'rateLimit' // 403/429 with rate-limit headers, when the reset is too far to wait for
  | 'invalid' // 400/422: the server refused what we sent
  | 'conflict' // 409: e.g. cancelling a run that has finished
  | 'server' // 5xx after retries
  | 'network' // no answer: refused, unknown host, TLS, proxy
  | 'timeout';

export class RemoteApiError extends Error {
  constructor(
    readonly kind: RemoteErrorKind,
    message: string,
    readonly status: number | null,
    /** When a rate limit resets (ms since epoch), for rateLimit errors. */
    readonly resetAt: number | null = null,
    /** The server's own message, redacted. */
    readonly serverMessage: string | null = null,
  ) {
    super(message);
    this.name = 'RemoteApiError';
  }

  static is(e: unknown, kind?: RemoteErrorKind): e is RemoteApiError {
    return e instanceof RemoteApiError && (kind === undefined || e.kind === kind);
  }
}

/** How errors name the service and tell a person what to do about a token. */
export interface ServiceWords {
  /** "GitHub", "GitLab". */
  service: string;
  /** "set GITHUB_TOKEN or sign in to GitHub in VS Code". */
  tokenHint: string;
}

// ---- proxy and CA settings ----

export interface ProxySettings {
  /** Proxy for http:// URLs. */
  http?: string;
  /** Proxy for https:// URLs. */
  https?: string;
  /** Comma- or space-separated hosts (with optional :port), domain suffixes (.example.com), `*` for none. */
  noProxy?: string;
}

/** Loopback addresses: a proxy elsewhere cannot reach this machine's own servers. */
const LOOPBACK = 'localhost,127.0.0.1,::1';

/** HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case; lower case wins, as in curl). */
export function proxyFromEnv(env: Record<string, string | undefined>): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const out: ProxySettings = {};
  const h = pick('http_proxy');
  const s = pick('https_proxy');
  const n = pick('no_proxy');
  if (h) out.http = h;
  if (s) out.https = s;
  if (n) out.noProxy = n;
  return out;
}

/** The proxy to use for `url`, or null for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings | undefined): URL | null {
  if (!settings) return null;
  const raw = url.protocol === 'https:' ? settings.https : settings.http;
  if (!raw) return null;
  if (bypassProxy(url, settings.noProxy ?? '')) return null;
  const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  if (proxy.protocol !== 'http:') throw new RemoteApiError('network', `proxy ${redactUrl(proxy)}: only http:// proxies are supported`, null);
  return proxy;
}

function bypassProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    // host, host:port, [v6]:port, or a bare IPv6 address (several colons, no port)
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (entry.split(':').length > 2 ? [entry, entry, undefined] : /^(.*?)(?::(\d+))?$/.exec(entry)!);
    const [name, entryPort] = [m[1]!.replace(/^\*?\./, '.'), m[2]];
    if (entryPort && entryPort !== port) continue;
    if (name.startsWith('.') ? host.endsWith(name) || host === name.slice(1) : host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * The certificates to trust when extra CAs are configured: Node's bundled roots, NODE_EXTRA_CA_CERTS and the
 * given file. Undefined when there is nothing extra (Node's defaults then apply, NODE_EXTRA_CA_CERTS included).
 * Passing `ca` replaces Node's list, hence the roots are repeated here.
 */
export function loadCa(opts: { caFile?: string | null; env?: Record<string, string | undefined> }): string[] | undefined {
  const files = [opts.env?.NODE_EXTRA_CA_CERTS, opts.caFile].filter((f): f is string => !!f);
  if (!opts.caFile) return undefined;
  const extra: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new RemoteApiError('network', `cannot read the CA certificates in ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, null);
    }
    const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!certs) throw new RemoteApiError('network', `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, null);
    extra.push(...certs);
  }
  return [...tls.rootCertificates, ...extra];
}

// ---- the client ----

export interface HttpClientOptions {
  /** The API root: https://api.github.com, https://ghe.example.com/api/v3, https://gitlab.example.com/api/v4. */
  baseUrl: string;
  /** Headers that authenticate a request; asked for before each request and sent only to the API's origin. */
  auth: () => Promise<Record<string, string>>;
  /** Sent with every request to the API (Accept, API version). */
  headers?: Record<string, string>;
  words: ServiceWords;
  /** Default: HTTP(S)_PROXY and NO_PROXY of this process (loopback always direct); `{}` for none. */
  proxy?: ProxySettings;
  /** PEM certificates to trust instead of Node's defaults (see loadCa). */
  ca?: string[];
  /** One request, from connecting to the last byte. Default 30 s. */
  timeoutMs?: number;
  /** Retries of a GET after a network error or a 5xx. Default 2. */
  retries?: number;
  /** Wait this long at most for a rate limit to reset before failing. Default 60 s. */
  maxRateLimitWaitMs?: number;
  /** Bodies larger than this are refused. Default 64 MiB (job logs can be large). */
  maxBodyBytes?: number;
  /** For tests: how to wait (default: a timer that the signal cancels). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** For tests: the clock. */
  now?: () => number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: string;
  /** Served from the ETag cache after a 304. */
  cached: boolean;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** Conditional GET with the cached ETag (default for GETs to the API). */
  cache?: boolean;
  /** The message for a 404, in the caller's words ("no workflow ci.yml in o/r, or the token cannot see it"). */
  notFound?: string;
  /** Statuses (besides 2xx) the caller handles itself: no error is thrown for them. */
  allow?: number[];
}

interface CacheEntry {
  etag: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const CACHE_ENTRIES = 256;
const MAX_REDIRECTS = 5;
const RATE_LIMIT_FALLBACK_MS = 60_000;

export class HttpClient {
  private readonly base: URL;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly agents = new Map<string, http.Agent>();
  /** A rate limit that is known to be exhausted until this time: no request is sent before it. */
  private blockedUntil = 0;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly proxy: ProxySettings;

  constructor(private readonly opts: HttpClientOptions) {
    this.base = new URL(opts.baseUrl.replace(/\/+$/, '') + '/');
    if (opts.proxy) this.proxy = opts.proxy;
    else {
      const env = proxyFromEnv(process.env);
      this.proxy = { ...env, noProxy: env.noProxy ? `${env.noProxy},${LOOPBACK}` : LOOPBACK };
    }
    this.sleep = opts.sleep ?? delay;
    this.now = opts.now ?? Date.now;
  }

  get host(): string {
    return this.base.host;
  }

  /** The absolute URL of an API path ("repos/o/r" or "/repos/o/r"), with the query. */
  url(path: string, query?: RequestOptions['query']): URL {
    const u = /^https?:\/\//.test(path) ? new URL(path) : new URL(path.replace(/^\/+/, ''), this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    return u;
  }

  async json<T = unknown>(path: string, opts: RequestOptions): Promise<T> {
    const res = await this.request(path, opts);
    return parseJson(res, this.opts.words) as T;
  }

  async text(path: string, opts: RequestOptions): Promise<string> {
    return (await this.request(path, opts)).body.toString('utf8');
  }

  /**
   * Items of every page, following Link rel="next" (GitHub, GitLab) or X-Next-Page (GitLab), until `limit` items
   * or the last page.
   */
  async collect<T>(path: string, opts: RequestOptions & { items: (body: unknown) => T[]; limit: number; maxPages?: number }): Promise<T[]> {
    const out: T[] = [];
    let next: string | null = this.url(path, opts.query).href;
    for (let page = 0; next && out.length < opts.limit && page < (opts.maxPages ?? 50); page++) {
      const res = await this.request(next, { ...opts, query: undefined });
      out.push(...opts.items(parseJson(res, this.opts.words)));
      next = nextPageUrl(res);
    }
    return out.slice(0, opts.limit);
  }

  async request(path: string, opts: RequestOptions): Promise<HttpResponse> {
    const method = opts.method ?? 'GET';
    let url = this.url(path, opts.query);
    const auth = await this.opts.auth();
    if (Object.keys(auth).length > 0 && !mayCarryToken(this.base)) {
      // Plain http:// to another machine: anyone on the way would read the token.
      throw new RemoteApiError('auth', `${this.opts.words.service}: the token is not sent over plain http:// to ${this.base.host} (only to loopback); use https://`, null);
    }
    const secrets = Object.values(auth).flatMap((v) => [v, v.replace(/^(Bearer|token|Basic)\s+/i, '')]);
    const redact = redactor(secrets);
    const headers: Record<string, string> = {
      'user-agent': 'software-delivery',
      'accept-encoding': 'gzip, deflate',
      ...lower(this.opts.headers ?? {}),
      ...lower(opts.headers ?? {}),
    };
    let body: Buffer | undefined;
    if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] = 'application/json';
    }
    const cacheKey = method === 'GET' && opts.cache !== false ? `${createHash('sha256').update(JSON.stringify(auth)).digest('hex').slice(0, 16)} ${url.href} ${headers.accept ?? ''}` : null;
    const retries = method === 'GET' ? (this.opts.retries ?? 2) : 0;
    let attempt = 0;
    let redirects = 0;
    for (;;) {
      await this.waitForRateLimit(opts.signal, method, url);
      // Credentials go to the API's own origin only: never to a redirect or next-page link elsewhere.
      const sameOrigin = url.origin === this.base.origin;
      const sent = { ...headers, ...(sameOrigin ? lower(auth) : {}) };
      const cached = cacheKey && sameOrigin ? this.cache.get(cacheKey) : undefined;
      if (cached) sent['if-none-match'] = cached.etag;
      let res: RawResponse;
      try {
        res = await this.send(url, method, sent, body, opts.signal);
      } catch (e) {
        if (opts.signal.aborted) throw opts.signal.reason ?? e;
        const err = this.networkError(e, url, redact);
        if (attempt < retries && (err.kind === 'timeout' || retryableNetwork(e))) {
          await this.sleep(backoffMs(attempt++), opts.signal);
          continue;
        }
        throw err;
      }
      this.noteRateLimit(res);
      if (res.status === 304 && cached) {
        this.cache.delete(cacheKey!); // re-insert: most recently used last
        this.cache.set(cacheKey!, cached);
        return { status: cached.status, headers: cached.headers, body: cached.body, url: url.href, cached: true };
      }
      // Only reads follow redirects (GitHub sends job logs as a 302 to a short-lived URL on another host).
      if (method === 'GET' && [301, 302, 303, 307, 308].includes(res.status) && res.headers.location) {
        if (++redirects > MAX_REDIRECTS) throw new RemoteApiError('server', `${this.opts.words.service}: too many redirects from ${method} ${url.pathname}`, res.status);
        url = new URL(res.headers.location, url);
        continue;
      }
      const limited = this.rateLimited(res);
      if (limited) {
        const wait = Math.max(0, limited.resetAt - this.now());
        if (attempt < 3 && wait <= (this.opts.maxRateLimitWaitMs ?? 60_000)) {
          attempt++;
          await this.sleep(wait, opts.signal);
          this.blockedUntil = 0; // waited for
          continue;
        }
        throw new RemoteApiError(
          'rateLimit',
          `${this.opts.words.service} API rate limit reached on ${this.host}; resets at ${clockTime(limited.resetAt)}`,
          res.status,
          limited.resetAt,
          redact(serverMessage(res.body) ?? ''),
        );
      }
      if (res.status >= 500 && attempt < retries) {
        const after = retryAfterMs(res.headers);
        await this.sleep(after ?? backoffMs(attempt), opts.signal);
        attempt++;
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || opts.allow?.includes(res.status)) {
        if (cacheKey && sameOrigin && res.status === 200 && res.headers.etag) this.remember(cacheKey, { etag: res.headers.etag, status: res.status, headers: res.headers, body: res.body });
        return { status: res.status, headers: res.headers, body: res.body, url: url.href, cached: false };
      }
      throw this.statusError(res, method, url, opts, Object.keys(auth).length > 0, redact);
    }
  }

  /** Closes kept-alive connections. */
  dispose(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  // ---- rate limits ----

  private async waitForRateLimit(signal: AbortSignal, method: string, url: URL): Promise<void> {
    const wait = this.blockedUntil - this.now();
    if (wait <= 0 || url.origin !== this.base.origin) return;
    if (wait > (this.opts.maxRateLimitWaitMs ?? 60_000)) {
      throw new RemoteApiError(
        'rateLimit',
        `${this.opts.words.service} API rate limit reached on ${this.host}; resets at ${clockTime(this.blockedUntil)} (${method} ${url.pathname} not sent)`,
        null,
        this.blockedUntil,
      );
    }
    await this.sleep(wait, signal);
    this.blockedUntil = 0;
  }

  private noteRateLimit(res: RawResponse): void {
    const remaining = res.headers['x-ratelimit-remaining'] ?? res.headers['ratelimit-remaining'];
    const reset = resetTime(res.headers);
    if (remaining === '0' && reset !== null) this.blockedUntil = Math.max(this.blockedUntil, reset);
  }

  /** A refusal because of a rate limit (primary or secondary), with when to try again. */
  private rateLimited(res: RawResponse): { resetAt: number } | null {
    if (res.status !== 403 && res.status !== 429) return null;
    const after = retryAfterMs(res.headers);
    if (after !== null) return { resetAt: this.now() + after };
    const remaining = res.headers['x-ratelimit-remaining'] ?? res.headers['ratelimit-remaining'];
    const reset = resetTime(res.headers);
    if (remaining === '0' && reset !== null) return { resetAt: reset + 1000 };
    // GitHub's secondary limit may come without headers: its docs ask for at least a minute's pause.
    if (res.status === 429 || /rate limit/i.test(serverMessage(res.body) ?? '')) return { resetAt: this.now() + RATE_LIMIT_FALLBACK_MS };
    return null;
  }

  // ---- errors ----

  private statusError(res: RawResponse, method: string, url: URL, opts: RequestOptions, hadToken: boolean, redact: (s: string) => string): RemoteApiError {
    const { service, tokenHint } = this.opts.words;
    const said = serverMessage(res.body);
    const server = said === null ? null : redact(said);
    const where = `${method} ${url.pathname}`;
    const tail = server ? `: ${server}` : '';
    switch (res.status) {
      case 401:
        return new RemoteApiError(
          'auth',
          hadToken
            ? `${service} on ${this.host} rejected the token (401): token missing or invalid: ${tokenHint}`
            : `${service} on ${this.host} needs a token (401): token missing or invalid: ${tokenHint}`,
          401,
          null,
          server,
        );
      case 403:
        return new RemoteApiError('forbidden', `${service} on ${this.host} refused ${where} (403)${tail}${hadToken ? '' : ` (no token was sent: ${tokenHint})`}`, 403, null, server);
      case 404:
        return new RemoteApiError('notFound', opts.notFound ?? `${service} on ${this.host} has nothing at ${where} (404), or the token cannot see it`, 404, null, server);
      case 409:
        return new RemoteApiError('conflict', `${service} on ${this.host} refused ${where} (409)${tail}`, 409, null, server);
      case 400:
      case 422:
        return new RemoteApiError('invalid', `${service} on ${this.host} rejected ${where} (${res.status})${tail}`, res.status, null, server);
    }
    const kind: RemoteErrorKind = res.status >= 500 ? 'server' : 'invalid';
    return new RemoteApiError(kind, `${service} on ${this.host} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''} to ${where}${tail}`, res.status, null, server);
  }

  private networkError(e: unknown, url: URL, redact: (s: string) => string): RemoteApiError {
    if (RemoteApiError.is(e)) return e;
    const err = e as NodeJS.ErrnoException & { proxy?: string };
    const code = err.code ?? '';
    const via = err.proxy ? ` through proxy ${err.proxy}` : '';
    if (code === 'ETIMEDOUT' || err.name === 'TimeoutError') {
      return new RemoteApiError('timeout', `no answer from ${url.host}${via} within ${waitedFor(this.opts.timeoutMs ?? 30_000)}`, null);
    }
    const words: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'unknown host',
      EAI_AGAIN: 'unknown host (DNS did not answer)',
      ECONNRESET: 'the connection was closed without an answer',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
    };
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new RemoteApiError('network', `cannot verify the certificate of ${url.host} (${code}): trust its CA with a CA file or NODE_EXTRA_CA_CERTS`, null);
    }
    return new RemoteApiError('network', redact(`cannot reach ${url.host}${via}: ${words[code] ?? err.message ?? String(e)}`), null);
  }

  // ---- transport ----

  private remember(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }

  private agentFor(url: URL, proxy: URL | null): http.Agent {
    const key = `${url.protocol}${proxy ? ` via ${proxy.host}` : ''}`;
    const known = this.agents.get(key);
    if (known) return known;
    let agent: http.Agent;
    if (url.protocol === 'https:') agent = proxy ? new TunnelAgent(proxy, { keepAlive: true, ca: this.opts.ca }) : new https.Agent({ keepAlive: true, ca: this.opts.ca });
    else agent = new http.Agent({ keepAlive: true });
    this.agents.set(key, agent);
    return agent;
  }

  private async send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<RawResponse> {
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    const proxy = proxyFor(url, this.proxy);
    const agent = this.agentFor(url, proxy);
    const maxBytes = this.opts.maxBodyBytes ?? 64 * 1024 * 1024;
    const out: Record<string, string> = { ...headers };
    if (body) out['content-length'] = String(body.length);
    let req: http.ClientRequest;
    if (proxy && url.protocol === 'http:') {
      // A forwarding proxy takes the absolute URI as the request target.
      if (proxy.username) out['proxy-authorization'] = proxyAuthorization(proxy);
      out.host = url.host;
      req = http.request({ host: proxy.hostname, port: proxy.port || 80, path: url.href, method, headers: out, agent, signal: both });
    } else {
      req = (url.protocol === 'https:' ? https : http).request(url, { method, headers: out, agent, signal: both });
    }
    return new Promise<RawResponse>((resolve, reject) => {
      const fail = (e: Error) => {
        const err = timeout.aborted && !signal.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e;
        if (proxy) Object.assign(err, { proxy: redactUrl(proxy) });
        reject(err);
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy(new Error(`the answer is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          decode(Buffer.concat(chunks), String(res.headers['content-encoding'] ?? ''), maxBytes)
            .then((b) => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: flatHeaders(res.headers), body: b }))
            .catch(fail);
        });
      });
      req.end(body);
    });
  }
}

interface RawResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** An https agent whose connections go through an HTTP proxy's CONNECT tunnel (kept alive like any other). */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    opts: https.AgentOptions,
  ) {
    super(opts);
  }

  // Node's Agent accepts an asynchronous createConnection(options, callback) and then ignores the return value.
  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): null {
    const target = `${options.host}:${options.port}`;
    const headers: Record<string, string> = { host: target };
    if (this.proxy.username) headers['proxy-authorization'] = proxyAuthorization(this.proxy);
    const req = http.request({ host: this.proxy.hostname, port: this.proxy.port || 80, method: 'CONNECT', path: target, headers, agent: false });
    const done = (err: Error | null, socket?: Duplex) => {
      if (err) Object.assign(err, { proxy: redactUrl(this.proxy) });
      callback?.(err, socket as Duplex);
    };
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`the proxy refused the tunnel to ${target} (${res.statusCode} ${res.statusMessage ?? ''})`.trim()));
        return;
      }
      const host = String(options.servername || options.hostname || options.host);
      // SNI carries host names only (RFC 6066); the certificate is still checked against an IP address.
      const secure = tls.connect({ socket, host, ...(isIP(host) ? {} : { servername: host }), ca: options.ca, ALPNProtocols: ['http/1.1'] });
      done(null, secure);
    });
    req.once('error', (e) => done(e));
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('the proxy did not open the tunnel in time'), { code: 'ETIMEDOUT' })));
    req.end();
    return null;
  }
}

// ---- helpers ----

/** The next page's URL: Link rel="next" (GitHub, GitLab), else X-Next-Page on the current URL (GitLab). */
export function nextPageUrl(res: Pick<HttpResponse, 'headers' | 'url'>): string | null {
  const link = res.headers.link;
  if (link) {
    for (const part of link.split(',')) {
      const m = /<([^>]+)>\s*;(.*)/.exec(part.trim());
      if (m && /\brel="?([^"]*\s)?next(\s[^"]*)?"?/.test(m[2]!)) return new URL(m[1]!, res.url).href;
    }
  }
  const next = res.headers['x-next-page'];
  if (next && /^\d+$/.test(next.trim())) {
    const total = Number(res.headers['x-total-pages']);
    if (Number.isFinite(total) && total > 0 && Number(next) > total) return null;
    const u = new URL(res.url);
    u.searchParams.set('page', next.trim());
    return u.href;
  }
  return null;
}

function parseJson(res: HttpResponse, words: ServiceWords): unknown {
  if (res.body.length === 0) return null;
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new RemoteApiError('server', `${words.service} answered ${new URL(res.url).pathname} with something that is not JSON`, res.status);
  }
}

/** The message in an error body: GitHub {message, errors}, GitLab {message}, {message: {field: [..]}}, {error}. */
export function serverMessage(body: Buffer): string | null {
  const text = body.toString('utf8').trim();
  if (!text) return null;
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return text.length > 200 || /^\s*</.test(text) ? null : text;
  }
  if (!x || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  const parts: string[] = [];
  const add = (v: unknown, prefix = ''): void => {
    if (typeof v === 'string') parts.push(prefix + v);
    else if (Array.isArray(v)) v.forEach((i) => add(i, prefix));
    else if (v && typeof v === 'object') {
      const r = v as Record<string, unknown>;
      if (typeof r.message === 'string') parts.push(prefix + r.message);
      else for (const [k, w] of Object.entries(r)) add(w, k === 'base' ? prefix : `${prefix}${k} `);
    }
  };
  add(o.message);
  add(o.error_description ?? o.error);
  if (Array.isArray(o.errors)) add(o.errors);
  return parts.length ? [...new Set(parts)].join('; ') : null;
}

/** Local wall-clock time, HH:MM, for "resets at". */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function resetTime(h: Record<string, string>): number | null {
  const x = h['x-ratelimit-reset'] ?? h['ratelimit-reset'];
  if (!x || !/^\d+$/.test(x)) return null;
  return Number(x) * 1000;
}

function retryAfterMs(h: Record<string, string>): number | null {
  const v = h['retry-after'];
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function backoffMs(attempt: number): number {
  return 500 * 2 ** attempt + Math.floor(Math.random() * 250);
}

function retryableNetwork(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return ['ECONNRESET', 'EAI_AGAIN', 'EPIPE'].includes(code);
}

function proxyAuthorization(proxy: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** A compressed body, inflated up to `maxBytes` (a few KB of gzip can inflate to gigabytes). */
function decode(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const enc = encoding.trim().toLowerCase();
  const done = (res: (b: Buffer) => void, rej: (e: Error) => void) => (e: Error | null, b: Buffer) => {
    if (e && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') rej(new Error(`the answer is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB once decompressed`));
    else if (e) rej(e);
    else res(b);
  };
  if (enc === 'gzip' || enc === 'x-gzip') return new Promise((res, rej) => zlib.gunzip(body, { maxOutputLength: maxBytes }, done(res, rej)));
  if (enc === 'deflate') return new Promise((res, rej) => zlib.inflate(body, { maxOutputLength: maxBytes }, done(res, rej)));
  return Promise.resolve(body);
}

/** Waits `ms`, or less when the signal aborts (then rejects with its reason). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// ---- JSON readers: HTTP bodies are checked at the boundary, not trusted ----

export type Json = Record<string, unknown>;

export function asObject(x: unknown, what: string): Json {
  if (!x || typeof x !== 'object' || Array.isArray(x)) throw new RemoteApiError('server', `unexpected answer for ${what}: not an object`, null);
  return x as Json;
}

export function asArray(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new RemoteApiError('server', `unexpected answer for ${what}: not a list`, null);
  return x;
}

export function str(o: Json, key: string): string | null {
  const v = o[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

export function num(o: Json, key: string): number | null {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function time(o: Json, key: string): number | null {
  const v = o[key];
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** An id field (numbers in both APIs) as the string RemoteRun/RemoteJob use. */
export function idOf(o: Json, what: string): string {
  const v = o.id;
  if (typeof v === 'number' || (typeof v === 'string' && v)) return String(v);
  throw new RemoteApiError('server', `unexpected answer for ${what}: no id`, null);
}
