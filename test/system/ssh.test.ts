// ssh and rsync against a real OpenSSH sshd on 127.0.0.1: values travel as data, never as shell code.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { rsyncCommand, sshScriptCommand } from '../../src/adapters/ssh';
import type { CommandSpec } from '../../src/core/engine/ports';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';

async function run(spec: CommandSpec) {
  const out: string[] = [];
  const r = await new LocalProcessRunner().run(spec, { signal: new AbortController().signal, onLine: (s, t) => out.push(`${s}:${t}`) });
  return { ...r, out };
}

describe('ssh and rsync (real sshd)', function () {
  let sshd: Sshd;
  before(async function () {
    requireTool(this, sshdUnavailable());
    sshd = await startSshd(path.join(tempDir(), 'sshd'));
  });
  after(async () => {
    await sshd?.stop();
    cleanupTempDirs();
  });

  it('runs a script on the host with variables whose values are never executed', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'pwned');
    const evil = `$(touch ${marker}); touch ${marker} \`touch ${marker}\` '"\n;`;
    const r = await run(sshScriptCommand(sshd.target(), 'printf "%s|" "$DELIVERY_REF"; echo "$DELIVERY_SHA"', { DELIVERY_REF: evil, DELIVERY_SHA: 'abc123' }, dir));
    assert.equal(r.exitCode, 0, r.out.join('\n'));
    assert.deepEqual(r.out, [`stdout:${evil.split('\n')[0]}`, `stdout:;|abc123`]);
    assert.equal(fs.existsSync(marker), false);
  });

  it('reports the script exit code and a wrong key or host key', async () => {
    const dir = tempDir();
    assert.equal((await run(sshScriptCommand(sshd.target(), 'exit 5', {}, dir))).exitCode, 5);
    const wrongKey = path.join(dir, 'k');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const denied = await run(sshScriptCommand(sshd.target({ identityFile: wrongKey }), 'true', {}, dir));
    assert.equal(denied.exitCode, 255);
    assert.match(denied.out.join('\n'), /Permission denied/);
    const otherHosts = path.join(dir, 'known_hosts');
    fs.writeFileSync(otherHosts, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKo2r1xXU0gkKMnvXJ8aoH2ESz1Z/8k6C8UfXUxEjZ7x\n`);
    const mismatch = await run(sshScriptCommand(sshd.target({ knownHostsFile: otherHosts }), 'true', {}, dir));
    assert.equal(mismatch.exitCode, 255);
    assert.match(mismatch.out.join('\n'), /host key|HOST IDENTIFICATION|verification failed/i);
  });

  it('uploads with rsync to a path that would be dangerous in a shell', async () => {
    const src = tempDir();
    fs.writeFileSync(path.join(src, 'a.txt'), 'A');
    const dest = path.join(tempDir(), 'rel $(touch x); y');
    const r = await run(rsyncCommand(sshd.target(), src, dest, { delete: true, exclude: [], cwd: src }));
    assert.equal(r.exitCode, 0, r.out.join('\n'));
    assert.equal(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8'), 'A');
    assert.equal(fs.existsSync(path.join(src, 'x')), false);
  });
});
