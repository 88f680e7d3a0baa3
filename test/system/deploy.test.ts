// Deploys against real targets: local folders, an OpenSSH sshd on 127.0.0.1, git remotes with hooks, and HTTP
// servers started here. Every deploy goes through the API the extension and the CLI use.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { deployHistory } from '../../src/adapters/deploy/runner';
import { freePort, stopPidFile } from '../support/targets/common';
import { cleanupTempDirs, git, tempDir, waitFor } from '../support/tmp';
import { appRepo, commandRepo, commit, deployer, getJson, readLog, teamHistoryOf, teamLockOf } from '../support/deploySupport';

const pidFiles: string[] = [];
async function stopApps() {
  for (const f of pidFiles.splice(0)) await stopPidFile(f);
}

/** delivery.yml for a command deploy of app/ into `target`, serving on `port`. */
function commandYml(target: string, port: number, extra = ''): string {
  return `version: 1
environments:
  local:
    deploy:
      command: |
        mkdir -p "$TARGET"
        cp app/app.js app/restart.sh "$TARGET/"
        echo "$DELIVERY_SHA" > "$TARGET/VERSION"
        printf '%s\\n' "env=$DELIVERY_ENV ref=$DELIVERY_REF short=$DELIVERY_SHORT_SHA previous=$DELIVERY_PREVIOUS_SHA" > "$TARGET/deployed-by"
        bash "$TARGET/restart.sh" "$TARGET" "$PORT" local
      env: { TARGET: "${target}", PORT: "${port}" }
    version: { http: "http://127.0.0.1:${port}/version", json: sha }
    health: { http: "http://127.0.0.1:${port}/health", timeout: 3s, interval: 100ms }
${extra}`;
}

/** A repository deploying the app into a fresh folder (stopped after the test), with its deployer. */
async function liveApp() {
  const target = path.join(tempDir(), 'live');
  pidFiles.push(path.join(target, 'app.pid'));
  const port = await freePort();
  const repo = appRepo(commandYml(target, port));
  return { target, port, repo, sha1: git(repo, 'rev-parse', 'HEAD'), d: deployer(repo) };
}

describe('deploys (real targets)', function () {
  this.timeout(60_000);
  afterEach(stopApps);
  after(cleanupTempDirs);

  it('command deploy: builds nothing, deploys, reads the new version, checks health, records the history', async () => {
    const { target, port, repo, sha1, d } = await liveApp();
    const first = await d.deploy('local');
    assert.equal(first.record.status, 'success', first.record.reason ?? '');
    assert.equal(first.record.sha, sha1);
    assert.equal(first.record.previousSha, null);
    assert.equal(first.record.health, 'up');
    assert.deepEqual(first.record.steps.map((s) => [s.name, s.status]), [
      ['deploy command', 'success'],
      ['check the deployed version', 'success'],
      ['health check', 'success'],
    ]);
    assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha1);
    assert.equal(fs.readFileSync(path.join(target, 'deployed-by'), 'utf8').trim(), `env=local ref=HEAD short=${sha1.slice(0, 7)} previous=`);

    const sha2 = commit(repo, 'app/extra.txt', 'two', 'second');
    const second = await d.deploy('local');
    assert.equal(second.record.status, 'success', second.record.reason ?? '');
    assert.equal(second.record.previousSha, sha1, 'the previous commit comes from the version probe');
    assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha2);
    assert.match(fs.readFileSync(path.join(target, 'deployed-by'), 'utf8'), new RegExp(`previous=${sha1}`));
    assert.ok(second.events.some((e) => e.type === 'line' && e.text.includes('▶ deploy command')));
    assert.equal(second.events.at(-1)?.type, 'end');

    const history = await deployHistory(d.stateDir, 'local');
    assert.deepEqual(history.map((h) => [h.sha, h.status, h.action]), [[sha2, 'success', 'deploy'], [sha1, 'success', 'deploy']]);
    assert.match(history[0].user, /.+@.+/);
    assert.ok(history[0].durationMs > 0);
    assert.match(readLog(history[0]), /the environment runs/);
    assert.equal((await teamLockOf(repo, 'local', d.stateDir)).holder, null, 'the lock is released');
  });

  it('a failing command leaves the previous release serving, releases the lock and records the failure', async () => {
    const { port, repo, sha1, d } = await liveApp();
    assert.equal((await d.deploy('local')).record.status, 'success');
    const yml = fs.readFileSync(path.join(repo, 'delivery.yml'), 'utf8').replace('mkdir -p "$TARGET"', 'echo "broken build" >&2; exit 3');
    commit(repo, 'delivery.yml', yml, 'break the deploy');
    const { record } = await d.deploy('local');
    assert.equal(record.status, 'failed');
    assert.equal(record.reason, 'deploy command failed: exited with code 3');
    assert.deepEqual(record.steps.map((s) => s.status), ['failed', 'skipped', 'skipped']);
    assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha1);
    assert.match(readLog(record), /broken build/);
    assert.equal((await teamLockOf(repo, 'local', d.stateDir)).holder, null);
    const history = await deployHistory(d.stateDir, 'local');
    assert.deepEqual(history.map((h) => h.status), ['failed', 'success']);
  });

  it('runs the build pipeline first (in the checkout it deploys), and deploys nothing when it fails', async () => {
    const out = tempDir();
    const repo = appRepo(`version: 1
pipelines:
  build:
    jobs:
      compile: { run: 'mkdir -p dist && echo "built $(git rev-parse --short HEAD)" > dist/app.txt && echo compiled' }
  broken:
    jobs:
      compile: { run: 'echo "compiler crashed"; exit 2' }
environments:
  good:
    deploy: { pipeline: build, command: 'cp dist/app.txt "${out}/app.txt"' }
  bad:
    deploy: { pipeline: broken, command: 'touch "${out}/deployed"' }
`, { '.gitignore': 'dist/\n' });
    const d = deployer(repo);
    const good = (await d.deploy('good')).record;
    assert.equal(good.status, 'success', good.reason ?? '');
    assert.deepEqual(good.steps.map((s) => s.name), ['build pipeline build', 'deploy command']);
    assert.match(good.buildRunId ?? '', /^\d{8}-/);
    assert.equal(fs.readFileSync(path.join(out, 'app.txt'), 'utf8').trim(), `built ${git(repo, 'rev-parse', '--short', 'HEAD')}`);
    assert.match(readLog(good), /\[compile\] compiled/);
    const bad = (await d.deploy('bad')).record;
    assert.equal(bad.status, 'failed');
    assert.match(bad.reason ?? '', /^build pipeline broken failed: compile: .*exited with code 2; nothing was deployed$/);
    assert.equal(bad.steps[1].status, 'skipped');
    assert.equal(fs.existsSync(path.join(out, 'deployed')), false);
  });

  it('builds with the delivery.yml of the commit it deploys, not an uncommitted edit of it', async () => {
    const out = tempDir();
    const committed = `version: 1
pipelines:
  build:
    jobs:
      compile: { run: 'mkdir -p dist && echo "committed build" > dist/app.txt' }
environments:
  staging:
    deploy: { pipeline: build, command: 'cp dist/app.txt "${out}/app.txt"' }
`;
    const repo = appRepo(committed, { '.gitignore': 'dist/\n' });
    // Edited, not committed: a deploy must not run it.
    fs.writeFileSync(path.join(repo, 'delivery.yml'), committed.replace('committed build', 'UNCOMMITTED build'));
    const { record } = await deployer(repo).deploy('staging');
    assert.equal(record.status, 'success', record.reason ?? '');
    assert.equal(fs.readFileSync(path.join(out, 'app.txt'), 'utf8'), 'committed build\n');
    assert.match(readLog(record), /build pipeline "build" from delivery\.yml at [0-9a-f]{12} \(the commit deployed\), in its checkout/);
    // A build pipeline that exists only in the working tree is not run from it.
    fs.writeFileSync(path.join(repo, 'delivery.yml'), committed.replace(/build/g, 'fresh'));
    const fresh = (await deployer(repo).deploy('staging')).record;
    assert.equal(fresh.status, 'failed');
    assert.match(fresh.reason ?? '', /delivery\.yml of the commit has no pipeline "fresh" \(it is only in your working tree\?\); nothing was built/);
  });

  it('reads a running record whose process is gone as interrupted', async () => {
    const repo = commandRepo('local', 'true');
    const d = deployer(repo);
    const { record } = await d.deploy('local');
    const file = path.join(path.dirname(record.logFile!), 'record.json');
    fs.writeFileSync(file, JSON.stringify({ ...record, status: 'running', pid: 2 ** 22 + 4321, steps: [{ ...record.steps[0], status: 'running' }] }));
    fs.rmSync(path.join(path.dirname(file), 'driver.json'), { force: true });
    const [again] = await deployHistory(d.stateDir, 'local');
    assert.equal(again.status, 'interrupted');
    assert.equal(again.steps[0].status, 'cancelled');
    assert.match(again.reason ?? '', /^interrupted: the process running the deploy ended/);
  });

  it('a failing health check fails the deploy and says the release stays', async () => {
    const target = path.join(tempDir(), 'live');
    pidFiles.push(path.join(target, 'app.pid'));
    const port = await freePort();
    const repo = appRepo(commandYml(target, port).replace('"$PORT" local\n', '"$PORT" local\n        touch "$TARGET/UNHEALTHY"\n'));
    const { record } = await deployer(repo).deploy('local');
    assert.equal(record.status, 'failed');
    assert.equal(record.health, 'down');
    assert.match(record.reason ?? '', /^health check failed: GET http:\/\/127\.0\.0\.1:\d+\/health: HTTP 503 .*\(expected 200\): unhealthy .*the new release stays deployed/);
    assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, record.sha, 'the release is live');
  });

  it('cancelling stops the deploy command and records cancelled', async () => {
    const dir = tempDir();
    const repo = commandRepo('slow', `echo started; sleep 30; touch "${dir}/finished"`);
    const { record } = await deployer(repo).deploy('slow', {
      onEvent: (e, cancel) => {
        if (e.type === 'line' && e.text === 'started') cancel();
      },
    });
    assert.equal(record.status, 'cancelled');
    assert.equal(record.reason, 'the deploy was cancelled');
    assert.equal(record.steps[0].status, 'cancelled');
    assert.ok(record.durationMs < 20_000);
    assert.equal(fs.existsSync(path.join(dir, 'finished')), false);
  });

  it('values with shell metacharacters in the ref are passed as data, never executed', async () => {
    const dir = tempDir();
    const repo = commandRepo('local', `printf "%s" "$DELIVERY_REF" > "${dir}/ref"; echo "$DELIVERY_SHA" > "${dir}/sha"`);
    // A valid branch name (no spaces) that runs `touch pwned` if anything splices it into a shell string.
    const branch = 'x$(touch${IFS}pwned)`touch${IFS}pwned2`;touch${IFS}pwned3';
    git(repo, 'branch', branch);
    const { record } = await deployer(repo).deploy('local', { ref: branch });
    assert.equal(record.status, 'success', record.reason ?? '');
    assert.equal(record.ref, branch);
    assert.equal(fs.readFileSync(path.join(dir, 'ref'), 'utf8'), branch);
    assert.equal(fs.readFileSync(path.join(dir, 'sha'), 'utf8').trim(), git(repo, 'rev-parse', 'HEAD'));
    for (const where of [repo, dir, process.cwd()]) {
      for (const f of ['pwned', 'pwned2', 'pwned3']) assert.equal(fs.existsSync(path.join(where, f)), false, `${where}/${f}`);
    }
  });

  it('deploys a commit other than HEAD from a clean checkout, never from the working tree', async () => {
    const out = tempDir();
    const repo = commandRepo('local', `cp app/extra.txt "${out}/deployed.txt"`, {}, { 'app/extra.txt': 'one' });
    const sha1 = git(repo, 'rev-parse', 'HEAD');
    commit(repo, 'app/extra.txt', 'two', 'second');
    fs.writeFileSync(path.join(repo, 'app/extra.txt'), 'uncommitted');
    const d = deployer(repo);
    const prep = await d.prepare('local', { ref: sha1 });
    assert.equal(prep.head.dirty, true);
    assert.deepEqual(prep.reasons.map((r) => r.kind), ['dirty']);
    const { record } = await d.deploy('local', { ref: sha1 });
    assert.equal(record.status, 'success', record.reason ?? '');
    assert.equal(fs.readFileSync(path.join(out, 'deployed.txt'), 'utf8'), 'one');
    await d.deploy('local');
    assert.equal(fs.readFileSync(path.join(out, 'deployed.txt'), 'utf8'), 'two', 'HEAD of a dirty tree deploys the commit, not the edits');
    assert.equal(git(repo, 'worktree', 'list').split('\n').length, 1, 'the checkout is removed');
  });

  it('a protected environment is refused without the typed name; a wrong name does not confirm', async () => {
    const dir = tempDir();
    const repo = commandRepo('production', `touch "${dir}/deployed"`, { protected: true });
    const d = deployer(repo);
    const prep = await d.prepare('production');
    assert.deepEqual(prep.reasons.map((r) => r.kind), ['protected']);
    for (const confirmed of [undefined, {}, { environmentName: 'Production' }, { dirty: true, reverts: true }]) {
      const s = await d.start(prep, confirmed);
      assert.equal(s.ok, false);
      assert.ok(!s.ok && s.kind === 'confirm');
      assert.match(s.message, /protected environment: type its name \("production"\)/);
    }
    assert.equal(fs.existsSync(path.join(dir, 'deployed')), false);
    assert.deepEqual(await deployHistory(d.stateDir, 'production'), []);
    const ok = await d.start(prep, { environmentName: 'production' });
    assert.ok(ok.ok);
    assert.equal((await ok.handle.done).status, 'success');
    assert.equal(fs.existsSync(path.join(dir, 'deployed')), true);
  });

  it('a second deploy of the same environment is refused while one runs, naming the holder', async () => {
    const dir = tempDir();
    const repo = commandRepo('local', `echo started; while [ ! -e "${dir}/go" ]; do sleep 0.05; done`);
    const d = deployer(repo);
    const first = await d.start(await d.prepare('local'));
    assert.ok(first.ok);
    await waitFor(() => first.handle.tail().includes('started'), 10_000, 'the first deploy to start');
    const second = await d.start(await d.prepare('local'));
    assert.ok(!second.ok && second.kind === 'locked');
    assert.match(second.message, new RegExp(`"local" is being deployed by .+ on .+ \\(deploy ${first.handle.record.id} of [0-9a-f]{12}, pid ${process.pid}\\) since .+ UTC`));
    const status = await teamLockOf(repo, 'local', d.stateDir);
    assert.equal(status.holder?.deployId, first.handle.record.id);
    assert.deepEqual([status.locked, status.stale, status.store], [true, null, 'local']);
    fs.writeFileSync(path.join(dir, 'go'), '');
    assert.equal((await first.handle.done).status, 'success');
    assert.equal((await teamLockOf(repo, 'local', d.stateDir)).holder, null);
    const again = await d.start(await d.prepare('local'));
    assert.ok(again.ok);
    assert.equal((await again.handle.done).status, 'success');
  });

  it('a lock left by a dead process, or not renewed in time, is stale: taken over, its deploy recorded interrupted', async () => {
    const repo = commandRepo('local', `true`);
    const d = deployer(repo);
    const team = path.join(d.stateDir, 'team', 'local');
    fs.mkdirSync(team, { recursive: true });
    const now = Date.now();
    const dead = { token: 'dead1', deployId: 'old1', user: 'someone', host: (await import('node:os')).hostname(), pid: 2 ** 22 + 12345, pidStartTime: null, sha: null, message: null, since: now, renewedAt: now, expiresAfterMs: 300_000 };
    fs.writeFileSync(path.join(team, 'lock.json'), JSON.stringify(dead));
    assert.match((await teamLockOf(repo, 'local', d.stateDir)).stale ?? '', /its process \(\d+\) on .+ is gone/);
    const { record } = await d.deploy('local');
    assert.equal(record.status, 'success');
    assert.match(readLog(record), /took over the lock of someone on .+ because its process \(\d+\) on .+ is gone/);
    const old = { ...dead, token: 'old2', deployId: 'old2', host: 'elsewhere', since: now - 3 * 3600_000, renewedAt: now - 3 * 3600_000 };
    fs.writeFileSync(path.join(team, 'lock.json'), JSON.stringify(old));
    assert.match((await teamLockOf(repo, 'local', d.stateDir)).stale ?? '', /it was not renewed for \d+ s \(it expires after 300 s\)/);
    assert.equal((await d.deploy('local')).record.status, 'success');
    const h = await teamHistoryOf(repo, 'local', d.stateDir);
    assert.deepEqual(
      h.entries.map((e) => [e.id.startsWith('old') ? e.id : 'ours', e.status]),
      [['ours', 'success'], ['old2', 'interrupted'], ['ours', 'success'], ['old1', 'interrupted']],
    );
    assert.equal((await teamLockOf(repo, 'local', d.stateDir)).holder, null);
  });

  it('secrets in deploy.env and the hook URL are masked in the log and the record', async () => {
    const hook = await hookServer();
    try {
      const repo = appRepo(`version: 1
environments:
  cmd:
    deploy:
      command: 'echo "token is $TOKEN"; echo "$TOKEN" > /dev/null; exit 4'
      env: { TOKEN: "\${secret:DEPLOY_TOKEN}" }
  hook:
    deploy:
      http: { url: "http://127.0.0.1:${hook.port}/fail?key=\${secret:HOOK_KEY}" }
`);
      const d = deployer(repo, { DEPLOY_TOKEN: 's3cr3t-token-value', HOOK_KEY: 'hook-key-987' });
      const a = (await d.deploy('cmd')).record;
      assert.equal(a.status, 'failed');
      const b = (await d.deploy('hook')).record;
      assert.equal(b.status, 'failed');
      assert.match(b.reason ?? '', /HTTP 500/);
      assert.equal(hook.requests[0].url, '/fail?key=hook-key-987', 'the real value reaches the server');
      for (const r of [a, b]) {
        const files = [r.logFile!, path.join(path.dirname(r.logFile!), 'record.json')];
        for (const f of files) {
          const text = fs.readFileSync(f, 'utf8');
          assert.ok(!text.includes('s3cr3t-token-value') && !text.includes('hook-key-987'), `${f} leaks a secret:\n${text}`);
        }
      }
      assert.match(readLog(a), /token is \*\*\*/);
      assert.match(readLog(b), /key=\*\*\*/);
      const missing = await deployer(repo).start(await deployer(repo).prepare('cmd'));
      assert.ok(!missing.ok && missing.kind === 'error');
      assert.match(missing.message, /missing secret DEPLOY_TOKEN/);
    } finally {
      await hook.close();
    }
  });

  it('http deploy: calls the hook with the commit, polls the status until live (and fails on a failure status)', async () => {
    const hook = await hookServer();
    try {
      const repo = appRepo(`version: 1
environments:
  ok:
    deploy:
      http:
        url: "http://127.0.0.1:${hook.port}/hook"
        headers: { Authorization: "Bearer \${secret:API}" }
        body: '{"sha":"\${DELIVERY_SHA}","env":"\${DELIVERY_ENV}"}'
        status: { url: "http://127.0.0.1:${hook.port}/status/ok", json: deploy.state, success: [live], failure: [failed], interval: 50ms, timeout: 10s }
  bad:
    deploy:
      http:
        url: "http://127.0.0.1:${hook.port}/hook"
        status: { url: "http://127.0.0.1:${hook.port}/status/bad", json: deploy.state, success: [live], failure: [failed], interval: 50ms, timeout: 10s }
`);
      const sha = git(repo, 'rev-parse', 'HEAD');
      const d = deployer(repo, { API: 'api-secret-1' });
      const ok = (await d.deploy('ok')).record;
      assert.equal(ok.status, 'success', ok.reason ?? '');
      const posted = hook.requests.find((r) => r.url === '/hook')!;
      assert.equal(posted.method, 'POST');
      assert.equal(posted.headers.authorization, 'Bearer api-secret-1');
      assert.deepEqual(JSON.parse(posted.body), { sha, env: 'ok' });
      assert.ok(hook.requests.filter((r) => r.url === '/status/ok').length >= 3, 'polled through pending');
      assert.match(readLog(ok), /status: pending[\s\S]*status: live/);
      const bad = (await d.deploy('bad')).record;
      assert.equal(bad.status, 'failed');
      assert.equal(bad.reason, 'wait for the deploy status failed: the deploy reported status "failed"');
    } finally {
      await hook.close();
    }
  });
});

/** A deploy hook: POST /hook accepted; /status/ok answers pending twice, then live; /status/bad pending then failed. */
async function hookServer() {
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const polls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/hook' && req.method === 'POST') return void res.writeHead(202).end('accepted');
      const m = /^\/status\/(ok|bad)$/.exec(req.url ?? '');
      if (m) {
        const n = (polls.get(m[1]) ?? 0) + 1;
        polls.set(m[1], n);
        const state = n <= 2 ? 'pending' : m[1] === 'ok' ? 'live' : 'failed';
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ deploy: { state } }));
      }
      res.writeHead(500).end('no such hook');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

