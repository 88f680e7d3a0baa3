// One ssh connection per host for a deploy (adapters/deploy/sshMux.ts), against a real sshd: sessions, rsync and
// the team store ride on it (the sshd authenticates once), close() ends it, and a connection that cannot be made
// changes nothing (each session connects on its own, as without it).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshMux } from '../../src/adapters/deploy/sshMux';
import { rsyncCommand, sshScriptCommand } from '../../src/adapters/ssh';
import type { CommandSpec } from '../../src/core/engine/ports';
import { requireTool } from '../support/requireTool';
import { freePort } from '../support/targets/common';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { appRepo, commit, deployer, teamHistoryOf } from '../support/deploySupport';
import { cleanupTempDirs, tempDir, writeFiles } from '../support/tmp';

function run(spec: CommandSpec): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.stdin.on('error', () => undefined); // ssh may exit before reading it all (connection refused), as the product allows
    p.stdin.end(spec.stdin ?? '');
    p.on('close', (code) => resolve({ code, out }));
  });
}

/** Logins the sshd accepted so far (one per connection; sessions on a shared connection add none). */
const logins = (s: Sshd) => (fs.readFileSync(path.join(s.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;

describe('ssh: one shared connection per host for a deploy', function () {
  this.timeout(120_000);
  let sshd: Sshd | null = null;
  before(async function () {
    requireTool(this, sshdUnavailable());
    sshd = await startSshd(path.join(tempDir('delivery-mux-sshd-'), 'sshd'));
  });
  after(async () => {
    await sshd?.stop();
    cleanupTempDirs();
  });

  it('five scripts and an rsync authenticate once; close() ends the connection and removes its socket', async () => {
    const s = sshd!;
    const mux = new SshMux();
    const t = mux.target(s.target());
    assert.ok(t.controlPath, 'the target carries a control socket');
    assert.equal((fs.statSync(path.dirname(t.controlPath)).mode & 0o777).toString(8), '700', 'in a private folder');
    assert.equal(await mux.ready(s.target()), true, 'the shared connection came up');
    const before = logins(s);
    const dir = tempDir();
    for (let i = 0; i < 5; i++) {
      const r = await run(sshScriptCommand(t, 'echo "run $N"', { N: String(i) }, dir));
      assert.deepEqual([r.code, r.out.trim()], [0, `run ${i}`]);
    }
    writeFiles(dir, { 'src/a.txt': 'a', 'src/b.txt': 'b' });
    const dest = path.join(tempDir(), 'dest');
    const up = await run(rsyncCommand(t, path.join(dir, 'src'), dest, { delete: true, exclude: [], cwd: dir }));
    assert.equal(up.code, 0, up.out);
    assert.equal(fs.readFileSync(path.join(dest, 'b.txt'), 'utf8'), 'b');
    assert.equal(logins(s) - before, 0, 'no new login: every session rode on the shared connection');
    await mux.close();
    assert.equal(fs.existsSync(t.controlPath), false, 'the socket and its folder are gone');
    const after = await run(sshScriptCommand(t, 'echo direct', {}, dir));
    assert.deepEqual([after.code, after.out.trim()], [0, 'direct'], 'without the shared connection a session connects on its own');
    assert.equal(logins(s) - before, 1);
  });

  it('a shared connection that cannot be made changes nothing: the sessions fail (or work) as they would without it', async () => {
    const mux = new SshMux();
    const down = { ...sshd!.target(), port: await freePort() };
    const t = mux.target(down);
    assert.equal(await mux.ready(down), false);
    const r = await run(sshScriptCommand(t, 'echo never', {}, tempDir()));
    assert.equal(r.code, 255);
    assert.match(r.out, /Connection refused/);
    await mux.close();
  });

  it('an ssh deploy and its lock and history on the host log in once', async () => {
    const s = sshd!;
    const remote = tempDir('delivery-mux-remote-');
    const ssh = `{ host: 127.0.0.1, port: ${s.port}, user: root, identityFile: "${s.clientKey}", knownHostsFile: "${s.knownHosts}" }`;
    const repo = appRepo(`version: 1
environments:
  box:
    deploy:
      ssh: ${ssh}
      upload: { from: app, to: "${remote}/releases/\${DELIVERY_SHA}" }
      run: 'ln -sfn "$DELIVERY_UPLOAD_TO" "${remote}/current"'
`);
    const d = deployer(repo);
    const before = logins(s);
    const prep = await d.prepare('box');
    const started = await d.start(prep, { environmentName: 'box', dirty: true, reverts: true });
    assert.ok(started.ok);
    const record = await started.handle.done;
    assert.equal(record.status, 'success', record.reason ?? '');
    // Prepare (what runs, the lock, the history) and the deploy (the lock taken and released, two history lines,
    // the folder, the upload and the script): one login.
    assert.equal(logins(s) - before, 1, 'one shared connection from prepare to the end of the deploy');
    commit(repo, 'app/NOTES', 'two', 'second');
    assert.equal((await d.deploy('box')).record.status, 'success');
    const h = await teamHistoryOf(repo, 'box', d.stateDir);
    assert.deepEqual(h.entries.map((e) => e.status), ['success', 'success']);
  });
});
