// Fault: the network to a target is cut. The target is a host in its own network namespace (test/support/netns.ts)
// running OpenSSH; its link is taken down in the middle of a deploy and then left down. The deploy must end by its
// own timeout with a clear reason, its lock (on the host) must not block once the host is back, the history must record the failure and the release
// that was live must still be the live one; probes and new deploys must fail within their timeouts, saying why.
// Root only (skipped with the reason otherwise, and a failure under CI=true).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deployHistory } from '../../src/adapters/deploy/runner';
import { teamLockOf } from '../support/deploySupport';
import { folderStateDir } from '../../src/adapters/stateDir';
import { destroyHosts, makeHost, netnsUnavailable, type NetnsHost } from '../support/netns';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir, waitFor, writeFiles } from '../support/tmp';
import { cli, type CliResult } from '../support/catalogueSupport';

const DEPLOY_TIMEOUT_S = 10;
const PROBE_TIMEOUT_S = 4;

function yml(host: NetnsHost, remote: string): string {
  const ssh = `host: ${host.address}, port: 22, user: root, identityFile: "${host.sshd.clientKey}", knownHostsFile: "${host.sshd.knownHosts}", connectTimeout: 2s`;
  return `version: 1
environments:
  edge:
    version: { ssh: { ${ssh}, command: 'cat "${remote}/current/VERSION"' }, timeout: ${PROBE_TIMEOUT_S}s }
    deploy:
      ssh: { ${ssh} }
      upload: { from: app, to: "${remote}/releases/\${DELIVERY_SHA}" }
      run: |
        touch "${remote}/started-$DELIVERY_SHA"
        if [ -e "$DELIVERY_UPLOAD_TO/SLOW" ]; then sleep 300; fi
        echo "$DELIVERY_SHA" > "$DELIVERY_UPLOAD_TO/VERSION"
        ln -sfn "$DELIVERY_UPLOAD_TO" "${remote}/current"
      timeout: ${DEPLOY_TIMEOUT_S}s
`;
}

/** The CLI, timed (to show that it ended within the configured timeouts rather than hanging). */
async function timed(p: Promise<CliResult>): Promise<CliResult & { seconds: number }> {
  const t0 = Date.now();
  const r = await p;
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

describe('faults: the network to a target is cut (network namespace)', function () {
  this.timeout(120_000);
  let host: NetnsHost;
  before(async function () {
    requireTool(this, netnsUnavailable());
    host = await makeHost(tempDir('delivery-netns-'));
  });
  after(() => {
    if (!netnsUnavailable()) destroyHosts();
    cleanupTempDirs();
  });

  it('mid-deploy cut: the deploy times out cleanly; probes and new deploys fail within their timeouts; the old release stays live', async () => {
    const remote = tempDir('delivery-netns-remote-');
    const repo = tempDir('delivery-netns-repo-');
    const state = tempDir('delivery-netns-state-');
    git(repo, 'init', '-q', '-b', 'main');
    writeFiles(repo, { 'delivery.yml': yml(host, remote), 'app/index.html': 'one\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'one');
    const sha1 = git(repo, 'rev-parse', 'HEAD');
    const first = await cli(repo, state, ['deploy', 'edge', '--yes', '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(fs.readFileSync(path.join(remote, 'current', 'VERSION'), 'utf8').trim(), sha1);

    writeFiles(repo, { 'app/SLOW': 'the remote script waits: the link is cut meanwhile\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'two');
    const sha2 = git(repo, 'rev-parse', 'HEAD');
    const deploying = timed(cli(repo, state, ['deploy', 'edge', '--yes', '--json']));
    await waitFor(() => fs.existsSync(path.join(remote, `started-${sha2}`)), 30_000, 'the remote script to start');
    host.cut();

    const cutOff = await deploying;
    assert.equal(cutOff.code, 1, cutOff.stderr);
    const j = JSON.parse(cutOff.stdout) as { status: string; reason: string; steps: { name: string; status: string }[] };
    assert.equal(j.status, 'failed');
    // Its own timeout, or (a little earlier or later) the shared ssh connection giving up on the silent host.
    assert.match(j.reason, new RegExp(`^(the deploy timed out after ${DEPLOY_TIMEOUT_S} s; its processes were stopped|run on ${host.address.replace(/\./g, '\\.')} failed: ssh: the connection to ${host.address.replace(/\./g, '\\.')}:22 was lost \\(the host stopped answering\\))$`));
    assert.ok(cutOff.seconds < DEPLOY_TIMEOUT_S + 15, `ended ${cutOff.seconds} s after it started, by its own ${DEPLOY_TIMEOUT_S} s timeout`);
    const stateDir = folderStateDir(repo, state);
    // The lock and the team's history live on the host: unreachable now, and said so.
    await assert.rejects(teamLockOf(repo, 'edge', stateDir), new RegExp(`ssh store root@${host.address.replace(/\./g, '\\.')}`));
    const history = await deployHistory(stateDir, 'edge');
    assert.deepEqual(history.map((h) => [h.sha, h.status]), [[sha2, 'failed'], [sha1, 'success']]);
    assert.equal(fs.readlinkSync(path.join(remote, 'current')), path.join(remote, 'releases', sha1), 'the previous release is still the live one');

    const probe = await timed(cli(repo, state, ['envs', '--json']));
    assert.equal(probe.code, 1, probe.stderr);
    const env = (JSON.parse(probe.stdout) as { environments: { deployed: { sha: unknown; error: string } }[] }).environments[0];
    assert.equal(env.deployed.sha, null);
    assert.match(env.deployed.error, new RegExp(`^(ssh: connection to ${host.address.replace(/\./g, '\\.')}:22 timed out|ssh: ${host.address.replace(/\./g, '\\.')}:22 is unreachable|no answer within ${PROBE_TIMEOUT_S}s from the version command on root@${host.address.replace(/\./g, '\\.')}:22 \\(it was stopped\\))$`));
    assert.ok(probe.seconds < PROBE_TIMEOUT_S + 10, `the probe answered after ${probe.seconds} s (timeout ${PROBE_TIMEOUT_S} s)`);

    const again = await timed(cli(repo, state, ['deploy', 'edge', '--yes', '--json']));
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stdout, '', 'nothing was deployed: no result');
    const a = { reason: again.stderr.trim() };
    assert.match(a.reason, new RegExp(`^delivery: could not take the deploy lock of "edge", so nothing was deployed: ssh store root@${host.address.replace(/\./g, '\\.')}:\\.delivery/edge: ssh: (connection to ${host.address.replace(/\./g, '\\.')}:22 timed out|${host.address.replace(/\./g, '\\.')}:22 is unreachable)`, 'm'));
    assert.ok(again.seconds < DEPLOY_TIMEOUT_S + 10, `the deploy gave up after ${again.seconds} s`);
    assert.deepEqual((await deployHistory(stateDir, 'edge')).map((h) => h.status), ['failed', 'success'], 'a refused deploy is not recorded as run');

    console.log(
      `      network cut: the deploy in flight ended after ${cutOff.seconds.toFixed(1)} s (timeout ${DEPLOY_TIMEOUT_S} s); ` +
        `the probe after ${probe.seconds.toFixed(1)} s (timeout ${PROBE_TIMEOUT_S} s): "${env.deployed.error}"; ` +
        `a new deploy after ${again.seconds.toFixed(1)} s: "${a.reason}"`,
    );
    host.restore();
    // The link is back: the probe reaches the host again (after the neighbour entry that failed is retried).
    let back: { sha: unknown; error: unknown } = { sha: null, error: null };
    for (let i = 0; i < 10 && back.sha !== sha1; i++) {
      const r = await cli(repo, state, ['envs', '--json']);
      back = (JSON.parse(r.stdout) as { environments: { deployed: { sha: unknown; error: unknown } }[] }).environments[0].deployed;
    }
    assert.equal(back.sha, sha1, `the previous release still answers: ${String(back.error)}`);
    // The lock the cut-off deploy left on the host: its process is gone, so it does not count; the team's history
    // (on the host) says that deploy was interrupted.
    const lock = JSON.parse((await cli(repo, state, ['lock', 'status', 'edge', '--json'])).stdout) as { locked: boolean; store: string };
    assert.deepEqual([lock.locked, lock.store], [false, 'ssh']);
    const hist = JSON.parse((await cli(repo, state, ['history', 'edge', '--json'])).stdout) as { records: { toSha: string; status: string }[] };
    assert.deepEqual(hist.records.map((r) => [r.toSha, r.status]), [[sha2, 'interrupted'], [sha1, 'success']]);
  });
});
