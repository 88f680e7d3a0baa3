// The team state of docker deploys against real servers: the lock on a private dockerd (a created, never started
// container per environment), the history in a private registry (one OCI artifact per event).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HistoryEvent, LockHolder, TeamStateStore } from '../../src/core/environments/teamState';
import { LOCK_IMAGE, LOCK_LABEL, lockContainerName, registryStateStore } from '../../src/adapters/deploy/state/registry';
import { dockerUnavailable, startDockerd, type Dockerd } from '../support/targets/docker';
import { alive, freePort, stopPid } from '../support/targets/common';
import { REGISTRY_BINARY, registryUnavailable, startRegistry, type Registry } from '../support/targets/registry';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const IMAGE_FOR_LOCKS = '127.0.0.1:1/app';

function holder(n: number | string, extra: Partial<LockHolder> = {}): LockHolder {
  return {
    token: `tok-${n}-${randomBytes(4).toString('hex')}`,
    user: `user ${n}`,
    host: `host-${n}.example`,
    pid: 4000 + Number(String(n).length),
    pidStartTime: 123456,
    deployId: `deploy-${n}`,
    sha: 'a'.repeat(40),
    message: `"quoted" ünïcode; $(touch /tmp/pwned) ${n}`,
    since: 1_700_000_000_000,
    renewedAt: 1_700_000_000_500,
    expiresAfterMs: 60_000,
    ...extra,
  };
}

function event(id: string, extra: Partial<HistoryEvent> = {}): HistoryEvent {
  return { v: 1, id, action: 'deploy', status: 'success', user: 'ann', host: 'box', fromSha: null, toSha: 'b'.repeat(40), startedAt: 1_700_000_000_000, durationMs: 1200, message: `event ${id}`, ...extra };
}

describe('registry team state store (lock on a private dockerd, history in a private registry)', function () {
  this.timeout(120_000);
  after(() => cleanupTempDirs());

  describe('the lock: a container on the engine', () => {
    let d: Dockerd | undefined;
    const store = (environment: string, dockerHost: string | null = d!.host): TeamStateStore =>
      registryStateStore({ kind: 'registry', image: IMAGE_FOR_LOCKS, dockerHost }, { environment, cwd: os.tmpdir() });
    const lockContainers = () => d!.docker(['ps', '-aq', '--no-trunc', '--filter', `label=${LOCK_LABEL}`]).split('\n').filter(Boolean);

    before(async function () {
      requireTool(this, dockerUnavailable());
      d = await startDockerd(path.join(tempDir('dockerd-'), 'd'));
    });
    after(async () => {
      await d?.stop();
    });
    beforeEach(() => {
      // Every test starts without locks and without the lock image: the store makes it (offline) when missing.
      const ids = lockContainers();
      if (ids.length) d!.docker(['rm', '-f', ...ids]);
      if (d!.docker(['image', 'ls', '-q', LOCK_IMAGE]) !== '') d!.docker(['rmi', LOCK_IMAGE]);
    });

    it('readLock on an empty engine is null; createLock takes it (a created, never started container) and gives every field back', async () => {
      const s = store('staging');
      assert.equal(await s.readLock(), null);
      const mine = holder(1, { deployId: null, sha: null, message: null, pidStartTime: null, expiresAfterMs: null });
      assert.deepEqual(await s.createLock(mine), { ok: true });
      const got = await store('staging').readLock();
      assert.deepEqual(got?.holder, mine);
      assert.ok(got.ageMs !== null && got.ageMs >= 0 && got.ageMs < 30_000, `age by the engine's clock: ${got.ageMs}`);
      const name = lockContainerName(IMAGE_FOR_LOCKS, 'staging');
      assert.equal(d!.docker(['inspect', '--format', '{{.State.Status}} {{.Config.Image}}', name]), `created ${LOCK_IMAGE}`);
      const other = await store('staging').createLock(holder(2));
      assert.equal(other.ok, false);
      assert.deepEqual(!other.ok && other.current.holder, mine);
      // Another environment is another lock.
      const full = holder(3);
      assert.deepEqual(await store('production').createLock(full), { ok: true });
      assert.deepEqual((await store('production').readLock())?.holder, full);
      assert.equal(lockContainers().length, 2);
    });

    it('8 concurrent createLock through separate stores (and docker processes): exactly one wins, the others get the winner', async () => {
      const holders = Array.from({ length: 8 }, (_, i) => holder(`c${i}`));
      const results = await Promise.all(holders.map((h) => store('race').createLock(h)));
      const winners = results.flatMap((r, i) => (r.ok ? [holders[i]] : []));
      assert.equal(winners.length, 1, JSON.stringify(results));
      for (const r of results) if (!r.ok) assert.deepEqual(r.current.holder, winners[0]);
      assert.deepEqual((await store('race').readLock())?.holder, winners[0]);
      assert.equal(lockContainers().length, 1);
    });

    it('swapLock is compare-and-swap on the token: a wrong token changes nothing; renewals restart the age; of 4 racing takeovers one wins (5 rounds); null releases', async () => {
      const s = store('swap');
      assert.equal(await s.swapLock('nobody', holder('x')), false, 'no lock: nothing to swap');
      assert.equal(await s.readLock(), null);
      const first = holder('first');
      assert.deepEqual(await s.createLock(first), { ok: true });
      const name = lockContainerName(IMAGE_FOR_LOCKS, 'swap');
      const id1 = d!.docker(['inspect', '--format', '{{.Id}}', name]);
      await new Promise((r) => setTimeout(r, 1500));
      const aged = await s.readLock();
      assert.ok(aged?.ageMs != null && aged.ageMs >= 1000, `the lock aged by the engine's clock: ${aged?.ageMs}`);

      assert.equal(await s.swapLock('wrong-token', holder('thief')), false);
      assert.deepEqual((await s.readLock())?.holder, first);
      assert.equal(d!.docker(['inspect', '--format', '{{.Id}}', name]), id1, 'the same container');

      const renewed = { ...first, renewedAt: first.renewedAt + 1000 };
      assert.equal(await store('swap').swapLock(first.token, renewed), true);
      const after = await s.readLock();
      assert.deepEqual(after?.holder, renewed);
      assert.ok(after.ageMs !== null && after.ageMs < 1000, `a renewal restarts the age: ${after.ageMs}`);

      // Takeovers racing for the same stale lock, through separate stores: exactly one wins each round.
      let winner = renewed;
      for (let round = 0; round < 5; round++) {
        const racers = Array.from({ length: 4 }, (_, i) => holder(`r${round}.${i}`));
        const won = await Promise.all(racers.map((h) => store('swap').swapLock(winner.token, h)));
        assert.equal(won.filter(Boolean).length, 1, `exactly one swap wins: ${won.join(' ')}`);
        winner = racers[won.indexOf(true)];
        assert.deepEqual((await s.readLock())?.holder, winner);
      }
      assert.equal(await s.swapLock(renewed.token, null), false, 'an old token no longer releases it');
      assert.equal(await s.swapLock(winner.token, null), true);
      assert.equal(await s.readLock(), null);
      assert.equal(lockContainers().length, 0);
    });

    it('a container of the lock\'s name that is not a lock holds it until released with its id', async () => {
      const s = store('foreign');
      const mine = holder('mine');
      assert.deepEqual(await s.createLock(mine), { ok: true }); // (makes the lock image)
      assert.equal(await s.swapLock(mine.token, null), true);
      const name = lockContainerName(IMAGE_FOR_LOCKS, 'foreign');
      const id = d!.docker(['create', '--name', name, '--network', 'none', LOCK_IMAGE, '/x']);
      const got = await s.readLock();
      assert.equal(got?.holder.token, `container:${id}`);
      assert.equal(got.holder.expiresAfterMs, null, 'it never expires: someone must release it');
      assert.equal((await s.createLock(holder('other'))).ok, false);
      assert.equal(await s.swapLock(`container:${id}`, null), true);
      assert.equal(await s.readLock(), null);
    });

    it('an engine that cannot be reached: every operation fails naming the engine and the store; a cancelled one takes nothing', async () => {
      const sock = path.join(tempDir(), 'nothing.sock');
      const s = store('staging', `unix://${sock}`);
      const expected = (e: Error) => e.message.includes(`unix://${sock}`) && e.message.includes(`registry ${IMAGE_FOR_LOCKS}`);
      await assert.rejects(s.readLock(), expected);
      await assert.rejects(s.createLock(holder(1)), expected);
      await assert.rejects(s.swapLock('t', null), expected);
      // Cancelled: the docker process is killed (here: never started) and nothing is taken.
      await assert.rejects(store('staging').createLock(holder(1), AbortSignal.abort()), /cancelled/);
      assert.equal(await store('staging').readLock(), null);
    });
  });

  describe('the history: artifacts in the registry', () => {
    let registry: Registry | undefined;
    const store = (environment: string, repo = 'app', address = registry!.address): TeamStateStore =>
      registryStateStore({ kind: 'registry', image: `${address}/${repo}`, dockerHost: 'unix:///nonexistent.sock' }, { environment, cwd: os.tmpdir() });

    before(async function () {
      requireTool(this, registryUnavailable());
      registry = await startRegistry(path.join(tempDir(), 'registry'));
    });
    after(async () => {
      await registry?.stop();
    });

    it('two writers appending 10 events each at once: all 20 land, each writer\'s in its order; garbage and other environments are skipped', async () => {
      assert.deepEqual(await store('staging').readHistory(), [], 'no repository yet: no history');
      // What a reader must skip or read another way, at the start of the history.
      const url = `${registry!.url}/v2/app`;
      await putArtifact(url, 'delivery-staging-0000000001-00000000', { annotation: 'not json at all' });
      await putArtifact(url, 'delivery-staging-0000000002-00000000', { blob: JSON.stringify(event('from-blob')) });
      await putArtifact(url, 'delivery-staging-0000000003-00000000', { blob: '{"v":1,"id":"no action"}' });
      await store('staging-eu').append(event('other-environment'));

      const a = store('staging');
      const b = store('staging');
      const write = async (s: TeamStateStore, who: string) => {
        for (let i = 0; i < 10; i++) await s.append(event(`${who}${i}`, { user: who }));
      };
      await Promise.all([write(a, 'a'), write(b, 'b')]);

      const events = await store('staging').readHistory();
      const ids = events.map((e) => e.id);
      assert.equal(ids.length, 21, ids.join(' '));
      assert.equal(ids[0], 'from-blob', 'an event without its inline copy is read from its blob');
      assert.deepEqual(ids.filter((i) => i.startsWith('a')), Array.from({ length: 10 }, (_, i) => `a${i}`));
      assert.deepEqual(ids.filter((i) => i.startsWith('b')), Array.from({ length: 10 }, (_, i) => `b${i}`));
      assert.deepEqual(events.find((e) => e.id === 'a3'), event('a3', { user: 'a' }), 'every field round-trips');
      assert.deepEqual((await b.readHistory()).map((e) => e.id), ids, 'every reader sees the same order');
      assert.deepEqual((await store('staging-eu').readHistory()).map((e) => e.id), ['other-environment']);
      const tags = (await registry!.tags('app')).filter((t) => t.startsWith('delivery-staging-0'));
      assert.equal(tags.length, 23);
      for (const t of tags) assert.match(t, /^delivery-staging-\d{10}-[0-9a-f]{8}$/);
    });

    it('a read-only registry: append fails naming where and writes nothing; a registry that is down: reads and writes fail naming where; a cancelled append writes nothing', async () => {
      await store('prod', 'ro').append(event('one'));
      await store('prod', 'ro').append(event('two'));
      const ro = await startReadOnlyRegistry(registry!);
      try {
        const s = store('prod', 'ro', ro.address);
        assert.deepEqual((await s.readHistory()).map((e) => e.id), ['one', 'two']);
        await assert.rejects(s.append(event('three')), (e: Error) => e.message.includes(`registry ${ro.address}/ro`) && /405|unsupported/i.test(e.message));
        assert.deepEqual((await s.readHistory()).map((e) => e.id), ['one', 'two']);
        assert.equal((await registry!.tags('ro')).length, 2, 'no tag was added');
      } finally {
        await ro.stop();
      }
      const downAt = `127.0.0.1:${await freePort()}`;
      const down = store('prod', 'ro', downAt);
      const expected = (e: Error) => e.message.includes(`registry ${downAt}/ro`) && /cannot be reached/.test(e.message);
      await assert.rejects(down.append(event('three')), expected);
      await assert.rejects(down.readHistory(), expected);
      await assert.rejects(store('prod', 'ro').append(event('cancelled'), AbortSignal.abort()), /cancelled/);
      assert.deepEqual((await store('prod', 'ro').readHistory()).map((e) => e.id), ['one', 'two']);
    });
  });
});

/** A manifest tagged `tag` whose event is `annotation` (inline) or the `blob` layer; what another tool might leave. */
async function putArtifact(repoUrl: string, tag: string, what: { annotation?: string; blob?: string }): Promise<void> {
  const upload = async (data: string) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await fetch(`${repoUrl}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location')!, repoUrl);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 201, await put.text());
    return { digest, size: Buffer.byteLength(data) };
  };
  const config = { mediaType: 'application/vnd.oci.empty.v1+json', ...(await upload('{}')) };
  const layer = { mediaType: 'application/vnd.softwaredelivery.deploy-event.v1+json', ...(await upload(what.blob ?? 'x')) };
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: [layer],
    ...(what.annotation !== undefined ? { annotations: { 'org.softwaredelivery.event': what.annotation } } : {}),
  };
  const res = await fetch(`${repoUrl}/manifests/${tag}`, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 201, await res.text());
}

/** A second docker-registry on the same storage, started read-only (`storage.maintenance.readonly`). */
async function startReadOnlyRegistry(rw: Registry): Promise<{ address: string; stop(): Promise<void> }> {
  const port = await freePort();
  const config = path.join(rw.dir, 'readonly.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      'storage:',
      `  filesystem: {rootdirectory: ${JSON.stringify(path.join(rw.dir, 'data'))}}`,
      '  maintenance: {readonly: {enabled: true}}',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BINARY, ['serve', config], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid!;
  const stop = () => stopPid(pid, /registry/);
  for (const deadline = Date.now() + 15_000; ; ) {
    if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)) break;
    if (!alive(pid) || Date.now() > deadline) {
      await stop();
      throw new Error(`the read-only docker-registry did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address: `127.0.0.1:${port}`, stop };
}
