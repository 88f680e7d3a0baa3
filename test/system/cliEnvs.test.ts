// `delivery envs` and `delivery diff` as a user runs them: the compiled CLI against a real repository, the test
// app over HTTP, command probes and secrets from the environment. Pins the JSON contracts (README) and exit codes.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../support/targets/common';
import { stageApp, startApp, type App } from '../support/targets/app';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function cli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, DELIVERY_STATE_DIR: path.join(cwd, '.state-test'), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function commit(dir: string, files: Record<string, string>, message: string): string {
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

const ENV_KEYS = ['ahead', 'behind', 'deployed', 'health', 'healthDetail', 'id', 'local', 'name', 'state', 'url'];

describe('delivery envs / delivery diff (CLI)', function () {
  this.timeout(30_000);
  let app: App;
  let repo: string;
  let first: string;
  let second: string;
  let head: string;
  let closedPort: number;
  let ymlLines: number;

  before(async () => {
    repo = tempDir('delivery-cli-envs-');
    git(repo, 'init', '-q', '-b', 'main');
    first = commit(repo, { 'src/app.js': 'one\n', 'docs/old.md': 'docs\nlong enough to follow a rename\n' }, 'First release');
    second = commit(repo, { 'src/app.js': 'one\ntwo\n' }, 'Second');
    const appDir = path.join(tempDir(), 'app');
    stageApp(appDir, second);
    app = await startApp(appDir);
    closedPort = await freePort();
    const yml = `version: 1
pipelines:
  ci:
    jobs:
      build: { run: "true" }
environments:
  staging:
    name: Staging
    url: ${app.url}
    version: { http: "${app.url}/version", json: sha, headers: { Authorization: "Bearer \${secret:TOKEN}" } }
    health: { http: "${app.url}/health" }
  production:
    name: Production
    version: { command: "echo ${first}" }
  broken:
    version: { http: "http://127.0.0.1:${closedPort}/version", timeout: 2s }
`;
    ymlLines = yml.split('\n').length - 1;
    git(repo, 'mv', 'docs/old.md', 'docs/new.md');
    head = commit(repo, { 'delivery.yml': yml, 'logo.bin': '\u0000\u0001\u0002' }, 'Add delivery.yml');
  });
  after(async () => {
    await app?.stop();
    cleanupTempDirs();
  });

  it('envs --json follows the contract; an environment whose version is unknown makes the exit status 1', async () => {
    fs.writeFileSync(path.join(repo, 'src/app.js'), 'dirty\n');
    try {
      const r = await cli(repo, ['envs', '--json'], { DELIVERY_SECRET_TOKEN: 'tok3n' });
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(out), ['environments']);
      assert.deepEqual(out.environments.map((e: { id: string }) => e.id), ['staging', 'production', 'broken']);
      for (const e of out.environments) {
        assert.deepEqual(Object.keys(e).sort(), ENV_KEYS);
        assert.deepEqual(Object.keys(e.deployed).sort(), ['error', 'raw', 'sha']);
        assert.deepEqual(Object.keys(e.local).sort(), ['branch', 'dirty', 'sha']);
      }
      const [stagingWithState, production, broken] = out.environments;
      const { state, ...staging } = stagingWithState;
      // No deploy kind with a shared place: the lock and history are this machine's ("local only").
      assert.deepEqual({ ...state, where: typeof state.where }, { store: 'local', where: 'string', locked: false, holder: null, lastDeploy: null, error: null });
      assert.deepEqual(staging, {
        id: 'staging', name: 'Staging', url: app.url,
        deployed: { sha: second, error: null, raw: null },
        local: { sha: head, branch: 'main', dirty: true },
        ahead: 1, behind: 0, health: 'up', healthDetail: 'HTTP 200',
      });
      assert.deepEqual([production.deployed.sha, production.ahead, production.behind, production.health, production.url], [first, 2, 0, 'unknown', null]);
      assert.deepEqual([broken.deployed.sha, broken.ahead, broken.behind], [null, null, null]);
      assert.match(broken.deployed.error, /^http:\/\/127\.0\.0\.1:\d+\/version: connection refused/);
    } finally {
      git(repo, 'checkout', '--', 'src/app.js');
    }
  });

  it('envs: a missing secret is reported for that environment only; text output is readable', async () => {
    const r = await cli(repo, ['envs']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^staging \(Staging\)  http:\/\/127\.0\.0\.1:\d+\n  deployed  unknown: missing secret TOKEN: set it with "Delivery: Set Secret" \(or DELIVERY_SECRET_TOKEN for the CLI\)\n/);
    assert.match(r.stdout, new RegExp(`\\nproduction \\(Production\\)\\n  deployed  ${first.slice(0, 7)}\\n  HEAD      ${head.slice(0, 7)} on main\\n  distance  2 to deploy\\n  health    unknown\\n`));
  });

  it('envs exits 0 when every version is known, and 2 (probing nothing) when delivery.yml is invalid', async () => {
    const dir = tempDir();
    git(dir, 'init', '-q', '-b', 'main');
    const sha = commit(dir, { 'delivery.yml': `version: 1\nenvironments:\n  dev: { version: { command: "git rev-parse HEAD" } }\n` }, 'one');
    const ok = await cli(dir, ['envs', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).environments[0].deployed, { sha, error: null, raw: null });
    const marker = path.join(dir, 'probed');
    writeFiles(dir, { 'delivery.yml': `version: 1\nenvironments:\n  dev: { version: { command: "touch ${marker}", regex: "[0-9a-f]+" } }\n` });
    const bad = await cli(dir, ['envs', '--json']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^delivery\.yml:3:\d+: error: environment "dev": version: "regex" needs one capture group/m);
    assert.match(bad.stderr, /nothing was checked/);
    assert.equal(fs.existsSync(marker), false);
  });

  it('diff --json follows the contract: commits to deploy, files with status and +/- counts, uncommitted apart', async () => {
    fs.writeFileSync(path.join(repo, 'notes.txt'), 'not committed\n');
    try {
      const r = await cli(repo, ['diff', 'production', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(out), ['from', 'to', 'commits', 'files', 'uncommitted']);
      assert.deepEqual(out.from, { env: 'production', sha: first });
      assert.deepEqual(out.to, { ref: 'HEAD', sha: head, env: null });
      assert.deepEqual(out.commits.toDeploy.map((c: { subject: string }) => c.subject), ['Add delivery.yml', 'Second']);
      assert.deepEqual(Object.keys(out.commits.toDeploy[0]), ['sha', 'subject', 'author', 'date']);
      assert.deepEqual(out.commits.toDeploy[1], { sha: second, subject: 'Second', author: 'Test', date: out.commits.toDeploy[1].date });
      assert.deepEqual(out.commits.toRevert, []);
      assert.deepEqual(out.files, [
        { path: 'delivery.yml', oldPath: null, status: 'A', additions: ymlLines, deletions: 0, binary: false },
        { path: 'docs/new.md', oldPath: 'docs/old.md', status: 'R', additions: 0, deletions: 0, binary: false },
        { path: 'logo.bin', oldPath: null, status: 'A', additions: 0, deletions: 0, binary: true },
        { path: 'src/app.js', oldPath: null, status: 'M', additions: 1, deletions: 0, binary: false },
      ]);
      assert.deepEqual(out.uncommitted, [{ path: 'notes.txt', status: '??' }]);
    } finally {
      fs.rmSync(path.join(repo, 'notes.txt'));
    }
  });

  it('diff between environments and to a ref; reverted commits are shouted in the text output', async () => {
    const envToEnv = await cli(repo, ['diff', 'staging', '--to', 'production', '--json'], { DELIVERY_SECRET_TOKEN: 'tok3n' });
    assert.equal(envToEnv.code, 0, envToEnv.stderr);
    const out = JSON.parse(envToEnv.stdout);
    assert.deepEqual([out.from, out.to], [{ env: 'staging', sha: second }, { ref: 'production', sha: first, env: 'production' }]);
    assert.deepEqual([out.commits.toDeploy, out.commits.toRevert.map((c: { sha: string }) => c.sha)], [[], [second]]);
    assert.deepEqual(out.uncommitted, []);
    const text = await cli(repo, ['diff', 'staging', '--to', 'production'], { DELIVERY_SECRET_TOKEN: 'tok3n' });
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`^Staging \\(staging\\) runs ${second.slice(0, 7)}; comparing with Production \\(production\\) ${first.slice(0, 7)}\\n`));
    assert.match(text.stdout, new RegExp(`\\n!! 1 COMMIT WOULD BE REVERTED: Staging runs it, Production \\(production\\) does not have it:\\n  - ${second.slice(0, 7)}  Second  \\(Test, \\d{4}-\\d\\d-\\d\\d\\)\\n`));
    assert.match(text.stdout, /\nFiles \(1 changed, \+0 -1\):\n  M  src\/app\.js  \+0 -1\n/);
    const toRef = await cli(repo, ['diff', 'production', '--ref', 'HEAD~1', '--json']);
    assert.equal(toRef.code, 0, toRef.stderr);
    assert.deepEqual(JSON.parse(toRef.stdout).to, { ref: 'HEAD~1', sha: second, env: null });
    const same = await cli(repo, ['diff', 'production', '--ref', first]);
    assert.match(same.stdout, /Nothing to deploy: Production already runs/);
  });

  it('diff exits 1 when the deployed version is unknown, 2 for usage mistakes', async () => {
    const unknown = await cli(repo, ['diff', 'broken', '--json']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /^delivery: cannot tell what broken runs: http:\/\/127\.0\.0\.1:\d+\/version: connection refused/);
    const cases: [string[], RegExp][] = [
      [['diff'], /diff: name the environment/],
      [['diff', 'nope'], /no environment "nope" \(environments: staging, production, broken\)/],
      [['diff', 'production', '--to', 'staging', '--ref', 'main'], /use --to <environment> or --ref <ref>, not both/],
      [['diff', 'production', '--ref', 'no-such-ref'], /"no-such-ref" is not a branch, tag or commit of this repository/],
      [['envs', 'extra'], /envs takes no arguments/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(repo, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
