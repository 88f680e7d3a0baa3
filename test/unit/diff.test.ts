// Parsing git's -z formats (what the diff and status views are built from), and how an
// environment's distance reads. Inputs are byte-for-byte what git 2.39 prints.
import * as assert from 'node:assert/strict';
import { diffTotals, isSafeRevision, parseLeftRightCount, parseLeftRightLog, parsePorcelainZ, parseRawNumstat } from '../../src/core/environments/diff';
import { distanceText, StatusCache } from '../../src/core/environments/status';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('environment diffs: parsing git output', () => {
  it('--raw --numstat -z: statuses, renames with the old path, binary files, names with tabs and newlines', () => {
    const out = [
      ':000000 100644 0000000 8ba3a16 A', 'added.txt',
      ':100644 100644 8352675 ef2caff M', 'bin.dat',
      ':100644 000000 abaddc0 0000000 D', 'del.txt',
      ':100644 100644 0fdf397 0fdf397 R100', 'old.txt', 'new name.txt',
      ':000000 100644 0000000 b78059d A', 't\tx\n.txt',
      ':100644 120000 1111111 2222222 T', 'link',
      '1\t0\tadded.txt', '-\t-\tbin.dat', '0\t1\tdel.txt', '0\t0\t', 'old.txt', 'new name.txt', '1\t0\tt\tx\n.txt', '1\t1\tlink', '',
    ].join('\0');
    assert.deepEqual(parseRawNumstat(out), [
      { path: 'added.txt', oldPath: null, status: 'A', additions: 1, deletions: 0, binary: false },
      { path: 'bin.dat', oldPath: null, status: 'M', additions: 0, deletions: 0, binary: true },
      { path: 'del.txt', oldPath: null, status: 'D', additions: 0, deletions: 1, binary: false },
      { path: 'new name.txt', oldPath: 'old.txt', status: 'R', additions: 0, deletions: 0, binary: false },
      { path: 't\tx\n.txt', oldPath: null, status: 'A', additions: 1, deletions: 0, binary: false },
      { path: 'link', oldPath: null, status: 'M', additions: 1, deletions: 1, binary: false },
    ]);
    assert.deepEqual(parseRawNumstat(''), []);
    assert.throws(() => parseRawNumstat(':100644 100644 1 2 M\0a\0'), /fewer records/);
  });

  it('a path that starts with ":" is still a path', () => {
    const out = [':000000 100644 0000000 8ba3a16 A', ':colon', '2\t0\t:colon', ''].join('\0');
    assert.deepEqual(parseRawNumstat(out), [{ path: ':colon', oldPath: null, status: 'A', additions: 2, deletions: 0, binary: false }]);
  });

  it('log --left-right -z: commits only in from (to revert) and only in to (to deploy), subjects kept whole', () => {
    const out = [`>${A}\x1fAlice\x1f2024-05-01T10:00:00+02:00\x1fAdd login`, `<${B}\x1fBob Builder\x1f2024-04-30T09:00:00Z\x1fHotfix: a\x1fb`, ''].join('\0');
    assert.deepEqual(parseLeftRightLog(out), {
      right: [{ sha: A, author: 'Alice', date: '2024-05-01T10:00:00+02:00', subject: 'Add login' }],
      left: [{ sha: B, author: 'Bob Builder', date: '2024-04-30T09:00:00Z', subject: 'Hotfix: a\x1fb' }],
    });
    assert.deepEqual(parseLeftRightLog(''), { left: [], right: [] });
    assert.throws(() => parseLeftRightLog('>not-a-sha\x1fx\x1fy\x1fz'), /unexpected git log record/);
  });

  it('rev-list --left-right --count and porcelain v1 -z (renames carry the old path)', () => {
    assert.deepEqual(parseLeftRightCount('3\t12\n'), { left: 3, right: 12 });
    assert.throws(() => parseLeftRightCount('fatal: bad revision'), /unexpected/);
    assert.deepEqual(parsePorcelainZ(' M src/a.ts\0R  new.ts\0old.ts\0?? notes/\0A  x y.txt\0'), [
      { path: 'src/a.ts', status: ' M' },
      { path: 'new.ts', status: 'R ' },
      { path: 'notes/', status: '??' },
      { path: 'x y.txt', status: 'A ' },
    ]);
  });

  it('only revision-like values may reach git', () => {
    for (const ok of ['abc1234', A, 'v1.2.3', 'release/2024-05', 'build+42', 'main']) assert.ok(isSafeRevision(ok), ok);
    for (const bad of ['-x', '--upload-pack=x', 'a..b', 'HEAD', 'FETCH_HEAD', 'main@{1}', 'x.lock', 'a b', 'a;b', '$(id)', '', 'trailing/']) {
      assert.ok(!isSafeRevision(bad), bad);
    }
  });

  it('totals for a summary line', () => {
    const f = (additions: number, deletions: number, binary = false) => ({ path: 'p', oldPath: null, status: 'M' as const, additions, deletions, binary });
    assert.deepEqual(diffTotals([f(3, 1), f(0, 0, true), f(2, 5)]), { files: 3, additions: 5, deletions: 6, binary: 1 });
  });
});

describe('environment status: how it reads', () => {
  it('distance in words', () => {
    assert.equal(distanceText({ ahead: 0, behind: 0 }), 'up to date');
    assert.equal(distanceText({ ahead: 3, behind: 0 }), '3 to deploy');
    assert.equal(distanceText({ ahead: 2, behind: 1 }), '1 to revert, 2 to deploy');
    assert.equal(distanceText({ ahead: null, behind: null }), null);
  });

  it('the cache: reuse within the TTL, recompute after it, drop results not worth keeping', async () => {
    let now = 0;
    const cache = new StatusCache<string>(1000, () => now);
    let n = 0;
    const compute = async () => `v${++n}`;
    assert.equal(await cache.get('k', false, compute), 'v1');
    now = 999;
    assert.equal(await cache.get('k', false, compute), 'v1');
    now = 2000;
    assert.equal(await cache.get('k', false, compute), 'v2');
    assert.equal(await cache.get('k', true, compute), 'v3');
    assert.equal(await cache.get('c', false, async () => 'cancelled', (v) => v !== 'cancelled'), 'cancelled');
    assert.equal(await cache.get('c', false, compute), 'v4', 'a dropped result is computed again');
  });
});
