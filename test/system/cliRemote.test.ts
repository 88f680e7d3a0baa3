// `delivery remote runs|trigger|logs|cancel|inputs` as a user runs them: real CLI processes, a real repository, and
// a real Buildbot master + worker on 127.0.0.1. Pins the JSON contracts documented in README.md.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildbotUnavailable, startBuildbot, type Buildbot } from '../support/targets/buildbot';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, gitRepo, tempDir } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');
const RUN_KEYS = ['actor', 'branch', 'createdAt', 'durationMs', 'event', 'finishedAt', 'id', 'number', 'sha', 'startedAt', 'status', 'url'];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('delivery remote (CLI, real Buildbot)', function () {
  this.timeout(120_000);
  let bb: Buildbot;
  let repo: string;
  let state: string;

  before(async function () {
    requireTool(this, buildbotUnavailable());
    this.timeout(90_000);
    bb = await startBuildbot(path.join(tempDir('delivery-cliremote-'), 'bb'));
    state = tempDir();
    repo = gitRepo({
      'delivery.yml': `version: 1
pipelines:
  app:
    remote: { buildbot: { url: "${bb.url}", builder: app } }
  broken:
    remote: { buildbot: { url: "${bb.url}", builder: broken } }
  hold:
    remote: { buildbot: { url: "${bb.url}", builder: slow } }
  local:
    jobs: { build: { run: "true" } }
`,
    });
  });
  after(async () => {
    await bb?.stop();
    cleanupTempDirs();
  });

  function cli(args: string[], cwd = repo) {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: state }, timeout: 90_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  function json(args: string[], code = 0) {
    const r = cli(args);
    assert.equal(r.code, code, r.stderr);
    return JSON.parse(r.stdout);
  }

  it('remote runs --json: {"runs": []} before any run, then the contract’s fields, newest first', () => {
    assert.deepEqual(json(['remote', 'runs', 'app', '--json']), { runs: [] });
    const t = json(['remote', 'trigger', 'app', '--input', 'env=staging', '--json']);
    assert.deepEqual(Object.keys(t).sort(), RUN_KEYS);
    assert.match(t.id, /^\d+$/);
    assert.ok(['queued', 'running'].includes(t.status));
    const done = json(['remote', 'trigger', 'app', '--wait', '--json']);
    const { runs } = json(['remote', 'runs', 'app', '--json']);
    assert.equal(runs.length, 2);
    for (const r of runs) assert.deepEqual(Object.keys(r).sort(), RUN_KEYS);
    assert.deepEqual(runs.map((r: { id: string }) => r.id), [done.id, t.id]);
    const [latest] = runs;
    assert.deepEqual({ ...latest, createdAt: '', startedAt: '', finishedAt: '', durationMs: 0, number: 0, url: '' }, {
      id: done.id, number: 0, status: 'success', branch: 'main', sha: null, actor: null, event: 'force', url: '', createdAt: '', startedAt: '', finishedAt: '', durationMs: 0,
    });
    for (const k of ['createdAt', 'startedAt', 'finishedAt']) assert.match(latest[k], ISO);
    assert.equal(latest.durationMs, Date.parse(latest.finishedAt) - Date.parse(latest.startedAt));
    assert.ok(latest.url.startsWith(`${bb.url}/#/builders/`));
    assert.equal(json(['remote', 'runs', 'app', '--json', '--limit', '1']).runs.length, 1);
    assert.deepEqual(json(['remote', 'runs', 'app', '--json', '--branch', 'other']), { runs: [] });
    const text = cli(['remote', 'runs', 'app']);
    assert.match(text.stdout, new RegExp(`^app#${done.id}  #\\d+  success  main  -  `, 'm'));
  });

  it('remote trigger --wait --json: the final state with jobs and steps; exit 1 and the failing step when it fails', () => {
    const ok = json(['remote', 'trigger', 'app', '--ref', 'main', '--input', 'verbose=true', '--wait', '--json']);
    assert.deepEqual(Object.keys(ok).sort(), [...RUN_KEYS, 'jobs', 'reason'].sort());
    assert.equal(ok.status, 'success');
    assert.equal(ok.reason, null);
    assert.deepEqual(Object.keys(ok.jobs[0]).sort(), ['durationMs', 'finishedAt', 'id', 'name', 'stage', 'startedAt', 'status', 'steps', 'url']);
    assert.deepEqual(Object.keys(ok.jobs[0].steps[0]).sort(), ['durationMs', 'finishedAt', 'name', 'number', 'startedAt', 'status']);
    assert.deepEqual(ok.jobs[0].steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`), ['worker_preparation:success', 'compile:success', 'test:success']);

    const r = cli(['remote', 'trigger', 'broken', '--wait', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const failed = JSON.parse(r.stdout);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.reason, 'job "broken" failed at step "test"');
    assert.match(r.stderr, /triggering Buildbot .* builder broken on main\nstarted broken#\d+/);
    const plain = cli(['remote', 'trigger', 'broken', '--wait']);
    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /^broken#\d+: failed in .*\(job "broken" failed at step "test"\)$/m);
  });

  it('remote logs <pipeline>#<id> prints the logs; --follow follows a running build to its end', () => {
    const t = json(['remote', 'trigger', 'broken', '--json']);
    const followed = cli(['remote', 'logs', `broken#${t.id}`, '--follow']);
    assert.equal(followed.code, 1, followed.stderr);
    assert.match(followed.stdout, /^==> broken\n── step build ──\n[\s\S]*build ok\n[\s\S]*── step test ──\n[\s\S]*assertion failed: expected 2, got 3\nprogram finished with exit code 1\n/);
    assert.match(followed.stderr, new RegExp(`run ${t.id}: failed \\(job "broken" failed at step "test"\\)`));
    const again = cli(['remote', 'logs', t.id, '--pipeline', 'broken']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, followed.stdout);
  });

  it('remote cancel stops a running build; remote inputs lists the typed inputs', () => {
    const t = json(['remote', 'trigger', 'hold', '--json']);
    const c = cli(['remote', 'cancel', `hold#${t.id}`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, `asked to cancel hold#${t.id}; waiting for it to stop\ncancelled hold#${t.id}\n`);
    const after = json(['remote', 'trigger', 'hold', '--json']);
    const cancelled = json(['remote', 'cancel', `hold#${after.id}`, '--json']);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.reason, 'the run was cancelled');
    const runs = json(['remote', 'runs', 'hold', '--json']).runs;
    assert.deepEqual(runs.map((r: { status: string }) => r.status), ['cancelled', 'cancelled']);
    const again = cli(['remote', 'cancel', `hold#${t.id}`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has already ended \(cancelled\); nothing to cancel/);
    const { inputs } = json(['remote', 'inputs', 'app', '--json']);
    assert.deepEqual(inputs.find((i: { name: string }) => i.name === 'env'), { name: 'env', type: 'choice', description: 'Environment', required: false, default: 'dev', options: ['dev', 'staging', 'production'] });
  });

  it('refuses bad usage and bad inputs with exit 2, sending nothing', () => {
    const before = json(['remote', 'runs', 'app', '--json']).runs.length;
    const bad = cli(['remote', 'trigger', 'app', '--input', 'env=moon', '--input', 'colour=red', '--input', 'verbose=maybe']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /input "env" must be one of dev, staging, production, not "moon"\n.*unknown input "colour".*\n.*input "verbose" is a boolean: true or false, not "maybe"\n.*nothing was triggered/);
    assert.equal(json(['remote', 'runs', 'app', '--json']).runs.length, before);
    const cases: [string[], RegExp][] = [
      [['remote', 'trigger', 'app', '--input', 'novalue'], /--input: an input is NAME=VALUE, not "novalue"/],
      [['remote', 'logs', 'app'], /name a run as <pipeline>#<id>/],
      [['remote', 'runs', 'app', '--wait'], /--wait applies to remote trigger\/rerun/],
      [['remote', 'runs', 'nope'], /no pipeline "nope" \(pipelines: delivery:app, delivery:broken, delivery:hold, delivery:local\)/],
      [['remote', 'runs', 'local'], /pipeline "local" in delivery.yml has no "remote:"/],
      [['remote', 'frobnicate', 'app'], /remote: say what to do: runs, trigger, logs, cancel, rerun, inputs/],
      [['remote', 'runs', 'app', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    const run = cli(['run', 'app']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /no local jobs: it runs on buildbot \(delivery remote trigger app\)/);
  });

  it('shows the file’s problems when remote: is wrong, and sends nothing', () => {
    const line = `    remote: { buildbot: { url: "${bb.url}", builder: app, sheduler: x } }`;
    const broken = gitRepo({ 'delivery.yml': `version: 1\npipelines:\n  app:\n${line}\n` });
    const r = cli(['remote', 'trigger', 'app'], broken);
    assert.equal(r.code, 2);
    const column = line.indexOf('sheduler') + 1;
    assert.ok(r.stderr.split('\n').includes(`delivery.yml:4:${column}: error: pipeline "app": remote: buildbot: unknown key "sheduler" (did you mean "scheduler"?)`), r.stderr);
    assert.match(r.stderr, /delivery.yml has 1 error; nothing was sent/);
  });
});
