// Polling remote engines (core/remote/poll.ts): the backoff schedule, engine hints, transient errors and
// cancellation. Pure logic, driven by a fake clock that records every wait instead of sleeping.
import * as assert from 'node:assert/strict';
import { Backoff, poll, retryAdvice, type Clock } from '../../src/core/remote/poll';

/** A clock whose sleep returns at once and moves time forward; `waits` lists every wait asked for. */
function fakeClock(start = 1_000_000): Clock & { waits: number[] } {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    setTimer: () => null,
    clearTimer: () => undefined,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
}

/** An error shaped like the adapters' RemoteApiError. */
function apiError(kind: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${kind} error`), { kind, ...extra });
}

describe('remote polling (core)', () => {
  it('backs off 1 s → 2 s → 5 s while nothing changes, and starts over on a change', () => {
    const b = new Backoff();
    assert.deepEqual([b.next(true), b.next(false), b.next(false), b.next(false), b.next(false)], [1000, 2000, 5000, 5000, 5000]);
    assert.equal(b.next(true), 1000);
    assert.equal(b.next(false), 2000);
  });

  it('honours an engine hint longer than the schedule, up to the cap, but never waits less than the schedule', () => {
    const b = new Backoff({ steps: [1000, 2000], maxMs: 30_000 });
    assert.equal(b.next(true, 7000), 7000);
    assert.equal(b.next(false, 500), 2000);
    assert.equal(b.next(false, 3_600_000), 30_000);
    assert.throws(() => new Backoff({ steps: [], maxMs: 1 }), /at least one step/);
  });

  it('reads structural retry advice from engine errors', () => {
    assert.deepEqual(retryAdvice(apiError('network'), 0), { transient: true, waitMs: null });
    assert.deepEqual(retryAdvice(apiError('server', { retryAfterMs: 3000 }), 0), { transient: true, waitMs: 3000 });
    assert.deepEqual(retryAdvice(apiError('rateLimit', { resetAt: 50_000 }), 20_000), { transient: true, waitMs: 30_000 });
    // A rate limit without a known reset, auth problems and unknown things are not retried.
    assert.deepEqual(retryAdvice(apiError('rateLimit'), 0), { transient: false, waitMs: null });
    assert.equal(retryAdvice(apiError('auth'), 0).transient, false);
    assert.equal(retryAdvice(new Error('plain'), 0).transient, false);
    assert.equal(retryAdvice(Object.assign(new Error('x'), { name: 'AbortError', kind: 'network' }), 0).transient, false);
  });

  it('polls until done, waiting per the schedule and reporting changes', async () => {
    const clock = fakeClock();
    const values = ['queued', 'queued', 'running', 'running', 'running', 'success'];
    const seen: [string, boolean][] = [];
    const result = await poll({
      read: async () => values.shift()!,
      key: (v) => v,
      done: (v) => v === 'success',
      onValue: (v, changed) => seen.push([v, changed]),
      signal: new AbortController().signal,
      clock,
    });
    assert.equal(result, 'success');
    assert.deepEqual(seen, [['queued', true], ['queued', false], ['running', true], ['running', false], ['running', false], ['success', true]]);
    assert.deepEqual(clock.waits, [1000, 2000, 1000, 2000, 5000]);
  });

  it('asks the engine for a hint after each read', async () => {
    const clock = fakeClock();
    let n = 0;
    await poll({ read: async () => ++n, key: String, done: (v) => v === 3, signal: new AbortController().signal, clock, hintMs: () => (n === 1 ? 9000 : null) });
    assert.deepEqual(clock.waits, [9000, 1000]);
  });

  it('rides out transient errors, waiting what the engine asks, and gives up after too many in a row', async () => {
    const clock = fakeClock(0);
    const script: (string | Error)[] = [apiError('network'), apiError('rateLimit', { resetAt: 10_000 }), 'ok'];
    const retried: number[] = [];
    const v = await poll({
      read: async () => {
        const next = script.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
      key: String,
      done: () => true,
      onRetry: (_e, ms) => retried.push(ms),
      signal: new AbortController().signal,
      clock,
    });
    assert.equal(v, 'ok');
    assert.deepEqual(retried, [2000, 8000]); // after 2 s of waiting, the reset was 8 s away
    await assert.rejects(
      poll({ read: async () => Promise.reject(apiError('timeout')), key: String, done: () => true, signal: new AbortController().signal, clock: fakeClock(), maxErrors: 2 }),
      /timeout error/,
    );
    await assert.rejects(
      poll({ read: async () => Promise.reject(apiError('auth')), key: String, done: () => true, signal: new AbortController().signal, clock: fakeClock() }),
      /auth error/,
    );
  });

  it('stops at once when the signal aborts, with the signal’s reason', async () => {
    const ctl = new AbortController();
    const clock = fakeClock();
    let reads = 0;
    const p = poll({
      read: async () => {
        if (++reads === 3) ctl.abort(new Error('stop following'));
        return reads;
      },
      key: String,
      done: () => false,
      signal: ctl.signal,
      clock,
    });
    await assert.rejects(p, /stop following/);
    assert.equal(reads, 3);
    const aborted = new AbortController();
    aborted.abort();
    let called = false;
    await assert.rejects(poll({ read: async () => (called = true), key: String, done: () => true, signal: aborted.signal, clock }));
    assert.equal(called, false);
  });
});
