// The ssh team-state store against a real OpenSSH sshd on 127.0.0.1: the lock is created by exactly one of many
// racing deployers, swapped only with its token, the history keeps every writer's events in order, values travel
// as data (never as shell code), and a store that cannot be written fails with an Error naming it, leaving nothing
// half-written.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sshStateStore } from '../../src/adapters/deploy/state/ssh';
import type { HistoryEvent, LockHolder, TeamStateStore } from '../../src/core/environments/teamState';
import { requireTool } from '../support/requireTool';
import { commandLine } from '../support/targets/common';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const EVIL = (marker: string) => `$(touch ${marker}) \`touch ${marker}\` ; touch ${marker} '"\\ $HOME %s\n\t\u2028 ünï`;

function holder(n: number, over: Partial<LockHolder> = {}): LockHolder {
  return {
    token: randomBytes(16).toString('hex'),
    user: `user${n}`,
    host: `machine${n}`,
    pid: 1000 + n,
    pidStartTime: 424242 + n,
    deployId: `d-${n}`,
    sha: 'a'.repeat(40),
    message: `deploy ${n}`,
    since: 1_700_000_000_000 + n,
    renewedAt: 1_700_000_000_500 + n,
    expiresAfterMs: 300_000,
    ...over,
  };
}

function event(id: string, message: string | null = null): HistoryEvent {
  return { v: 1, id, action: 'deploy', status: 'success', user: 'u', host: 'h', fromSha: null, toSha: 'b'.repeat(40), startedAt: 1_700_000_000_000, durationMs: 1200, message };
}

describe('team state: ssh store (real sshd)', function () {
  let sshd: Sshd;
  let root: string;
  const mounts: string[] = [];

  before(async function () {
    requireTool(this, sshdUnavailable());
    requireTool(this, fs.existsSync('/usr/bin/flock') ? null : 'flock is not installed (Debian package util-linux)');
    root = tempDir('delivery-state-ssh-');
    sshd = await startSshd(path.join(root, 'sshd'));
  });
  afterEach(() => {
    for (const m of mounts.splice(0)) execFileSync('umount', [m]);
  });
  after(async () => {
    await sshd?.stop();
    cleanupTempDirs();
  });

  const storeAt = (dir: string, over: Parameters<Sshd['target']>[0] = {}, target = sshd): TeamStateStore =>
    sshStateStore({ kind: 'ssh', ssh: target.target(over), dir }, { environment: 'staging', cwd: root });
  const fresh = () => path.join(root, `state-${randomBytes(4).toString('hex')}`, 'staging');

  it('reads no lock from an empty store, then the holder it created, all fields, with the host-side age', async () => {
    const dir = fresh();
    const store = storeAt(dir);
    assert.equal(store.kind, 'ssh');
    assert.equal(store.where, `root@127.0.0.1:${dir}`);
    assert.equal(await store.readLock(), null);
    assert.deepEqual(await store.readHistory(), []);
    const mine = holder(1, { pidStartTime: null, deployId: null, sha: null, message: null, expiresAfterMs: null });
    assert.deepEqual(await store.createLock(mine), { ok: true });
    const read = await store.readLock();
    assert.deepEqual(read?.holder, mine);
    assert.ok(read.ageMs !== null && read.ageMs >= 0 && read.ageMs <= 5000, `age ${read.ageMs}`);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.mutex', 'lock.json']);
    // The age is the host's: now minus lock.json's modification time there.
    const back = Date.now() / 1000 - 100;
    fs.utimesSync(path.join(dir, 'lock.json'), back, back);
    const aged = await store.readLock();
    assert.ok(aged?.ageMs !== null && aged!.ageMs! >= 99_000 && aged!.ageMs! <= 103_000, `age ${aged?.ageMs}`);
  });

  it('lets exactly one of 8 concurrent creators (8 ssh sessions) take the lock; the others get the winner', async () => {
    const dir = fresh();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const holders = Array.from({ length: 8 }, (_, i) => holder(i));
    // The 8 sessions connect at different moments; a gate (another holder of the mutex) lets them at the lock together.
    const results = await together(dir, holders.map((h) => () => storeAt(dir).createLock(h)));
    const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
    assert.equal(winners.length, 1, JSON.stringify(results));
    const winner = holders[winners[0]];
    for (const r of results) if (!r.ok) assert.deepEqual(r.current.holder, winner);
    assert.deepEqual((await storeAt(dir).readLock())?.holder, winner);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.mutex', 'lock.json'], 'no temporary file left');
  });

  it('swaps the lock only with its token: a wrong token changes nothing, the right one replaces or removes it', async () => {
    const store = storeAt(fresh());
    const first = holder(1);
    assert.equal(await store.swapLock(first.token, holder(9)), false, 'no lock to swap');
    await store.createLock(first);
    const other = holder(2);
    assert.equal(await store.swapLock(other.token, other), false);
    assert.equal(await store.swapLock(first.token.slice(0, 8), null), false, 'a prefix of the token is not the token');
    assert.deepEqual((await store.readLock())?.holder, first);
    const renewed = { ...first, renewedAt: first.renewedAt + 60_000 };
    assert.equal(await store.swapLock(first.token, renewed), true);
    assert.deepEqual((await store.readLock())?.holder, renewed);
    assert.equal(await store.swapLock(first.token, other), true);
    assert.deepEqual((await store.readLock())?.holder, other);
    assert.equal(await store.swapLock(first.token, null), false, 'the old token no longer works');
    assert.equal(await store.swapLock(other.token, null), true);
    assert.equal(await store.readLock(), null);
    await assert.rejects(store.swapLock('x"; rm -rf /', null), /ssh store root@127\.0\.0\.1:.*invalid lock token/);
  });

  it('keeps all events of two concurrent writers, each in its own order, and skips garbage and an unfinished line', async () => {
    const dir = fresh();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const [a, b] = [storeAt(dir), storeAt(dir)];
    // Each round, both writers wait at the gate and then append at the same moment.
    for (let i = 0; i < 10; i++) await together(dir, [() => a.append(event(`a${i}`)), () => b.append(event(`b${i}`))]);
    let ids = (await a.readHistory()).map((e) => e.id);
    assert.equal(ids.length, 20, ids.join(' '));
    assert.deepEqual(ids.filter((x) => x.startsWith('a')), Array.from({ length: 10 }, (_, i) => `a${i}`));
    assert.deepEqual(ids.filter((x) => x.startsWith('b')), Array.from({ length: 10 }, (_, i) => `b${i}`));
    assert.deepEqual((await b.readHistory())[3], event(ids[3]));
    // Garbage lines, then a line a killed writer left without its newline.
    const file = path.join(dir, 'history.jsonl');
    fs.appendFileSync(file, 'not json\n{"id":1}\n\n' + JSON.stringify(event('half')).slice(0, 30));
    ids = (await a.readHistory()).map((e) => e.id);
    assert.equal(ids.length, 20);
    // The next append closes the unfinished line first, so its own line stays whole.
    await b.append(event('after'));
    const after = (await a.readHistory()).map((e) => e.id);
    assert.deepEqual(after, [...ids, 'after']);
  });

  it('stores values with shell metacharacters verbatim, in a folder whose name has them too, and runs nothing', async () => {
    const marker = path.join(root, `pwned-${randomBytes(4).toString('hex')}`);
    const dir = path.join(root, `odd $(touch ${marker}) \`touch ${marker}\` ; x`, '-staging');
    const store = storeAt(dir);
    const mine = holder(3, { message: EVIL(marker), user: EVIL(marker) });
    assert.deepEqual(await store.createLock(mine), { ok: true });
    assert.deepEqual((await store.readLock())?.holder, mine);
    const next = { ...mine, message: `${EVIL(marker)} again` };
    assert.equal(await store.swapLock(mine.token, next), true);
    assert.deepEqual((await store.readLock())?.holder, next);
    const e = { ...event('evil', EVIL(marker)), user: EVIL(marker) };
    await store.append(e);
    assert.deepEqual(await store.readHistory(), [e]);
    assert.ok(fs.existsSync(path.join(dir, 'lock.json')), 'the folder is the one named, literally');
    assert.equal(fs.existsSync(marker), false, 'nothing was executed');
  });

  it('puts a relative folder under the ssh user\'s home ($HOME of the session)', async () => {
    const name = `.delivery-test-${randomBytes(4).toString('hex')}`;
    const home = path.join(root, 'sshd', 'home'); // the test sshd's sessions have HOME there
    try {
      const store = storeAt(`${name}/staging`);
      assert.equal(store.where, `root@127.0.0.1:${name}/staging`);
      await store.append(event('rel'));
      assert.equal(fs.readFileSync(path.join(home, name, 'staging', 'history.jsonl'), 'utf8'), `${JSON.stringify(event('rel'))}\n`);
    } finally {
      fs.rmSync(path.join(home, name), { recursive: true, force: true });
    }
  });

  it('fails with an Error naming the store when the folder cannot be made (a file on its path)', async () => {
    const file = path.join(root, `a-file-${randomBytes(4).toString('hex')}`);
    fs.writeFileSync(file, 'keep');
    const store = storeAt(path.join(file, 'staging'));
    const where = /^Error: ssh store root@127\.0\.0\.1:\/.*a-file-[0-9a-f]+\/staging: .*Not a directory/;
    await assert.rejects(store.createLock(holder(1)), (e: Error) => where.test(String(e)));
    await assert.rejects(store.append(event('x')), (e: Error) => where.test(String(e)));
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep');
  });

  it('fails on a read-only file system and leaves the store as it was', async () => {
    const mnt = path.join(root, `ro-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    mounts.push(mnt);
    const dir = path.join(mnt, 'staging');
    const store = storeAt(dir);
    const mine = holder(1);
    await store.createLock(mine);
    await store.append(event('one'));
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const ro = /ssh store root@127\.0\.0\.1:\/.*ro-[0-9a-f]+\/(staging|other): .*Read-only file system/;
    await assert.rejects(store.append(event('two')), ro);
    await assert.rejects(storeAt(path.join(mnt, 'other')).createLock(holder(2)), ro);
    // Reading still works.
    assert.deepEqual((await store.readLock())?.holder, mine);
    assert.deepEqual(await store.readHistory(), [event('one')]);
  });

  it('cuts back a history line the full disk cut short, and leaves no half lock or temporary file', async () => {
    const mnt = path.join(root, `full-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    mounts.push(mnt);
    const dir = path.join(mnt, 'staging');
    const store = storeAt(dir);
    await store.append(event('one'));
    const history = path.join(dir, 'history.jsonl');
    const before = fs.readFileSync(history, 'utf8');
    // Fill every free block: what is left is the rest of history.jsonl's last page.
    const fd = fs.openSync(path.join(mnt, 'filler'), 'w');
    try {
      for (const block = Buffer.alloc(4096); ; ) fs.writeSync(fd, block);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const full = /ssh store root@127\.0\.0\.1:.*staging: .*No space left on device/;
    await assert.rejects(store.append(event('big', 'x'.repeat(50_000))), full);
    assert.equal(fs.readFileSync(history, 'utf8'), before, 'the partial line was cut back');
    await assert.rejects(store.createLock(holder(1, { message: 'y'.repeat(50_000) })), full);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['.mutex', 'history.jsonl'], 'no lock.json, no temporary file');
    assert.deepEqual(await store.readHistory(), [event('one')]);
  });

  it('fails with an Error naming the host when its sshd does not answer', async () => {
    const down = await startSshd(path.join(root, 'sshd-down'));
    await down.stop();
    const store = storeAt(fresh(), {}, down);
    const refused = new RegExp(`^ssh store root@127\\.0\\.0\\.1:.*staging: ssh: connection refused by 127\\.0\\.0\\.1:${down.port} \\(no ssh server listens there\\)$`);
    await assert.rejects(store.readLock(), (e: Error) => refused.test(e.message));
    await assert.rejects(store.createLock(holder(1)), (e: Error) => refused.test(e.message));
  });

  it('stops waiting when cancelled: the ssh session is killed and the write it waited for does not happen', async () => {
    const dir = fresh();
    const store = storeAt(dir);
    await store.append(event('one'));
    await withMutexHeld(dir, async () => {
      const ac = new AbortController();
      const waiting = store.append(event('two'), ac.signal);
      await waitFor(() => scriptsWaitingForMutex() >= 1, 'the script waits for the mutex on the host');
      const t0 = Date.now();
      ac.abort();
      await assert.rejects(waiting, /ssh store root@127\.0\.0\.1:.*: cancelled/);
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      await assert.rejects(store.readLock(ac.signal), /cancelled/);
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await store.readHistory(), [event('one')]);
  });
});

/** Runs `fn` while another process holds the store's mutex; `release` (or the end of fn) frees it. */
async function withMutexHeld<T>(dir: string, fn: (release: () => void) => Promise<T>): Promise<T> {
  // exec: the process killed is the one holding the mutex.
  const p = spawn('bash', ['-c', 'exec 9>>"$1"; flock -x 9; echo locked; exec sleep 60', '_', path.join(dir, '.mutex')], { stdio: ['ignore', 'pipe', 'ignore'] });
  const release = () => p.kill('SIGKILL');
  try {
    await new Promise((r) => p.stdout.once('data', r));
    return await fn(release);
  } finally {
    release();
  }
}

/** Starts the calls while the mutex is held, and releases it once all their scripts wait for it on the host. */
async function together<T>(dir: string, calls: (() => Promise<T>)[]): Promise<T[]> {
  return withMutexHeld(dir, async (release) => {
    const all = Promise.all(calls.map((c) => c()));
    await waitFor(() => scriptsWaitingForMutex() >= calls.length, `all ${calls.length} wait for the mutex`);
    release();
    return all;
  });
}

/** Store scripts on this machine (the sshd's host) waiting in `flock` for a mutex. */
function scriptsWaitingForMutex(): number {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && commandLine(Number(p)) === 'flock -x -w 15 9').length;
}

async function waitFor(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
}
