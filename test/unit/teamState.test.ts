// The team's lock and history (core/environments/teamState.ts) against an in-memory store: staleness, takeover,
// forced release, renewal, the history's records, and `state:` in delivery.yml.
import * as assert from 'node:assert/strict';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import type { Clock } from '../../src/core/clock';
import {
  acquireLock,
  acquireManualLock,
  describeHolder,
  historyEvent,
  historyRecords,
  keepLock,
  lockStale,
  lockStatus,
  newHolder,
  parseHistoryEvent,
  parseLockHolder,
  releaseLock,
  unreadableLock,
  type HistoryEvent,
  type LockHolder,
} from '../../src/core/environments/teamState';
import { fakeHere, MemoryStateStore } from '../support/memoryStateStore';

/** A clock whose timers run when the test advances time. */
class ManualClock implements Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private n = 0;
  now = () => this.t;
  setTimer = (ms: number, fn: () => void) => {
    const id = ++this.n;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimer = (id: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };
  sleep = async (ms: number) => void (this.t += ms);
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = until;
  }
}

const holder = (over: Partial<LockHolder> = {}): LockHolder => ({
  token: 'other',
  user: 'bob',
  host: 'ci',
  pid: 77,
  pidStartTime: null,
  deployId: 'd-bob',
  sha: 'b'.repeat(40),
  message: null,
  since: 0,
  renewedAt: 1_000_000,
  expiresAfterMs: 60_000,
  ...over,
});

describe('team state (core): the lock', () => {
  it('a lock of another machine counts until it is not renewed in time; the store clock wins over ours', () => {
    const clock = new ManualClock();
    const here = fakeHere(clock);
    assert.equal(lockStale({ holder: holder(), ageMs: null }, here), null);
    clock.t += 61_000;
    assert.equal(lockStale({ holder: holder(), ageMs: null }, here), 'it was not renewed for 61 s (it expires after 60 s)');
    assert.equal(lockStale({ holder: holder(), ageMs: 5_000 }, here), null, 'the store says it was written 5 s ago: our clock is off');
    assert.equal(lockStale({ holder: holder({ expiresAfterMs: null }), ageMs: 10 ** 9 }, here), null, 'a lock taken by hand never expires');
  });

  it('a lock of this machine whose process is gone, or of this process whose deploy ended, is stale at once', () => {
    const clock = new ManualClock();
    const here = fakeHere(clock, { host: 'box', pid: 4242, alive: (pid) => pid !== 99 });
    assert.equal(lockStale({ holder: holder({ host: 'box', pid: 99 }), ageMs: null }, here), 'its process (99) on box is gone');
    assert.equal(lockStale({ holder: holder({ host: 'ci', pid: 99 }), ageMs: null }, here), null, 'another machine: its PIDs mean nothing here');
    assert.equal(lockStale({ holder: holder({ host: 'box', pid: 99, deployId: null, expiresAfterMs: null }), ageMs: null }, here), null, 'a lock taken by hand outlives the command that took it');
    assert.equal(lockStale({ holder: holder({ host: 'box', pid: 4242, deployId: 'd1' }), ageMs: null }, here), 'its deploy (d1) has ended');
    here.activeDeploys.add('d1');
    assert.equal(lockStale({ holder: holder({ host: 'box', pid: 4242, deployId: 'd1' }), ageMs: null }, here), null);
  });

  it('acquire: free → ours; held → refused naming the holder, message and since when; stale → taken over and the old deploy recorded interrupted', async () => {
    const clock = new ManualClock();
    const here = fakeHere(clock);
    const store = new MemoryStateStore('staging');
    const mine = newHolder(here, { deployId: 'd1', sha: 'a'.repeat(40), message: null, expiresAfterMs: 60_000 });
    assert.deepEqual(await acquireLock(store, 'staging', mine, here), { ok: true, holder: mine, tookOver: null });

    const other = new MemoryStateStore('staging');
    other.lock = { holder: holder({ message: 'release 4.2' }), ageMs: null };
    const refused = await acquireLock(other, 'staging', mine, here);
    assert.ok(!refused.ok);
    assert.equal(refused.message, '"staging" is being deployed by bob on ci (deploy d-bob of bbbbbbbbbbbb, pid 77): "release 4.2" since 1970-01-01 00:00:00 UTC; wait for it to finish');

    clock.t += 120_000;
    const taken = await acquireLock(other, 'staging', mine, here);
    assert.ok(taken.ok && taken.tookOver);
    assert.equal(taken.tookOver.why, 'it was not renewed for 120 s (it expires after 60 s)');
    assert.equal(other.lock?.holder.token, mine.token);
    assert.deepEqual(
      other.events.map((e) => [e.id, e.status, e.user]),
      [['d-bob', 'interrupted', 'bob']],
    );
    assert.match(other.events[0].message ?? '', /^interrupted: its lock was taken over by ann on box because it was not renewed/);
  });

  it('a store that cannot be reached throws (the deploy service turns it into a refusal)', async () => {
    const clock = new ManualClock();
    const here = fakeHere(clock);
    const store = new MemoryStateStore('staging');
    store.fail = new Error('ssh store root@h:.delivery/staging: Connection refused');
    await assert.rejects(acquireLock(store, 'staging', newHolder(here, { deployId: 'd', sha: null, message: null, expiresAfterMs: 1 }), here), /Connection refused/);
    await assert.rejects(lockStatus(store, 'staging', here), /Connection refused/);
  });

  it('a lock taken by hand never expires, is recorded, and only its owner releases it without --force (a forced release is recorded too)', async () => {
    const clock = new ManualClock();
    const ann = fakeHere(clock, { user: 'ann', host: 'laptop' });
    const bob = fakeHere(clock, { user: 'bob', host: 'ci' });
    const store = new MemoryStateStore('prod');
    const got = await acquireManualLock(store, 'prod', ann, 'db migration');
    assert.ok(got.ok);
    assert.equal(got.holder.expiresAfterMs, null);
    clock.t += 7 * 24 * 3600_000;
    const s = await lockStatus(store, 'prod', bob);
    assert.deepEqual([s.locked, s.holder?.user, s.holder?.message, s.stale], [true, 'ann', 'db migration', null]);
    assert.equal(describeHolder('prod', s.holder!), '"prod" is locked by ann on laptop: "db migration" since 1970-01-01 00:16:40 UTC');

    const denied = await releaseLock(store, 'prod', bob, {});
    assert.ok(!denied.ok);
    assert.match(denied.message, /only they can release it \(or use --force, which is recorded\)$/);
    assert.ok(store.lock, 'still held');

    const forced = await releaseLock(store, 'prod', bob, { force: true, message: 'ann is on holiday' });
    assert.ok(forced.ok && forced.released?.user === 'ann');
    assert.equal(store.lock, null);
    assert.deepEqual(
      store.events.map((e) => [e.action, e.user, e.message]),
      [
        ['lock', 'ann', 'db migration'],
        ['unlock', 'bob', 'released ann\'s lock ("db migration") (forced); ann is on holiday'],
      ],
    );
    assert.deepEqual(await releaseLock(store, 'prod', bob, {}), { ok: true, released: null }, 'releasing a free lock is fine');
  });

  it('the owner of a manual lock releases it without --force', async () => {
    const clock = new ManualClock();
    const ann = fakeHere(clock, { user: 'ann', host: 'laptop' });
    const store = new MemoryStateStore('prod');
    assert.ok((await acquireManualLock(store, 'prod', ann, null)).ok);
    const r = await releaseLock(store, 'prod', ann, {});
    assert.ok(r.ok && r.released);
    assert.deepEqual(store.events.map((e) => e.action), ['lock', 'unlock']);
  });

  it('a deploy renews its lock while it runs, and says so when the lock is no longer its own', async () => {
    const clock = new ManualClock();
    const here = fakeHere(clock);
    const store = new MemoryStateStore('staging');
    const mine = newHolder(here, { deployId: 'd1', sha: null, message: null, expiresAfterMs: 30_000 });
    assert.ok((await acquireLock(store, 'staging', mine, here)).ok);
    const lost: string[] = [];
    const keeper = keepLock(store, mine, clock, (why) => lost.push(why));
    await clock.advance(25_000);
    assert.equal(store.lock?.holder.renewedAt, mine.since + 20_000, 'renewed every 10 s (a third of the expiry)');
    assert.equal(lockStale(store.lock!, { ...here, host: 'elsewhere' }), null, 'never stale while renewed');
    store.lock = { holder: { ...store.lock!.holder, token: 'stolen' }, ageMs: null };
    await clock.advance(10_000);
    assert.deepEqual(lost, ["the lock is no longer this deploy's (someone took it over)"]);
    keeper.stop();
  });
});

describe('team state (core): the history', () => {
  const clock = new ManualClock();
  const ann = { user: 'ann', host: 'laptop', clock };
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);

  it('two lines per deploy make one record, in the store order (newest first), whatever the clocks said', () => {
    const events: HistoryEvent[] = [
      { ...historyEvent(ann, { id: 'd1', action: 'deploy', status: 'running', toSha: A }), startedAt: 5_000 },
      { ...historyEvent(ann, { id: 'd1', action: 'deploy', status: 'success', toSha: A, durationMs: 900 }), startedAt: 5_000 },
      // Written later by a machine whose clock is an hour behind.
      { ...historyEvent({ ...ann, user: 'bob' }, { id: 'd2', action: 'rollback', status: 'running', fromSha: A, toSha: B }), startedAt: 5_000 - 3600_000 },
      { ...historyEvent({ ...ann, user: 'bob' }, { id: 'd2', action: 'rollback', status: 'failed', fromSha: A, toSha: B, durationMs: 10, message: 'exit 3' }), startedAt: 5_000 - 3600_000 },
    ];
    const records = historyRecords(events, null);
    assert.deepEqual(
      records.map((r) => [r.id, r.action, r.user, r.status, r.fromSha, r.toSha, r.durationMs, r.message]),
      [
        ['d2', 'rollback', 'bob', 'failed', A, B, 10, 'exit 3'],
        ['d1', 'deploy', 'ann', 'success', null, A, 900, null],
      ],
    );
  });

  it('a deploy still running without the lock (or with a stale one) reads as interrupted; one holding the lock is running', () => {
    const events = [historyEvent(ann, { id: 'd1', action: 'deploy', status: 'running', toSha: A })];
    const held = holder({ deployId: 'd1' });
    assert.equal(historyRecords(events, { holder: held, stale: null })[0].status, 'running');
    assert.equal(historyRecords(events, { holder: held, stale: 'its process is gone' })[0].status, 'interrupted');
    assert.equal(historyRecords(events, null)[0].status, 'interrupted');
  });

  it('an "interrupted" line after a result does not change the result', () => {
    const events = [
      historyEvent(ann, { id: 'd1', action: 'deploy', status: 'success', toSha: A }),
      historyEvent(ann, { id: 'd1', action: 'deploy', status: 'interrupted', toSha: A }),
    ];
    assert.equal(historyRecords(events, null)[0].status, 'success');
  });

  it('lines that are not ours are skipped; a lock file that is not ours is an abandoned lock', () => {
    assert.equal(parseHistoryEvent('not json'), null);
    assert.equal(parseHistoryEvent('{"id":"x","action":"explode","status":"done"}'), null);
    assert.deepEqual(parseHistoryEvent(JSON.stringify(historyEvent(ann, { id: 'x', action: 'lock', status: 'done' }))), historyEvent(ann, { id: 'x', action: 'lock', status: 'done' }));
    assert.equal(parseLockHolder('{"half":'), null);
    assert.equal(parseLockHolder('{"token":"t","user":"u","host":"h","pid":"7","since":0,"renewedAt":0}'), null, 'a pid that is not a number');
    assert.match(lockStale({ holder: unreadableLock('x'), ageMs: null }, fakeHere(clock)) ?? '', /not renewed/, 'a lock nobody can read is taken over');
  });
});

describe('team state (core): `state:` in delivery.yml', () => {
  const env = (body: string) => parseDeliveryConfig(`version: 1\nenvironments:\n  staging:\n${body}`);

  it('derives the store from the deploy kind', () => {
    const ssh = env(`    deploy:\n      ssh: { host: web1, user: deploy }\n      run: ./restart\n`).environments[0].state;
    assert.deepEqual([ssh.spec.kind, ssh.explicit, ssh.lockExpiryMs, (ssh.spec as { dir: string }).dir], ['ssh', false, 300_000, '.delivery/staging']);
    const git = env(`    deploy:\n      gitPush: { remote: dokku }\n`).environments[0].state.spec;
    assert.deepEqual(git, { kind: 'git', remote: 'dokku', ssh: null });
    const reg = env(`    deploy:\n      docker: { image: 127.0.0.1:5000/app, push: true, build: . }\n`).environments[0].state.spec;
    assert.deepEqual(reg, { kind: 'registry', image: '127.0.0.1:5000/app/delivery-history', dockerHost: null });
    assert.equal(env(`    deploy:\n      command: ./deploy.sh\n`).environments[0].state.spec.kind, 'local');
  });

  it('takes an explicit store and lock expiry', () => {
    const c = env(`    deploy:\n      command: ./deploy.sh\n    state:\n      ssh: { host: state.example, user: ops }\n      dir: /srv/delivery/staging\n      lockExpiry: 2m\n`);
    assert.deepEqual(c.problems, []);
    const s = c.environments[0].state;
    assert.deepEqual([s.spec.kind, (s.spec as { dir: string }).dir, s.explicit, s.lockExpiryMs], ['ssh', '/srv/delivery/staging', true, 120_000]);
    assert.deepEqual(env(`    deploy:\n      command: ./deploy.sh\n    state: { git: origin }\n`).environments[0].state.spec, { kind: 'git', remote: 'origin', ssh: null });
    assert.deepEqual(env(`    deploy:\n      command: ./deploy.sh\n    state: local\n`).environments[0].state.spec, { kind: 'local' });
  });

  it('bad `state:` is a located error', () => {
    const two = env(`    deploy:\n      command: ./deploy.sh\n    state: { git: origin, registry: r/x }\n`);
    assert.deepEqual(two.problems.map((p) => [p.line, p.message]), [[6, 'environment "staging": state: use one of "ssh" (with "dir"), "git", "registry" or "local"']]);
    const stray = env(`    deploy:\n      command: ./deploy.sh\n    state:\n      git: origin\n      dir: /x\n`);
    assert.deepEqual(stray.problems.map((p) => [p.line, p.column, p.message]), [[8, 7, 'environment "staging": state: "dir" goes with "ssh"']]);
    const short = env(`    deploy:\n      command: ./deploy.sh\n    state: { git: origin, lockExpiry: 10ms }\n`);
    assert.match(short.problems[0]?.message ?? '', /lockExpiry must be at least 1s/);
    const unknown = env(`    deploy:\n      command: ./deploy.sh\n    state: { gti: origin }\n`);
    assert.match(unknown.problems[0]?.message ?? '', /gti/);
  });
});
