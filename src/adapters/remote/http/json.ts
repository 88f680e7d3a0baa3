// JSON readers: HTTP bodies are checked at the boundary, not trusted.
import { RemoteApiError, type ServiceWords } from './errors';

export type Json = Record<string, unknown>;

/** A body as JSON (null when empty); an answer that is not JSON is a server error. */
export function parseJson(res: { body: Buffer; url: string; status: number }, words: ServiceWords): unknown {
  if (res.body.length === 0) return null;
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new RemoteApiError('server', `${words.service} answered ${new URL(res.url).pathname} with something that is not JSON`, res.status);
  }
}

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
