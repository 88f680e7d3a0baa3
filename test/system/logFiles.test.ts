// Log files for the editor: the readable place of a job's or a deploy's log (what the tab and breadcrumb show) read
// from the records next to it, and the end of a long log.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileRunStore } from '../../src/adapters/runStore';
import { FileDeployStore } from '../../src/adapters/deploy/history';
import { logPlace, readLogTail } from '../../src/adapters/logFiles';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { runRecord } from '../support/runRecord';

describe('log files for the editor', () => {
  after(cleanupTempDirs);

  it("names a job's log by pipeline, run and job — not by the state folder's path", async () => {
    const store = new FileRunStore(tempDir());
    const r = runRecord({ pipelineName: 'CI', startedAt: new Date(2026, 11, 2, 16, 4, 5).getTime(), attempt: 2 });
    const log = store.openLog(r, 'test/unit: [a, b]');
    log.write('stdout', 'hello');
    await log.close();
    r.jobs = [{ id: 'test/unit: [a, b]', name: 'test/unit: [a, b]', stage: null, deps: [], status: 'success', allowFailure: false, exitCode: 0, startedAt: 1, durationMs: 1, attempts: 1, reason: null, steps: [], tests: null, artifacts: [], logFile: log.path }];
    await store.save(r);
    assert.deepEqual(await logPlace(log.path), ['CI', 'run 2026-12-02 16:04:05, attempt 2', 'test_unit: [a, b].log']);
  });

  it("names a deploy's log by environment, action and commit; an unknown file by its name", async () => {
    const store = new FileDeployStore(tempDir());
    const sha = 'a'.repeat(40);
    const rec = { id: 'd1', environment: 'staging', action: 'deploy', sha, startedAt: new Date(2026, 0, 3, 4, 5, 6).getTime() };
    await fs.promises.mkdir(store.dir('staging', 'd1'), { recursive: true });
    fs.writeFileSync(path.join(store.dir('staging', 'd1'), 'record.json'), JSON.stringify(rec));
    assert.deepEqual(await logPlace(store.logPath('staging', 'd1')), ['staging', 'deploy aaaaaaa 2026-01-03 04:05:06', 'deploy.log']);
    const other = path.join(tempDir(), 'plain.log');
    fs.writeFileSync(other, 'x');
    assert.deepEqual(await logPlace(other), ['plain.log']);
  });

  it('reads the end of a long log from its first whole line, saying what is left out', async () => {
    const file = path.join(tempDir(), 'big.log');
    fs.writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const whole = await readLogTail(file, 1 << 20);
    assert.equal(whole.text.split('\n').length, 3001);
    const tail = await readLogTail(file, 1000);
    const lines = tail.text.split('\n');
    assert.match(lines[0], /^\[the first \d+ KB are not shown here; the whole log is .*big\.log\]$/);
    assert.match(lines[1], /^line \d+$/);
    assert.equal(lines.at(-2), 'line 2999');
    assert.match((await readLogTail(path.join(tempDir(), 'gone.log'), 10)).text, /^Cannot read the log .*gone\.log: ENOENT/);
    // Only logs: another file, a FIFO or a link is not read (an address could name anything).
    const other = path.join(tempDir(), 'notes.txt');
    fs.writeFileSync(other, 'secret');
    assert.match((await readLogTail(other, 10)).text, /^Cannot read the log .*notes\.txt: not a log file/);
    const fifo = path.join(tempDir(), 'pipe.log');
    execFileSync('mkfifo', [fifo]);
    assert.match((await readLogTail(fifo, 10)).text, /^Cannot read the log .*pipe\.log: not a regular file/);
    const link = path.join(tempDir(), 'link.log');
    fs.symlinkSync(other, link);
    assert.match((await readLogTail(link, 10)).text, /^Cannot read the log .*link\.log: ELOOP/);
  });
});
