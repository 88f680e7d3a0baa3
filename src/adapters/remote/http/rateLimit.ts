// Rate limits honoured: no request to the API while its limit is known to be exhausted, a wait when the reset is
// near, a clear error (with when it resets) when it is not.
import { RemoteApiError, serverMessage } from './errors';

const RATE_LIMIT_FALLBACK_MS = 60_000;

export interface RateLimitOptions {
  /** The API's origin: only requests to it count against (and wait for) its limit. */
  origin: string;
  /** The API's host and service name, as errors name them. */
  host: string;
  service: string;
  /** Wait this long at most for a reset before failing. */
  maxWaitMs: number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  now: () => number;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class RateLimiter {
  /** A rate limit that is known to be exhausted until this time: no request is sent before it. */
  private blockedUntil = 0;

  constructor(private readonly opts: RateLimitOptions) {}

  /** Before a request: waits out a known exhausted limit, or refuses to send when its reset is too far. */
  async beforeRequest(signal: AbortSignal, method: string, url: URL): Promise<void> {
    const wait = this.blockedUntil - this.opts.now();
    if (wait <= 0 || url.origin !== this.opts.origin) return;
    if (wait > this.opts.maxWaitMs) {
      throw new RemoteApiError(
        'rateLimit',
        `${this.opts.service} API rate limit reached on ${this.opts.host}; resets at ${clockTime(this.blockedUntil)} (${method} ${url.pathname} not sent)`,
        null,
        this.blockedUntil,
      );
    }
    await this.opts.sleep(wait, signal);
    this.blockedUntil = 0;
  }

  /** After any answer: remembers an exhausted limit (remaining 0) until its reset. */
  note(res: Pick<Answer, 'headers'>): void {
    const remaining = res.headers['x-ratelimit-remaining'] ?? res.headers['ratelimit-remaining'];
    const reset = resetTime(res.headers);
    if (remaining === '0' && reset !== null) this.blockedUntil = Math.max(this.blockedUntil, reset);
  }

  /** A refusal because of a rate limit (primary or secondary), with when to try again. */
  refusal(res: Answer): { resetAt: number } | null {
    if (res.status !== 403 && res.status !== 429) return null;
    const after = retryAfterMs(res.headers);
    if (after !== null) return { resetAt: this.opts.now() + after };
    const remaining = res.headers['x-ratelimit-remaining'] ?? res.headers['ratelimit-remaining'];
    const reset = resetTime(res.headers);
    if (remaining === '0' && reset !== null) return { resetAt: reset + 1000 };
    // GitHub's secondary limit may come without headers: its docs ask for at least a minute's pause.
    if (res.status === 429 || /rate limit/i.test(serverMessage(res.body) ?? '')) return { resetAt: this.opts.now() + RATE_LIMIT_FALLBACK_MS };
    return null;
  }

  /** How long to wait for a reset at `resetAt`, or null when that is longer than we wait. */
  waitFor(resetAt: number): number | null {
    const wait = Math.max(0, resetAt - this.opts.now());
    return wait <= this.opts.maxWaitMs ? wait : null;
  }

  /** Waits for a reset; the limit is then no longer known to be exhausted. */
  async sleepThrough(wait: number, signal: AbortSignal): Promise<void> {
    await this.opts.sleep(wait, signal);
    this.blockedUntil = 0;
  }

  /** The error for a refusal we do not wait for. */
  error(resetAt: number, status: number, server: string): RemoteApiError {
    return new RemoteApiError('rateLimit', `${this.opts.service} API rate limit reached on ${this.opts.host}; resets at ${clockTime(resetAt)}`, status, resetAt, server);
  }
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

/** Retry-After in seconds or as an HTTP date, in ms from now. */
export function retryAfterMs(h: Record<string, string>): number | null {
  const v = h['retry-after'];
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
