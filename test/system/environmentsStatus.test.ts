// What is deployed where, end to end: environments from a real delivery.yml, probes against real commands and
// HTTP apps, real repositories (ahead/behind, dirty, detached, empty, none), a deployed commit the clone lacks
// (fetched from a remote, or explained), concurrency and the cache.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvironmentStatusService, environmentStatuses } from '../../src/adapters/environments/status';
import { parseDeliveryConfig, type EnvironmentConfig } from '../../src/core/config/delivery';
import type { EnvironmentStatus } from '../../src/shared/model';
import { freePort } from '../support/targets/common';
import { stageApp, startApp, type App } from '../support/targets/app';
import { makeGitRemote } from '../support/targets/gitRemote';
import { cleanupTempDirs, git, gitRepo, tempDir, writeFiles } from '../support/tmp';

const PIPELINES = 'version: 1\npipelines:\n  ci:\n    jobs:\n      build: { run: "true" }\n';

/** Environments as delivery.yml declares them (the real parser; no problems allowed). */
function environments(yaml: string): EnvironmentConfig[] {
  const cfg = parseDeliveryConfig(`${PIPELINES}environments:\n${yaml}`);
  assert.deepEqual(cfg.problems.map((p) => `${p.line}:${p.column} ${p.message}`), []);
  return cfg.environments;
}

/** An environment whose version probe prints `value`. */
const echoEnv = (id: string, value: string, extra = '') => `  ${id}: { version: { command: "echo ${value}" }${extra} }\n`;

function commit(dir: string, file: string, text: string, message = `change ${file}`): string {
  writeFiles(dir, { [file]: text });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

function quiet(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore' });
}

const byId = (list: EnvironmentStatus[]) => Object.fromEntries(list.map((s) => [s.id, s]));

describe('environment statuses (real repositories and targets)', function () {
  this.timeout(30_000);
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of stops.splice(0)) await s();
    cleanupTempDirs();
  });

  it('deployed commit, distance to HEAD (ahead / behind), dirty tree and health per environment', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const c1 = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '-q', '-b', 'hotfix');
    const h1 = commit(repo, 'hot.txt', 'fix', 'hotfix only deployed');
    git(repo, 'checkout', '-q', 'main');
    commit(repo, 'a.txt', '2');
    const c3 = commit(repo, 'a.txt', '3');
    const appDir = path.join(tempDir(), 'app');
    stageApp(appDir, c3);
    const app = await startApp(appDir);
    stops.push(() => app.stop());
    const closed = await freePort();
    const envs = environments(
      `  staging: { name: Staging, url: "${app.url}", version: { http: "${app.url}/version", json: sha }, health: { http: "${app.url}/health", contains: ok } }\n` +
        echoEnv('production', c1) +
        echoEnv('hotfix', h1, `, health: { http: "http://127.0.0.1:${closed}/health", timeout: 2s }`) +
        '  preview: { name: Preview }\n',
    );
    fs.writeFileSync(path.join(repo, 'a.txt'), 'uncommitted');
    const s = byId(await environmentStatuses(repo, envs));
    assert.deepEqual(s.staging.deployed, { sha: c3, error: null, raw: null, checkedAt: s.staging.deployed.checkedAt });
    assert.deepEqual(s.staging.local, { sha: c3, branch: 'main', dirty: true });
    assert.deepEqual([s.staging.ahead, s.staging.behind, s.staging.health, s.staging.name, s.staging.url], [0, 0, 'up', 'Staging', app.url]);
    assert.deepEqual([s.production.deployed.sha, s.production.ahead, s.production.behind, s.production.health], [c1, 2, 0, 'unknown']);
    assert.deepEqual([s.hotfix.deployed.sha, s.hotfix.ahead, s.hotfix.behind, s.hotfix.health], [h1, 2, 1, 'down']);
    assert.match(s.hotfix.healthDetail ?? '', /connection refused/);
    assert.deepEqual([s.preview.deployed.sha, s.preview.deployed.error, s.preview.ahead, s.preview.health], [null, null, null, 'unknown']);
  });

  it('a tag or a short SHA from the target becomes the full commit; raw keeps what it said', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'tag', 'v1.4.0');
    const s = byId(await environmentStatuses(repo, environments(echoEnv('tagged', 'v1.4.0') + echoEnv('short', sha.slice(0, 9)))));
    assert.deepEqual([s.tagged.deployed.sha, s.tagged.deployed.raw], [sha, 'v1.4.0']);
    assert.deepEqual([s.short.deployed.sha, s.short.deployed.raw], [sha, sha.slice(0, 9)]);
  });

  it('a deployed commit missing from the clone is fetched from origin, once; an unknown one is explained', async () => {
    const origin = path.join(tempDir(), 'origin.git');
    quiet(tempDir(), 'init', '-q', '--bare', '-b', 'main', origin);
    const upstream = gitRepo({ 'a.txt': '1' });
    quiet(upstream, 'push', '-q', origin, 'main');
    const clone = path.join(tempDir(), 'clone');
    quiet(tempDir(), 'clone', '-q', origin, clone);
    const deployedElsewhere = commit(upstream, 'b.txt', 'hotfix', 'deployed from another machine');
    quiet(upstream, 'push', '-q', origin, 'main');
    // Count fetches: the remote's upload-pack goes through a wrapper that logs each call.
    const log = path.join(tempDir(), 'uploads.log');
    const wrapper = path.join(tempDir(), 'upload-pack.sh');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho call >> '${log}'\nexec git-upload-pack "$@"\n`, { mode: 0o755 });
    git(clone, 'config', 'remote.origin.uploadpack', wrapper);
    const bogus = 'abcdef1234567890abcdef1234567890abcdef12';
    const service = new EnvironmentStatusService({ ttlMs: 0 });
    const envs = environments(echoEnv('production', deployedElsewhere) + echoEnv('ghost', bogus));
    const s = byId(await service.statuses(clone, envs));
    assert.equal(s.production.deployed.error, null);
    assert.deepEqual([s.production.deployed.sha, s.production.ahead, s.production.behind], [deployedElsewhere, 0, 1]);
    assert.equal(git(clone, 'cat-file', '-t', deployedElsewhere), 'commit');
    assert.equal(s.ghost.deployed.sha, null);
    assert.equal(s.ghost.deployed.raw, bogus);
    assert.match(s.ghost.deployed.error ?? '', /^deployed commit abcdef1 is not in this repository \(fetch failed: origin: .*not our ref/);
    const calls = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    assert.equal(calls, 2, 'one fetch for each missing commit');
    const again = byId(await service.statuses(clone, envs));
    assert.equal(again.ghost.deployed.error, s.ghost.deployed.error);
    assert.equal(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length, calls, 'a failed fetch is not repeated');
    await service.statuses(clone, envs, { force: true });
    assert.equal(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length, calls + 1, 'an explicit refresh tries again');
  });

  it('a git probe: the commit its remote (a push-to-deploy repository) runs is fetched from that remote', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const deploy = makeGitRemote(tempDir(), 'production');
    const elsewhere = path.join(tempDir(), 'elsewhere');
    quiet(tempDir(), 'clone', '-q', repo, elsewhere);
    const pushed = commit(elsewhere, 'b.txt', 'deployed from CI');
    quiet(elsewhere, 'push', '-q', deploy.fileUrl, 'HEAD:main');
    const [s] = await environmentStatuses(repo, environments(`  production: { version: { git: { remote: "${deploy.fileUrl}", ref: main } } }\n`));
    assert.deepEqual([s.deployed.sha, s.deployed.error, s.ahead, s.behind], [pushed, null, 0, 1]);
  });

  it('a deployed commit in a repository without remotes: explained, with the raw SHA', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const bogus = '1111111111111111111111111111111111111111';
    const [s] = await environmentStatuses(repo, environments(echoEnv('production', bogus)));
    assert.deepEqual(s.deployed, { sha: null, raw: bogus, error: 'deployed commit 1111111 is not in this repository (no remote to fetch it from)', checkedAt: s.deployed.checkedAt });
    assert.deepEqual([s.ahead, s.behind], [null, null]);
  });

  it('detached HEAD, an empty repository and a folder outside any repository', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const first = git(repo, 'rev-parse', 'HEAD');
    commit(repo, 'a.txt', '2');
    git(repo, 'checkout', '-q', '--detach', first);
    const head = commit(repo, 'c.txt', 'detached work');
    const [detached] = await environmentStatuses(repo, environments(echoEnv('production', first)));
    assert.deepEqual(detached.local, { sha: head, branch: null, dirty: false });
    assert.deepEqual([detached.ahead, detached.behind], [1, 0]);

    const empty = tempDir();
    git(empty, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(empty, 'new.txt'), 'x');
    const [e] = await environmentStatuses(empty, environments(echoEnv('production', first)));
    assert.deepEqual(e.local, { sha: null, branch: 'main', dirty: true });
    assert.equal(e.deployed.sha, null);
    assert.match(e.deployed.error ?? '', /^deployed commit .{7} is not in this repository/);
    assert.deepEqual([e.ahead, e.behind], [null, null]);

    const none = tempDir();
    const [n] = await environmentStatuses(none, environments(echoEnv('production', first)));
    assert.deepEqual(n.local, { sha: null, branch: null, dirty: false });
    assert.equal(n.deployed.error, `deployed commit ${first.slice(0, 7)} cannot be checked: ${none} is not in a git repository`);
    assert.equal(n.deployed.raw, first);
  });

  it('what a target says never reaches git as an option or a command', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const marker = path.join(tempDir(), 'pwned');
    const envs = environments(
      echoEnv('option', '--output=' + marker) + `  subst: { version: { command: "printf '%s' '$(touch ${marker})'" } }\n` + echoEnv('head', 'HEAD'),
    );
    const s = byId(await environmentStatuses(repo, envs));
    assert.match(s.option.deployed.error ?? '', /"--output=.*" is not a commit SHA or tag/);
    assert.match(s.subst.deployed.error ?? '', /is not a commit SHA or tag/);
    assert.match(s.head.deployed.error ?? '', /"HEAD" is not a commit SHA or tag/);
    assert.equal(fs.existsSync(marker), false);
  });

  it('probes all environments at once: the fast ones do not wait for the slow one', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    const fastDir = path.join(tempDir(), 'fast');
    const slowDir = path.join(tempDir(), 'slow');
    stageApp(fastDir, sha);
    stageApp(slowDir, sha);
    const fast: App = await startApp(fastDir);
    const slow: App = await startApp(slowDir, { versionDelayMs: 1000 });
    stops.push(() => fast.stop(), () => slow.stop());
    const ids = ['dev', 'qa', 'slow', 'staging', 'production'];
    const envs = environments(ids.map((id) => `  ${id}: { version: { http: "${(id === 'slow' ? slow : fast).url}/version", json: sha } }\n`).join(''));
    const order: string[] = [];
    const all = await environmentStatuses(repo, envs, { onStatus: (s) => order.push(s.id) });
    assert.deepEqual(all.map((s) => s.id), ids, 'the result keeps the declared order');
    assert.ok(all.every((s) => s.deployed.sha === sha && s.ahead === 0), JSON.stringify(all.map((s) => s.deployed)));
    assert.equal(order.length, 5);
    assert.equal(order[4], 'slow', `completion order: ${order.join(', ')}`);
    const slowStatus = all.find((s) => s.id === 'slow')!;
    for (const s of all) if (s.id !== 'slow') assert.ok(s.deployed.checkedAt <= slowStatus.deployed.checkedAt);
  });

  it('each probe has its own timeout', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    const envs = environments(echoEnv('fast', sha) + '  stuck: { version: { command: "sleep 20", timeout: 500ms } }\n');
    const s = byId(await environmentStatuses(repo, envs));
    assert.equal(s.fast.deployed.sha, sha);
    assert.equal(s.stuck.deployed.error, 'no answer within 500ms from the version command (it was stopped)');
  });

  it('caches answers for the TTL, shares a probe in flight, and refreshes on force or invalidate', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    const calls = path.join(tempDir(), 'calls');
    const envs = environments(`  production: { version: { command: "echo x >> ${calls}; sleep 0.2; echo ${sha}" } }\n`);
    let now = 1_000_000;
    const service = new EnvironmentStatusService({ ttlMs: 30_000, now: () => now });
    const count = () => fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
    const [a, b] = await Promise.all([service.statuses(repo, envs), service.statuses(repo, envs)]);
    assert.equal(count(), 1, 'two concurrent callers share one probe');
    assert.equal(a[0].deployed.sha, sha);
    assert.deepEqual(a[0].deployed, b[0].deployed);
    now += 29_000;
    commit(repo, 'a.txt', '2');
    const cached = await service.statuses(repo, envs);
    assert.equal(count(), 1, 'within the TTL the answer is reused');
    assert.equal(cached[0].ahead, 1, 'HEAD is read fresh every time');
    now += 2_000;
    await service.statuses(repo, envs);
    assert.equal(count(), 2, 'after the TTL the target is asked again');
    await service.statuses(repo, envs, { force: true });
    assert.equal(count(), 3, 'force skips the cache');
    service.invalidate(repo);
    await service.statuses(repo, envs);
    assert.equal(count(), 4, 'invalidate forgets the folder');
  });

  it('a cancelled refresh returns promptly and is not cached', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    const service = new EnvironmentStatusService();
    const envs = environments(`  production: { version: { command: "sleep 1; echo ${sha}" } }\n`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const [cancelled] = await service.statuses(repo, envs, { signal: ac.signal });
    assert.equal(cancelled.deployed.error, 'cancelled');
    const [fresh] = await service.statuses(repo, envs);
    assert.equal(fresh.deployed.sha, sha, 'the cancelled answer was not reused');
  });
});
