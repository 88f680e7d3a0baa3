// Soak: many pipeline runs and deploys back to back in this one process (the way a VS Code window lives for days),
// against real processes and real targets (an OpenSSH sshd with rsync, a bare git repository over file://). Checks
// that nothing accumulates: file descriptors return to their level after warm-up, no process is left behind, and
// the JavaScript heap and RSS grow no more than the stated bounds. Prints the figures.
//   npm test:      SOAK_RUNS=40  SOAK_DEPLOYS=8   (the default here, a few seconds)
//   npm run soak:  SOAK_RUNS=500 SOAK_DEPLOYS=100
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { FolderSources } from '../../src/adapters/folderSources';
import { startLocalRun } from '../../src/adapters/localRuns';
import { orphanMark, processesWithMark } from '../../src/adapters/processRunner';
import { FileRunStore } from '../../src/adapters/runStore';
import { makeGitRemote } from '../support/targets/gitRemote';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir } from '../support/tmp';
import { appRepo, commit, deployer, readLog } from '../support/deploySupport';

const RUNS = Number(process.env.SOAK_RUNS ?? 40);
const DEPLOYS = Number(process.env.SOAK_DEPLOYS ?? 8);
/** Bounds: what warm-up does not explain. Generous against noise, far below what a per-run leak would add. */
const MAX_FD_GROWTH = 4;
const MAX_HEAP_GROWTH_MB = 24;
const MAX_RSS_GROWTH_MB = 96;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const PIPELINE = `version: 1
pipelines:
  soak:
    jobs:
      build: { run: "echo building; seq 1 2000" }
      test: { needs: [build], run: "echo testing >&2; printf 'caf\\\\xe9 %s\\\\n' one two three" }
      daemon: { needs: [build], run: "setsid sleep 60 </dev/null >/dev/null 2>&1 & echo started a daemon" }
      flaky: { needs: [test], run: "exit 3", allowFailure: true }
`;

interface Sample {
  fds: number;
  heapMb: number;
  rssMb: number;
}

function sample(): Sample {
  gc();
  gc();
  const m = process.memoryUsage();
  return { fds: fs.readdirSync('/proc/self/fd').length, heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 };
}

/** Live processes below this one (children, grandchildren…). */
function descendants(): number[] {
  const children = new Map<number, number[]>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      const ppid = Number(rest[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const stack = [process.pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

const mb = (n: number) => `${n.toFixed(1)} MB`;

describe(`soak: ${RUNS} pipeline runs and ${DEPLOYS} deploys back to back`, function () {
  this.timeout(Math.max(120_000, RUNS * 1000 + DEPLOYS * 5000));
  let sshd: Sshd | null = null;
  const remotes: { stopApp(): Promise<void> }[] = [];
  before(async function () {
    requireTool(this, sshdUnavailable());
    sshd = await startSshd(path.join(tempDir('delivery-soak-sshd-'), 'sshd'));
  });
  after(async () => {
    for (const r of remotes) await r.stopApp();
    await sshd?.stop();
    cleanupTempDirs();
  });

  it('leaves no file descriptors, processes or memory behind', async () => {
    // Runs: the pipeline above, from its file, through the same path as a window or the CLI.
    const runFolder = appRepo(PIPELINE);
    const store = new FileRunStore(path.join(tempDir('delivery-soak-state-'), 'state'));
    const runIds: string[] = [];
    let runMs = 0;
    const runOnce = async () => {
      const t = Date.now();
      const snapshot = await new FolderSources(runFolder).loadAll();
      const handle = await startLocalRun(snapshot.pipelines[0], {}, { folder: runFolder, store, trigger: 'vscode', parallelism: 2 });
      if ('error' in handle) throw new Error(handle.error);
      const run = await handle.done;
      assert.equal(run.status, 'success', run.jobs.map((j) => `${j.id}: ${j.status} ${j.reason ?? ''}`).join('\n'));
      runIds.push(run.id);
      await store.prune(200); // as the extension does after each run (delivery.history.maxRuns)
      runMs += Date.now() - t;
    };

    // Deploys: alternately over ssh (rsync upload + remote script, checked by an ssh probe) and by git push to a
    // bare repository (checked with ls-remote), each after a new commit.
    const s = sshd!;
    const remote = tempDir('delivery-soak-remote-');
    const bare = makeGitRemote(tempDir('delivery-soak-git-'), 'soak');
    remotes.push(bare);
    const ssh = `host: 127.0.0.1, port: ${s.port}, user: root, identityFile: "${s.clientKey}", knownHostsFile: "${s.knownHosts}"`;
    const deployFolder = appRepo(`version: 1
environments:
  viaSsh:
    version: { ssh: { ${ssh}, command: 'cat "${remote}/current/VERSION"' } }
    deploy:
      ssh: { ${ssh} }
      upload: { from: app, to: "${remote}/releases/\${DELIVERY_SHA}", delete: true }
      run: |
        echo "$DELIVERY_SHA" > "$DELIVERY_UPLOAD_TO/VERSION"
        ln -sfn "$DELIVERY_UPLOAD_TO" "${remote}/current"
        if [ -n "$DELIVERY_PREVIOUS_SHA" ] && [ "$DELIVERY_PREVIOUS_SHA" != "$DELIVERY_SHA" ]; then rm -rf "${remote}/releases/$DELIVERY_PREVIOUS_SHA"; fi
  viaGit:
    version: { git: { remote: "${bare.fileUrl}", ref: main } }
    deploy: { gitPush: { remote: "${bare.fileUrl}", branch: main, force: true } }
`);
    const d = deployer(deployFolder);
    let deploysDone = 0;
    const deployOnce = async () => {
      commit(deployFolder, 'app/NOTES', `deploy ${deploysDone}`, `deploy ${deploysDone}`);
      const env = deploysDone % 2 === 0 ? 'viaSsh' : 'viaGit';
      const { record } = await d.deploy(env);
      assert.equal(record.status, 'success', `${env}: ${record.reason}\n${readLog(record)}`);
      deploysDone++;
    };

    // Warm-up: code paths loaded, caches and pools filled; then the baseline.
    for (let i = 0; i < 3; i++) await runOnce();
    for (let i = 0; i < 2; i++) await deployOnce();
    const base = sample();
    const already = new Set(descendants()); // what other suites in this process may still have running
    const t0 = Date.now();
    // Interleaved, as in real use: a deploy after every RUNS/DEPLOYS runs.
    const every = Math.max(1, Math.floor((RUNS - 3) / Math.max(1, DEPLOYS - 2)));
    let runsDone = 3;
    while (runsDone < RUNS || deploysDone < DEPLOYS) {
      if (runsDone < RUNS) {
        await runOnce();
        runsDone++;
      }
      if (deploysDone < DEPLOYS && (runsDone % every === 0 || runsDone >= RUNS)) await deployOnce();
    }
    const seconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 300)); // let the last pipes and timers close
    const end = sample();
    const left = descendants().filter((p) => !already.has(p));
    const marked = runIds.slice(-20).flatMap((id) => processesWithMark(orphanMark('run', id)));
    console.log(
      `      soak: ${runsDone} runs + ${deploysDone} deploys in ${seconds.toFixed(1)} s (runs ${(runMs / 1000).toFixed(1)} s); ` +
        `fds ${base.fds} -> ${end.fds}; heap ${mb(base.heapMb)} -> ${mb(end.heapMb)}; RSS ${mb(base.rssMb)} -> ${mb(end.rssMb)}; ` +
        `processes left: ${left.length}; history kept: ${fs.readdirSync(store.runsDir).length} runs`,
    );
    assert.equal(runsDone, RUNS);
    assert.equal(deploysDone, DEPLOYS);
    assert.deepEqual(left, [], 'no child process is left');
    assert.deepEqual(marked, [], 'no process of a run is left (their daemons were killed)');
    assert.ok(end.fds - base.fds <= MAX_FD_GROWTH, `file descriptors: ${base.fds} -> ${end.fds}`);
    assert.ok(end.heapMb - base.heapMb <= MAX_HEAP_GROWTH_MB, `heap: ${mb(base.heapMb)} -> ${mb(end.heapMb)}`);
    assert.ok(end.rssMb - base.rssMb <= MAX_RSS_GROWTH_MB, `RSS: ${mb(base.rssMb)} -> ${mb(end.rssMb)}`);
    assert.ok(fs.readdirSync(store.runsDir).length <= 200, 'the history is pruned to its limit');
    assert.equal(git(deployFolder, 'status', '--porcelain'), '', 'deploys left the folder clean');
  });
});
