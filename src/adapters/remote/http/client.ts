// The HTTP client of the GitHub, GitLab and Buildbot engines: one request with its policy — the token only over
// https:// (or to loopback) and only to the API's own origin, conditional GETs (cache.ts), rate limits
// (rateLimit.ts), retries with backoff for idempotent requests, redirects for reads, pages (pagination.ts) — over a
// transport (transport.ts: agents, proxy, tunnel, size caps).
import { mayCarryToken } from '../../../core/remote/tokens';
import { redactor } from '../../../core/secrets';
import { EtagCache } from './cache';
import { networkError, RemoteApiError, retryableNetwork, serverMessage, statusError, type ServiceWords } from './errors';
import { parseJson } from './json';
import { nextPageUrl } from './pagination';
import { defaultProxy, type ProxySettings } from './proxy';
import { RateLimiter, retryAfterMs } from './rateLimit';
import { Transport, type RawResponse } from './transport';

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

const MAX_REDIRECTS = 5;

export class HttpClient {
  private readonly base: URL;
  private readonly cache = new EtagCache();
  private readonly limits: RateLimiter;
  private readonly transport: Transport;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: HttpClientOptions) {
    this.base = new URL(opts.baseUrl.replace(/\/+$/, '') + '/');
    this.sleep = opts.sleep ?? delay;
    this.now = opts.now ?? Date.now;
    this.transport = new Transport({
      proxy: opts.proxy ?? defaultProxy(process.env),
      ca: opts.ca,
      timeoutMs: opts.timeoutMs ?? 30_000,
      maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024 * 1024,
    });
    this.limits = new RateLimiter({
      origin: this.base.origin,
      host: this.base.host,
      service: opts.words.service,
      maxWaitMs: opts.maxRateLimitWaitMs ?? 60_000,
      sleep: this.sleep,
      now: this.now,
    });
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
    const cacheKey = method === 'GET' && opts.cache !== false ? EtagCache.key(auth, url, headers.accept) : null;
    const retries = method === 'GET' ? (this.opts.retries ?? 2) : 0;
    let attempt = 0;
    let redirects = 0;
    for (;;) {
      await this.limits.beforeRequest(opts.signal, method, url);
      // Credentials go to the API's own origin only: never to a redirect or next-page link elsewhere.
      const sameOrigin = url.origin === this.base.origin;
      const sent = { ...headers, ...(sameOrigin ? lower(auth) : {}) };
      const cached = cacheKey && sameOrigin ? this.cache.get(cacheKey) : undefined;
      if (cached) sent['if-none-match'] = cached.etag;
      let res: RawResponse;
      try {
        res = await this.transport.send(url, method, sent, body, opts.signal);
      } catch (e) {
        if (opts.signal.aborted) throw opts.signal.reason ?? e;
        const err = networkError(e, url, this.opts.timeoutMs ?? 30_000, redact);
        if (attempt < retries && (err.kind === 'timeout' || retryableNetwork(e))) {
          await this.sleep(backoffMs(attempt++), opts.signal);
          continue;
        }
        throw err;
      }
      this.limits.note(res);
      if (res.status === 304 && cached) {
        this.cache.remember(cacheKey!, cached); // most recently used last
        return { status: cached.status, headers: cached.headers, body: cached.body, url: url.href, cached: true };
      }
      // Only reads follow redirects (GitHub sends job logs as a 302 to a short-lived URL on another host).
      if (method === 'GET' && [301, 302, 303, 307, 308].includes(res.status) && res.headers.location) {
        if (++redirects > MAX_REDIRECTS) throw new RemoteApiError('server', `${this.opts.words.service}: too many redirects from ${method} ${url.pathname}`, res.status);
        url = new URL(res.headers.location, url);
        continue;
      }
      const limited = this.limits.refusal(res);
      if (limited) {
        const wait = attempt < 3 ? this.limits.waitFor(limited.resetAt) : null;
        if (wait !== null) {
          attempt++;
          await this.limits.sleepThrough(wait, opts.signal);
          continue;
        }
        throw this.limits.error(limited.resetAt, res.status, redact(serverMessage(res.body) ?? ''));
      }
      if (res.status >= 500 && attempt < retries) {
        const after = retryAfterMs(res.headers);
        await this.sleep(after ?? backoffMs(attempt), opts.signal);
        attempt++;
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || opts.allow?.includes(res.status)) {
        if (cacheKey && sameOrigin && res.status === 200 && res.headers.etag) this.cache.remember(cacheKey, { etag: res.headers.etag, status: res.status, headers: res.headers, body: res.body });
        return { status: res.status, headers: res.headers, body: res.body, url: url.href, cached: false };
      }
      throw statusError({ ...res, method, url, host: this.host, words: this.opts.words, notFound: opts.notFound, hadToken: Object.keys(auth).length > 0, redact });
    }
  }

  /** Closes kept-alive connections. */
  dispose(): void {
    this.transport.dispose();
  }
}

function backoffMs(attempt: number): number {
  return 500 * 2 ** attempt + Math.floor(Math.random() * 250);
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
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
