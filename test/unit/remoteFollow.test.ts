// Following a run through the RemoteEngine interface (core/remote/follow.ts): the cases a real engine rarely shows
// on demand — logs served only after a job ends, logs that never say "complete", a transient error mid-way. The
// engine here is a script of states over the interface (the real one is tested in buildbot*.test.ts), and the
// clock a fake one, so no test sleeps.
import * as assert from 'node:assert/strict';
import { followRun, readLogs, runFailure, type RunState } from '../../src/core/remote/follow';
import type { Clock } from '../../src/core/remote/poll';
import type { LogChunk, RemoteEngine, RemoteJob, RemoteRun, RemoteStatus } from '../../src/core/remote/types';

const clock: Clock = { now: () => 0, setTimer: () => null, clearTimer: () => undefined, sleep: async () => undefined };

function run(status: RemoteStatus): RemoteRun {
  return { id: '7', engine: 'buildbot', number: 3, title: null, url: null, branch: 'main', sha: null, status, rawStatus: status, actor: null, event: null, createdAt: 0, startedAt: 0, finishedAt: null };
}

function job(id: string, status: RemoteStatus, failedStep?: string): RemoteJob {
  return {
    id, name: `job-${id}`, stage: null, status, rawStatus: status, url: null, startedAt: status === 'queued' ? null : 1, finishedAt: null,
    steps: failedStep ? [{ name: 'setup', number: 1, status: 'success', startedAt: 1, finishedAt: 2 }, { name: failedStep, number: 2, status: 'failed', startedAt: 2, finishedAt: 3 }] : [],
  };
}

/** States served one per run() call (the last repeats); logs from `logText` per job, served as they grow. */
function scripted(states: RunState[], logs: (jobId: string, call: number, offset: number) => LogChunk | Error): RemoteEngine & { calls: string[] } {
  const calls: string[] = [];
  let i = 0;
  const logCalls = new Map<string, number>();
  return {
    kind: 'buildbot',
    calls,
    inputs: async () => [],
    runs: async () => [],
    trigger: async () => states[0].run,
    run: async () => {
      calls.push('run');
      const s = states[Math.min(i++, states.length - 1)];
      if (s.run.rawStatus === 'network error') throw Object.assign(new Error('no answer'), { kind: 'network' });
      return s;
    },
    logs: async (_run, jobId, offset) => {
      const n = (logCalls.get(jobId) ?? 0) + 1;
      logCalls.set(jobId, n);
      calls.push(`logs ${jobId}@${offset}`);
      const r = logs(jobId, n, offset);
      if (r instanceof Error) throw r;
      return r;
    },
    cancel: async () => undefined,
    rerunFailed: async () => states[0].run,
  };
}

describe('following a remote run (core)', () => {
  it('follows state and logs to the end, reading each log on from its offset', async () => {
    const text = 'one\ntwo\nthree\n';
    const engine = scripted(
      [
        { run: run('queued'), jobs: [] },
        { run: run('running'), jobs: [job('a', 'running')] },
        { run: run('running'), jobs: [job('a', 'running')] },
        { run: run('success'), jobs: [job('a', 'success')] },
      ],
      (_id, call, offset) => {
        const upto = Math.min(text.length, call * 4);
        return { text: text.slice(offset, upto), offset: upto, complete: upto === text.length && call >= 4 };
      },
    );
    const updates: string[] = [];
    let logged = '';
    const final = await followRun(engine, '7', {
      signal: new AbortController().signal,
      clock,
      onUpdate: (s) => updates.push(`${s.run.status}:${s.jobs.map((j) => j.status).join(',')}`),
      onLog: (_j, t) => (logged += t),
    });
    assert.equal(final.run.status, 'success');
    assert.equal(logged, text);
    assert.deepEqual(updates, ['queued:', 'running:running', 'success:success']);
    assert.deepEqual(engine.calls.filter((c) => c.startsWith('logs')), ['logs a@0', 'logs a@4', 'logs a@8', 'logs a@12']);
  });

  it('waits for logs an engine serves only after the job ends, and stops when logs never say complete', async () => {
    const notYet = Object.assign(new Error('not found'), { kind: 'notFound' });
    const engine = scripted(
      [{ run: run('running'), jobs: [job('a', 'running')] }, { run: run('failed'), jobs: [job('a', 'failed', 'test')] }],
      (_id, call, offset) => (call === 1 ? notYet : { text: offset === 0 ? 'boom\n' : '', offset: 5, complete: false }),
    );
    let logged = '';
    const final = await followRun(engine, '7', { signal: new AbortController().signal, clock, onLog: (_j, t) => (logged += t) });
    assert.equal(logged, 'boom\n');
    assert.equal(runFailure(final), 'job "job-a" failed at step "test"');
    // The run ended at the second read; the logs got a few more polls, not an endless wait.
    const runs = engine.calls.filter((c) => c === 'run').length;
    assert.ok(runs >= 4 && runs <= 6, `${runs} polls`);
  });

  it('rides out a transient error, and without onLog never asks for logs', async () => {
    const flaky = { run: { ...run('running'), rawStatus: 'network error' }, jobs: [] };
    const engine = scripted([{ run: run('running'), jobs: [] }, flaky, { run: run('cancelled'), jobs: [job('a', 'cancelled')] }], () => new Error('no logs expected'));
    const retries: number[] = [];
    const final = await followRun(engine, '7', { signal: new AbortController().signal, clock, onRetry: (_e, ms) => retries.push(ms) });
    assert.equal(final.run.status, 'cancelled');
    assert.equal(retries.length, 1);
    assert.equal(runFailure(final), 'the run was cancelled');
    assert.ok(!engine.calls.some((c) => c.startsWith('logs')));
  });

  it('reads everything logged so far, job after job, without waiting', async () => {
    const state: RunState = { run: run('running'), jobs: [job('a', 'success'), job('b', 'running'), job('c', 'queued')] };
    const engine = scripted([state], (id, _call, offset) => {
      const all = id === 'a' ? 'a1\na2\n' : 'b1\n';
      const upto = Math.min(all.length, offset + 3);
      return { text: all.slice(offset, upto), offset: upto, complete: id === 'a' && upto === all.length };
    });
    const out: string[] = [];
    await readLogs(engine, state, new AbortController().signal, (j, t) => out.push(`${j.id}:${t}`));
    assert.deepEqual(out.join(''), 'a:a1\na:a2\nb:b1\n');
    assert.ok(!engine.calls.includes('logs c@0'), 'a queued job has no log');
  });

  it('names the failing jobs and steps of a failed run', () => {
    assert.equal(runFailure({ run: run('success'), jobs: [] }), null);
    assert.equal(runFailure({ run: run('failed'), jobs: [job('a', 'failed', 'unit'), job('b', 'failed')] }), 'job "job-a" failed at step "unit"; job "job-b" failed');
    assert.equal(runFailure({ run: { ...run('failed'), rawStatus: 'exception' }, jobs: [job('a', 'success')] }), 'the run ended exception');
  });
});
