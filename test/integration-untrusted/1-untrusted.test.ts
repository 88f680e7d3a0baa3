// Workspace Trust: in an untrusted workspace the extension shows definitions but runs nothing — no jobs, no
// deploys, no version probes (an HTTP server started here counts every request it gets).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, waitFor, workspaceFolder } from '../integration/helpers';

suite('untrusted workspace', () => {
  let server: http.Server;
  let requests = 0;
  let folder: string;

  suiteSetup(async () => {
    server = http.createServer((_req, res) => {
      requests++;
      res.end(JSON.stringify({ sha: '0'.repeat(40) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    folder = workspaceFolder().uri.fsPath;
    const a = await api();
    fs.writeFileSync(
      path.join(folder, 'delivery.yml'),
      `version: 1
pipelines:
  ci:
    jobs:
      touch: { run: 'touch ran-in-untrusted' }
environments:
  probe:
    version: { http: "http://127.0.0.1:${port}/version", json: sha }
    deploy: { command: 'touch deployed-in-untrusted' }
    health: { http: "http://127.0.0.1:${port}/health" }
`,
    );
    await waitFor(() => a.environments().some((e) => e.id === 'probe'), 'the new delivery.yml to be read');
  });

  suiteTeardown(() => new Promise<void>((r) => server.close(() => r())));

  test('the workspace is untrusted and the extension is active in limited mode', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const a = await api();
    assert.deepEqual(a.pipelines().map((p) => p.id), ['ci']);
  });

  test('the trees show definitions without run or deploy actions', async () => {
    const a = await api();
    const pipelines = await a.tree('pipelines');
    assert.doesNotMatch(pipelines[0].contextValue, /\brunnable\b/);
    assert.doesNotMatch(pipelines[0].children[0].contextValue, /\brunnable\b/);
    const envs = await a.tree('environments');
    assert.doesNotMatch(envs[0].contextValue, /\bcanDeploy\b/);
  });

  test('running a pipeline, a job or a deploy does nothing', async () => {
    const a = await api();
    assert.equal(await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'ci' }), undefined);
    assert.equal(await vscode.commands.executeCommand('delivery.job.run', { folder, pipeline: 'ci', jobs: ['touch'] }), undefined);
    assert.equal(await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'probe' }), undefined);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(fs.existsSync(path.join(folder, 'ran-in-untrusted')), false);
    assert.equal(fs.existsSync(path.join(folder, 'deployed-in-untrusted')), false);
    assert.equal(a.latestRun(), null);
  });

  test('environments are not probed', async () => {
    const a = await api();
    const rows = await a.environmentRows(true);
    assert.equal(rows[0].status.deployed.sha, null);
    assert.match(rows[0].status.deployed.error ?? '', /not trusted/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(requests, 0, 'no request reached the version or health endpoint');
  });
});
