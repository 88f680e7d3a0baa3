import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function cli(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(cwd, '.state-test'), ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const YAML = `version: 1
pipelines:
  ci:
    name: CI
    jobs:
      build: { run: 'echo built' }
      test: { needs: [build], stage: check, steps: [{ name: unit, run: 'echo ok' }] }
      broken: { needs: [build], run: 'exit 7', allowFailure: true }
`;

describe('delivery CLI', () => {
  after(cleanupTempDirs);

  it('pipelines --json follows the contract', () => {
    const dir = tempDir();
    writeFiles(dir, { 'delivery.yml': YAML });
    const r = cli(dir, ['pipelines', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out).sort(), ['pipelines', 'problems']);
    assert.deepEqual(out.problems, []);
    const [p] = out.pipelines;
    assert.deepEqual(Object.keys(p).sort(), ['id', 'jobs', 'name', 'source', 'stages']);
    assert.deepEqual(p.source, { kind: 'delivery', file: 'delivery.yml' });
    assert.deepEqual(p.jobs[1], {
      id: 'test', name: 'test', stage: 'check', needs: ['build'], when: null, matrix: false, uses: null, environment: null,
      steps: [{ name: 'unit', kind: 'run' }], unsupported: null, allowFailure: false, if: null,
    });
    assert.deepEqual([p.jobs[2].id, p.jobs[2].allowFailure], ['broken', true]);
  });

  it('pipelines --json gives each job why it cannot run here, whether it may fail and its condition', () => {
    const dir = tempDir();
    writeFiles(dir, {
      '.github/workflows/ci.yml': `on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    continue-on-error: true
    steps: [{ run: echo lint }]
  db:
    needs: lint
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    container: postgres:16
    environment: { name: staging, url: 'https://staging.example.com' }
    strategy: { matrix: { pg: [15, 16] } }
    steps: [{ run: echo db }]
`,
    });
    const r = cli(dir, ['pipelines', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [lint, db] = JSON.parse(r.stdout).pipelines[0].jobs;
    assert.deepEqual([lint.unsupported, lint.allowFailure, lint.if], [null, true, null]);
    assert.deepEqual([db.unsupported, db.allowFailure, db.if], ['needs Docker image postgres:16 (the job runs in a container)', false, "github.ref == 'refs/heads/main'"]);
    // The text listing says the same: matrix, if, environment, and what does not run here.
    const text = cli(dir, ['pipelines']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ {2}lint {2}\(allowed to fail\)$/m);
    assert.match(
      text.stdout,
      /^ {2}db {2}needs: lint {2}matrix {2}if: github\.ref == 'refs\/heads\/main' {2}environment: staging \(https:\/\/staging\.example\.com\) {2}\(unsupported locally: needs Docker image postgres:16 \(the job runs in a container\)\)$/m,
    );
  });

  it('pipelines exits 2 on an invalid file (as run does), with the located errors', () => {
    const dir = tempDir();
    writeFiles(dir, { 'delivery.yml': "version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: 'true', needs: [zz] }\n" });
    const r = cli(dir, ['pipelines']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^delivery\.yml:5:33: error: job "a" needs "zz"/m);
    assert.equal(cli(dir, ['pipelines', '--json']).code, 2);
  });

  it('refuses a --cwd that is not a folder (exit 2) rather than listing nothing', () => {
    const dir = tempDir();
    for (const command of [['pipelines'], ['run', 'ci'], ['envs'], ['history', 'staging']]) {
      const r = cli(dir, [...command, '--cwd', path.join(dir, 'nowhere')]);
      assert.equal(r.code, 2, `${command.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, `delivery: --cwd ${path.join(dir, 'nowhere')}: no such folder\n`);
      assert.equal(r.stdout, '');
    }
    writeFiles(dir, { 'file.txt': 'x' });
    const r = cli(dir, ['pipelines', '--cwd', 'file.txt']);
    assert.deepEqual([r.code, r.stderr], [2, 'delivery: --cwd file.txt: not a folder\n']);
  });

  it('run from a subfolder of a repository (or with --cwd naming one) works on the repository root, as git does', () => {
    const dir = tempDir();
    writeFiles(dir, { 'delivery.yml': YAML, 'src/deep/file.txt': 'x' });
    git(dir, 'init', '-q');
    for (const r of [cli(path.join(dir, 'src/deep'), ['pipelines', '--json']), cli(tempDir(), ['pipelines', '--json', '--cwd', path.join(dir, 'src')])]) {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).pipelines.map((p: { id: string }) => p.id), ['ci']);
    }
    const run = cli(path.join(dir, 'src/deep'), ['run', 'ci', 'build', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).jobs.build.status, 'success');
    // Outside any repository the folder is taken as it is.
    const plain = tempDir();
    writeFiles(plain, { 'sub/delivery.yml': YAML });
    assert.deepEqual(JSON.parse(cli(path.join(plain, 'sub'), ['pipelines', '--json']).stdout).pipelines.map((p: { id: string }) => p.id), ['ci']);
  });

  it('run --json reports each job and exits 0 when required jobs succeed', () => {
    const dir = tempDir();
    writeFiles(dir, { 'delivery.yml': YAML });
    const r = cli(dir, ['run', 'ci', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.pipeline, 'ci');
    assert.equal(out.status, 'success');
    assert.equal(typeof out.durationMs, 'number');
    assert.deepEqual(out.jobs.broken, { status: 'failed', exitCode: 7, durationMs: out.jobs.broken.durationMs, attempts: 1, reason: 'step "broken" exited with code 7' });
    assert.deepEqual(Object.keys(out.jobs.build).sort(), ['attempts', 'durationMs', 'exitCode', 'reason', 'status']);
    assert.match(r.stderr, /build +> built/);
  });

  it('exits 1 when a required job fails, and 2 with located errors when the file is invalid (nothing runs)', () => {
    const dir = tempDir();
    writeFiles(dir, { 'delivery.yml': "version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: 'exit 3' }\n" });
    assert.equal(cli(dir, ['run', 'ci']).code, 1);
    writeFiles(dir, { 'delivery.yml': "version: 1\npipelines:\n  ci:\n    jobs:\n      a: { run: 'touch ran', needs: [zz] }\n" });
    const r = cli(dir, ['run', 'ci']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^delivery\.yml:5:38: error: job "a" needs "zz"/m);
    assert.match(r.stderr, /nothing was run/);
    assert.equal(fs.existsSync(path.join(dir, 'ran')), false);
  });

  it('explains unknown pipelines and commands', () => {
    const dir = tempDir();
    writeFiles(dir, { 'delivery.yml': YAML });
    const r = cli(dir, ['run', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no pipeline "nope" \(pipelines: delivery:ci "CI"\)/);
    assert.equal(cli(dir, ['frobnicate']).code, 2);
  });
});
