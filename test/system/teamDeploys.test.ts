// Deploys that are safe for a team (issue #13): two clones of one repository, each with its own state folder and
// its own user (DELIVERY_USER), deploy the same environment through the CLI — on a real sshd, a real git remote and
// a real registry + Docker engine. The lock and the history live on the target, so each clone sees the other's.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, cli, type CliResult } from '../support/catalogueSupport';
import { requireTool } from '../support/requireTool';
import { commandLine, freePort } from '../support/targets/common';
import { BASE_IMAGE, dockerUnavailable, startDockerd, type Dockerd } from '../support/targets/docker';
import { registryUnavailable, startRegistry, type Registry } from '../support/targets/registry';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { cleanupTempDirs, git, isAlive, tempDir, waitFor, writeFiles } from '../support/tmp';

interface Clone {
  dir: string;
  state: string;
  user: string;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
}

interface HistoryJson {
  environment: string;
  store: string;
  records: { id: string; action: string; user: string; host: string; fromSha: string | null; toSha: string | null; status: string; startedAt: string; durationMs: number | null; message: string | null }[];
}
interface LockJson {
  environment: string;
  locked: boolean;
  holder: { user: string; host: string; pid: number; deployId: string | null; message: string | null; since: string } | null;
  store: string;
}

/** An origin with `files` committed, and two clones of it: alice's and bob's, each with its own state folder. */
function twoClones(files: Record<string, string>, env: Record<string, string> = {}): { alice: Clone; bob: Clone; origin: string } {
  const seed = tempDir('delivery-team-seed-');
  git(seed, 'init', '-q', '-b', 'main');
  writeFiles(seed, files);
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'first');
  const origin = path.join(tempDir('delivery-team-origin-'), 'origin.git');
  execFileSync('git', ['clone', '-q', '--bare', seed, origin]);
  const clone = (user: string): Clone => {
    const dir = path.join(tempDir(`delivery-team-${user}-`), 'work');
    execFileSync('git', ['clone', '-q', origin, dir]);
    const state = tempDir(`delivery-team-${user}-state-`);
    return { dir, state, user, run: (args, extra = {}) => cli(dir, state, args, { env: { DELIVERY_USER: user, ...env, ...extra }, timeoutMs: 120_000 }) };
  };
  return { alice: clone('alice'), bob: clone('bob'), origin };
}

const json = <T>(r: CliResult): T => {
  assert.ok(r.stdout.trim().startsWith('{'), `JSON expected, got: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

/** Both clones deploy at once: exactly one deploys, the other is refused naming the holder. Returns [winner, loser]. */
async function race(a: Clone, b: Clone, env: string): Promise<[Clone, Clone]> {
  const [ra, rb] = await Promise.all([a.run(['deploy', env, '--yes']), b.run(['deploy', env, '--yes'])]);
  const codes = [ra.code, rb.code].sort();
  assert.deepEqual(codes, [0, 1], `exactly one deploys:\nalice (${ra.code}): ${ra.stderr}\nbob (${rb.code}): ${rb.stderr}`);
  const [winner, loser, refused] = ra.code === 0 ? [a, b, rb] : [b, a, ra];
  assert.match(
    refused.stderr,
    new RegExp(`^delivery: "${env}" is being deployed by ${winner.user} on .+ \\(deploy [0-9a-z-]+ of [0-9a-f]{12}, pid \\d+\\) since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC; wait for it to finish$`, 'm'),
  );
  return [winner, loser];
}

/** What each clone's `history` and `envs` say: the same records, both users' deploys. */
async function assertSharedHistory(a: Clone, b: Clone, env: string, store: string, expect: [string, string][]): Promise<HistoryJson> {
  const ha = json<HistoryJson>(await a.run(['history', env, '--json']));
  const hb = json<HistoryJson>(await b.run(['history', env, '--json']));
  assert.equal(ha.store, store);
  // The JSON contract (README: "CLI JSON contracts").
  assert.deepEqual(Object.keys(ha).sort(), ['environment', 'records', 'store']);
  for (const r of ha.records) assert.deepEqual(Object.keys(r).sort(), ['action', 'durationMs', 'fromSha', 'host', 'id', 'message', 'startedAt', 'status', 'toSha', 'user']);
  assert.deepEqual(ha, hb, "both clones read the same history from the target");
  const deploys = ha.records.filter((r) => r.action === 'deploy');
  assert.deepEqual(deploys.map((r) => [r.user, r.status]), expect);
  for (const clone of [a, b]) {
    const envs = json<{ environments: { id: string; state: { store: string; lastDeploy: { user: string; status: string } | null; locked: boolean } }[] }>(await clone.run(['envs', '--json']));
    const e = envs.environments.find((x) => x.id === env)!;
    assert.deepEqual([e.state.store, e.state.lastDeploy?.user, e.state.lastDeploy?.status, e.state.locked], [store, expect[0][0], expect[0][1], false], `${clone.user}'s envs`);
  }
  return ha;
}

/** A lock taken by hand in one clone blocks the other until released; only its owner releases it without --force. */
async function assertManualLock(a: Clone, b: Clone, env: string): Promise<void> {
  const took = await a.run(['lock', 'acquire', env, '-m', 'db migration']);
  assert.equal(took.code, 0, took.stderr);
  const status = json<LockJson>(await b.run(['lock', 'status', env, '--json']));
  // The JSON contract (README: "CLI JSON contracts").
  assert.deepEqual(Object.keys(status).sort(), ['environment', 'holder', 'locked', 'store']);
  assert.deepEqual(Object.keys(status.holder ?? {}).sort(), ['deployId', 'host', 'message', 'pid', 'since', 'user']);
  assert.match(status.holder?.since ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual([status.locked, status.holder?.user, status.holder?.message, status.holder?.deployId], [true, a.user, 'db migration', null]);
  const blocked = await b.run(['deploy', env, '--yes']);
  assert.equal(blocked.code, 1, blocked.stderr);
  assert.match(blocked.stderr, new RegExp(`^delivery: "${env}" is locked by ${a.user} on .+: "db migration" since .+ UTC; wait for it to finish$`, 'm'));
  const notTheirs = await b.run(['lock', 'release', env]);
  assert.equal(notTheirs.code, 1);
  assert.match(notTheirs.stderr, /only they can release it \(or use --force, which is recorded\)/);
  const released = await a.run(['lock', 'release', env]);
  assert.equal(released.code, 0, released.stderr);
  const after = await b.run(['deploy', env, '--yes']);
  assert.equal(after.code, 0, after.stderr);
}

/** Starts a deploy in the background (to kill it). */
function startDeploy(c: Clone, env: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'deploy', env, '--yes'], { cwd: c.dir, env: { ...process.env, DELIVERY_STATE_DIR: c.state, DELIVERY_USER: c.user }, stdio: 'ignore' });
}

describe('team deploys: two clones, one lock and one history on the target', function () {
  this.timeout(240_000);
  after(cleanupTempDirs);

  describe('ssh deploys (the lock and history in ~/.delivery/<env> on the host)', () => {
    let sshd: Sshd | null = null;
    const orphans: number[] = [];
    before(async function () {
      requireTool(this, sshdUnavailable());
      sshd = await startSshd(path.join(tempDir('delivery-team-sshd-'), 'sshd'));
    });
    after(async () => {
      for (const p of orphans) if (isAlive(p) && /\b(ssh|bash|sleep)\b/.test(commandLine(p))) process.kill(p, 'SIGKILL');
      await sshd?.stop();
    });

    it('started together only one deploys; both see both deploys; a manual lock blocks; a killed deploy is detected and recorded interrupted', async () => {
      const s = sshd!;
      const remote = tempDir('delivery-team-remote-');
      const ssh = `{ host: 127.0.0.1, port: ${s.port}, user: root, identityFile: "${s.clientKey}", knownHostsFile: "${s.knownHosts}" }`;
      const { alice, bob } = twoClones({
        'delivery.yml': `version: 1
environments:
  staging:
    deploy:
      ssh: ${ssh}
      run: |
        echo "$DELIVERY_SHA by $DELIVERY_USER_NAME" >> "${remote}/deployed"
        # Long enough for the other clone to find the lock taken; a file ends it early (the kill test).
        for i in $(seq 1 30); do [ -e "${remote}/go" ] && break; sleep 0.1; done
        if [ -e "${remote}/hang" ]; then touch "${remote}/hanging"; while [ ! -e "${remote}/go" ]; do sleep 0.1; done; fi
`,
      });
      const [winner, loser] = await race(alice, bob, 'staging');
      const retry = await loser.run(['deploy', 'staging', '--yes']);
      assert.equal(retry.code, 0, retry.stderr);
      const h = await assertSharedHistory(alice, bob, 'staging', 'ssh', [
        [loser.user, 'success'],
        [winner.user, 'success'],
      ]);
      const home = path.join(s.dir, 'home', '.delivery', 'staging');
      assert.deepEqual(fs.readdirSync(home).sort(), ['.mutex', 'history.jsonl'], 'the state lives on the host; no lock is left');
      assert.equal(h.records[0].durationMs !== null && h.records[0].durationMs > 0, true);

      await assertManualLock(alice, bob, 'staging');

      // A deploy killed in the middle (SIGKILL: nothing is cleaned up): the other clone sees its lock does not count
      // (its process is gone on this machine), and the history says it was interrupted.
      fs.writeFileSync(path.join(remote, 'hang'), '');
      const killed = startDeploy(alice, 'staging');
      await waitFor(() => fs.existsSync(path.join(remote, 'hanging')), 30_000, "alice's deploy to start on the host");
      const held = json<LockJson>(await bob.run(['lock', 'status', 'staging', '--json']));
      assert.deepEqual([held.locked, held.holder?.user, held.holder?.pid], [true, 'alice', killed.pid]);
      orphans.push(...execFileSync('pgrep', ['-P', String(killed.pid), '-x', 'ssh'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number));
      const exited = new Promise((r) => killed.once('exit', r));
      process.kill(killed.pid!, 'SIGKILL');
      await exited;
      fs.writeFileSync(path.join(remote, 'go'), '');
      fs.rmSync(path.join(remote, 'hang'));
      const after = json<LockJson>(await bob.run(['lock', 'status', 'staging', '--json']));
      assert.deepEqual([after.locked, after.store], [false, 'ssh'], 'a lock whose process is gone does not count');
      const hist = json<HistoryJson>(await bob.run(['history', 'staging', '--json']));
      assert.deepEqual([hist.records[0].user, hist.records[0].status], ['alice', 'interrupted']);
      const next = await bob.run(['deploy', 'staging', '--yes']);
      assert.equal(next.code, 0, next.stderr);
      const final = json<HistoryJson>(await alice.run(['history', 'staging', '--json']));
      assert.deepEqual(
        final.records.map((r) => [r.action, r.user, r.status]),
        [
          ['deploy', 'bob', 'success'],
          ['deploy', 'alice', 'interrupted'],
          ['deploy', 'bob', 'success'],
          ['unlock', 'alice', 'done'],
          ['lock', 'alice', 'done'],
          [h.records[0].action, loser.user, 'success'],
          [h.records[1].action, winner.user, 'success'],
        ],
      );
      assert.match(final.records[1].message ?? '', /^interrupted: its lock was taken over by bob on .+ because its process \(\d+\) on .+ is gone$/);
    });
  });

  describe('git push deploys (the lock and history as refs on the deploy remote)', () => {
    it('started together only one pushes; both see both deploys; a manual lock blocks the other clone', async () => {
      const base = tempDir('delivery-team-gitremote-');
      const remote = path.join(base, 'live.git');
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote]);
      // The hook deploys pushes to main (slowly: the other clone must find the lock taken) and ignores other refs.
      fs.writeFileSync(
        path.join(remote, 'hooks', 'post-receive'),
        `#!/bin/bash\nwhile read old new ref; do [ "$ref" = refs/heads/main ] || continue; echo "$new" >> "${base}/deployed"; sleep 2; done\n`,
        { mode: 0o755 },
      );
      const { alice, bob } = twoClones({ 'delivery.yml': `version: 1\nenvironments:\n  live:\n    deploy:\n      gitPush: { remote: "${remote}", branch: main, force: true }\n` });
      const [, loser] = await race(alice, bob, 'live');
      const retry = await loser.run(['deploy', 'live', '--yes']);
      assert.equal(retry.code, 0, retry.stderr);
      const h = await assertSharedHistory(alice, bob, 'live', 'git', [
        [loser.user, 'success'],
        [loser === alice ? 'bob' : 'alice', 'success'],
      ]);
      assert.equal(h.records.length, 2);
      const refs = execFileSync('git', ['--git-dir', remote, 'for-each-ref', '--format=%(refname)', 'refs/delivery/'], { encoding: 'utf8' }).trim().split('\n');
      assert.deepEqual(refs, ['refs/delivery/live/history'], 'the history is a ref on the remote; no lock is left');
      await assertManualLock(alice, bob, 'live');
      assert.equal(execFileSync('git', ['--git-dir', remote, 'rev-parse', 'refs/heads/main'], { encoding: 'utf8' }).trim(), git(alice.dir, 'rev-parse', 'HEAD'));
      assert.equal(fs.readFileSync(path.join(base, 'deployed'), 'utf8').trim().split('\n').length, 1, 'the same commit pushed again changes nothing on the remote');
    });
  });

  describe('docker deploys (the history in the registry, the lock on the engine)', () => {
    let dockerd: Dockerd | undefined;
    let registry: Registry | undefined;
    before(async function () {
      requireTool(this, dockerUnavailable() ?? registryUnavailable());
      registry = await startRegistry(path.join(tempDir(), 'registry'));
      dockerd = await startDockerd(path.join(tempDir('dockerd-'), 'd'), { insecureRegistries: [registry.address] });
      dockerd.baseImage();
    });
    after(async () => {
      await dockerd?.stop();
      await registry?.stop();
    });

    it('started together only one deploys; both see both deploys in the registry; a manual lock blocks the other clone', async () => {
      const d = dockerd!;
      const port = await freePort();
      const name = `team-test-${port}`;
      const image = `${registry!.address}/app`;
      const { alice, bob } = twoClones(
        {
          'delivery.yml': `version: 1
environments:
  box:
    deploy:
      docker:
        build: .
        image: "${image}"
        push: true
        host: "${d.host}"
        run: { name: ${name}, args: [--network, host], command: [sh, -c, "sleep 3600"] }
`,
          Dockerfile: `FROM ${BASE_IMAGE}\nRUN sleep 2\n`,
          '.dockerignore': '.git\n',
        },
        { DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' },
      );
      try {
        const [, loser] = await race(alice, bob, 'box');
        const retry = await loser.run(['deploy', 'box', '--yes']);
        assert.equal(retry.code, 0, retry.stderr);
        await assertSharedHistory(alice, bob, 'box', 'registry', [
          [loser.user, 'success'],
          [loser === alice ? 'bob' : 'alice', 'success'],
        ]);
        assert.ok((await registry!.tags('app/delivery-history')).every((t) => t.startsWith('delivery-box-')), 'the history has a repository of its own');
        assert.equal((await registry!.tags('app')).length, 1, "the image's tags are only the image's (one commit)");
        await assertManualLock(alice, bob, 'box');
      } finally {
        try {
          d.docker(['rm', '-f', name]);
        } catch {
          // not created
        }
      }
    });
  });
});
