// The run history store against a real ended process (its pid is gone); the rest is in test/unit/runStore.test.ts.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileRunStore } from '../../src/adapters/runStore';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { runRecord } from '../support/runRecord';

const record = runRecord;

describe('run history store', () => {
  after(cleanupTempDirs);

  it('marks a running record whose process is gone as interrupted', async () => {
    const store = new FileRunStore(tempDir());
    const dead = spawnSync('true').pid!;
    const r = record({ status: 'running', finishedAt: null, pid: dead, jobs: [{
      id: 'j', name: 'j', stage: null, deps: [], status: 'running', allowFailure: false, exitCode: null, startedAt: 1, durationMs: 0,
      attempts: 1, reason: null, steps: [], tests: null, artifacts: [], logFile: null,
    }] });
    await store.save(r);
    const read = await store.read(r.id);
    assert.equal(read?.status, 'interrupted');
    assert.equal(read?.jobs[0].status, 'cancelled');
    assert.match(read?.jobs[0].reason ?? '', /interrupted/);
    // and it stays interrupted on disk
    const raw = JSON.parse(fs.readFileSync(path.join(store.runsDir, r.id, 'run.json'), 'utf8')) as RunRecord;
    assert.equal(raw.status, 'interrupted');
  });
});
