// What goes wrong talking to a remote API, in words a person can act on: typed errors, the server's own message,
// and node's network error codes turned into sentences.
import { waitedFor } from '../../../core/environments/status';

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

/** What the request was, for an error about its answer. */
export interface Refusal {
  status: number;
  statusText: string;
  body: Buffer;
  method: string;
  url: URL;
  /** The API's host, as errors name it. */
  host: string;
  words: ServiceWords;
  /** The caller's words for a 404. */
  notFound?: string;
  hadToken: boolean;
  redact: (s: string) => string;
}

/** The error for a status the caller does not handle. */
export function statusError(r: Refusal): RemoteApiError {
  const { service, tokenHint } = r.words;
  const said = serverMessage(r.body);
  const server = said === null ? null : r.redact(said);
  const where = `${r.method} ${r.url.pathname}`;
  const tail = server ? `: ${server}` : '';
  switch (r.status) {
    case 401:
      return new RemoteApiError(
        'auth',
        r.hadToken
          ? `${service} on ${r.host} rejected the token (401): token missing or invalid: ${tokenHint}`
          : `${service} on ${r.host} needs a token (401): token missing or invalid: ${tokenHint}`,
        401,
        null,
        server,
      );
    case 403:
      return new RemoteApiError('forbidden', `${service} on ${r.host} refused ${where} (403)${tail}${r.hadToken ? '' : ` (no token was sent: ${tokenHint})`}`, 403, null, server);
    case 404:
      return new RemoteApiError('notFound', r.notFound ?? `${service} on ${r.host} has nothing at ${where} (404), or the token cannot see it`, 404, null, server);
    case 409:
      return new RemoteApiError('conflict', `${service} on ${r.host} refused ${where} (409)${tail}`, 409, null, server);
    case 400:
    case 422:
      return new RemoteApiError('invalid', `${service} on ${r.host} rejected ${where} (${r.status})${tail}`, r.status, null, server);
  }
  const kind: RemoteErrorKind = r.status >= 500 ? 'server' : 'invalid';
  return new RemoteApiError(kind, `${service} on ${r.host} answered ${r.status}${r.statusText ? ` ${r.statusText}` : ''} to ${where}${tail}`, r.status, null, server);
}

/** A failure to get any answer (refused, unknown host, TLS, proxy, timeout) as a RemoteApiError. */
export function networkError(e: unknown, url: URL, timeoutMs: number, redact: (s: string) => string): RemoteApiError {
  if (RemoteApiError.is(e)) return e;
  const err = e as NodeJS.ErrnoException & { proxy?: string };
  const code = err.code ?? '';
  const via = err.proxy ? ` through proxy ${err.proxy}` : '';
  if (code === 'ETIMEDOUT' || err.name === 'TimeoutError') {
    return new RemoteApiError('timeout', `no answer from ${url.host}${via} within ${waitedFor(timeoutMs)}`, null);
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

/** Network errors worth one more try for an idempotent request. */
export function retryableNetwork(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return ['ECONNRESET', 'EAI_AGAIN', 'EPIPE'].includes(code);
}
