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

  it('job logs: opened while the job starts, nothing lost (lines before the open, a very long line at once, a log folder that went)', async () => {
    const store = new FileRunStore(tempDir());
    const r = record({});
    // Lines written before the file is open are kept, in order.
    const a = store.openLog(r, 'a');
    for (let i = 0; i < 1000; i++) a.write('stdout', `line ${i}`);
    await a.close();
    const aFile = path.join(store.runDir(r.id), 'logs');
    const [aName] = fs.readdirSync(aFile).filter((f) => f.startsWith('a-'));
    const lines = fs.readFileSync(path.join(aFile, aName), 'utf8').split('\n');
    assert.equal(lines.length, 1001);
    assert.equal(lines[0], 'line 0');
    assert.equal(lines[999], 'line 999');
    // A very long line before the file is open: opened at once, after what was buffered.
    const b = store.openLog(r, 'b');
    b.write('stdout', 'first');
    const piece = Buffer.alloc(2 << 20, 0x61);
    b.write('stdout', '', { head: 'aaaaaaaa', pieces: [piece, piece], bytes: piece.length * 2, headBytes: 8 });
    b.write('stdout', 'last');
    await b.close();
    const [bName] = fs.readdirSync(aFile).filter((f) => f.startsWith('b-'));
    const text = fs.readFileSync(path.join(aFile, bName), 'latin1');
    assert.equal(text.length, 'first\n'.length + (4 << 20) + 1 + 'last\n'.length);
    assert.ok(text.startsWith('first\naaaa') && text.endsWith('aaaa\nlast\n'));
    // The run's log folder removed after the first log: the next one makes it again.
    fs.rmSync(aFile, { recursive: true, force: true });
    const c = store.openLog(r, 'c');
    c.write('system', 'still logged');
    await c.close();
    assert.deepEqual(fs.readdirSync(aFile).map((f) => f.replace(/-[0-9a-f]+\.log$/, '')), ['c']);
  });
});
