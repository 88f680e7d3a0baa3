// Remote runs inside VS Code against a real Buildbot master + worker started by the test on 127.0.0.1: the
// pipeline's "Remote runs" in the tree, a trigger with typed inputs, the stage board following the run live, the
// growing log document, a failing run, and cancel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildbotUnavailable, startBuildbot, type Buildbot } from '../support/targets/buildbot';
import { requireTool } from '../support/requireTool';
import { api, waitFor, workspaceFolder } from './helpers';

interface RemoteRunLike {
  id: string;
  status: string;
}

suite('remote runs (Buildbot)', () => {
  let bb: Buildbot | null = null;
  let bbDir: string | undefined;
  let folder: string;
  let original: string;

  suiteSetup(async function () {
    requireTool(this, buildbotUnavailable());
    this.timeout(90_000);
    bbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-it-buildbot-'));
    bb = await startBuildbot(bbDir);
    folder = workspaceFolder().uri.fsPath;
    original = fs.readFileSync(path.join(folder, 'delivery.yml'), 'utf8');
    const remote = (builder: string) => `remote: { buildbot: { url: "${bb!.url}", builder: ${builder}, scheduler: force } }`;
    fs.writeFileSync(
      path.join(folder, 'delivery.yml'),
      original.replace(
        'environments:',
        () => `  app:\n    name: App build\n    ${remote('app')}\n    jobs:\n      compile: { run: 'echo compile' }\n  broken:\n    ${remote('broken')}\n    jobs:\n      build: { run: 'true' }\n  slow:\n    ${remote('slow')}\n    jobs:\n      wait: { run: 'true' }\n\nenvironments:`,
      ),
    );
    const a = await api();
    await waitFor(() => a.pipelines().some((p) => p.id === 'broken'), 'the remote pipelines to be read');
  });

  suiteTeardown(async () => {
    if (original) fs.writeFileSync(path.join(folder, 'delivery.yml'), original);
    await bb?.stop();
    if (bbDir) fs.rmSync(bbDir, { recursive: true, force: true });
  });

  const remoteRows = async (label: string) => {
    const a = await api();
    const tree = await a.tree('pipelines');
    const pipeline = tree.find((r) => r.label === label);
    return pipeline?.children.find((c) => c.label === 'Remote runs');
  };

  test('a pipeline with remote: shows its remote runs in the tree', async () => {
    const node = await remoteRows('App build');
    assert.ok(node, 'a "Remote runs" row under the pipeline');
    assert.match(node.contextValue, /\bremoteRuns\b/);
    assert.deepEqual(node.children.map((c) => c.label), ['No runs yet']);
  });

  test('trigger with inputs; the board follows the build to its end; the log is a document', async () => {
    const a = await api();
    const run = (await vscode.commands.executeCommand('delivery.remote.trigger', {
      folder,
      pipeline: 'app',
      ref: 'main',
      inputs: { env: 'staging', sha: '', verbose: 'false' },
    })) as RemoteRunLike;
    assert.ok(run?.id, 'the trigger returns the run');
    const done = await waitFor(async () => {
      const s = (await a.board()).state.run;
      return s && /#/.test(s.pipelineName) && s.status === 'success' ? s : null;
    }, 'the board to show the remote build succeed', 60_000);
    assert.match(done.pipelineName, /^App build #\d+/);
    const jobs = done.stages.flatMap((s) => s.jobs);
    assert.ok(jobs.length >= 1);
    assert.ok(jobs.every((j) => j.status === 'success'), JSON.stringify(jobs.map((j) => [j.name, j.status])));
    assert.ok(jobs.some((j) => j.tail.some((t) => /compile/.test(t))), 'steps shown on the card');
    const node = await waitFor(async () => {
      await vscode.commands.executeCommand('delivery.remote.refresh', { folder, pipeline: 'app' });
      const n = await remoteRows('App build');
      return n?.children[0]?.label.startsWith('#') ? n : null;
    }, 'the run in the tree');
    assert.match(node.children[0].description, /^success/);
    const job = jobs.find((j) => j.tail.some((t) => /compile/.test(t)))!;
    const uri = (await vscode.commands.executeCommand('delivery.remote.showLog', {
      folder,
      pipelineKey: 'delivery.yml#app',
      runId: run.id,
      jobId: job.id,
      jobName: job.name,
    })) as string;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
    await waitFor(() => /compiling for staging/.test(doc.getText()), 'the log document to contain the build output', 20_000);
  });

  test('a failing build is reported as failed on the board', async () => {
    const a = await api();
    await vscode.commands.executeCommand('delivery.remote.trigger', { folder, pipeline: 'broken', ref: 'main', inputs: { env: 'dev', sha: '', verbose: 'false' } });
    const s = await waitFor(async () => {
      const r = (await a.board()).state.run;
      return r && /^broken #/.test(r.pipelineName) && r.status !== 'running' ? r : null;
    }, 'the broken build to end', 60_000);
    assert.equal(s.status, 'failed');
  });

  test('the run-status item can follow the newest remote run of the current branch', async () => {
    const a = await api();
    await vscode.workspace.getConfiguration('delivery').update('statusBar.followRemote', true, vscode.ConfigurationTarget.Workspace);
    try {
      const text = await waitFor(() => {
        const t = a.statusBarText().run;
        return /#\d+: (success|failed|cancelled|running)$/.test(t) ? t : null;
      }, 'the item to show a remote run', 30_000);
      assert.match(text, /^\$\([a-z~-]+\) (App build|broken|slow) #\d+: /);
    } finally {
      await vscode.workspace.getConfiguration('delivery').update('statusBar.followRemote', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor(() => !/#\d+:/.test(a.statusBarText().run), 'the item to show local runs again');
  });

  test('cancel stops a running build', async () => {
    const a = await api();
    const run = (await vscode.commands.executeCommand('delivery.remote.trigger', { folder, pipeline: 'slow', ref: 'main', inputs: { env: 'dev', sha: '', verbose: 'false' } })) as RemoteRunLike;
    await waitFor(async () => (await a.board()).state.run?.status === 'running', 'the slow build to run', 30_000);
    assert.equal(await vscode.commands.executeCommand('delivery.remote.cancel', { folder, pipeline: 'slow', runId: run.id }), true);
    const s = await waitFor(async () => {
      const r = (await a.board()).state.run;
      return r && /^slow #/.test(r.pipelineName) && r.status !== 'running' ? r : null;
    }, 'the slow build to stop', 60_000);
    assert.equal(s.status, 'cancelled');
  });
  test('a delivery.yml with errors sends nothing, as `delivery remote trigger` refuses', async () => {
    const a = await api();
    const file = path.join(folder, 'delivery.yml');
    const good = fs.readFileSync(file, 'utf8');
    const builds = async () => ((await (await fetch(`${bb!.url}/api/v2/builds`)).json()) as { builds: unknown[] }).builds.length;
    const before = await builds();
    fs.writeFileSync(file, `${good}\nbogus_key: 1\n`);
    try {
      await waitFor(() => a.problems().some((p) => p.severity === 'error' && /bogus_key/.test(p.message)), 'the error to be read');
      const r = await vscode.commands.executeCommand('delivery.remote.trigger', { folder, pipeline: 'app', ref: 'main', inputs: { env: 'staging', sha: '', verbose: 'false' } });
      assert.equal(r, undefined, 'nothing was triggered');
      await new Promise((done) => setTimeout(done, 1000));
      assert.equal(await builds(), before, 'Buildbot received no build request');
    } finally {
      fs.writeFileSync(file, good);
      await waitFor(() => !a.problems().some((p) => /bogus_key/.test(p.message)), 'the file to be fixed');
    }
  });
});
