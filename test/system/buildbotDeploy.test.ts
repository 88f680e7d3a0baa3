// The `workflow:` deploy kind against a real Buildbot master + worker on 127.0.0.1: the deploy builder writes the
// commit where a real test app serves it, then the deploy's version probe and health check run as for any kind.
// A failing build fails the deploy naming the job and step; cancelling the deploy cancels the build.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BuildbotEngine } from '../../src/adapters/remote/buildbot';
import { startApp, stageApp, type App } from '../support/targets/app';
import { buildbotUnavailable, startBuildbot, type Buildbot } from '../support/targets/buildbot';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir } from '../support/tmp';
import { appRepo, deployer, getJson, readLog } from '../support/deploySupport';

describe('workflow: deploys through Buildbot (real master + worker, real app)', function () {
  this.timeout(120_000);
  let bb: Buildbot;
  const apps: App[] = [];
  let staging: App;
  let production: App;

  before(async function () {
    requireTool(this, buildbotUnavailable());
    this.timeout(90_000);
    const root = tempDir('delivery-bbdeploy-');
    bb = await startBuildbot(path.join(root, 'bb'), { apps: path.join(root, 'apps') });
    for (const env of ['staging', 'production']) stageApp(path.join(bb.apps, env), 'aaaaaaa');
    staging = await startApp(path.join(bb.apps, 'staging'), { env: 'staging' });
    production = await startApp(path.join(bb.apps, 'production'), { env: 'production' });
    apps.push(staging, production);
  });
  after(async () => {
    for (const a of apps) await a.stop();
    await bb?.stop();
    cleanupTempDirs();
  });

  function yml(): string {
    const probes = (app: App) => `    version: { http: "${app.url}/version", json: sha }
    health: { http: "${app.url}/health", timeout: 10s, interval: 100ms }
`;
    return `version: 1
pipelines:
  deploy:
    remote: { buildbot: { url: "${bb.url}", builder: deploy } }
  hold:
    remote: { buildbot: { url: "${bb.url}", builder: slow } }
environments:
  staging:
    deploy:
      workflow:
        pipeline: deploy
        inputs: { env: "\${DELIVERY_ENV}", sha: "\${DELIVERY_SHA}", reason: "deploy of \${DELIVERY_SHORT_SHA}: \${secret:NOTE}" }
${probes(staging)}  production:
    deploy:
      workflow: { pipeline: "delivery:deploy", inputs: { env: "\${DELIVERY_ENV}", sha: "\${DELIVERY_SHA}" } }
${probes(production)}  held:
    deploy: { workflow: { pipeline: hold, ref: main } }
`;
  }

  const buildbot = (builder: string) => new BuildbotEngine({ target: { engine: 'buildbot', url: bb.url, builder, scheduler: 'force' } });

  it('deploys: triggers the build with the commit, follows it, then checks version and health', async () => {
    const repo = appRepo(yml());
    const sha = git(repo, 'rev-parse', 'HEAD');
    const d = deployer(repo, { NOTE: 'hush-1234' });
    const { record } = await d.deploy('staging');
    assert.equal(record.status, 'success', record.reason ?? '');
    assert.deepEqual(record.steps.map((s) => [s.name, s.status]), [
      ['trigger deploy', 'success'],
      ['follow the deploy run', 'success'],
      ['check the deployed version', 'success'],
      ['health check', 'success'],
    ]);
    assert.equal(record.health, 'up');
    assert.equal((await getJson(`${staging.url}/version`)).sha, sha);
    const log = readLog(record);
    assert.match(log, new RegExp(`trigger Buildbot ${bb.url} builder deploy on main with env=staging sha=${sha} reason=deploy of ${sha.slice(0, 7)}: \\*\\*\\*`));
    assert.match(log, new RegExp(`\\[deploy\\] deploying ${sha} to staging`));
    assert.match(log, new RegExp(`\\[deploy\\] deployed ${sha} to staging`));
    assert.ok(!log.includes('hush-1234'), 'the secret is masked in the deploy log');
    // The inputs reached Buildbot as data: the build's reason holds the secret's value verbatim.
    const [run] = await buildbot('deploy').runs({ limit: 1, signal: AbortSignal.timeout(10_000) });
    assert.equal(run.status, 'success');
    assert.equal(run.branch, 'main');
    assert.equal(run.title, `deploy of ${sha.slice(0, 7)}: hush-1234`);
  });

  it('fails the deploy when the remote build fails, naming the job and step; nothing else runs', async () => {
    const repo = appRepo(yml());
    fs.writeFileSync(path.join(bb.apps, 'production', 'DEPLOY_FAILS'), 'frozen for the release');
    try {
      const d = deployer(repo);
      const { record } = await d.deploy('production');
      assert.equal(record.status, 'failed');
      assert.match(record.reason ?? '', /^follow the delivery:deploy run failed: run #\d+ \(\d+\) failed: job "deploy" failed at step "deploy"$/);
      assert.deepEqual(record.steps.map((s) => s.status), ['success', 'failed', 'skipped', 'skipped']);
      assert.match(readLog(record), /\[deploy\] deploys to production are blocked: frozen for the release/);
      assert.equal((await getJson(`${production.url}/version`)).sha, 'aaaaaaa');
    } finally {
      fs.rmSync(path.join(bb.apps, 'production', 'DEPLOY_FAILS'), { force: true });
    }
  });

  it('cancelling the deploy cancels the remote build', async () => {
    const repo = appRepo(yml());
    const d = deployer(repo);
    let cancelled = false;
    const { record } = await d.deploy('held', {
      onEvent: (e, cancel) => {
        // Once the build runs (the job shows up), cancel the deploy.
        if (!cancelled && e.type === 'line' && /^slow: running$/.test(e.text)) {
          cancelled = true;
          cancel();
        }
      },
    });
    assert.ok(cancelled, 'the build started');
    assert.ok(!readLog(record).includes('done waiting'));
    assert.equal(record.status, 'cancelled');
    assert.deepEqual(record.steps.map((s) => s.status), ['success', 'cancelled']);
    assert.match(readLog(record), /cancelled run (#\d+ \()?\d+\)? on Buildbot/);
    const slow = buildbot('slow');
    const latest = await slow.runs({ limit: 1, signal: AbortSignal.timeout(10_000) });
    const final = await (async () => {
      for (let i = 0; i < 100; i++) {
        const { run } = await slow.run(latest[0].id, AbortSignal.timeout(10_000));
        if (run.status !== 'running') return run;
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    })();
    assert.equal(final?.status, 'cancelled');
  });

  it('refuses a workflow deploy whose pipeline cannot be resolved, before triggering anything', async () => {
    const repo = appRepo(yml().replace('pipeline: "delivery:deploy"', 'pipeline: "github:deploy"'));
    const before = await buildbot('deploy').runs({ limit: 1, signal: AbortSignal.timeout(10_000) });
    const { record } = await deployer(repo).deploy('production');
    assert.equal(record.status, 'failed');
    assert.match(record.reason ?? '', /^trigger github:deploy failed: no pipeline "github:deploy" \(pipelines: delivery:deploy, delivery:hold\)$/);
    const after = await buildbot('deploy').runs({ limit: 1, signal: AbortSignal.timeout(10_000) });
    assert.deepEqual(after.map((r) => r.id), before.map((r) => r.id));
  });
});
