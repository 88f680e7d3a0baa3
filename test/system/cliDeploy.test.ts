// `delivery deploy / rollback / promote` as a user runs them: real CLI processes on a real repository.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, tempDir } from '../support/tmp';
import { appRepo, commit } from '../support/deploySupport';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function cliEnv(state: string, env: Record<string, string>) {
  return { ...process.env, DELIVERY_STATE_DIR: state, ...env };
}

function cli(cwd: string, state: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: cliEnv(state, env) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The --json answer of a command that must succeed (its stderr shown when it did not). */
function json(r: { code: number | null; stdout: string; stderr: string }) {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function cliAsync(cwd: string, state: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, env: cliEnv(state, {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function yml(out: string, extra = ''): string {
  return `version: 1
environments:
  staging:
    deploy:
      command: 'echo "$DELIVERY_SHA" > "${out}/staging"; echo "token=$TOKEN"; sleep "\${PAUSE:-0}"'
      env: { TOKEN: "\${secret:TOKEN}" }
  production:
    protected: true
    promotesFrom: staging
    deploy:
      command: 'echo "$DELIVERY_SHA" > "${out}/production"'
${extra}`;
}

describe('delivery deploy / rollback / promote (CLI)', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('deploy --json follows the contract; the secret comes from DELIVERY_SECRET_TOKEN and is masked', () => {
    const out = tempDir();
    const state = tempDir();
    const repo = appRepo(yml(out));
    const sha = git(repo, 'rev-parse', 'HEAD');
    const r = cli(repo, state, ['deploy', 'staging', '--json'], { DELIVERY_SECRET_TOKEN: 'tok-123456' });
    const j = json(r);
    assert.deepEqual(Object.keys(j).sort(), ['action', 'deployId', 'durationMs', 'environment', 'health', 'logFile', 'previousSha', 'reason', 'ref', 'rolledBackTo', 'sha', 'status', 'steps', 'verification']);
    assert.deepEqual({ ...j, durationMs: 0, deployId: '', logFile: '', steps: [] }, {
      environment: 'staging', action: 'deploy', sha, ref: 'HEAD', previousSha: null, status: 'success', durationMs: 0, health: null, reason: null, deployId: '', logFile: '', steps: [],
      verification: null, rolledBackTo: null,
    });
    assert.deepEqual(j.steps.map((s: { name: string; status: string }) => [s.name, s.status]), [['deploy command', 'success']]);
    assert.equal(fs.readFileSync(path.join(out, 'staging'), 'utf8').trim(), sha);
    assert.match(r.stderr, /token=\*\*\*/);
    assert.ok(!r.stderr.includes('tok-123456') && !fs.readFileSync(j.logFile, 'utf8').includes('tok-123456'));
    const missing = cli(repo, state, ['deploy', 'staging']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing secret TOKEN: .*DELIVERY_SECRET_TOKEN/);
  });

  it('refuses a protected environment, a dirty tree and a reverting deploy without --yes, saying why', () => {
    const out = tempDir();
    const state = tempDir();
    const repo = appRepo(yml(out));
    const env = { DELIVERY_SECRET_TOKEN: 'tok-123456' };
    const p = cli(repo, state, ['deploy', 'production']);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /refusing to deploy "production" without --yes:\n {2}- "production" is a protected environment: type its name/);
    assert.equal(fs.existsSync(path.join(out, 'production')), false);
    assert.equal(cli(repo, state, ['deploy', 'production', '--yes']).code, 0);
    assert.equal(fs.existsSync(path.join(out, 'production')), true);

    fs.writeFileSync(path.join(repo, 'scratch.txt'), 'not committed');
    const dirty = cli(repo, state, ['deploy', 'staging'], env);
    assert.equal(dirty.code, 2);
    assert.match(dirty.stderr, /the working tree has uncommitted changes; they are not part of the deploy/);
    fs.rmSync(path.join(repo, 'scratch.txt'));

    const sha1 = git(repo, 'rev-parse', 'HEAD');
    commit(repo, 'NOTES', 'two', 'second');
    assert.equal(cli(repo, state, ['deploy', 'staging'], env).code, 0);
    const back = cli(repo, state, ['deploy', 'staging', '--ref', sha1], env);
    assert.equal(back.code, 2);
    assert.match(back.stderr, /this deploy reverts 1 deployed commit of "staging" that the target does not contain: [0-9a-f]{7} second/);
    assert.match(back.stdout, /commits that this reverts:\n {2}- [0-9a-f]{7} second\nfiles changed by going from [0-9a-f]{7} to [0-9a-f]{7}:\n {2}D NOTES/);
  });

  it('names the last run at the commit: a failed one must be confirmed (--yes), a passed one is said', () => {
    const out = tempDir();
    const state = tempDir();
    const repo = appRepo(yml(out).replace('environments:', `pipelines:
  ci:
    jobs:
      unit: { run: 'test -e PASS' }
      lint: { run: 'true' }
environments:`));
    const env = { DELIVERY_SECRET_TOKEN: 'tok-123456' };
    assert.equal(cli(repo, state, ['run', 'ci']).code, 1, 'the run at HEAD fails');
    const refused = cli(repo, state, ['deploy', 'staging'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing to deploy "staging" without --yes:\n {2}- the last run of ci at [0-9a-f]{7} failed: 1 of 2 jobs failed \(run \S+\)/);
    assert.equal(fs.existsSync(path.join(out, 'staging')), false);
    assert.equal(cli(repo, state, ['deploy', 'staging', '--yes'], env).code, 0, '--yes confirms it');
    commit(repo, 'PASS', 'yes', 'make the tests pass');
    assert.equal(cli(repo, state, ['run', 'ci']).code, 0);
    const passed = cli(repo, state, ['deploy', 'staging'], env);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout + passed.stderr, /CI: ci passed at [0-9a-f]{7} \(run \S+\)/);
  });

  it('rollback and promote through the CLI, with their JSON', () => {
    const out = tempDir();
    const state = tempDir();
    const repo = appRepo(yml(out));
    const env = { DELIVERY_SECRET_TOKEN: 'tok-123456' };
    const sha1 = git(repo, 'rev-parse', 'HEAD');
    assert.equal(cli(repo, state, ['deploy', 'staging'], env).code, 0);
    const sha2 = commit(repo, 'NOTES', 'two', 'second');
    assert.equal(cli(repo, state, ['deploy', 'staging'], env).code, 0);
    assert.equal(fs.readFileSync(path.join(out, 'staging'), 'utf8').trim(), sha2);

    const refused = cli(repo, state, ['rollback', 'staging'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /this rollback reverts 1 deployed commit/);
    const j = json(cli(repo, state, ['rollback', 'staging', '--yes', '--json'], env));
    assert.equal(j.action, 'rollback');
    assert.equal(j.sha, sha1);
    assert.equal(j.previousSha, sha2);
    assert.equal(fs.readFileSync(path.join(out, 'staging'), 'utf8').trim(), sha1);

    assert.equal(json(cli(repo, state, ['rollback', 'staging', '--to', sha2, '--yes', '--json'], env)).sha, sha2);

    const pj = json(cli(repo, state, ['promote', 'production', '--yes', '--json'], env));
    assert.equal(pj.action, 'promote');
    assert.equal(pj.sha, sha2);
    assert.equal(fs.readFileSync(path.join(out, 'production'), 'utf8').trim(), sha2);
    const none = cli(repo, state, ['promote', 'staging']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /environment "staging" has no "promotesFrom"/);
    assert.equal(cli(repo, state, ['deploy', 'nowhere']).code, 2);
    assert.match(cli(repo, state, ['rollback', 'staging', '--ref', 'x']).stderr, /--ref applies to deploy, diff, remote, not to rollback \(use --to\)/);
  });

  it('two deploys of one environment at once: exactly one runs, the other names the holder', async () => {
    const out = tempDir();
    const state = tempDir();
    const repo = appRepo(yml(out).replace('env: { TOKEN: "${secret:TOKEN}" }', 'env: { TOKEN: x, PAUSE: "1" }'));
    const results = await Promise.all([cliAsync(repo, state, ['deploy', 'staging']), cliAsync(repo, state, ['deploy', 'staging'])]);
    const codes = results.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 1], results.map((r) => r.stderr).join('\n---\n'));
    const loser = results.find((r) => r.code === 1)!;
    assert.match(loser.stderr, /"staging" is being deployed by .+ on .+ \(deploy \d{8}-\d{6}-\d{3}-[0-9a-f]{6} of [0-9a-f]{12}, pid \d+\) since .+ UTC; wait for it to finish/);
    const records = fs.readdirSync(path.join(state, fs.readdirSync(state)[0], 'deploys', 'staging'));
    assert.equal(records.length, 1, 'the refused deploy left no record');
    assert.deepEqual(fs.readdirSync(path.join(state, fs.readdirSync(state)[0], 'team', 'staging')).sort(), ['history.jsonl'], 'the lock is released');
  });
});
