// Version probes against real targets: the test app over HTTP, small servers that misbehave on purpose, real
// commands, real git remotes. Each failure must say what went wrong in words a person can act on.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { checkHealth } from '../../src/adapters/environments/http';
import { probeVersion, type ProbeContext } from '../../src/adapters/environments/probes';
import { DeployRepo } from '../../src/adapters/environments/repo';
import type { VersionSource } from '../../src/core/environments/config';
import { stageApp, startApp, type App } from '../support/targets/app';
import { makeGitRemote } from '../support/targets/gitRemote';
import { cleanupTempDirs, git, gitRepo, tempDir } from '../support/tmp';

const SHA = '0123456789abcdef0123456789abcdef01234567';

/** git push without the remote hook's chatter on the test output. */
function push(cwd: string, ...args: string[]): void {
  execFileSync('git', ['push', '-q', ...args], { cwd, stdio: 'ignore' });
}

function ctx(folder: string, over: Partial<ProbeContext> = {}): ProbeContext {
  return { folder, signal: new AbortController().signal, repo: new DeployRepo(folder), ...over };
}

function probe(version: VersionSource, c: ProbeContext) {
  return probeVersion({ id: 'staging', version }, c);
}

const http_ = (url: string, over: Partial<Extract<VersionSource, { kind: 'http' }>> = {}): VersionSource => ({ kind: 'http', url, headers: {}, json: null, regex: null, timeoutMs: 5000, ...over });
const command = (cmd: string, over: Partial<Extract<VersionSource, { kind: 'command' }>> = {}): VersionSource => ({ kind: 'command', command: cmd, json: null, regex: null, timeoutMs: 5000, ...over });

/** A server whose every answer is decided by the test; records the requests it got. */
async function server(handler: http.RequestListener): Promise<{ url: string; requests: http.IncomingMessage[]; close(): Promise<void> }> {
  const requests: http.IncomingMessage[] = [];
  const srv = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

describe('version probes', function () {
  this.timeout(20_000);
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers.splice(0)) await c();
    cleanupTempDirs();
  });

  describe('http', () => {
    let app: App;
    before(async () => {
      const dir = path.join(tempDir(), 'app');
      stageApp(dir, SHA);
      app = await startApp(dir);
      closers.push(() => app.stop());
    });

    it('reads the deployed commit from the test app with a JSON path', async () => {
      const r = await probe(http_(`${app.url}/version`, { json: 'sha' }), ctx(tempDir()));
      assert.deepEqual({ sha: r.sha, error: r.error }, { sha: SHA, error: null });
      assert.match(r.raw ?? '', /"env":"test"/);
    });

    it('expands ${secret:NAME} in the URL and headers and masks the values in errors', async () => {
      const s = await server((req, res) => {
        if (req.headers.authorization !== 'Bearer s3cr3t-token') {
          res.writeHead(401);
          res.end(`denied for ${req.url}`);
          return;
        }
        res.end(JSON.stringify({ data: { sha: SHA } }));
      });
      closers.push(s.close);
      const secrets = async (n: string) => ({ TOKEN: 's3cr3t-token', KEY: 'k3y-value' })[n];
      const ok = await probe(http_(`${s.url}/v?key=\${secret:KEY}`, { json: 'data.sha', headers: { Authorization: 'Bearer ${secret:TOKEN}' } }), ctx(tempDir(), { secrets }));
      assert.equal(ok.sha, SHA, ok.error ?? '');
      assert.equal(s.requests.at(-1)?.url, '/v?key=k3y-value');
      const denied = await probe(http_(`${s.url}/v?key=\${secret:KEY}`, { json: 'data.sha', headers: { Authorization: 'Bearer wrong' } }), ctx(tempDir(), { secrets }));
      assert.equal(denied.sha, null);
      assert.match(denied.error ?? '', /^HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1:\d+\/v\?key=\$\{secret:KEY\}: denied for \/v\?key=\*\*\*$/);
      assert.doesNotMatch(`${denied.error} ${denied.raw}`, /k3y-value/);
      const missing = await probe(http_(`${s.url}/v`, { headers: { Authorization: 'Bearer ${secret:NOPE}' } }), ctx(tempDir(), { secrets }));
      assert.match(missing.error ?? '', /missing secret NOPE/);
    });

    it('explains HTTP 500, a garbage body, a missing JSON path, a regex that does not match', async () => {
      const s = await server((req, res) => {
        if (req.url === '/500') {
          res.writeHead(500);
          res.end('database down');
        } else if (req.url === '/garbage') res.end('<html>hello</html>');
        else res.end(JSON.stringify({ version: { commit: SHA } }));
      });
      closers.push(s.close);
      const c = ctx(tempDir());
      assert.match((await probe(http_(`${s.url}/500`, { json: 'sha' }), c)).error ?? '', /^HTTP 500 Internal Server Error from .*\/500: database down$/);
      assert.match((await probe(http_(`${s.url}/garbage`, { json: 'sha' }), c)).error ?? '', /^the answer is not JSON: <html>hello<\/html> \(http:/);
      assert.match((await probe(http_(`${s.url}/garbage`), c)).error ?? '', /"<html>hello<\/html>" is not a commit SHA or tag/);
      assert.match((await probe(http_(`${s.url}/ok`, { json: 'version.sha' }), c)).error ?? '', /^the JSON answer has no "version\.sha" \(http/);
      assert.equal((await probe(http_(`${s.url}/ok`, { json: 'version.commit' }), c)).sha, SHA);
      assert.match((await probe(http_(`${s.url}/garbage`, { regex: 'rev=([0-9a-f]+)' }), c)).error ?? '', /regex "rev=\(\[0-9a-f\]\+\)" does not match the answer/);
    });

    it('gives up after the timeout with "no answer within", and says when nothing listens', async () => {
      const s = await server(() => undefined); // accepts, never answers
      closers.push(s.close);
      const slow = await probe(http_(`${s.url}/version`, { timeoutMs: 300 }), ctx(tempDir()));
      assert.equal(slow.error, `no answer within 300ms from ${s.url}/version`);
      const gone = await server(() => undefined);
      await gone.close();
      const refused = await probe(http_(`${gone.url}/version`), ctx(tempDir()));
      assert.match(refused.error ?? '', /connection refused/);
    });

    it('caps the body: a huge answer is refused, not read to the end', async () => {
      const s = await server((_req, res) => {
        res.write(SHA);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const push = () => {
          while (sent < 4 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', push);
          }
          res.end();
        };
        push();
      });
      closers.push(s.close);
      const r = await probe(http_(`${s.url}/big`, { regex: '^([0-9a-f]{40})' }), ctx(tempDir()));
      assert.match(r.error ?? '', /larger than 1 MB/);
    });

    it('health: up when the status and text match, down with the reason otherwise', async () => {
      const signal = new AbortController().signal;
      assert.deepEqual(await checkHealth({ url: `${app.url}/health`, expect: 200, contains: 'ok', timeoutMs: 5000, intervalMs: 500 }, signal), { health: 'up', detail: 'HTTP 200' });
      fs.writeFileSync(path.join(app.dir, 'UNHEALTHY'), '');
      try {
        const down = await checkHealth({ url: `${app.url}/health`, expect: 200, contains: null, timeoutMs: 5000, intervalMs: 500 }, signal);
        assert.deepEqual(down, { health: 'down', detail: 'HTTP 503 Service Unavailable (expected 200): unhealthy' });
      } finally {
        fs.rmSync(path.join(app.dir, 'UNHEALTHY'));
      }
      const wrongText = await checkHealth({ url: `${app.url}/health`, expect: 200, contains: 'ready', timeoutMs: 5000, intervalMs: 500 }, signal);
      assert.equal(wrongText.health, 'down');
      assert.match(wrongText.detail ?? '', /does not contain "ready"/);
    });
  });

  describe('command', () => {
    it('runs the command with bash in the folder, with DELIVERY_ENV, and reads stdout', async () => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'DEPLOYED'), `deployed rev=${SHA}\n`);
      const r = await probe(command('test "$DELIVERY_ENV" = staging && cat DEPLOYED', { regex: 'rev=([0-9a-f]{40})' }), ctx(dir));
      assert.deepEqual({ sha: r.sha, error: r.error }, { sha: SHA, error: null });
    });

    it('reports the exit code with the last line of stderr, and a command that does not exist', async () => {
      const dir = tempDir();
      const failed = await probe(command('echo "cannot reach the server" >&2; exit 3'), ctx(dir));
      assert.equal(failed.error, 'the version command exited with code 3: cannot reach the server');
      const missing = await probe(command('no-such-command-xyz --version'), ctx(dir));
      assert.match(missing.error ?? '', /^the version command exited with code 127: .*no-such-command-xyz: command not found$/);
    });

    it('stops a command that outlives its timeout, with everything it started', async () => {
      const dir = tempDir();
      const pidFile = path.join(dir, 'child.pid');
      const r = await probe(command(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 400 }), ctx(dir));
      assert.equal(r.error, 'no answer within 400ms from the version command (it was stopped)');
      const child = Number(fs.readFileSync(pidFile, 'utf8'));
      await new Promise((res) => setTimeout(res, 100));
      const stat = (() => {
        try {
          return fs.readFileSync(`/proc/${child}/stat`, 'utf8');
        } catch {
          return null;
        }
      })();
      assert.ok(stat === null || /\) Z /.test(stat), `the sleep (${child}) is still running`);
    });

    it('a cancelled probe says so and does not wait for the timeout', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const r = await probe(command('sleep 20', { timeoutMs: 20_000 }), ctx(tempDir(), { signal: ac.signal }));
      assert.equal(r.error, 'cancelled');
    });
  });

  describe('git', () => {
    it('ls-remote: the commit a remote branch points at, by remote name or URL', async () => {
      const repo = gitRepo({ 'a.txt': 'a' });
      const remote = makeGitRemote(tempDir(), 'production');
      git(repo, 'remote', 'add', 'production', remote.fileUrl);
      push(repo, 'production', 'main');
      const head = git(repo, 'rev-parse', 'HEAD');
      const byName = await probe({ kind: 'git', remote: 'production', ref: 'main', timeoutMs: 5000 }, ctx(repo));
      assert.deepEqual({ sha: byName.sha, error: byName.error, raw: byName.raw }, { sha: head, error: null, raw: `${head}\trefs/heads/main` });
      const byUrl = await probe({ kind: 'git', remote: remote.fileUrl, ref: 'refs/heads/main', timeoutMs: 5000 }, ctx(repo));
      assert.equal(byUrl.sha, head);
      const noRef = await probe({ kind: 'git', remote: 'production', ref: 'release', timeoutMs: 5000 }, ctx(repo));
      assert.equal(noRef.error, 'git remote production has no ref "release"');
      const noRemote = await probe({ kind: 'git', remote: path.join(tempDir(), 'missing.git'), ref: 'main', timeoutMs: 5000 }, ctx(repo));
      assert.match(noRemote.error ?? '', /^git ls-remote .*missing\.git: .*(does not appear to be a git repository|not found)/);
    });

    it('git runs with the probe environment minus what would redirect it (GIT_DIR, pagers, editors)', async () => {
      const repo = gitRepo({ 'a.txt': 'a' });
      const env = { ...process.env, GIT_DIR: path.join(tempDir(), 'elsewhere'), GIT_WORK_TREE: '/', PAGER: 'false', EDITOR: 'false', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes' };
      const r = await probe({ kind: 'git', remote: null, ref: 'main', timeoutMs: 5000 }, ctx(repo, { repo: new DeployRepo(repo, env) }));
      assert.equal(r.sha, git(repo, 'rev-parse', 'HEAD'), r.error ?? '');
    });

    it('ls-remote peels an annotated tag to its commit', async () => {
      const repo = gitRepo({ 'a.txt': 'a' });
      const remote = makeGitRemote(tempDir(), 'tags');
      git(repo, 'tag', '-a', '-m', 'release', 'v1.0.0');
      push(repo, remote.fileUrl, 'main', 'v1.0.0');
      const r = await probe({ kind: 'git', remote: remote.fileUrl, ref: 'v1.0.0', timeoutMs: 5000 }, ctx(repo));
      assert.equal(r.sha, git(repo, 'rev-parse', 'HEAD'));
    });

    it('without a remote: a local ref or tag (e.g. one a deploy script moves)', async () => {
      const repo = gitRepo({ 'a.txt': 'a' });
      git(repo, 'tag', 'deployed/staging');
      const r = await probe({ kind: 'git', remote: null, ref: 'deployed/staging', timeoutMs: 5000 }, ctx(repo));
      assert.equal(r.sha, git(repo, 'rev-parse', 'HEAD'));
      const missing = await probe({ kind: 'git', remote: null, ref: 'deployed/production', timeoutMs: 5000 }, ctx(repo));
      assert.match(missing.error ?? '', /this repository has no ref "deployed\/production"/);
    });
  });
});
