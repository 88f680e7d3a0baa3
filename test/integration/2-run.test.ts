import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { api, testHooks, waitFor, workspaceFolder } from './helpers';

suite('running a pipeline', () => {
  test('Run Pipeline runs the jobs as real processes in dependency order and reports the result everywhere', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'ci' })) as string;
    assert.equal(typeof runId, 'string');
    const run = await a.waitForRun(runId);
    assert.ok(run);
    assert.equal(run.status, 'success');
    const job = (id: string) => run.jobs.find((j) => j.id === id)!;
    assert.deepEqual(run.jobs.map((j) => [j.id, j.status]), [['build', 'success'], ['lint', 'success'], ['test', 'success']]);
    // lint and test started only after build ended
    const buildEnd = job('build').startedAt! + job('build').durationMs;
    assert.ok(job('lint').startedAt! >= buildEnd - 5 && job('test').startedAt! >= buildEnd - 5);
    // the jobs really ran: their output is in their logs and their files are on disk
    assert.match(fs.readFileSync(job('build').logFile!, 'utf8'), /hello from build/);
    assert.match(fs.readFileSync(job('test').logFile!, 'utf8'), /unit test 3 ok/);
    assert.equal(fs.readFileSync(`${folder}/out/app.txt`, 'utf8'), 'artifact\n');
    // status bar and tree show it
    await waitFor(() => a.statusBarText().run === '$(pass-filled) CI: passed 3/3', 'the status bar to show the result');
    const tree = await waitFor(async () => {
      const t = await a.tree('pipelines');
      return t[0].icon === 'pass-filled' ? t : null;
    }, 'the tree to show the result');
    // The three jobs, then the pipeline's Runs (its history).
    assert.deepEqual(tree[0].children.map((r) => r.icon), ['pass-filled', 'pass-filled', 'pass-filled', 'history']);
    assert.equal(tree[0].children[3].label, 'Runs');
    assert.match(tree[0].children[0].description, /^success · /);
    assert.match(tree[0].children[0].contextValue, /\bhasLog\b/);
  });

  test('Run Job runs only that job', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const hooks = await testHooks();
    await a.tree('pipelines');
    const before = hooks.treeRefreshes('pipelines');
    const runId = (await vscode.commands.executeCommand('delivery.job.run', { folder, pipeline: 'ci', jobs: ['lint'] })) as string;
    const run = await a.waitForRun(runId);
    assert.deepEqual(run?.jobs.map((j) => [j.id, j.status]), [['lint', 'success']]);
    // The run moved only the pipeline's row: the tree kept its nodes, so a row clicked meanwhile still names its job.
    await waitFor(() => hooks.treeRefreshes('pipelines').rows > before.rows, 'the pipeline row to be refreshed');
    assert.equal(hooks.treeRefreshes('pipelines').whole, before.whole, 'no whole-tree refresh during a run');
  });

  test('Rerun Failed reruns the failed jobs of the run it is given, not of the last run', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const file = vscode.Uri.file(`${folder}/delivery.yml`);
    const original = fs.readFileSync(file.fsPath, 'utf8');
    const flag = (name: string, on: boolean) => (on ? fs.writeFileSync(`${folder}/${name}`, '') : fs.rmSync(`${folder}/${name}`, { force: true }));
    try {
      fs.writeFileSync(file.fsPath, original.replace('environments:', `  flaky:\n    jobs:\n      a: { run: 'test ! -f fail-a' }\n      b: { run: 'test ! -f fail-b' }\n\nenvironments:`));
      await waitFor(() => a.pipelines().some((p) => p.id === 'flaky'), 'the new pipeline to be read');
      const run = async (arg: object) => a.waitForRun((await vscode.commands.executeCommand(arg && 'runId' in arg ? 'delivery.run.rerunFailed' : 'delivery.pipeline.run', arg)) as string);
      flag('fail-a', true);
      const older = await run({ folder, pipeline: 'flaky' });
      assert.deepEqual(older?.jobs.map((j) => [j.id, j.status]), [['a', 'failed'], ['b', 'success']]);
      flag('fail-a', false);
      flag('fail-b', true);
      const last = await run({ folder, pipeline: 'flaky' });
      assert.deepEqual(last?.jobs.map((j) => [j.id, j.status]), [['a', 'success'], ['b', 'failed']]);
      // The board asks to rerun the older run's failed jobs: that is job a, not the last run's b.
      // A new attempt of that run: a runs again, b keeps its result from it.
      const rerun = await run({ folder, pipeline: 'flaky', runId: older!.id, failedOnly: true });
      assert.deepEqual(rerun?.jobs.map((j) => [j.id, j.status, j.carriedFrom ?? null]), [['a', 'success', null], ['b', 'success', older!.id]]);
      assert.equal(rerun?.attempt, 2);
      assert.equal(rerun?.rerunOf, older!.id);
      // The two compared, job by job (the document the Runs rows open).
      const compared = (await vscode.commands.executeCommand('delivery.run.compare', { folder, runId: rerun!.id, with: older!.id })) as string;
      assert.match(compared, /1 of 2 jobs changed result/);
      assert.match(compared, /\| \*\*a\*\* \| failed .* \| success .* \| changed \|/);
      assert.match(compared, /\| b \| success .* \| success .*\(kept\) \|/);
    } finally {
      fs.writeFileSync(file.fsPath, original);
      flag('fail-a', false);
      flag('fail-b', false);
      await waitFor(() => !a.pipelines().some((p) => p.id === 'flaky'), 'the file to be restored');
    }
  });

  test('Cancel Run kills the running job', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const file = vscode.Uri.file(`${folder}/delivery.yml`);
    const original = fs.readFileSync(file.fsPath, 'utf8');
    try {
      fs.writeFileSync(file.fsPath, original.replace('environments:', `  slow:\n    jobs:\n      wait: { run: 'echo $$ > slow.pid; sleep 300' }\n\nenvironments:`));
      await waitFor(() => a.pipelines().some((p) => p.id === 'slow'), 'the new pipeline to be read');
      const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'slow' })) as string;
      await waitFor(() => fs.existsSync(`${folder}/slow.pid`), 'the job to start');
      const pid = Number(fs.readFileSync(`${folder}/slow.pid`, 'utf8'));
      assert.equal(await vscode.commands.executeCommand('delivery.run.cancel', { runId }), true);
      const run = await a.waitForRun(runId);
      assert.equal(run?.status, 'cancelled');
      assert.equal(run?.jobs[0].status, 'cancelled');
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
        } catch {
          return true;
        }
      }, 'the job process to be gone');
    } finally {
      fs.writeFileSync(file.fsPath, original);
      fs.rmSync(`${folder}/slow.pid`, { force: true });
      await waitFor(() => !a.pipelines().some((p) => p.id === 'slow'), 'the file to be restored');
    }
  });
});
