// What a step leaves running lives until its job ends (as on a CI runner), then the job's whole process tree is
// killed; a cancel kills everything at once. Real processes through the CLI and startLocalRun.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { cli, caseFolder } from '../support/catalogueSupport';

const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
};

describe('job lifetime: background processes', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('a server started in one step answers the next step; it is killed when the job ends, not before', async () => {
    const dir = caseFolder({
      '.github/workflows/ci.yml': `name: ci
on: push
jobs:
  serve:
    runs-on: ubuntu-latest
    steps:
      - run: |
          node -e "require('http').createServer((q, s) => { console.log('server got a request'); s.end('pong'); }).listen(0, '127.0.0.1', function () { require('fs').writeFileSync('port', String(this.address().port)); })" &
          echo $! > server.pid
          for i in $(seq 1 100); do test -s port && break; sleep 0.05; done
      - run: |
          node -e "fetch('http://127.0.0.1:' + require('fs').readFileSync('port', 'utf8')).then(r => r.text()).then(t => console.log('server said ' + t))"
      # The server wrote a log line after the step that started it ended: it must still be there (its output is read).
      - run: |
          sleep 0.5
          node -e "fetch('http://127.0.0.1:' + require('fs').readFileSync('port', 'utf8')).then(r => r.text()).then(t => console.log('server still said ' + t))"
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'ci', '--workspace', 'shared'], { timeoutMs: 50_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes('server said pong'), r.stdout);
    assert.ok(r.stdout.includes('server still said pong'), r.stdout);
    assert.match(r.stdout, /server got a request/, "the server's own output reaches the job's log");
    assert.match(r.stdout, /killed 1 process the job left running/);
    const pid = Number(fs.readFileSync(path.join(dir, 'server.pid'), 'utf8'));
    assert.ok(pid > 0 && !alive(pid), 'the server is gone once the job ended');
  });
});
