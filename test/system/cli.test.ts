import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, tempDir, writeFiles } from '../support/tmp';

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
      steps: [{ name: 'unit', kind: 'run' }],
    });
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
    assert.match(r.stderr, /no pipeline "nope" \(pipelines: delivery:ci\)/);
    assert.equal(cli(dir, ['frobnicate']).code, 2);
  });
});
