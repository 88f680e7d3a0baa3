// The git store of an environment's team state (lock + history as refs on the deploy remote), against real bare
// repositories reached by path, file:// and ssh:// (a real sshd), from several clones at once: each clone has its own
// store instance and every git call is its own process, as on different machines.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { gitStateStore } from '../../src/adapters/deploy/state/git';
import type { SshTarget } from '../../src/core/environments/config';
import type { HistoryEvent, LockHolder, TeamStateStore } from '../../src/core/environments/teamState';
import { freePort } from '../support/targets/common';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, gitRepo, tempDir } from '../support/tmp';

const ENV = 'staging';

interface Remote {
  bare: string;
  fileUrl: string;
  sshUrl(port: number, user: string): string;
}

function holder(n: number, over: Partial<LockHolder> = {}): LockHolder {
  return {
    token: `token-${n}-${Math.random().toString(36).slice(2)}`,
    user: `dev${n}`,
    host: `laptop-${n}`,
    pid: 1000 + n,
    pidStartTime: 424242 + n,
    deployId: `deploy-${n}`,
    sha: 'a'.repeat(40),
    message: `release "${n}"\nsecond line, ünïcode`,
    since: 1_700_000_000_000 + n,
    renewedAt: 1_700_000_000_500 + n,
    expiresAfterMs: 300_000,
    ...over,
  };
}

function event(who: string, i: number): HistoryEvent {
  return { v: 1, id: `${who}-${i}`, action: 'deploy', status: 'success', user: who, host: `${who}-host`, fromSha: null, toSha: 'b'.repeat(40), startedAt: 1_700_000_000_000 + i, durationMs: 1000 + i, message: null };
}

/** The refs the remote has (name -> sha). */
function remoteRefs(bare: string): Map<string, string> {
  const out = git(bare, 'for-each-ref', '--format=%(refname) %(objectname)');
  return new Map(out.split('\n').filter((l) => l).map((l) => [l.split(' ')[0], l.split(' ')[1]] as [string, string]));
}

describe('team state in a git remote (refs/delivery/<environment>/*)', function () {
  this.timeout(60_000);
  let base: string;
  let origin: string;

  before(() => {
    base = tempDir('delivery-gitstate-');
    origin = gitRepo({ 'app.js': 'console.log(1)\n' });
  });
  after(() => cleanupTempDirs());

  /** A fresh bare remote holding branch main of `origin`; `refuse`: its pre-receive hook refuses refs/delivery/*. */
  function newRemote(name: string, opts: { refuse?: string } = {}): Remote {
    const bare = path.join(base, `${name}.git`);
    git(base, 'init', '-q', '--bare', '-b', 'main', bare);
    git(origin, 'push', '-q', bare, 'main');
    if (opts.refuse) {
      const hook = `#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/delivery/*) echo "${opts.refuse}" >&2; exit 1;; esac; done\n`;
      fs.writeFileSync(path.join(bare, 'hooks', 'pre-receive'), hook, { mode: 0o755 });
    }
    return { bare, fileUrl: `file://${bare}`, sshUrl: (port, user) => `ssh://${user}@127.0.0.1:${port}${bare}` };
  }

  /** A clone of the remote: the user's working copy the store runs git in (its `origin` is the remote's path). */
  function clone(r: Remote): string {
    const dir = path.join(tempDir('delivery-clone-'), 'work');
    git(base, 'clone', '-q', r.bare, dir);
    return dir;
  }

  const store = (folder: string, remote: string, ssh: SshTarget | null = null, environment = ENV): TeamStateStore =>
    gitStateStore({ kind: 'git', remote, ssh }, { environment, folder });

  it('reads no lock on an empty remote, and a created lock back whole from another clone; branches are untouched', async () => {
    const r = newRemote('empty');
    const a = store(clone(r), 'origin');
    const bFolder = clone(r);
    const b = store(bFolder, r.fileUrl);
    assert.equal(a.kind, 'git');
    assert.equal(a.where, 'git remote origin');
    const before = remoteRefs(r.bare);
    assert.equal(await a.readLock(), null);
    assert.deepEqual(await a.readHistory(), []);

    const mine = holder(1);
    assert.deepEqual(await a.createLock(mine), { ok: true });
    assert.deepEqual(await b.readLock(), { holder: mine, ageMs: null });
    // Another environment of the same remote has its own lock.
    assert.equal(await store(bFolder, 'origin', null, 'production').readLock(), null);

    const after = remoteRefs(r.bare);
    assert.equal(after.get('refs/heads/main'), before.get('refs/heads/main'));
    assert.deepEqual([...after.keys()].sort(), ['refs/delivery/staging/lock', 'refs/heads/main']);
    // The lock commit carries no files; the clones keep no cache refs after reading.
    assert.equal(git(r.bare, 'rev-parse', 'refs/delivery/staging/lock^{tree}'), git(r.bare, 'hash-object', '-t', 'tree', '/dev/null'));
    assert.equal(git(bFolder, 'for-each-ref', 'refs/delivery-cache'), '');
  });

  it('lets exactly one of 8 clones creating the lock at once win; the others get the winner', async () => {
    const r = newRemote('race');
    const folders = Array.from({ length: 8 }, () => clone(r));
    // Half reach the remote by its remote name (a plain path), half by file:// URL.
    const stores = folders.map((f, i) => store(f, i % 2 ? 'origin' : r.fileUrl));
    const holders = stores.map((_, i) => holder(i));
    const t0 = Date.now();
    const results = await Promise.all(stores.map((s, i) => s.createLock(holders[i])));
    console.log(`      8 concurrent createLock: ${Date.now() - t0} ms`);
    const winners = results.flatMap((res, i) => (res.ok ? [i] : []));
    assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
    const winner = holders[winners[0]];
    for (const res of results) if (!res.ok) assert.deepEqual(res.current, { holder: winner, ageMs: null });
    assert.deepEqual((await stores[0].readLock())?.holder, winner);
    for (const f of folders) assert.equal(git(f, 'for-each-ref', 'refs/delivery-cache'), '');
  });

  it('swaps the lock only with the right token: a wrong one changes nothing, the right one replaces or removes it', async () => {
    const r = newRemote('swap');
    const a = store(clone(r), 'origin');
    const b = store(clone(r), r.bare);
    const first = holder(1);
    assert.equal(await a.swapLock(first.token, holder(9)), false, 'no lock: nothing to swap');
    assert.equal(await b.readLock(), null);
    assert.deepEqual(await a.createLock(first), { ok: true });
    const lockSha = remoteRefs(r.bare).get('refs/delivery/staging/lock');

    assert.equal(await b.swapLock('not-the-token', holder(2)), false);
    assert.equal(await b.swapLock('not-the-token', null), false);
    assert.equal(remoteRefs(r.bare).get('refs/delivery/staging/lock'), lockSha);
    assert.deepEqual((await a.readLock())?.holder, first);

    const renewed = { ...first, renewedAt: first.renewedAt + 60_000 };
    assert.equal(await b.swapLock(first.token, renewed), true);
    assert.deepEqual((await a.readLock())?.holder, renewed);
    assert.equal(await a.swapLock(first.token, null), true);
    assert.equal(await b.readLock(), null);
    assert.equal(remoteRefs(r.bare).has('refs/delivery/staging/lock'), false);
    assert.equal(await a.swapLock(first.token, null), false, 'already removed');

    // Two clones renewing the same lock at once: each push is leased on the commit it read, so neither overwrites
    // a renewal it has not seen; the lock ends as one of the two.
    const again = holder(3);
    assert.deepEqual(await a.createLock(again), { ok: true });
    const swaps = await Promise.all([a.swapLock(again.token, { ...again, renewedAt: 1 }), b.swapLock(again.token, { ...again, renewedAt: 2 })]);
    assert.ok(swaps.includes(true), `swaps: ${swaps}`);
    const final = (await a.readLock())?.holder;
    assert.ok(final && (final.renewedAt === 1 || final.renewedAt === 2));
    // An unreadable lock commit (not ours) reads as an abandoned lock whose token swaps exactly that commit away.
    const folder = clone(r);
    const tree = git(folder, 'hash-object', '-t', 'tree', '-w', '/dev/null');
    const junk = git(folder, 'commit-tree', '-m', 'not a holder', tree);
    git(folder, 'push', '-q', '--force', 'origin', `${junk}:refs/delivery/staging/lock`);
    const odd = await a.readLock();
    assert.equal(odd?.holder.expiresAfterMs, 0);
    assert.equal(await b.swapLock(odd!.holder.token, again), true);
    assert.deepEqual((await a.readLock())?.holder, again);
  });

  it('keeps all events of three stores (two clones) appending at once, each in its own order, and skips an entry it cannot read', async () => {
    const r = newRemote('history');
    const aFolder = clone(r);
    const a = store(aFolder, 'origin');
    const b = store(clone(r), r.fileUrl);
    // A second process in the same clone as a (the editor and the CLI): reads never share a cache ref.
    const c = store(aFolder, 'origin');
    await a.append(event('first', 0));
    // Someone else's commit on the chain, not an event: skipped, and later appends go on after it.
    const other = clone(r);
    git(other, 'fetch', '-q', 'origin', 'refs/delivery/staging/history');
    const tree = git(other, 'hash-object', '-t', 'tree', '-w', '/dev/null');
    const junk = git(other, 'commit-tree', '-p', 'FETCH_HEAD', '-m', '{"not": "an event"', tree);
    git(other, 'push', '-q', 'origin', `${junk}:refs/delivery/staging/history`);

    const t0 = Date.now();
    const writers = [
      { who: 'alice', s: a, n: 10 },
      { who: 'bob', s: b, n: 10 },
      { who: 'carol', s: c, n: 5 },
    ];
    await Promise.all(
      writers.map(async ({ who, s, n }) => {
        for (let i = 0; i < n; i++) await s.append(event(who, i));
      }),
    );
    const ms = Date.now() - t0;
    const seen = await store(clone(r), r.fileUrl).readHistory();
    assert.equal(seen.length, 26, JSON.stringify(seen.map((e) => e.id)));
    assert.deepEqual(seen[0], event('first', 0));
    for (const { who, n } of writers) {
      assert.deepEqual(
        seen.filter((e) => e.user === who),
        Array.from({ length: n }, (_, i) => event(who, i)),
      );
    }
    // Every reader gets the same order (the chain's, not the clocks').
    assert.deepEqual(await a.readHistory(), seen);
    assert.deepEqual(await b.readHistory(), seen);
    assert.equal(Number(git(r.bare, 'rev-list', '--count', 'refs/delivery/staging/history')), 27);
    assert.equal(git(aFolder, 'for-each-ref', 'refs/delivery-cache'), '');
    console.log(`      25 concurrent appends from 3 stores in 2 clones: ${ms} ms`);
  });

  it('fails with a clear error naming the remote when it refuses the refs, and writes nothing', async () => {
    const r = newRemote('frozen', { refuse: 'refs/delivery is not allowed here' });
    const folder = clone(r);
    const s = store(folder, 'origin');
    const objects = () => git(r.bare, 'count-objects', '-v');
    const objectsBefore = objects();
    assert.equal(await s.readLock(), null, 'reading still works');
    await assert.rejects(s.append(event('x', 1)), (e: Error) => {
      assert.match(e.message, /git remote origin/);
      assert.match(e.message, /refs\/delivery\/staging\/history/);
      assert.match(e.message, /pre-receive hook declined/);
      assert.match(e.message, /refs\/delivery is not allowed here/);
      return true;
    });
    await assert.rejects(s.createLock(holder(1)), /git remote origin.*pre-receive hook declined/);
    assert.deepEqual([...remoteRefs(r.bare).keys()], ['refs/heads/main']);
    assert.equal(objects(), objectsBefore, 'the refused objects were not kept either');
    assert.equal(git(folder, 'for-each-ref', 'refs/delivery-cache'), '');
  });

  it('fails with a clear error naming the remote when it does not exist, and refuses unsafe names without running git', async () => {
    const folder = clone(newRemote('exists'));
    const missing = `file://${path.join(base, 'no-such.git')}`;
    const s = store(folder, missing);
    for (const op of [() => s.readLock(), () => s.append(event('x', 1)), () => s.createLock(holder(1)), () => s.readHistory()]) {
      await assert.rejects(op(), (e: Error) => {
        assert.ok(e.message.includes(`git remote ${missing}`), e.message);
        assert.match(e.message, /does not appear to be a git repository/);
        return true;
      });
    }
    await assert.rejects(store(folder, 'upstream').readLock(), /git remote upstream.*'upstream' does not appear to be a git repository/);
    await assert.rejects(store(folder, '--upload-pack=touch /tmp/x').readLock(), /starts with "-"/);
    await assert.rejects(store(folder, 'origin', null, '../x').readLock(), /cannot name a git ref/);
    await assert.rejects(store(folder, 'origin', null, 'a..b').readLock(), /cannot name a git ref/);
  });

  describe('over ssh (a real sshd; the ssh options reach git through the GIT_SSH wrapper)', () => {
    let sshd: Sshd;
    before(async function () {
      requireTool(this, sshdUnavailable());
      sshd = await startSshd(path.join(tempDir(), 'sshd'));
    });
    after(async () => sshd?.stop());

    it('takes, reads and releases the lock and appends history through ssh://', async () => {
      const r = newRemote('viassh');
      const url = r.sshUrl(sshd.port, sshd.user);
      const a = store(clone(r), url, sshd.target());
      const b = store(clone(r), url, sshd.target());
      const hs = [holder(1), holder(2)];
      const results = await Promise.all([a.createLock(hs[0]), b.createLock(hs[1])]);
      assert.equal(results.filter((x) => x.ok).length, 1);
      const current = await b.readLock();
      assert.deepEqual(current, { holder: hs[results.findIndex((x) => x.ok)], ageMs: null });
      await Promise.all([a.append(event('a', 1)), b.append(event('b', 1))]);
      assert.deepEqual((await a.readHistory()).map((e) => e.id).sort(), ['a-1', 'b-1']);
      assert.equal(await a.swapLock(current.holder.token, null), true);
      assert.equal(await b.readLock(), null);
      assert.ok(remoteRefs(r.bare).has('refs/delivery/staging/history'));
      // Without the target's key and known_hosts (no wrapper), the same URL is refused: the wrapper did it.
      await assert.rejects(store(clone(r), url, null).readLock(), /git remote ssh:\/\/.*(Host key verification failed|Permission denied|Could not read from remote)/);
    });

    it('fails with a clear error naming the remote when its host cannot be reached', async () => {
      const port = await freePort(); // nothing listens there
      const url = `ssh://root@127.0.0.1:${port}/srv/app.git`;
      const s = store(clone(newRemote('unreachable')), url, sshd.target({ port }));
      for (const op of [() => s.readLock(), () => s.append(event('x', 1))]) {
        await assert.rejects(op(), (e: Error) => {
          assert.ok(e.message.includes(`git remote ${url}`), e.message);
          assert.match(e.message, /Connection refused/);
          return true;
        });
      }
    });

    it('kills git and its ssh when the signal aborts', async () => {
      // A server that accepts and never answers: ssh waits for its banner until we abort.
      const sockets: net.Socket[] = [];
      let closed = 0;
      const srv = net.createServer((c) => {
        sockets.push(c);
        c.resume(); // 'close' comes only once the stream is read to its end
        c.on('close', () => closed++);
        c.on('error', () => undefined);
      });
      const port = await freePort();
      await new Promise<void>((res) => srv.listen(port, '127.0.0.1', res));
      try {
        const folder = clone(newRemote('abort'));
        const s = store(folder, `ssh://root@127.0.0.1:${port}/x.git`, sshd.target({ port, connectTimeoutSec: 30 }));
        const ac = new AbortController();
        const t0 = Date.now();
        const p = s.readLock(ac.signal);
        while (sockets.length === 0 && Date.now() - t0 < 10_000) await new Promise((res) => setTimeout(res, 20));
        assert.equal(sockets.length, 1, 'ssh connected');
        ac.abort();
        await assert.rejects(p, /cancelled/);
        const t1 = Date.now();
        while (closed === 0 && Date.now() - t1 < 5_000) await new Promise((res) => setTimeout(res, 20));
        assert.equal(closed, 1, 'the ssh connection was closed (ssh killed)');
        assert.ok(Date.now() - t0 < 8_000);
        assert.ok(fs.existsSync(folder));
      } finally {
        for (const c of sockets) c.destroy();
        srv.close();
      }
    });
  });
});
