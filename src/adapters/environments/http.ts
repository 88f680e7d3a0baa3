// One HTTP GET for a version probe or a health check: a timeout that covers the whole answer, a cap on the body,
// and errors a person can act on ("no answer within 2s from …", "connection refused"). Redirects are followed
// here, not by fetch: fetch would carry configured headers (API keys from ${secret:…}) and bodies to whatever
// origin a server names; here they go to the same origin (or its https:// upgrade) only.
import type { Health } from '../../shared/model';
import type { HealthSpec } from '../../core/environments/config';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../../core/environments/config';
import { excerpt, waitedFor } from '../../core/environments/status';
import { expandSecrets, Masker, type SecretResolver } from '../../core/secrets';

/** The resolver when none is given: every ${secret:NAME} is missing. */
export const noSecrets: SecretResolver = async () => undefined;

/** Version and health answers are small; more than this is not what we asked for. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpAnswer {
  status: number;
  statusText: string;
  body: string;
  /** The body was longer than the cap (and was cut). */
  truncated: boolean;
}

export type HttpResult = { answer: HttpAnswer } | { error: string };

export async function httpGet(
  url: string,
  opts: { headers?: Record<string, string>; timeoutMs: number; signal: AbortSignal; maxBytes?: number; what?: string },
): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const shown = opts.what ?? url;
  const failed = (e: unknown): HttpResult => {
    if (opts.signal.aborted) return { error: 'cancelled' };
    if (timeout.aborted) return { error: `no answer within ${waitedFor(opts.timeoutMs)} from ${shown}` };
    return { error: `${shown}: ${describeFetchError(e)}` };
  };
  let res: Response;
  try {
    const r = await fetchFollowing(url, { method: 'GET', headers: opts.headers ?? {}, body: null, signal });
    if ('refused' in r) return { error: `${shown}: ${r.refused}` };
    res = r.res;
  } catch (e) {
    return failed(e);
  }
  try {
    const { text, truncated } = await readCapped(res, opts.maxBytes ?? MAX_BODY_BYTES);
    return { answer: { status: res.status, statusText: res.statusText, body: text, truncated } };
  } catch (e) {
    return failed(e);
  }
}

/** How many redirects a probe, health check or deploy hook follows. */
export const MAX_REDIRECTS = 5;

const REDIRECTS = [301, 302, 303, 307, 308];

/**
 * fetch, following redirects by hand. 301/302 turn a POST into a GET and 303 anything but HEAD (the body is then
 * dropped); 307/308 keep method and body. A redirect to another origin is followed only when nothing configured
 * would go with it (no headers, no body): otherwise it is refused, and the answer says where it pointed. An
 * http:// to https:// upgrade on the same host counts as the same origin.
 */
export async function fetchFollowing(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | null; signal: AbortSignal },
): Promise<{ res: Response; url: string } | { refused: string }> {
  let current = new URL(url);
  let { method, body } = init;
  let headers = { ...init.headers };
  for (let hops = 0; ; hops++) {
    const res = await fetch(current, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : (body ?? undefined), redirect: 'manual', signal: init.signal });
    const location = res.headers.get('location');
    if (!REDIRECTS.includes(res.status) || location === null) return { res, url: current.href };
    await res.body?.cancel().catch(() => undefined);
    if (hops >= MAX_REDIRECTS) return { refused: `more than ${MAX_REDIRECTS} redirects (last to ${safeUrl(location, current)})` };
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return { refused: `redirected to "${location.slice(0, 200)}", which is not a URL` };
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return { refused: `redirected to ${next.protocol} URL, not followed` };
    if ((res.status === 303 && method !== 'HEAD') || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = null;
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-(type|length|encoding|language|location)$/i.test(k)));
    }
    if (!sameSite(current, next) && (Object.keys(headers).length > 0 || (body !== null && method !== 'GET' && method !== 'HEAD'))) {
      return { refused: `redirected (HTTP ${res.status}) to other origin ${next.origin}: not followed, the configured headers and body are not sent there` };
    }
    current = next;
  }
}

/** Same origin, or the https:// upgrade of an http:// origin on the default ports of the same host. */
function sameSite(from: URL, to: URL): boolean {
  if (from.origin === to.origin) return true;
  return from.protocol === 'http:' && to.protocol === 'https:' && from.hostname === to.hostname && from.port === '' && to.port === '';
}

/** A redirect target for messages: origin and path, no query (it may hold a token). */
function safeUrl(location: string, base: URL): string {
  try {
    const u = new URL(location, base);
    return `${u.origin}${u.pathname}`;
  } catch {
    return location.slice(0, 200);
  }
}

/** Reads at most `max` bytes of a body, then stops reading (the connection is closed, not drained). */
export async function readCapped(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

/** undici hides the reason in `cause`; turn the usual ones into words. */
export function describeFetchError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const code = err?.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens there)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the server closed the connection without an answer';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'the answer headers are too large';
  }
  const msg = err?.cause?.message ?? err?.message ?? String(e);
  return /certificate|self[- ]signed|SSL|TLS/i.test(msg) ? `TLS error: ${msg}` : msg;
}

/** One health check: the expected status and, if given, a text in the body. */
export async function checkHealth(spec: HealthSpec, signal: AbortSignal, secrets?: SecretResolver, known?: Masker): Promise<{ health: Health; detail: string | null }> {
  // A single look for the status view; a deploy's health wait polls with spec.timeoutMs instead.
  const timeoutMs = Math.min(spec.timeoutMs, DEFAULT_PROBE_TIMEOUT_MS);
  const found = new Set<string>();
  let url: string;
  try {
    url = await expandSecrets(spec.url, secrets ?? noSecrets, found);
  } catch (e) {
    return { health: 'unknown', detail: (e as Error).message };
  }
  const r = await httpGet(url, { timeoutMs, signal, maxBytes: 64 * 1024, what: spec.url });
  // Secrets are masked before excerpt() collapses whitespace and cuts (an echoed header would show otherwise).
  const { mask } = new Masker(found).with(known);
  if ('error' in r) return { health: r.error === 'cancelled' ? 'unknown' : 'down', detail: mask(r.error) };
  const { status, statusText, body } = r.answer;
  if (status !== spec.expect) return { health: 'down', detail: `HTTP ${status}${statusText ? ` ${mask(statusText)}` : ''} (expected ${spec.expect}): ${excerpt(mask(body), 80)}` };
  if (spec.contains !== null && !body.includes(spec.contains)) return { health: 'down', detail: `the answer does not contain "${spec.contains}": ${excerpt(mask(body), 80)}` };
  return { health: 'up', detail: `HTTP ${status}` };
}
