import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, testHooks, waitFor, workspaceFolder } from './helpers';

suite('Delivery panel', () => {
  test('opens, shows the run and receives batched live updates', async () => {
    const a = await api();
    const hooks = await testHooks();
    const folder = workspaceFolder().uri.fsPath;
    await vscode.commands.executeCommand('delivery.panel.open');
    assert.equal((await a.board()).open, true);
    const before = hooks.patchesPosted();
    const t0 = Date.now();
    const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'ci' })) as string;
    await a.waitForRun(runId);
    const elapsed = Date.now() - t0;
    const state = await waitFor(async () => {
      const s = (await a.board()).state;
      return s.run?.id === runId && s.run.status === 'success' ? s : null;
    }, 'the board to show the finished run');
    assert.deepEqual(state.run!.stages.map((s) => s.jobs.map((j) => `${j.id}:${j.status}`)), [['build:success'], ['lint:success', 'test:success']]);
    assert.ok(state.run!.stages[1].jobs[1].tail.includes('unit test 3 ok'));
    const patches = hooks.patchesPosted() - before;
    assert.ok(patches > 0, 'the webview received live updates');
    assert.ok(patches <= Math.ceil(elapsed / 100) + 2, `${patches} patches in ${elapsed} ms: at most ~10 a second`);
  });

  test("shows the run's graph, its critical path and the previous run's times", async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    await vscode.commands.executeCommand('delivery.panel.open');
    const first = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'ci' })) as string;
    await a.waitForRun(first);
    const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'ci' })) as string;
    await a.waitForRun(runId);
    const run = (await waitFor(async () => {
      const s = (await a.board()).state;
      return s.run?.id === runId && s.run.status === 'success' ? s : null;
    }, 'the board to show the finished run')).run!;
    assert.deepEqual(run.graph?.columns.map((c) => c.items.map((it) => ('node' in it ? it.node : `pass ${it.pass}`))), [['build'], ['lint', 'test']]);
    assert.deepEqual(run.graph?.edges, [{ from: 'build', to: 'lint' }, { from: 'build', to: 'test' }]);
    // test (three steps of 0.2 s sleeps) outlasts lint (one of 0.3 s): the run's time is build's and test's.
    assert.deepEqual(run.critical?.jobs, ['build', 'test']);
    const jobs = new Map(run.stages.flatMap((s) => s.jobs).map((j) => [j.id, j]));
    assert.equal(run.critical?.durationMs, jobs.get('test')!.startedAt! + jobs.get('test')!.durationMs - run.startedAt);
    assert.equal(run.previous?.runId, first, 'the ghost bars are the run before, of the same pipeline');
    assert.deepEqual(Object.keys(run.previous!.jobs).sort(), ['build', 'lint', 'test']);
    assert.ok(run.previous!.jobs.test.offsetMs >= run.previous!.jobs.build.durationMs, 'test started after build ended');
  });
});
