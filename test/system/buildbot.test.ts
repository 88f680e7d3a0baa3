// The Buildbot engine against a real Buildbot 3.7 master and worker started by this file on 127.0.0.1
// (test/support/targets/buildbot.ts): typed inputs, trigger, following to success and to failure with logs,
// incremental logs, cancel (running and queued), re-run of a failed build, and the errors a user sees.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { BuildbotEngine } from '../../src/adapters/remote/buildbot';
import { RemoteApiError } from '../../src/adapters/remote/http';
import { followRun, runFailure } from '../../src/core/remote/follow';
import type { RemoteEngine } from '../../src/core/remote/types';
import { buildbotUnavailable, startBuildbot, type Buildbot } from '../support/targets/buildbot';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { systemClock } from '../../src/adapters/clock';

describe('Buildbot engine (real master + worker on 127.0.0.1)', function () {
  this.timeout(120_000);
  let bb: Buildbot;
  const engines: BuildbotEngine[] = [];

  before(async function () {
    requireTool(this, buildbotUnavailable());
    this.timeout(90_000);
    bb = await startBuildbot(path.join(tempDir('delivery-buildbot-'), 'bb'));
  });
  after(async () => {
    for (const e of engines) e.dispose();
    await bb?.stop();
    cleanupTempDirs();
  });

  function engine(builder: string, scheduler = 'force'): BuildbotEngine {
    const e = new BuildbotEngine({ target: { engine: 'buildbot', url: bb.url, builder, scheduler }, owner: 'tester@ci' });
    engines.push(e);
    return e;
  }
  const signal = () => AbortSignal.timeout(60_000);

  /** Polls the run until `pred` holds (for states in between: running, queued). */
  async function until(e: RemoteEngine, id: string, pred: (s: Awaited<ReturnType<RemoteEngine['run']>>) => boolean, what: string) {
    for (let i = 0; i < 300; i++) {
      const s = await e.run(id, signal());
      if (pred(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${id} never became ${what}`);
  }

  it('lists the force scheduler’s parameters as typed inputs', async () => {
    const inputs = await engine('app').inputs(signal());
    const byName = Object.fromEntries(inputs.map((i) => [i.name, i]));
    assert.deepEqual(byName.env, { name: 'env', type: 'choice', description: 'Environment', required: false, default: 'dev', options: ['dev', 'staging', 'production'] });
    assert.deepEqual(byName.sha, { name: 'sha', type: 'string', description: 'Commit to deploy', required: false, default: '', options: [] });
    assert.deepEqual(byName.verbose, { name: 'verbose', type: 'boolean', description: 'Verbose output', required: false, default: 'false', options: [] });
    assert.equal(byName.revision?.type, 'string');
    // The branch is the trigger's ref, fixed fields are no inputs.
    assert.equal(byName.branch, undefined);
    assert.equal(byName.repository, undefined);
  });

  it('triggers a build and follows it to success, with its steps and logs', async () => {
    const e = engine('app');
    const started = await e.trigger({ ref: 'main', inputs: { env: 'staging', verbose: 'true' }, signal: signal() });
    assert.match(started.id, /^\d+$/);
    assert.ok(['queued', 'running'].includes(started.status), started.status);
    assert.equal(started.engine, 'buildbot');
    let log = '';
    const updates: string[] = [];
    const final = await followRun(e, started.id, { signal: signal(), clock: systemClock, onLog: (_j, t) => (log += t), onUpdate: (s) => updates.push(s.run.status) });
    assert.equal(final.run.status, 'success');
    assert.equal(updates.at(-1), 'success');
    assert.equal(runFailure(final), null);
    assert.equal(final.run.id, started.id);
    assert.equal(final.run.branch, 'main');
    assert.equal(final.run.title, 'triggered by tester@ci');
    assert.equal(final.run.event, 'force');
    assert.ok(final.run.number !== null && final.run.number >= 1);
    assert.ok(final.run.url?.startsWith(`${bb.url}/#/builders/`));
    assert.ok(final.run.createdAt! <= final.run.startedAt! && final.run.startedAt! <= final.run.finishedAt!);
    assert.equal(final.jobs.length, 1);
    const [job] = final.jobs;
    assert.equal(job.name, 'app');
    assert.deepEqual(job.steps.map((s) => [s.name, s.status]), [['worker_preparation', 'success'], ['compile', 'success'], ['test', 'success']]);
    // The inputs reached the build; the logs come in step order, without the worker's environment listing.
    assert.match(log, /── step compile ──\n[\s\S]*compiling for staging\ncompiled 3 files\n[\s\S]*── step test ──\n[\s\S]*test 1 ok\ntest 2 ok\ntest 3 ok\n3 passed\n/);
    assert.ok(!/environment:|^ {2}PATH=/m.test(log), log);
    const listed = await e.runs({ limit: 5, signal: signal() });
    assert.deepEqual(listed[0], final.run);
  });

  it('reads logs incrementally: from an offset, and complete once read to the end', async () => {
    const e = engine('app');
    const run = await e.trigger({ ref: 'main', inputs: {}, signal: signal() });
    const { jobs } = await followRun(e, run.id, { signal: signal(), clock: systemClock });
    const all = await e.logs(run.id, jobs[0].id, 0, signal());
    assert.equal(all.complete, true);
    const again = await e.logs(run.id, jobs[0].id, all.offset, signal());
    assert.deepEqual(again, { text: '', offset: all.offset, complete: true });
    const tail = await e.logs(run.id, jobs[0].id, all.offset - 3, signal());
    assert.deepEqual(tail.text.split('\n').slice(0, 2), ['3 passed', 'program finished with exit code 0']);
    assert.ok(all.text.endsWith(tail.text));
    await assert.rejects(e.logs('999999', jobs[0].id, 0, signal()), /is not part of run 999999/);
  });

  it('follows a failing build to its end and names the failing step', async () => {
    const e = engine('broken');
    const run = await e.trigger({ ref: 'main', inputs: {}, signal: signal() });
    let log = '';
    const final = await followRun(e, run.id, { signal: signal(), clock: systemClock, onLog: (_j, t) => (log += t) });
    assert.equal(final.run.status, 'failed');
    assert.equal(final.run.rawStatus, 'failure');
    assert.equal(runFailure(final), 'job "broken" failed at step "test"');
    assert.deepEqual(final.jobs[0].steps.map((s) => s.status), ['success', 'success', 'failed']); // "package" never ran
    assert.match(log, /running tests\nassertion failed: expected 2, got 3\nprogram finished with exit code 1\n/);
    assert.ok(!log.includes('packaging'));

    // Re-running the failed build makes a new run of the same builder, with the same parameters.
    const rerun = await e.rerunFailed(run.id, signal());
    assert.notEqual(rerun.id, run.id);
    const second = await followRun(e, rerun.id, { signal: signal(), clock: systemClock });
    assert.equal(second.run.status, 'failed');
    assert.equal(second.run.title, final.run.title);
    const ok = engine('app');
    const good = await ok.trigger({ ref: 'main', inputs: {}, signal: signal() });
    await followRun(ok, good.id, { signal: signal(), clock: systemClock });
    await assert.rejects(ok.rerunFailed(good.id, signal()), (err: unknown) => RemoteApiError.is(err, 'invalid') && /succeeded; nothing failed/.test((err as Error).message));
  });

  it('cancels a running build and a queued one', async () => {
    const e = engine('slow');
    const first = await e.trigger({ ref: 'main', inputs: {}, signal: signal() });
    await until(e, first.id, (s) => s.jobs[0]?.steps.some((st) => st.name === 'wait' && st.status === 'running') ?? false, 'running its wait step');
    // The builder is busy: a second request waits in the queue.
    const second = await e.trigger({ ref: 'main', inputs: {}, signal: signal() });
    const queued = await e.run(second.id, signal());
    assert.equal(queued.run.status, 'queued');
    assert.deepEqual(queued.jobs, []);
    assert.equal(queued.run.branch, 'main'); // from the build set, before any build exists

    await e.cancel(second.id, signal());
    const gone = await until(e, second.id, (s) => s.run.status !== 'queued', 'cancelled');
    assert.equal(gone.run.status, 'cancelled');
    assert.deepEqual(gone.jobs, []);
    assert.equal(runFailure(gone), 'the run was cancelled');

    await e.cancel(first.id, signal());
    const stopped = await followRun(e, first.id, { signal: signal(), clock: systemClock });
    assert.equal(stopped.run.status, 'cancelled');
    assert.equal(stopped.jobs[0].steps.find((s) => s.name === 'wait')?.status, 'cancelled');
    await assert.rejects(e.cancel(first.id, signal()), (err: unknown) => RemoteApiError.is(err, 'conflict'));
    await assert.rejects(e.rerunFailed(second.id, signal()), /cancelled before it started; trigger a new run/);
  });

  it('lists runs newest first, filtered by branch', async () => {
    const e = engine('app');
    const feature = await e.trigger({ ref: 'feature/x', inputs: {}, signal: signal() });
    await followRun(e, feature.id, { signal: signal(), clock: systemClock });
    const all = await e.runs({ limit: 10, signal: signal() });
    assert.equal(all[0].id, feature.id);
    assert.ok(all.length >= 3);
    assert.deepEqual(all.map((r) => Number(r.id)), all.map((r) => Number(r.id)).sort((a, b) => b - a));
    assert.deepEqual((await e.runs({ branch: 'feature/x', limit: 10, signal: signal() })).map((r) => r.id), [feature.id]);
    assert.equal((await e.runs({ limit: 1, signal: signal() })).length, 1);
  });

  it('says clearly what is wrong: unknown builder, scheduler, run, or a bad input', async () => {
    await assert.rejects(engine('nope').runs({ limit: 1, signal: signal() }), (err: unknown) =>
      RemoteApiError.is(err, 'notFound') && /has no builder "nope" \(builders: .*app.*\)/.test((err as Error).message),
    );
    await assert.rejects(engine('app', 'other').inputs(signal()), /has no force scheduler "other"/);
    await assert.rejects(engine('app').trigger({ ref: 'main', inputs: { env: 'moon', colour: 'red' }, signal: signal() }), (err: unknown) =>
      RemoteApiError.is(err, 'invalid') && /input "env" must be one of dev, staging, production, not "moon"; unknown input "colour"/.test((err as Error).message),
    );
    await assert.rejects(engine('app').run('424242', signal()), (err: unknown) => RemoteApiError.is(err, 'notFound') && /no run 424242/.test((err as Error).message));
    await assert.rejects(engine('app').run('12abc', signal()), /not a Buildbot run id/);
    const other = await engine('broken').runs({ limit: 1, signal: signal() });
    await assert.rejects(engine('app').run(other[0].id, signal()), /is not a build of "app"/);
  });
});
