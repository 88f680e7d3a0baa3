// The unit tier's guard (test/support/unitGuard.ts, loaded by test/unit/.mocharc.json): a unit test that starts a
// process, listens on a socket or connects out fails with the message that sends it to test/system.
import * as assert from 'node:assert/strict';
import childProcess from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { UNIT_GUARD_MESSAGE } from '../support/unitGuard';

const refused = (what: RegExp) => (e: unknown) => e instanceof Error && e.message.startsWith(UNIT_GUARD_MESSAGE) && what.test(e.message);

describe('unit tier guard', () => {
  it('refuses every way to start a process', () => {
    assert.throws(() => childProcess.execFileSync('true'), refused(/child_process\.execFileSync\("true"\)/));
    assert.throws(() => childProcess.spawn('git', ['status']), refused(/child_process\.spawn\("git"\)/));
    assert.throws(() => childProcess.spawnSync('bash'), refused(/spawnSync/));
    assert.throws(() => childProcess.exec('ls'), refused(/exec\("ls"\)/));
    assert.throws(() => childProcess.execSync('ls'), refused(/execSync/));
    assert.throws(() => childProcess.execFile('ls'), refused(/execFile\("ls"\)/));
    assert.throws(() => childProcess.fork('x.js'), refused(/fork/));
  });

  it('refuses to listen and to connect, for net, http and fetch alike', async () => {
    assert.throws(() => net.createServer().listen(0, '127.0.0.1'), refused(/listen/));
    assert.throws(() => http.createServer().listen(0), refused(/listen/));
    assert.throws(() => net.connect(22, '127.0.0.1'), refused(/connect\(\) to 127\.0\.0\.1:22/));
    assert.throws(() => http.get('http://127.0.0.1:8080/'), refused(/connect/));
    await assert.rejects(fetch('http://127.0.0.1:8080/'), (e: Error) => refused(/connect/)(e.cause));
  });
});
