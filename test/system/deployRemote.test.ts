// Deploys to "remote" hosts on this machine: an OpenSSH sshd on 127.0.0.1 (rsync + a remote script), and bare git
// repositories whose post-receive hook restarts the app (push over file:// and ssh://). Rollback and promote too.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deployHistory } from '../../src/adapters/deploy/runner';
import { alive, freePort, stopPid, stopPidFile } from '../support/targets/common';
import { makeGitRemote, type GitRemote } from '../support/targets/gitRemote';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir, waitFor } from '../support/tmp';
import { appRepo, commit, deployer, getJson, readLog, teamLockOf } from '../support/deploySupport';

function sshYml(sshd: Sshd): string {
  return `{ host: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, identityFile: "${sshd.clientKey}", knownHostsFile: "${sshd.knownHosts}", connectTimeout: 5s }`;
}

function probes(port: number): string {
  return `    version: { http: "http://127.0.0.1:${port}/version", json: sha }
    health: { http: "http://127.0.0.1:${port}/health", timeout: 10s, interval: 100ms }
`;
}

/** Releases under ROOT/releases/<sha>; `current` points at the live one; the old app is stopped by its pid file. */
function sshEnv(name: string, sshd: Sshd, root: string, port: number, from: string): string {
  return `  ${name}:
    deploy:
      ssh: ${sshYml(sshd)}
      upload: { from: ${from}, to: "${root}/releases/\${DELIVERY_SHA}" }
      run: |
        cd "$DELIVERY_UPLOAD_TO"
        echo "$DELIVERY_SHA" > VERSION
        printf '%s' "$DELIVERY_REF" > deployed-ref
        if [ -e "$ROOT/current/app.pid" ]; then cp "$ROOT/current/app.pid" app.pid; fi
        ln -sfn "$DELIVERY_UPLOAD_TO" "$ROOT/current"
        bash restart.sh "$DELIVERY_UPLOAD_TO" "$PORT" ${name}
      env: { ROOT: "${root}", PORT: "${port}" }
${probes(port)}`;
}

/** PIDs of every process below `pid` (the connections an sshd serves). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

describe('deploys to remote hosts (real sshd, git remotes)', function () {
  this.timeout(90_000);
  let sshd: Sshd;
  const apps: string[] = [];
  before(async function () {
    requireTool(this, sshdUnavailable());
    sshd = await startSshd(path.join(tempDir(), 'sshd'));
  });
  afterEach(async () => {
    for (const f of apps.splice(0)) await stopPidFile(f);
  });
  after(async () => {
    await sshd?.stop();
    cleanupTempDirs();
  });

  it('ssh: rsync upload + remote script; /version turns to the new commit, health up, DELIVERY_REF intact', async () => {
    const root = path.join(tempDir(), 'srv');
    const port = await freePort();
    const repo = appRepo(`version: 1\nenvironments:\n${sshEnv('prod', sshd, root, port, 'app')}`);
    const d = deployer(repo);
    const sha1 = git(repo, 'rev-parse', 'HEAD');
    const first = (await d.deploy('prod')).record;
    apps.push(path.join(root, 'releases', sha1, 'app.pid'));
    assert.equal(first.status, 'success', `${first.reason}\n${readLog(first)}`);
    assert.deepEqual(first.steps.map((s) => s.status), ['success', 'success', 'success', 'success', 'success']);
    assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha1);
    const sha2 = commit(repo, 'app/NOTES', 'second release', 'second');
    const second = (await d.deploy('prod')).record;
    apps.push(path.join(root, 'releases', sha2, 'app.pid'));
    assert.equal(second.status, 'success', `${second.reason}\n${readLog(second)}`);
    assert.equal(second.previousSha, sha1);
    assert.equal(second.health, 'up');
    const v = await getJson(`http://127.0.0.1:${port}/version`);
    assert.equal(v.sha, sha2);
    assert.equal(v.env, 'prod');
    assert.equal(fs.readFileSync(path.join(root, 'releases', sha2, 'NOTES'), 'utf8'), 'second release');
    assert.equal(fs.readlinkSync(path.join(root, 'current')), path.join(root, 'releases', sha2));
    assert.equal(fs.readFileSync(path.join(root, 'releases', sha2, 'deployed-ref'), 'utf8'), 'HEAD');
  });

  it('ssh: an upload to ~/… lands in the remote home, with ${DELIVERY_SHORT_SHA} expanded as data', async () => {
    const rel = `delivery-deploy-test-${process.pid}-${Date.now()}`;
    const repo = appRepo(`version: 1
environments:
  home:
    deploy:
      ssh: ${sshYml(sshd)}
      upload: { from: app, to: "~/${rel}/\${DELIVERY_SHORT_SHA}" }
      run: 'test -f "$DELIVERY_UPLOAD_TO/app.js" && echo "uploaded to $DELIVERY_UPLOAD_TO in $PWD"'
`);
    const home = (await import('node:os')).homedir();
    try {
      const { record } = await deployer(repo).deploy('home');
      assert.equal(record.status, 'success', `${record.reason}\n${readLog(record)}`);
      const short = record.sha.slice(0, 7);
      assert.ok(fs.existsSync(path.join(home, rel, short, 'restart.sh')));
      assert.match(readLog(record), new RegExp(`uploaded to ${rel}/${short} in ${home}`));
    } finally {
      fs.rmSync(path.join(home, rel), { recursive: true, force: true });
    }
  });

  it('ssh: sshd stopped during the upload → failed, the old release still serves, the history has it', async function () {
    const root = path.join(tempDir(), 'srv');
    const port = await freePort();
    const own = await startSshd(path.join(tempDir(), 'sshd-own'));
    try {
      const repo = appRepo(`version: 1\nenvironments:\n${sshEnv('prod', own, root, port, 'dist')}`, { '.gitignore': 'dist/\n' });
      const dist = path.join(repo, 'dist');
      fs.mkdirSync(dist);
      for (const f of ['app.js', 'restart.sh']) fs.copyFileSync(path.join(repo, 'app', f), path.join(dist, f));
      const d = deployer(repo);
      const sha1 = git(repo, 'rev-parse', 'HEAD');
      const first = (await d.deploy('prod')).record;
      apps.push(path.join(root, 'releases', sha1, 'app.pid'));
      assert.equal(first.status, 'success', `${first.reason}\n${readLog(first)}`);

      const sha2 = commit(repo, 'app/NOTES', 'two', 'second');
      // Incompressible, so the upload takes a while; the sshd and its connections are stopped mid-way.
      fs.writeFileSync(path.join(dist, 'big.bin'), randomBytes(128 * 1024 * 1024));
      const release2 = path.join(root, 'releases', sha2);
      let stopped = false;
      const { record } = await d.deploy('prod', {
        onEvent: (e) => {
          if (stopped || e.type !== 'step' || e.step.name.startsWith('upload') === false || e.step.status !== 'running') return;
          stopped = true;
          void (async () => {
            await waitFor(() => fs.existsSync(release2) && fs.readdirSync(release2).some((f) => f.startsWith('.big.bin')), 30_000, 'the upload to start');
            const conns = descendants(own.pid);
            await own.stop();
            for (const p of conns) if (alive(p)) await stopPid(p, /sshd/, 200);
          })();
        },
      });
      assert.ok(stopped, 'the upload step ran');
      assert.equal(record.status, 'failed');
      const upload = record.steps.find((s) => s.name.startsWith('upload'))!;
      assert.equal(upload.status, 'failed');
      assert.match(record.reason ?? '', /^upload dist to 127\.0\.0\.1 failed: rsync /);
      assert.deepEqual(record.steps.slice(2).map((s) => s.status), ['skipped', 'skipped', 'skipped']);
      assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha1, 'the previous release still serves');
      // The lock and history live on the host, which is down: reading them says where, and fails.
      await assert.rejects(teamLockOf(repo, 'prod', d.stateDir), /127\.0\.0\.1/);
      const history = await deployHistory(d.stateDir, 'prod');
      assert.deepEqual(history.map((h) => [h.sha, h.status]), [[sha2, 'failed'], [sha1, 'success']]);
    } finally {
      await own.stop();
    }
  });

  describe('gitPush', () => {
    function pushRepo(envs: string): string {
      const app = (f: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/targets', f), 'utf8');
      return appRepo(`version: 1\nenvironments:\n${envs}`, { 'app.js': app('app.js'), 'restart.sh': app('restart.sh') });
    }
    let remotes: GitRemote[] = [];
    afterEach(async () => {
      for (const r of remotes) await r.stopApp();
      remotes = [];
    });

    it('pushes over file:// and ssh://; the hook restarts the app on the new commit', async () => {
      const base = tempDir();
      const [p1, p2] = [await freePort(), await freePort()];
      const viaFile = makeGitRemote(base, 'stage', { appPort: p1 });
      const viaSsh = makeGitRemote(base, 'edge', { appPort: p2 });
      remotes.push(viaFile, viaSsh);
      const repo = pushRepo(`  stage:
    deploy: { gitPush: { remote: "${viaFile.fileUrl}", branch: main } }
${probes(p1)}  edge:
    deploy:
      gitPush:
        remote: "${viaSsh.sshUrl(sshd.port)}"
        branch: main
        ssh: ${sshYml(sshd)}
${probes(p2)}`);
      const d = deployer(repo);
      const sha = git(repo, 'rev-parse', 'HEAD');
      for (const [env, port, remote] of [['stage', p1, viaFile], ['edge', p2, viaSsh]] as const) {
        const { record } = await d.deploy(env);
        assert.equal(record.status, 'success', `${env}: ${record.reason}\n${readLog(record)}`);
        assert.deepEqual(record.steps.map((s) => s.name), ['git push to main', 'check the deployed version', 'health check']);
        assert.equal(git(remote.bare, 'rev-parse', 'refs/heads/main'), sha);
        assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha);
        assert.match(readLog(record), /deploying [0-9a-f]{40} to /);
      }
    });

    it('reports a rejecting remote clearly, and a non-fast-forward push without force', async () => {
      const base = tempDir();
      const frozen = makeGitRemote(base, 'frozen', { rejectMessage: 'deploys are frozen until Monday' });
      const plain = makeGitRemote(base, 'plain');
      const repo = pushRepo(`  frozen:
    deploy: { gitPush: { remote: "${frozen.fileUrl}" } }
    state: local
  frozenShared:
    deploy: { gitPush: { remote: "${frozen.fileUrl}" } }
  plain:
    deploy: { gitPush: { remote: "${plain.fileUrl}" } }
`);
      const d = deployer(repo);
      // The team's lock lives on the deploy remote by default: a remote that refuses it refuses the deploy, saying
      // what it said and how to keep the lock elsewhere.
      const refusedLock = await d.start(await d.prepare('frozenShared'), { environmentName: 'frozenShared', dirty: true, reverts: true });
      assert.ok(!refusedLock.ok && refusedLock.kind === 'store');
      assert.match(refusedLock.message, /^could not take the deploy lock of "frozenShared", so nothing was deployed: could not write refs\/delivery\/frozenShared\/lock to git remote file:\/\/.*pre-receive hook declined.*deploys are frozen until Monday.*; to keep the lock and history elsewhere, set "state:" for this environment in delivery\.yml$/s);
      const rejected = (await d.deploy('frozen')).record;
      assert.equal(rejected.status, 'failed');
      assert.match(rejected.reason ?? '', /git push to main failed: git push remote rejected \(pre-receive hook declined\); the remote said: deploys are frozen until Monday/);
      const sha1 = git(repo, 'rev-parse', 'HEAD');
      commit(repo, 'NOTES', 'x', 'second');
      assert.equal((await d.deploy('plain')).record.status, 'success');
      const back = (await d.deploy('plain', { ref: sha1 })).record;
      assert.equal(back.status, 'failed');
      assert.match(back.reason ?? '', /non-fast-forward.*set "force: true"/);
    });

    it('rollback re-deploys the previous successful commit; it asks first because it reverts deployed commits', async () => {
      const base = tempDir();
      const port = await freePort();
      const remote = makeGitRemote(base, 'stage', { appPort: port });
      remotes.push(remote);
      const repo = pushRepo(`  stage:
    deploy: { gitPush: { remote: "${remote.fileUrl}", force: true } }
${probes(port)}`);
      const d = deployer(repo);
      const sha1 = git(repo, 'rev-parse', 'HEAD');
      assert.equal((await d.deploy('stage')).record.status, 'success');
      const sha2 = commit(repo, 'NOTES', 'two', 'second release');
      assert.equal((await d.deploy('stage')).record.status, 'success');
      assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha2);

      const prep = await d.prepare('stage', { action: 'rollback' });
      assert.equal(prep.sha, sha1);
      assert.equal(prep.previousSha, sha2);
      assert.deepEqual(prep.reverts, [{ sha: sha2, subject: 'second release' }]);
      assert.deepEqual(prep.reasons.map((r) => r.kind), ['reverts']);
      const refused = await d.start(prep, {});
      assert.ok(!refused.ok && refused.kind === 'confirm');
      assert.match(refused.message, /this rollback reverts 1 deployed commit of "stage" that the target does not contain: [0-9a-f]{7} second release/);

      const { record } = await d.deploy('stage', { action: 'rollback' });
      assert.equal(record.status, 'success', record.reason ?? '');
      assert.equal(record.action, 'rollback');
      assert.equal(record.sha, sha1);
      assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha1);
      const history = await deployHistory(d.stateDir, 'stage');
      assert.deepEqual(history.map((h) => [h.action, h.sha]), [['rollback', sha1], ['deploy', sha2], ['deploy', sha1]]);
      const again = await d.prepare('stage', { action: 'rollback' });
      assert.equal(again.sha, sha2, 'rolling back a rollback goes to the release before it');
      // Another machine (a fresh state folder) reads the same history from the remote: the same rollback target.
      assert.equal((await deployer(repo).prepare('stage', { action: 'rollback' })).sha, sha2, "the team's history, not this machine's");
    });

    it('promote deploys the commit the promotesFrom environment runs', async () => {
      const base = tempDir();
      const [ps, pp] = [await freePort(), await freePort()];
      const staging = makeGitRemote(base, 'staging', { appPort: ps });
      const production = makeGitRemote(base, 'production', { appPort: pp });
      remotes.push(staging, production);
      const repo = pushRepo(`  staging:
    deploy: { gitPush: { remote: "${staging.fileUrl}" } }
${probes(ps)}  production:
    promotesFrom: staging
    deploy: { gitPush: { remote: "${production.fileUrl}" } }
${probes(pp)}`);
      const d = deployer(repo);
      const sha1 = git(repo, 'rev-parse', 'HEAD');
      assert.equal((await d.deploy('staging')).record.status, 'success');
      commit(repo, 'NOTES', 'not yet on staging', 'newer');
      const { record } = await d.deploy('production', { action: 'promote' });
      assert.equal(record.status, 'success', record.reason ?? '');
      assert.equal(record.action, 'promote');
      assert.equal(record.sha, sha1, 'what staging runs, not HEAD');
      assert.equal((await getJson(`http://127.0.0.1:${pp}/version`)).sha, sha1);
      await staging.stopApp();
      await assert.rejects(d.prepare('production', { action: 'promote' }), /cannot tell which commit "staging" runs: version probe failed: http:\/\/127\.0\.0\.1:\d+\/version: (connection refused|the server closed the connection)/);
      await assert.rejects(d.prepare('staging', { action: 'promote' }), /environment "staging" has no "promotesFrom"/);
    });
  });
});
