// verify: against a real Prometheus scraping a real app on loopback, through the real CLI: a bad release (it answers
// 500 to half of the requests) is caught and rolled back, a good one passes, a query PromQL refuses stops the deploy
// before anything runs (located in delivery.yml), and a Prometheus that goes away mid-window leaves "unverified".
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';
import { TARGET_FIXTURES } from '../support/targets/app';
import { freePort } from '../support/targets/common';
import { startMetricsApp, stageMetricsApp, startLoad, type Load, type MetricsApp } from '../support/targets/metricsApp';
import { prometheusUnavailable, startPrometheus, type Prometheus } from '../support/targets/prometheus';
import { requireTool } from '../support/requireTool';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');
const ERROR_QUERY = 'sum(rate(http_requests_total{code="500"}[3s])) / sum(rate(http_requests_total[3s]))';

type CliResult = { code: number | null; stdout: string; stderr: string };

/** The CLI as a child process; never spawnSync: the load on the app comes from this process's event loop. */
function cli(cwd: string, state: string, args: string[]): Promise<CliResult> {
  return cliAsync(cwd, state, args, () => undefined);
}

/** The CLI in the background; `onStderr` sees its progress as it comes. */
function cliAsync(cwd: string, state: string, args: string[], onStderr: (all: string) => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, DELIVERY_STATE_DIR: state } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      onStderr(stderr);
    });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function deliveryYml(o: { appPort: number; promUrl: string; live: string }): string {
  return `version: 1
environments:
  staging:
    version: { http: "http://127.0.0.1:${o.appPort}/version", json: sha }
    deploy:
      command: ./deploy.sh
      env: { LIVE: "${o.live}", PORT: "${o.appPort}" }
    verify:
      prometheus: ${o.promUrl}
      window: 8s
      interval: 1s
      checks:
        - name: error rate
          query: '${ERROR_QUERY}'
          max: 0.05
      onFailure: rollback
`;
}

// What the deploy runs from the commit's checkout: the release's files into the live folder, then a restart.
const DEPLOY_SH = `#!/bin/bash
set -euo pipefail
mkdir -p "$LIVE"
cp metrics-app.js metrics-restart.sh "$LIVE/"
if [ -f ERROR_RATE ]; then cp ERROR_RATE "$LIVE/"; else rm -f "$LIVE/ERROR_RATE"; fi
echo "$DELIVERY_SHA" > "$LIVE/VERSION"
bash "$LIVE/metrics-restart.sh" "$LIVE" "$PORT" staging
`;

async function prometheusNumber(prom: Prometheus, query: string): Promise<number | null> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  const v = body.data?.result?.[0]?.value?.[1];
  return v === undefined ? null : Number(v);
}

async function until(what: string, ms: number, ok: () => Promise<boolean> | boolean): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('verify: a deploy checked against a real Prometheus (CLI)', function () {
  this.timeout(180_000);
  let repo: string;
  let state: string;
  let live: string;
  let app: MetricsApp;
  let prom: Prometheus | null = null;
  let load: Load;
  const shas: Record<string, string> = {};

  const version = async () => ((await (await fetch(`${app.url}/version`)).json()) as { sha: string }).sha;

  before(async function () {
    requireTool(this, prometheusUnavailable());
    const appPort = await freePort();
    live = tempDir('delivery-verify-live-');
    state = tempDir('delivery-verify-state-');
    // The release that runs before the tests: staged by hand, as an earlier deploy would have left it.
    repo = tempDir('delivery-verify-repo-');
    git(repo, 'init', '-q', '-b', 'main');
    // Prometheus needs its target up before it starts; its URL goes into delivery.yml, so take its port first.
    const promPort = await freePort();
    writeFiles(repo, {
      'metrics-app.js': fs.readFileSync(path.join(TARGET_FIXTURES, 'metrics-app.js'), 'utf8'),
      'metrics-restart.sh': fs.readFileSync(path.join(TARGET_FIXTURES, 'metrics-restart.sh'), 'utf8'),
      'deploy.sh': DEPLOY_SH,
      'delivery.yml': deliveryYml({ appPort, promUrl: `http://127.0.0.1:${promPort}`, live }),
    });
    fs.chmodSync(path.join(repo, 'deploy.sh'), 0o755);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'good release');
    shas.good = git(repo, 'rev-parse', 'HEAD');
    stageMetricsApp(live, { version: shas.good });
    app = await startMetricsApp(live, { port: appPort, env: 'staging' });
    prom = await startPrometheus(path.join(state, 'prom'), { targets: [app.target], port: promPort });
    load = startLoad(`${app.url}/`, { everyMs: 20, max: 20_000 });
    // Data for the error rate before the first deploy.
    await until('the error rate to be known', 20_000, async () => (await prometheusNumber(prom!, ERROR_QUERY)) !== null);
  });

  after(async () => {
    await load?.stop();
    await prom?.stop();
    await app?.stop();
    cleanupTempDirs();
  });

  it('a bad release fails its verification and is rolled back to the release before it; both are in the history', async () => {
    writeFiles(repo, { ERROR_RATE: '0.5\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'bad release');
    shas.bad = git(repo, 'rev-parse', 'HEAD');
    const r = await cli(repo, state, ['deploy', 'staging', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.status, j.sha, j.previousSha, j.rolledBackTo], ['failed', shas.bad, shas.good, shas.good]);
    assert.equal(j.verification.status, 'failed');
    const check = j.verification.checks[0];
    assert.deepEqual([check.name, check.ok, check.bound], ['error rate', false, '≤ 0.05']);
    assert.ok(check.value > 0.05 && check.value <= 1, `the error rate seen: ${check.value}`);
    assert.match(j.reason, /^verification failed: error rate = [0-9.]+, bound ≤ 0\.05; rolled back to [0-9a-f]{7} \(deploy [^)]+\)$/);
    assert.match(r.stderr, /verify 1: error rate = /);
    assert.match(r.stderr, /rollback: /, 'the rollback’s progress is shown');
    assert.equal(await version(), shas.good, 'the app serves the previous commit again');
    assert.ok(!fs.existsSync(path.join(live, 'ERROR_RATE')));
    const h = JSON.parse((await cli(repo, state, ['history', 'staging', '--json'])).stdout);
    assert.deepEqual(
      h.records.slice(0, 2).map((x: { action: string; toSha: string; status: string }) => [x.action, x.toSha, x.status]),
      [
        ['rollback', shas.good, 'success'],
        ['deploy', shas.bad, 'failed'],
      ],
    );
  });

  it('a good release passes; delivery verify then checks the environment now', async () => {
    // The bad release's errors must have left the 3 s rate window first.
    await until('the error rate to be back to 0', 20_000, async () => (await prometheusNumber(prom!, ERROR_QUERY)) === 0);
    git(repo, 'rm', '-q', 'ERROR_RATE');
    git(repo, 'commit', '-q', '-m', 'fixed release');
    shas.fixed = git(repo, 'rev-parse', 'HEAD');
    const r = await cli(repo, state, ['deploy', 'staging', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.status, j.rolledBackTo, j.verification.status], ['success', null, 'passed']);
    assert.deepEqual(j.verification.checks.map((c: { name: string; ok: boolean; value: number }) => [c.name, c.ok, c.value]), [['error rate', true, 0]]);
    assert.equal(await version(), shas.fixed);
    const v = await cli(repo, state, ['verify', 'staging', '--json']);
    assert.equal(v.code, 0, v.stderr);
    const vj = JSON.parse(v.stdout);
    assert.deepEqual([vj.environment, vj.verification.status, vj.lastDeploy.sha], ['staging', 'passed', shas.fixed]);
    const text = await cli(repo, state, ['verify', 'staging']);
    assert.match(text.stdout, /^staging: passed\n {2}✓ error rate: 0 \(≤ 0\.05\)\n$/);
  });

  it('a query Prometheus refuses stops the deploy before anything runs, located in delivery.yml', async () => {
    const file = path.join(repo, 'delivery.yml');
    const before = fs.readFileSync(file, 'utf8');
    const history = (await cli(repo, state, ['history', 'staging', '--json'])).stdout;
    try {
      // Balanced and well quoted (nothing to say while typing), but PromQL has no "3x" duration.
      fs.writeFileSync(file, before.replace('[3s])) / sum', '[3x])) / sum'));
      const r = await cli(repo, state, ['deploy', 'staging', '--yes', '--json']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = before.split('\n');
      const line = lines.findIndex((l) => l.includes('query:')) + 1;
      const m = /delivery\.yml:(\d+):(\d+): check "error rate": Prometheus refused the query: (.+)\nnothing was deployed/.exec(r.stderr);
      assert.ok(m, r.stderr);
      assert.equal(Number(m[1]), line);
      const queryCol = lines[line - 1].indexOf("'") + 2;
      assert.ok(Number(m[2]) >= queryCol && Number(m[2]) < queryCol + ERROR_QUERY.length, `column ${m[2]} is inside the query (from ${queryCol})`);
      assert.match(m[3], /bad duration/);
      assert.equal((await cli(repo, state, ['history', 'staging', '--json'])).stdout, history, 'nothing recorded');
    } finally {
      fs.writeFileSync(file, before);
    }
  });

  it('Prometheus stopped mid-window: the deploy ends "unverified" (exit 3) and is not rolled back', async () => {
    writeFiles(repo, { 'NOTES.md': 'another good release\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'another good release');
    shas.next = git(repo, 'rev-parse', 'HEAD');
    let stopping: Promise<void> | null = null;
    const r = await cliAsync(repo, state, ['deploy', 'staging', '--json'], (err) => {
      if (!stopping && /verify 2: /.test(err)) stopping = prom!.stop();
    });
    await stopping;
    assert.ok(stopping, 'Prometheus was stopped while verifying');
    assert.equal(r.code, 3, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.status, j.verification.status, j.rolledBackTo], ['unverified', 'unverified', null]);
    assert.deepEqual(j.verification.checks.map((c: { ok: boolean | null; value: number | null }) => [c.ok, c.value]), [[null, null]]);
    assert.match(j.reason, /^unverified: error rate: Prometheus at http:\/\/127\.0\.0\.1:\d+ could not be reached/);
    assert.equal(await version(), shas.next, 'the release stays');
    const h = JSON.parse((await cli(repo, state, ['history', 'staging', '--json'])).stdout);
    assert.deepEqual([h.records[0].toSha, h.records[0].status], [shas.next, 'unverified']);
    prom = null;
  });
});
