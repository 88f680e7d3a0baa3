import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileRunStore } from '../../src/adapters/runStore';
import { folderStateDir } from '../../src/adapters/stateDir';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { runRecord } from '../support/runRecord';

const record = runRecord;

describe('run history store', () => {
  after(cleanupTempDirs);

  it('saves and lists runs newest first', async () => {
    const store = new FileRunStore(tempDir());
    const a = record({ id: '20260101-000000-000-aaaaaa' });
    const b = record({ id: '20260102-000000-000-bbbbbb' });
    await store.save(a);
    await store.save(b);
    assert.deepEqual((await store.list()).map((r) => r.id), [b.id, a.id]);
    assert.deepEqual((await store.list(1)).map((r) => r.id), [b.id]);
  });

  it('keeps a running record of a live process running', async () => {
    const store = new FileRunStore(tempDir());
    const r = record({ status: 'running', finishedAt: null });
    await store.save(r);
    assert.equal((await store.read(r.id))?.status, 'running');
  });

  it('writes atomically: no temp files left, concurrent writers leave one whole record', async () => {
    const store = new FileRunStore(tempDir());
    const r = record();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save({ ...r, durationMs: i })));
    const dir = path.join(store.runsDir, r.id);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
    assert.ok(saved.durationMs >= 0 && saved.durationMs < 20);
  });

  it('skips unreadable records instead of failing', async () => {
    const store = new FileRunStore(tempDir());
    const good = record({ id: '20260101-000000-000-aaaaaa' });
    await store.save(good);
    fs.mkdirSync(path.join(store.runsDir, '20260103-000000-000-cccccc'));
    fs.writeFileSync(path.join(store.runsDir, '20260103-000000-000-cccccc', 'run.json'), '{"half');
    assert.deepEqual((await store.list()).map((r) => r.id), [good.id]);
  });

  it('logs a line of several MB exactly, characters outside the BMP included wherever the pieces meet', async () => {
    const store = new FileRunStore(tempDir());
    const r = record();
    await store.save(r);
    const log = store.openLog(r, 'job');
    // Surrogate pairs (😀) right at and around each 1 M-character piece boundary, and 2- and 3-byte characters.
    const M = 1 << 20;
    let line = '';
    for (const at of [M - 2, M - 1, M, 2 * M - 1, 3 * M]) line += 'é€x'.repeat(Math.max(0, Math.floor((at - line.length) / 3))).padEnd(at - line.length, 'a') + '😀';
    log.write('stdout', 'short before');
    log.write('stdout', line);
    log.write('stdout', 'short after');
    await log.close();
    assert.equal(fs.readFileSync(log.path, 'utf8'), `short before\n${line}\nshort after\n`);
  });

  it('prunes the oldest runs beyond the limit', async () => {
    const store = new FileRunStore(tempDir());
    for (let i = 1; i <= 5; i++) await store.save(record({ id: `2026010${i}-000000-000-aaaaaa` }));
    assert.equal(await store.prune(3), 2);
    assert.deepEqual((await store.list()).map((r) => r.id.slice(0, 8)), ['20260105', '20260104', '20260103']);
  });

  it('keys state directories on the folder path', () => {
    const root = tempDir();
    const a = folderStateDir('/some/where/app', root);
    const b = folderStateDir('/other/place/app', root);
    assert.notEqual(a, b);
    assert.ok(path.basename(a).startsWith('app-'));
    assert.equal(folderStateDir('/some/where/app', root), a);
  });
});
