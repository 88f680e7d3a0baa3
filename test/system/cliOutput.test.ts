// The CLI's output reaches a slow reader whole, and a reader that goes away ends it quietly.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { cleanupTempDirs, gitRepo } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

/** A delivery.yml whose `pipelines --json` is far larger than a pipe's 64 KB buffer. */
function bigRepo(): string {
  const jobs = Array.from({ length: 1500 }, (_, i) => `      job-${i}: { run: "echo a fairly long command line for job ${i} so that the listing is large" }\n`).join('');
  return gitRepo({ 'delivery.yml': `version: 1\npipelines:\n  big:\n    jobs:\n${jobs}` });
}

describe('CLI output through a pipe', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('a reader that starts reading late still gets the whole JSON answer', async () => {
    const repo = bigRepo();
    const p = spawn(process.execPath, [CLI, 'pipelines', '--json'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.pause();
    const closed = new Promise((r) => p.stdout.once('close', r));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    // Read nothing until the CLI has had every chance to exit early (it must not, while its answer waits in the pipe).
    const early = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1500))]);
    const chunks: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => chunks.push(b));
    p.stdout.resume();
    const code = await exited;
    await closed;
    const text = Buffer.concat(chunks).toString('utf8');
    assert.equal(code, 0);
    assert.ok(text.length > 65_536, `${text.length} bytes`);
    assert.equal(JSON.parse(text).pipelines[0].jobs.length, 1500);
    assert.equal(early, false, 'the CLI waited for its reader');
  });

  it('a reader that goes away (| head) ends the CLI quietly', async () => {
    const repo = bigRepo();
    const p = spawn(process.execPath, [CLI, 'pipelines', '--json'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.stdout.once('data', () => p.stdout.destroy());
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.equal(stderr, '', 'no EPIPE stack trace');
  });
});
