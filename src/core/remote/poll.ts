// Polling a remote engine: waits that grow while nothing changes (1 s → 2 s → 5 s by default), start over when
// something does, stretch to what the engine asks for (Retry-After, a rate limit's reset), ride out a few
// transient errors, and stop at once when the AbortSignal fires. Pure: time comes from a Clock port, so the tests
// drive it with a fake clock.

import type { Clock } from '../clock';

export type { Clock } from '../clock';

export interface BackoffPolicy {
  /** Waits after polls that saw nothing new: the first, the second, …; the last one repeats. */
  steps: readonly number[];
  /** No wait is longer than this, an engine's hint included. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { steps: [1000, 2000, 5000], maxMs: 60_000 };

export class Backoff {
  private quiet = 0;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {
    if (policy.steps.length === 0) throw new Error('a backoff needs at least one step');
  }

  /**
   * The wait before the next poll. `changed`: the last poll saw something new (start over from the first step);
   * `hintMs`: how long the engine asked us to wait, honoured up to maxMs.
   */
  next(changed: boolean, hintMs?: number | null): number {
    this.quiet = changed ? 0 : this.quiet + 1;
    const { steps, maxMs } = this.policy;
    const base = steps[Math.min(this.quiet, steps.length - 1)];
    return Math.min(Math.max(base, hintMs ?? 0), maxMs);
  }

  reset(): void {
    this.quiet = 0;
  }
}

/** Errors worth another try after a wait: no answer, a timeout, a 5xx, a rate limit with a known reset. */
const TRANSIENT = new Set(['network', 'timeout', 'server', 'rateLimit']);

/**
 * What an engine's error says about waiting: `transient` when polling may go on, `waitMs` when the engine named a
 * time (a `retryAfterMs`, or a rate limit's `resetAt` in ms since the epoch). Read structurally: the adapters'
 * error classes carry `kind`, `resetAt`, `retryAfterMs`.
 */
export function retryAdvice(e: unknown, now: number): { transient: boolean; waitMs: number | null } {
  if (!e || typeof e !== 'object') return { transient: false, waitMs: null };
  const x = e as { kind?: unknown; resetAt?: unknown; retryAfterMs?: unknown; name?: unknown };
  if (x.name === 'AbortError') return { transient: false, waitMs: null };
  let waitMs: number | null = null;
  if (typeof x.retryAfterMs === 'number' && Number.isFinite(x.retryAfterMs)) waitMs = Math.max(0, x.retryAfterMs);
  else if (typeof x.resetAt === 'number' && Number.isFinite(x.resetAt)) waitMs = Math.max(0, x.resetAt - now);
  const transient = typeof x.kind === 'string' && TRANSIENT.has(x.kind) && (x.kind !== 'rateLimit' || waitMs !== null);
  return { transient, waitMs };
}

export interface PollOptions<T> {
  read(signal: AbortSignal): Promise<T>;
  /** A fingerprint of what was read: a different one counts as a change. */
  key(value: T): string;
  done(value: T): boolean;
  /** Every value read, with whether it changed since the last one. */
  onValue?(value: T, changed: boolean): void;
  /** A transient error that polling rides out, and how long it waits before trying again. */
  onRetry?(error: unknown, waitMs: number): void;
  signal: AbortSignal;
  clock: Clock;
  backoff?: BackoffPolicy;
  /** Transient errors in a row before giving up (default 5). */
  maxErrors?: number;
  /** After a successful read: how long the engine would like us to wait at least (a nearly used-up rate limit). */
  hintMs?(): number | null | undefined;
}

/** Reads until `done`; rejects with the signal's reason when aborted, with the error when it is not transient. */
export async function poll<T>(o: PollOptions<T>): Promise<T> {
  const clock = o.clock;
  const backoff = new Backoff(o.backoff);
  const maxErrors = o.maxErrors ?? 5;
  let lastKey: string | null = null;
  let errors = 0;
  for (;;) {
    o.signal.throwIfAborted();
    let wait: number;
    try {
      const value = await o.read(o.signal);
      errors = 0;
      const key = o.key(value);
      const changed = key !== lastKey;
      lastKey = key;
      o.onValue?.(value, changed);
      if (o.done(value)) return value;
      wait = backoff.next(changed, o.hintMs?.());
    } catch (e) {
      o.signal.throwIfAborted();
      const advice = retryAdvice(e, clock.now());
      if (!advice.transient || ++errors > maxErrors) throw e;
      wait = backoff.next(false, advice.waitMs);
      o.onRetry?.(e, wait);
    }
    await clock.sleep(wait, o.signal);
  }
}
