// One HTTP GET for a version probe or a health check: a timeout that covers the whole answer, a cap on the body,
// and errors a person can act on ("no answer within 2s from …", "connection refused").
import type { Health } from '../../shared/model';
import type { HealthSpec } from '../../core/environments/config';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../../core/environments/config';
import { excerpt, waitedFor } from '../../core/environments/status';
import { expandSecrets, redactor, type SecretResolver } from '../../core/secrets';

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
    res = await fetch(url, { headers: opts.headers, signal, redirect: 'follow' });
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

async function readCapped(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
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
export async function checkHealth(spec: HealthSpec, signal: AbortSignal, secrets?: SecretResolver): Promise<{ health: Health; detail: string | null }> {
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
  if ('error' in r) return { health: r.error === 'cancelled' ? 'unknown' : 'down', detail: redactor(found)(r.error) };
  const { status, statusText, body } = r.answer;
  if (status !== spec.expect) return { health: 'down', detail: `HTTP ${status}${statusText ? ` ${statusText}` : ''} (expected ${spec.expect}): ${excerpt(body, 80)}` };
  if (spec.contains !== null && !body.includes(spec.contains)) return { health: 'down', detail: `the answer does not contain "${spec.contains}": ${excerpt(body, 80)}` };
  return { health: 'up', detail: `HTTP ${status}` };
}
