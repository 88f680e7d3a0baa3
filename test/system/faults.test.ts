// Faults: the engine process killed with SIGKILL in the middle of a run and of a deploy, the disk filling up while
// history is written, and several processes writing one state directory at once (two VS Code windows and the CLI on
// one folder). Real CLI processes, a real tmpfs, real ssh. What must hold: the history never shows a dead run or
// deploy as running, what the dead engine left running is killed by the next one that looks, the lock of a dead
// deploy does not block the next, a full disk gives a clear error and never corrupts or loses earlier history, and
// concurrent writers never produce a record that does not parse or a lock held twice.
// (sshd stopped in the middle of an upload: deployRemote.test.ts; the network cut: faults-netns.test.ts.)
import { commandLine } from '../support/targets/common';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileDeployStore } from '../../src/adapters/deploy/history';
import { localStateStore } from '../../src/adapters/deploy/state/local';
import { teamLockOf } from '../support/deploySupport';
import { FileRunStore } from '../../src/adapters/runStore';
import { folderStateDir } from '../../src/adapters/stateDir';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, isAlive, tempDir, waitFor, writeFiles } from '../support/tmp';
import { CLI, cli, inBatches } from '../support/catalogueSupport';

function repoWith(files: Record<string, string>): string {
  const dir = tempDir('delivery-faults-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** The CLI in the background, in its own process group (so the test can SIGKILL exactly it, by PID). */
function startCli(cwd: string, stateRoot: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, DELIVERY_STATE_DIR: stateRoot }, stdio: 'ignore' });
}

async function sigkill(p: ChildProcess): Promise<void> {
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(p.pid!, 'SIGKILL');
  await exited;
}

const readPid = (file: string) => Number(fs.readFileSync(file, 'utf8').trim());

describe('faults: the engine killed with SIGKILL', function () {
  this.timeout(60_000);
  /** What the killed engines left: killed here too, so a failing test leaves nothing behind. */
  const orphans: number[] = [];
  after(() => {
    // Only if it still runs what the test started: under load the PID may belong to another process by now.
    for (const p of orphans) if (isAlive(p) && /\b(sleep|ssh|bash)\b/.test(commandLine(p))) process.kill(p, 'SIGKILL');
    cleanupTempDirs();
  });

  it('mid-run: the next start shows the run interrupted (not running forever) and kills the jobs it left, daemons included', async () => {
    const repo = repoWith({
      'delivery.yml': `version: 1
pipelines:
  ci:
    jobs:
      quick: { run: "echo done" }
      long:
        needs: [quick]
        run: |
          setsid bash -c 'echo $$ > daemon.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &
          echo $$ > job.pid
          sleep 300
      after: { needs: [long], run: "touch ran-after" }
`,
    });
    const state = tempDir('delivery-faults-state-');
    const engine = startCli(repo, state, ['run', 'ci']);
    await waitFor(() => fs.existsSync(path.join(repo, 'job.pid')) && fs.existsSync(path.join(repo, 'daemon.pid')), 20_000, 'the long job to start');
    const store = new FileRunStore(folderStateDir(repo, state));
    // The record on disk shows the long job running (it is saved a moment after each change).
    const onDiskJobs = () => {
      const [id] = fs.existsSync(store.runsDir) ? fs.readdirSync(store.runsDir) : [];
      const file = id && path.join(store.runsDir, id, 'run.json');
      return file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { jobs: { status: string }[] }).jobs.map((j) => j.status).join() : '';
    };
    await waitFor(() => onDiskJobs() === 'success,running,queued', 5000, 'the record of the running job');
    await sigkill(engine);
    const left = [readPid(path.join(repo, 'job.pid')), readPid(path.join(repo, 'daemon.pid'))];
    orphans.push(...left);
    assert.ok(left.every(isAlive), 'the dead engine could not stop its job or the daemon');

    // The next start (a VS Code window, the CLI: whoever reads the history).
    const [run] = await store.list();
    assert.equal(run.status, 'interrupted');
    assert.deepEqual(run.jobs.map((j) => [j.id, j.status]), [['quick', 'success'], ['long', 'cancelled'], ['after', 'cancelled']]);
    assert.equal(run.jobs[1].reason, 'interrupted: the process running it ended');
    assert.ok(run.finishedAt, 'it has an end');
    await waitFor(() => left.every((p) => !isAlive(p)), 5000, 'the job and its daemon to be killed');
    const onDisk = JSON.parse(fs.readFileSync(path.join(store.runsDir, run.id, 'run.json'), 'utf8')) as { status: string };
    assert.equal(onDisk.status, 'interrupted', 'recorded, so no later reader has to decide again');
    assert.equal(fs.existsSync(path.join(repo, 'ran-after')), false);

    const next = await cli(repo, state, ['run', 'ci', 'quick']);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual((await store.list()).map((r) => r.status), ['success', 'interrupted']);
  });

  describe('mid-deploy', () => {
    let sshd: Sshd | null = null;
    before(async function () {
      requireTool(this, sshdUnavailable());
      sshd = await startSshd(path.join(tempDir('delivery-faults-sshd-'), 'sshd'));
    });
    after(async () => sshd?.stop());

    it('the deploy reads as interrupted, its ssh session is killed, its lock does not block the next deploy', async () => {
      const remote = tempDir('delivery-faults-remote-');
      const s = sshd!;
      const ssh = `{ host: 127.0.0.1, port: ${s.port}, user: root, identityFile: "${s.clientKey}", knownHostsFile: "${s.knownHosts}" }`;
      const repo = repoWith({
        'delivery.yml': `version: 1
environments:
  edge:
    deploy:
      ssh: ${ssh}
      run: |
        if [ ! -e "${remote}/once" ]; then touch "${remote}/once"; echo "$$" > "${remote}/session.pid"; exec sleep 300; fi
        echo "$DELIVERY_SHA" > "${remote}/VERSION"
`,
      });
      const state = tempDir('delivery-faults-state-');
      const engine = startCli(repo, state, ['deploy', 'edge', '--yes']);
      await waitFor(() => fs.existsSync(path.join(remote, 'session.pid')), 20_000, 'the remote script to start');
      const stateDir = folderStateDir(repo, state);
      const [running] = await new FileDeployStore(stateDir).list('edge');
      assert.equal(running.status, 'running');
      const client = execFileSync('pgrep', ['-P', String(engine.pid), '-x', 'ssh'], { encoding: 'utf8' }).trim().split('\n').map(Number);
      assert.equal(client.length, 1, 'one ssh client runs the remote script');
      await sigkill(engine);
      orphans.push(client[0], readPid(path.join(remote, 'session.pid')));
      assert.ok(isAlive(client[0]), 'the ssh client outlived the engine');
      assert.match((await teamLockOf(repo, 'edge', stateDir)).stale ?? '', /its process \(\d+\) on .+ is gone/, 'the lock of the dead deploy (on the host) is stale');

      const [dead] = await new FileDeployStore(stateDir).list('edge');
      assert.equal(dead.status, 'interrupted');
      assert.match(dead.reason ?? '', /^interrupted: the process running the deploy ended; check what the environment runs$/);
      assert.deepEqual(dead.steps.map((st) => st.status), ['cancelled']);
      await waitFor(() => !isAlive(client[0]), 5000, 'the orphaned ssh client to be killed');

      const next = await cli(repo, state, ['deploy', 'edge', '--yes', '--json']);
      assert.equal(next.code, 0, next.stderr);
      assert.equal(fs.readFileSync(path.join(remote, 'VERSION'), 'utf8').trim(), git(repo, 'rev-parse', 'HEAD'));
      assert.deepEqual((await new FileDeployStore(stateDir).list('edge')).map((d) => d.status), ['success', 'interrupted']);
      assert.equal((await teamLockOf(repo, 'edge', stateDir)).holder, null);
    });
  });
});

describe('faults: the disk fills up while history is written (tmpfs)', function () {
  this.timeout(60_000);
  let mount: string | null = null;
  before(function () {
    requireTool(this, process.getuid?.() !== 0 && 'mounting a tmpfs needs root (run the system tier as root, as CI does)');
    mount = tempDir('delivery-faults-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
  });
  after(() => {
    if (mount) execFileSync('umount', [mount]);
    cleanupTempDirs();
  });

  it('a clear error, nothing deployed unrecorded, and the earlier history stays readable', async () => {
    const state = path.join(mount!, 'state');
    const repo = repoWith({
      'delivery.yml': `version: 1
pipelines:
  ci:
    jobs:
      fill: { run: 'echo "job ran"; if [ -n "$FILL" ]; then head -c 4M /dev/zero > "$FILL" 2>/dev/null || true; fi' }
environments:
  staging:
    deploy: { command: 'touch "${mount}/ran-deploy"' }
`,
    });
    const first = await cli(repo, state, ['run', 'ci']);
    const deployed = await cli(repo, state, ['deploy', 'staging', '--yes']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(deployed.code, 0, deployed.stderr);
    fs.rmSync(path.join(mount!, 'ran-deploy'));
    const stateDir = folderStateDir(repo, state);
    const runs = new FileRunStore(stateDir);
    const [earlier] = await runs.list();

    // The job itself fills the disk: the run's final record cannot be written.
    const filler = path.join(mount!, 'filler');
    const full = await cli(repo, state, ['run', 'ci', '--json'], { env: { FILL: filler } });
    assert.equal(full.code, 0, full.stderr);
    assert.equal(JSON.parse(full.stdout).status, 'success', 'the run itself is reported');
    assert.match(full.stderr, /^delivery: error: the run could not be recorded in the history \(.*\/runs\): ENOSPC: no space left on device/m);

    // With the disk still full a deploy is refused before anything runs: it could be neither locked nor recorded.
    const refused = await cli(repo, state, ['deploy', 'staging', '--yes']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^delivery: could not take the deploy lock of "staging", so nothing was deployed: local store .*\/team\/staging: cannot write the lock: ENOSPC: no space left on device/m);
    assert.equal(fs.existsSync(path.join(mount!, 'ran-deploy')), false);

    // Earlier history: intact, readable; no half-written record, no temporary file, no lock left behind.
    const listed = await runs.list();
    assert.equal(listed.find((r) => r.id === earlier.id)?.status, 'success');
    for (const r of listed) assert.notEqual(r.status, 'running', `run ${r.id} does not read as running forever`);
    const leftovers = fs.readdirSync(stateDir, { recursive: true, withFileTypes: true }).filter((e) => e.name.endsWith('.tmp'));
    assert.deepEqual(leftovers.map((e) => e.name), []);
    assert.deepEqual((await new FileDeployStore(stateDir).list('staging')).map((d) => d.status), ['success']);
    assert.equal((await teamLockOf(repo, 'staging', stateDir)).holder, null);

    // Space again: everything works and is recorded.
    fs.rmSync(filler);
    const after = await cli(repo, state, ['run', 'ci']);
    assert.equal(after.code, 0, after.stderr);
    assert.doesNotMatch(after.stderr, /could not be recorded/);
    assert.equal((await runs.list())[0].status, 'success');
    assert.equal((await cli(repo, state, ['deploy', 'staging', '--yes'])).code, 0);
    assert.deepEqual((await new FileDeployStore(stateDir).list('staging')).map((d) => d.status), ['success', 'success']);
  });
});

/** A worker process that writes run and deploy records and takes the deploy lock, as a second window would. */
const WORKER = `
const fs = require('node:fs');
const path = require('node:path');
const [,, outDir, stateDir, who, rounds] = process.argv;
const { FileRunStore } = require(path.join(outDir, 'src/adapters/runStore.js'));
const { FileDeployStore } = require(path.join(outDir, 'src/adapters/deploy/history.js'));
const { localStateStore } = require(path.join(outDir, 'src/adapters/deploy/state/local.js'));
(async () => {
  const runs = new FileRunStore(stateDir);
  const deploys = new FileDeployStore(stateDir);
  const locks = localStateStore(stateDir, 'shared');
  const counter = path.join(stateDir, 'counter');
  let held = 0;
  for (let i = 0; i < Number(rounds); i++) {
    const id = '20260101-000000-' + String(i).padStart(3, '0') + '-' + who;
    const run = { id, folder: '/w', pipelineId: 'ci', pipelineName: 'CI', source: { kind: 'delivery', file: 'delivery.yml' }, stages: null,
      status: 'running', startedAt: Date.now(), finishedAt: null, durationMs: 0, trigger: 'cli', sha: null, pid: process.pid, jobs: [] };
    await runs.save(run);
    await runs.save({ ...run, status: 'success', finishedAt: Date.now() });
    const rec = { id, environment: 'shared', folder: '/w', action: 'deploy', sha: 'a'.repeat(40), ref: 'HEAD', previousSha: null, user: who,
      trigger: 'cli', pid: process.pid, status: 'running', startedAt: Date.now(), finishedAt: null, durationMs: 0, steps: [], health: null,
      buildRunId: null, logFile: null, reason: null };
    await deploys.save(rec);
    await deploys.save({ ...rec, status: 'success', finishedAt: Date.now() });
    // Read-modify-write of a counter under the lock: an increment is lost if two processes ever hold it at once.
    for (;;) {
      const token = id + '-' + i;
      const holder = { token, user: who, host: 'here', pid: process.pid, pidStartTime: null, deployId: id, sha: null, message: null, since: Date.now(), renewedAt: Date.now(), expiresAfterMs: 60000 };
      const lock = await locks.createLock(holder);
      if (!lock.ok) { await new Promise((r) => setTimeout(r, 2)); continue; }
      const n = Number(fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8') : '0');
      await new Promise((r) => setTimeout(r, 1));
      fs.writeFileSync(counter, String(n + 1));
      // A renewal (compare-and-swap) while holding it, then the release.
      if (!(await locks.swapLock(token, { ...holder, renewedAt: Date.now() }))) throw new Error('lost the lock');
      if (!(await locks.swapLock(token, null))) throw new Error('could not release the lock');
      await locks.append({ v: 1, id, action: 'deploy', status: 'success', user: who, host: 'here', fromSha: null, toSha: null, startedAt: Date.now(), durationMs: 1, message: null });
      held++;
      break;
    }
  }
  process.stdout.write(String(held));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('faults: concurrent writers on one state directory (two windows and the CLI)', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  it('three processes writing records and taking the lock while a fourth reads: every record parses, no lock is held twice', async () => {
    const stateDir = tempDir('delivery-faults-shared-');
    const script = path.join(stateDir, '..', `worker-${process.pid}.js`);
    fs.writeFileSync(script, WORKER);
    const outDir = path.resolve(__dirname, '../..');
    const rounds = 40;
    const workers = ['aaaaaa', 'bbbbbb', 'cccccc'].map(
      (who) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const p = spawn(process.execPath, [script, outDir, stateDir, who, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          p.stdout.on('data', (b: Buffer) => (out += b.toString()));
          p.stderr.on('data', (b: Buffer) => (err += b.toString()));
          p.on('close', (code) => resolve({ code, out, err }));
        }),
    );
    // The reader: what a window's history view does while the others write.
    let done = false;
    let reads = 0;
    const reader = (async () => {
      const runs = new FileRunStore(stateDir);
      const deploys = new FileDeployStore(stateDir);
      while (!done) {
        for (const dir of fs.existsSync(runs.runsDir) ? fs.readdirSync(runs.runsDir) : []) {
          const file = path.join(runs.runsDir, dir, 'run.json');
          if (fs.existsSync(file)) JSON.parse(fs.readFileSync(file, 'utf8')); // throws on a torn write
        }
        await runs.list(1000);
        await deploys.list('shared', 1000);
        reads++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const results = await Promise.all(workers);
    done = true;
    await reader;
    fs.rmSync(script);
    for (const r of results) assert.equal(r.code, 0, r.err);
    assert.deepEqual(results.map((r) => Number(r.out)), [rounds, rounds, rounds]);
    assert.equal(fs.readFileSync(path.join(stateDir, 'counter'), 'utf8'), String(3 * rounds), 'no increment lost: the lock was never held twice');
    const runs = await new FileRunStore(stateDir).list(1000);
    assert.equal(runs.length, 3 * rounds);
    assert.ok(runs.every((r) => r.status === 'success'));
    assert.equal((await new FileDeployStore(stateDir).list('shared', 1000)).length, 3 * rounds);
    assert.deepEqual(fs.readdirSync(path.join(stateDir, 'team', 'shared')), ['history.jsonl'], 'no lock, mutex or temporary lock file is left');
    assert.equal((await localStateStore(stateDir, 'shared').readHistory()).length, 3 * rounds, 'every history line was appended whole');
    assert.ok(reads > 3, `the reader read while they wrote (${reads} passes)`);
  });

  it('two CLI runs and two CLI deploys of one folder at once: both runs recorded, one deploy at a time', async () => {
    const out = tempDir('delivery-faults-out-');
    const repo = repoWith({
      'delivery.yml': `version: 1
pipelines:
  ci:
    jobs:
      a: { run: "sleep 0.3; echo one" }
environments:
  staging:
    deploy: { command: 'echo "$$" >> "${out}/deploys"; sleep 0.5' }
`,
    });
    const state = tempDir('delivery-faults-state-');
    const [r1, r2, d1, d2] = await inBatches(
      [['run', 'ci'], ['run', 'ci'], ['deploy', 'staging', '--yes'], ['deploy', 'staging', '--yes']],
      4,
      (args) => cli(repo, state, args),
    );
    assert.deepEqual([r1.code, r2.code], [0, 0], r1.stderr + r2.stderr);
    assert.deepEqual([d1.code, d2.code].sort(), [0, 1], d1.stderr + d2.stderr);
    assert.match(d1.code === 1 ? d1.stderr : d2.stderr, /"staging" is being deployed by /);
    const stateDir = folderStateDir(repo, state);
    const runs = await new FileRunStore(stateDir).list();
    assert.deepEqual(runs.map((r) => r.status), ['success', 'success']);
    assert.equal(fs.readFileSync(path.join(out, 'deploys'), 'utf8').trim().split('\n').length, 1);
    assert.deepEqual((await new FileDeployStore(stateDir).list('staging')).map((d) => d.status), ['success']);
  });
});
