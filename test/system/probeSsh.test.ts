// The ssh version probe against a real OpenSSH sshd on 127.0.0.1: the command's output is read back, and every
// way ssh fails has its own message (refused, wrong host key, key not accepted).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { probeVersion } from '../../src/adapters/environments/probes';
import { DeployRepo } from '../../src/adapters/environments/repo';
import type { SshTarget } from '../../src/core/environments/config';
import { freePort } from '../support/targets/common';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const SHA = 'fedcba9876543210fedcba9876543210fedcba98';

describe('ssh version probe (real sshd)', function () {
  this.timeout(30_000);
  let sshd: Sshd;
  let remoteDir: string;
  before(async function () {
    requireTool(this, sshdUnavailable());
    sshd = await startSshd(path.join(tempDir(), 'sshd'));
    remoteDir = tempDir();
    fs.writeFileSync(path.join(remoteDir, 'VERSION'), `${SHA}\n`);
  });
  after(async () => {
    await sshd?.stop();
    cleanupTempDirs();
  });

  const probe = (ssh: SshTarget, command: string, over: { regex?: string; timeoutMs?: number } = {}) => {
    const folder = tempDir();
    return probeVersion(
      { id: 'production', version: { kind: 'ssh', ssh, command, json: null, regex: over.regex ?? null, timeoutMs: over.timeoutMs ?? 15_000 } },
      { folder, signal: new AbortController().signal, repo: new DeployRepo(folder) },
    );
  };

  it('runs the command on the host (with DELIVERY_ENV) and reads the commit from its output', async () => {
    const r = await probe(sshd.target(), `echo "env=$DELIVERY_ENV"; cat "${remoteDir}/VERSION"`, { regex: '([0-9a-f]{40})' });
    assert.deepEqual({ sha: r.sha, error: r.error }, { sha: SHA, error: null });
    assert.match(r.raw ?? '', /^env=production /);
  });

  it('a failing command on the host reports its exit code and message', async () => {
    const r = await probe(sshd.target(), `cat "${remoteDir}/MISSING"`);
    assert.match(r.error ?? '', /^the version command on root@127\.0\.0\.1:\d+ exited with code 1: cat: .*MISSING: No such file or directory$/);
  });

  it('connection refused', async () => {
    const port = await freePort();
    const r = await probe(sshd.target({ port }), 'true');
    assert.equal(r.error, `ssh: connection refused by 127.0.0.1:${port} (no ssh server listens there)`);
  });

  it('host key mismatch and an unknown host are refused, naming the known_hosts file', async () => {
    const dir = tempDir();
    const other = path.join(dir, 'known_hosts');
    fs.writeFileSync(other, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKo2r1xXU0gkKMnvXJ8aoH2ESz1Z/8k6C8UfXUxEjZ7x\n`);
    const mismatch = await probe(sshd.target({ knownHostsFile: other }), 'true');
    assert.equal(mismatch.sha, null);
    assert.equal(mismatch.error, `ssh: the host key of 127.0.0.1:${sshd.port} does not match the one in ${other} (the host was reinstalled, or this is not the host you expect)`);
    const empty = path.join(dir, 'empty_known_hosts');
    fs.writeFileSync(empty, '');
    const unknown = await probe(sshd.target({ knownHostsFile: empty }), 'true');
    assert.match(unknown.error ?? '', /^ssh: host key verification failed for 127\.0\.0\.1:\d+/);
  });

  it('a key the host does not accept', async () => {
    const key = path.join(tempDir(), 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const r = await probe(sshd.target({ identityFile: key }), 'true');
    assert.equal(r.error, `ssh: permission denied for root@127.0.0.1 on 127.0.0.1:${sshd.port} (the key ${key} is not accepted)`);
  });
});
