import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalWorkspaceFiles } from '../../src/adapters/files';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import { startRun, type RunBlockEvent, type RunEvent } from '../../src/core/engine/engine';
import { planDeliveryPipeline } from '../../src/core/engine/planDelivery';
import type { RunRequest } from '../../src/core/engine/select';
import { cleanupTempDirs, isAlive, tempDir, waitFor } from '../support/tmp';
import { systemClock } from '../../src/adapters/clock';
import { readTestReport } from '../../src/adapters/runStore';
import { Masker } from '../../src/core/secrets';

async function runYaml(yaml: string, opts: { request?: RunRequest; parallelism?: number; folder?: string; cancelAfter?: (e: RunEvent) => boolean; masker?: Masker } = {}) {
  const cfg = parseDeliveryConfig(yaml);
  assert.deepEqual(cfg.problems, []);
  const folder = opts.folder ?? tempDir();
  const plan = planDeliveryPipeline(cfg.pipelines[0], folder, opts.request);
  if ('error' in plan) throw new Error(plan.error);
  const store = new FileRunStore(path.join(tempDir('delivery-state-'), 'state'));
  const handle = startRun(plan, { id: newRunId(), folder, trigger: 'cli', sha: null, pid: process.pid }, {
    runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock,
    store,
    files: new LocalWorkspaceFiles(),
    parallelism: opts.parallelism ?? 4,
    masker: opts.masker,
  });
  const events: RunEvent[] = [];
  handle.onEvent((e) => {
    events.push(e);
    if (opts.cancelAfter?.(e)) handle.cancel();
  });
  const blockEvents: RunBlockEvent[] = [];
  handle.onEvent((e) => blockEvents.push(e), { lineBlocks: true });
  const run = await handle.done;
  const job = (id: string) => run.jobs.find((j) => j.id === id)!;
  return { run, job, events, blockEvents, store, handle, folder };
}

describe('engine (real processes)', () => {
  after(cleanupTempDirs);

  it('runs jobs in dependency order and in parallel where the DAG allows', async () => {
    const folder = tempDir();
    const { run, job } = await runYaml(
      `version: 1
pipelines:
  ci:
    jobs:
      build: { run: 'echo build >> order; sleep 0.2' }
      a: { needs: [build], run: 'echo a-start >> order; sleep 0.4; echo a-end >> order' }
      b: { needs: [build], run: 'echo b-start >> order; sleep 0.4; echo b-end >> order' }
      deploy: { needs: [a, b], run: 'echo deploy >> order' }
`,
      { folder },
    );
    assert.equal(run.status, 'success');
    const order = fs.readFileSync(path.join(folder, 'order'), 'utf8').trim().split('\n');
    assert.equal(order[0], 'build');
    assert.equal(order.at(-1), 'deploy');
    // a and b overlap: both started before either ended
    assert.ok(order.indexOf('a-start') < order.indexOf('b-end') && order.indexOf('b-start') < order.indexOf('a-end'), order.join(','));
    assert.deepEqual(job('deploy').deps.sort(), ['a', 'b']);
    assert.equal(job('a').exitCode, 0);
  });

  it('bounds parallelism', async () => {
    const folder = tempDir();
    const jobs = Array.from({ length: 6 }, (_, i) => `      j${i}: { run: 'n=$(ls running | wc -l); echo $n >> max; touch running/j${i}; sleep 0.15; rm running/j${i}' }`).join('\n');
    fs.mkdirSync(path.join(folder, 'running'));
    const { run } = await runYaml(`version: 1\npipelines:\n  ci:\n    jobs:\n${jobs}\n`, { folder, parallelism: 2 });
    assert.equal(run.status, 'success');
    const seen = fs.readFileSync(path.join(folder, 'max'), 'utf8').trim().split('\n').map(Number);
    assert.ok(Math.max(...seen) <= 1, `at most one other job was running when a job started: ${seen}`);
  });

  it('skips dependents of a failed job and fails the run; allowFailure lets dependents run', async () => {
    const { run, job } = await runYaml(`version: 1
pipelines:
  ci:
    jobs:
      bad: { run: 'echo oops; exit 4' }
      after-bad: { needs: [bad], run: 'echo never' }
      flaky: { run: 'exit 1', allowFailure: true }
      after-flaky: { needs: [flaky], run: 'echo fine' }
      cleanup: { needs: [bad], when: always, run: 'echo cleanup' }
      notify: { needs: [bad], when: on_failure, run: 'echo notify' }
      ship: { needs: [after-flaky], when: manual, run: 'echo ship' }
`);
    assert.equal(run.status, 'failed');
    assert.equal(job('bad').status, 'failed');
    assert.equal(job('bad').exitCode, 4);
    assert.equal(job('after-bad').status, 'skipped');
    assert.match(job('after-bad').reason ?? '', /needs "bad"/);
    assert.equal(job('flaky').status, 'failed');
    assert.equal(job('after-flaky').status, 'success');
    assert.equal(job('cleanup').status, 'success');
    assert.equal(job('notify').status, 'success');
    assert.equal(job('ship').status, 'manual');
  });

  it('on_failure jobs are skipped when nothing failed', async () => {
    const { run, job } = await runYaml(`version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: 'true' }\n      b: { needs: [a], when: on_failure, run: 'true' }\n`);
    assert.equal(run.status, 'success');
    assert.equal(job('b').status, 'skipped');
  });

  it('retries a failing job and records the attempts', async () => {
    const folder = tempDir();
    const { run, job } = await runYaml(
      `version: 1\npipelines:\n  ci:\n    jobs:\n      flaky: { retries: 2, run: 'echo x >> tries; [ $(wc -l < tries) -ge 2 ]' }\n`,
      { folder },
    );
    assert.equal(run.status, 'success');
    assert.equal(job('flaky').attempts, 2);
  });

  it('enforces timeouts by killing the job', async () => {
    const t0 = Date.now();
    const { run, job } = await runYaml(`version: 1\npipelines:\n  ci:\n    jobs:\n      slow: { timeout: 300ms, run: 'sleep 30' }\n`);
    assert.equal(run.status, 'failed');
    assert.equal(job('slow').status, 'failed');
    assert.match(job('slow').reason ?? '', /timed out after 300ms/);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('cancel stops running jobs, kills their process trees and marks the rest cancelled', async () => {
    const folder = tempDir();
    const { run, job } = await runYaml(
      `version: 1\npipelines:\n  ci:\n    jobs:\n      long: { run: '(sleep 300 & echo $! > child.pid; wait) & while [ ! -s child.pid ]; do sleep 0.01; done; echo started; wait' }\n      next: { needs: [long], run: 'echo never' }\n`,
      { folder, cancelAfter: (e) => e.type === 'line' && e.text === 'started' },
    );
    assert.equal(run.status, 'cancelled');
    assert.equal(job('long').status, 'cancelled');
    assert.equal(job('next').status, 'cancelled');
    const child = Number(fs.readFileSync(path.join(folder, 'child.pid'), 'utf8'));
    await waitFor(() => !isAlive(child), 5000, 'the grandchild to die');
  });

  it('an AbortSignal given to the engine cancels the run like cancel()', async () => {
    const cfg = parseDeliveryConfig(`version: 1\npipelines:\n  ci:\n    jobs:\n      long: { run: 'echo started; sleep 300' }\n`);
    const folder = tempDir();
    const plan = planDeliveryPipeline(cfg.pipelines[0], folder);
    if ('error' in plan) throw new Error(plan.error);
    const ctl = new AbortController();
    const handle = startRun(plan, { id: newRunId(), folder, trigger: 'cli', sha: null, pid: process.pid }, {
      runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock,
      store: new FileRunStore(tempDir('delivery-state-')),
      parallelism: 1,
      signal: ctl.signal,
    });
    handle.onEvent((e) => {
      if (e.type === 'line' && e.text === 'started') ctl.abort();
    });
    const run = await handle.done;
    assert.equal(run.status, 'cancelled');
    assert.equal(run.jobs[0].status, 'cancelled');
  });

  it('streams output, keeps a bounded tail, writes the full log and persists the run', async () => {
    const { run, job, events, store, handle } = await runYaml(`version: 1\npipelines:\n  ci:\n    jobs:\n      loud: { run: 'for i in $(seq 1 500); do echo line $i; done' }\n`);
    const lines = events.filter((e) => e.type === 'line' && e.jobId === 'loud' && e.stream === 'stdout');
    assert.equal(lines.length, 500);
    assert.equal(handle.tail('loud').length, 200);
    assert.equal(handle.tail('loud').at(-1), 'line 500');
    const log = fs.readFileSync(job('loud').logFile!, 'utf8');
    assert.match(log, /^▶ loud\nline 1\n/);
    assert.match(log, /line 500\n$/);
    const saved = await store.read(run.id);
    assert.equal(saved?.status, 'success');
    assert.equal(saved?.jobs[0].status, 'success');
  });

  it('output read in blocks: a listener of lines and one of blocks hear the same lines; the tail and the log are line by line\'s', async () => {
    // 30,000 short lines, CRLFs, a progress bar drawn with CRs, a bad byte, and a line too long to keep whole.
    const folder = tempDir();
    fs.writeFileSync(path.join(folder, 'flood.sh'), "seq 1 30000\nprintf 'crlf\\r\\nbar 1%%\\rbar 2%%\\r\\n\\377 bad\\n'\nhead -c 9000 /dev/zero | tr '\\0' x\nprintf '\\nlast\\n'\n");
    const { job, events, blockEvents, handle } = await runYaml('version: 1\npipelines:\n  ci:\n    jobs:\n      flood: { run: "bash flood.sh" }\n', { folder });
    const long = `${'x'.repeat(8192)}… [808 more characters in the log file]`;
    const expected = [...Array.from({ length: 30_000 }, (_, i) => String(i + 1)), 'crlf', 'bar 1%\rbar 2%', '\uFFFD bad', long, 'last'];
    const perLine = events.flatMap((e) => (e.type === 'line' && e.stream === 'stdout' ? [e.text] : []));
    assert.deepEqual(perLine, expected, 'a listener of lines hears each line');
    const blocks = blockEvents.filter((e) => e.type === 'lines').length;
    assert.ok(blocks > 0 && blocks < 3000, `lines came in blocks (${blocks})`);
    const heard = blockEvents.flatMap((e) => (e.type === 'lines' ? e.text.split('\n') : e.type === 'line' && e.stream === 'stdout' ? [e.text] : []));
    assert.deepEqual(heard, expected, 'blocks and lines that came alone, in order, are the lines');
    assert.deepEqual(handle.tail('flood'), expected.slice(-200), 'the tail: the last 200 lines');
    const log = fs.readFileSync(job('flood').logFile!, 'utf8').split('\n');
    assert.deepEqual(log.slice(0, 30_004), ['▶ flood', ...expected.slice(0, 30_003)]);
    assert.deepEqual(log.slice(30_004), ['x'.repeat(9000), 'last', ''], 'the log has the long line whole');
  });

  it('reads JUnit counts and records artifacts', async () => {
    const folder = tempDir();
    const { job } = await runYaml(
      `version: 1
pipelines:
  ci:
    jobs:
      test:
        run: |
          mkdir -p reports dist
          echo bin > dist/app.bin
          cat > reports/a.xml <<'XML'
          <testsuite name="a"><testcase name="1"/><testcase name="2"><failure/></testcase><testcase name="3"><skipped/></testcase></testsuite>
          XML
        reports: { junit: "reports/*.xml" }
        artifacts: ["dist/**"]
`,
      { folder },
    );
    assert.deepEqual(job('test').tests, { total: 3, failed: 1, errors: 0, skipped: 1 });
    assert.deepEqual(job('test').artifacts, [path.join(folder, 'dist/app.bin')]);
  });

  it('keeps the test cases of JUnit reports beside the run, located in the folder and masked', async () => {
    const folder = tempDir();
    const { job } = await runYaml(
      `version: 1
pipelines:
  ci:
    jobs:
      test:
        run: |
          mkdir -p pkg/reports
          cat > pkg/reports/a.xml <<XML
          <testsuite name="calc" time="0.5"><testcase name="adds" classname="calc" time="0.25"/><testcase name="divides by s3cret" classname="calc" time="0.125"><failure message="token s3cret rejected">Error: token s3cret rejected
              at Object.test ($PWD/pkg/calc.test.ts:12:5)</failure></testcase></testsuite>
          XML
        reports: { junit: "pkg/reports/*.xml" }
      none:
        run: 'true'
`,
      { folder, masker: new Masker(['s3cret']) },
    );
    assert.deepEqual(job('test').tests, { total: 2, failed: 1, errors: 0, skipped: 0 });
    assert.equal(job('none').testReport, undefined, 'a job without reports keeps none');
    const file = job('test').testReport;
    assert.ok(file && file.startsWith(path.dirname(path.dirname(job('test').logFile!))), 'kept in the run\'s folder');
    const report = await readTestReport(file);
    assert.ok(report);
    assert.deepEqual(report.suites.map((s) => [s.name, s.durationMs, s.cases.map((c) => [c.name, c.status, c.durationMs, c.file, c.line])]), [
      ['calc', 500, [['adds', 'passed', 250, null, null], ['divides by ***', 'failed', 125, 'pkg/calc.test.ts', 12]]],
    ]);
    const failed = report.suites[0].cases[1];
    assert.equal(failed.message, 'token *** rejected');
    assert.doesNotMatch(failed.details ?? '', /s3cret/);
    assert.match(failed.details ?? '', /token \*\*\* rejected/);
  });

  it('runs only the chosen jobs, with their needs on request', async () => {
    const yaml = `version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: 'true' }\n      b: { needs: [a], run: 'true' }\n      c: { needs: [b], run: 'true' }\n      d: { run: 'true' }\n`;
    const only = await runYaml(yaml, { request: { jobs: ['c'] } });
    assert.deepEqual(only.run.jobs.map((j) => j.id), ['c']);
    const withNeeds = await runYaml(yaml, { request: { jobs: ['c'], withNeeds: true } });
    assert.deepEqual(withNeeds.run.jobs.map((j) => j.id), ['a', 'b', 'c']);
  });

  it('a failed step stops the job; steps report their own status', async () => {
    const { job } = await runYaml(`version: 1
pipelines:
  ci:
    jobs:
      j:
        steps:
          - { name: one, run: 'true' }
          - { name: two, run: 'false' }
          - { name: three, run: 'echo never' }
`);
    assert.deepEqual(job('j').steps.map((s) => [s.name, s.status]), [['one', 'success'], ['two', 'failed'], ['three', 'skipped']]);
    assert.match(job('j').reason ?? '', /step "two" exited with code 1/);
  });
});
