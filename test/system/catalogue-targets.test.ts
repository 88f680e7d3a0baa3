// Bad-input catalogue, part 3: targets that misbehave. A version endpoint answering 500, garbage, a SHA the
// repository lacks, nothing before its timeout, or text crafted to look like a git option; an ssh host that is down,
// refuses the key or presents another host key; git remotes that reject a push or do not exist; an upload path full
// of shell metacharacters. All through the real CLI against servers this test starts on 127.0.0.1 (HTTP, OpenSSH
// sshd, bare git repositories). Each case: the message a user sees, that nothing ran on the target, that the
// history records the failure and that the earlier history is intact.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileDeployStore } from '../../src/adapters/deploy/history';
import { folderStateDir } from '../../src/adapters/stateDir';
import { freePort } from '../support/targets/common';
import { makeGitRemote } from '../support/targets/gitRemote';
import { sshdUnavailable, startSshd, type Sshd } from '../support/targets/sshd';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir } from '../support/tmp';
import { assertNothingLost, caseFolder, cli, inBatches, markers, seededStateRoot, type CliResult } from '../support/catalogueSupport';

const MISSING_SHA = '0123456789abcdef0123456789abcdef01234567';

interface Targets {
  /** Base URL of the misbehaving HTTP server. */
  http: string;
  sshd: Sshd | null;
  /** A port nothing listens on. */
  closedPort: number;
  /** Where deploys write (the "remote" side): markers of anything that ran there land here. */
  remote: string;
}

interface TargetCase {
  name: string;
  needsSsh?: boolean;
  /** delivery.yml for the case. */
  yml: (t: Targets) => string;
  args: string[];
  code: number;
  says: RegExp[];
  /** Markers that must exist afterwards (what legitimately ran on the target); default none. */
  ran?: string[];
  /** A deploy case: the environment whose history must record the outcome. */
  deployOf?: { env: string; status: 'failed' | 'success' | null };
  check?: (r: CliResult, t: Targets) => void;
}

/** The HTTP target: every path misbehaves in its own way. */
async function misbehavingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const srv = http.createServer((req, res) => {
    const send = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    switch (req.url) {
      case '/500': return send(500, 'database on fire');
      case '/garbage': return send(200, '<html><body>It works!</body></html>');
      case '/missing-sha': return send(200, JSON.stringify({ sha: MISSING_SHA }));
      case '/no-field': return send(200, JSON.stringify({ build: { id: 7 } }));
      case '/huge': return send(200, JSON.stringify({ sha: 'x'.repeat(5 * 1024 * 1024) }));
      case '/dollar': return send(200, JSON.stringify({ sha: '$(touch pwned)' }));
      case '/option': return send(200, JSON.stringify({ sha: '--upload-pack=touch pwned' }));
      case '/hang': return; // never answers
      default: return send(404, 'not here');
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

// 10 s: an answer must not miss its timeout on a busy machine; the case about the timeout sets 1 s itself.
const httpEnv = (t: Targets, route: string, extra = '', timeout = '10s') =>
  `version: 1\nenvironments:\n  web:\n    version: { http: "${t.http}${route}", json: sha, timeout: ${timeout}${extra} }\n`;

/** ssh target settings as delivery.yml writes them; `over` replaces some. */
function sshYml(t: Targets, over: { port?: number; key?: string; knownHosts?: string } = {}, extra = ''): string {
  const s = t.sshd!;
  return `{ host: 127.0.0.1, port: ${over.port ?? s.port}, user: root, identityFile: "${over.key ?? s.clientKey}", knownHostsFile: "${over.knownHosts ?? s.knownHosts}", connectTimeout: 3s${extra} }`;
}

/** An environment probed and deployed over ssh: the remote script only leaves a marker. */
function sshEnv(t: Targets, over: Parameters<typeof sshYml>[1] = {}, uploadTo = `${t.remote}/releases/\${DELIVERY_SHA}`): string {
  const ssh = sshYml(t, over);
  return `version: 1
environments:
  edge:
    version: { ssh: ${sshYml(t, over, `, command: 'cat "${t.remote}/VERSION"'`)}, timeout: 10s }
    deploy:
      ssh: ${ssh}
      upload: { from: app, to: ${JSON.stringify(uploadTo)} }
      run: 'touch "${t.remote}/ran-remote"; echo "$DELIVERY_SHA" > "${t.remote}/VERSION"'
      timeout: 60s
`;
}

/** A second key pair (not authorized) and a known_hosts naming another host key for the sshd's address. */
function strangers(sshd: Sshd): { key: string; knownHosts: string } {
  const dir = tempDir('delivery-catalogue-strangers-');
  const key = path.join(dir, 'other_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', key]);
  const hostKey = fs.readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${hostKey}\n`);
  return { key, knownHosts };
}

let stranger: { key: string; knownHosts: string } | null = null;

const CASES: TargetCase[] = [
  // --- version endpoints ---
  { name: 'version endpoint answers HTTP 500', yml: (t) => httpEnv(t, '/500'), args: ['envs', '--json'], code: 1, says: [/"error":"HTTP 500 Internal Server Error from http:\/\/127\.0\.0\.1:\d+\/500: database on fire"/] },
  { name: 'version endpoint answers garbage (HTML, not JSON)', yml: (t) => httpEnv(t, '/garbage'), args: ['envs', '--json'], code: 1, says: [/"error":"the answer is not JSON: <html><body>It works!<\/body><\/html> \(http:\/\/127\.0\.0\.1:\d+\/garbage\)"/] },
  { name: 'version endpoint answers JSON without the field', yml: (t) => httpEnv(t, '/no-field'), args: ['envs', '--json'], code: 1, says: [/"error":"the JSON answer has no \\"sha\\" \(http:\/\/127\.0\.0\.1:\d+\/no-field\)"/] },
  { name: 'version endpoint answers a SHA the repository lacks (no remote to fetch it from)', yml: (t) => httpEnv(t, '/missing-sha'), args: ['envs', '--json'], code: 1, says: [new RegExp(`"deployed":\\{"sha":null,"error":"deployed commit 0123456 is not in this repository \\(no remote to fetch it from\\)","raw":"${MISSING_SHA}"`)] },
  { name: 'version endpoint gives no answer before its timeout', yml: (t) => httpEnv(t, '/hang', '', '1s'), args: ['envs', '--json'], code: 1, says: [/"error":"no answer within 1s from http:\/\/127\.0\.0\.1:\d+\/hang"/] },
  { name: 'version endpoint answers 5 MB', yml: (t) => httpEnv(t, '/huge', '', '10s'), args: ['envs', '--json'], code: 1, says: [/larger than 1 MB; a version endpoint should answer with a few bytes/] },
  { name: 'version endpoint answers $(touch pwned): data, not a command', yml: (t) => httpEnv(t, '/dollar'), args: ['envs', '--json'], code: 1, says: [/"error":"\\"\$\(touch pwned\)\\" is not a commit SHA or tag/] },
  { name: 'version endpoint answers a git option (--upload-pack=…): never passed to git', yml: (t) => httpEnv(t, '/option'), args: ['envs', '--json'], code: 1, says: [/"error":"\\"--upload-pack=touch pwned\\" is not a commit SHA or tag/] },
  { name: 'version endpoint refuses connections', yml: (t) => `version: 1\nenvironments:\n  web:\n    version: { http: "http://127.0.0.1:${t.closedPort}/version", json: sha, timeout: 2s }\n`, args: ['envs', '--json'], code: 1, says: [/"error":"http:\/\/127\.0\.0\.1:\d+\/version: connection refused \(nothing listens there\)"/] },
  {
    name: 'a deploy whose version check answers 500 fails, and the history says why',
    yml: (t) => `${httpEnv(t, '/500')}    deploy: { command: 'touch "${t.remote}/ran-deployed"' }\n    health: { http: "${t.http}/500", timeout: 1s, interval: 200ms }\n`,
    args: ['deploy', 'web', '--yes', '--json'],
    code: 1,
    deployOf: { env: 'web', status: 'failed' },
    says: [/"reason":"version check failed: could not read the deployed version: HTTP 500 Internal Server Error from http:\/\/127\.0\.0\.1:\d+\/500: database on fire \(the release may be deployed only in part\)"/],
    ran: ['ran-deployed'], // the deploy command itself ran; what failed is the check after it
  },
  // --- ssh hosts ---
  { name: 'ssh host down: the probe says connection refused', needsSsh: true, yml: (t) => sshEnv(t, { port: t.closedPort }), args: ['envs', '--json'], code: 1, says: [/"error":"ssh: connection refused by 127\.0\.0\.1:\d+ \(no ssh server listens there\)"/] },
  // The deploy's lock and history live on the host (~/.delivery/<env>): a host that cannot be reached refuses the deploy before anything runs.
  { name: 'ssh host down: the deploy is refused at its lock, nothing uploaded', needsSsh: true, yml: (t) => sshEnv(t, { port: t.closedPort }), args: ['deploy', 'edge', '--yes', '--json'], code: 1, deployOf: { env: 'edge', status: null }, says: [/^delivery: could not take the deploy lock of "edge", so nothing was deployed: ssh store root@127\.0\.0\.1:\.delivery\/edge: ssh: connection refused by 127\.0\.0\.1:\d+ \(no ssh server listens there\)/m] },
  { name: 'ssh with a key the host does not accept: the probe says permission denied', needsSsh: true, yml: (t) => sshEnv(t, { key: stranger!.key }), args: ['envs', '--json'], code: 1, says: [/"error":"ssh: permission denied for root@127\.0\.0\.1 on 127\.0\.0\.1:\d+ \(the key .*other_key is not accepted\)"/] },
  { name: 'ssh with a key the host does not accept: the deploy is refused, nothing ran', needsSsh: true, yml: (t) => sshEnv(t, { key: stranger!.key }), args: ['deploy', 'edge', '--yes', '--json'], code: 1, deployOf: { env: 'edge', status: null }, says: [/could not take the deploy lock of "edge", so nothing was deployed: ssh store root@127\.0\.0\.1:\.delivery\/edge: ssh: permission denied for root@127\.0\.0\.1/] },
  { name: 'ssh host key mismatch: the probe refuses the host', needsSsh: true, yml: (t) => sshEnv(t, { knownHosts: stranger!.knownHosts }), args: ['envs', '--json'], code: 1, says: [/"error":"ssh: the host key of 127\.0\.0\.1:\d+ does not match the one in .*known_hosts \(the host was reinstalled, or this is not the host you expect\)"/] },
  { name: 'ssh host key mismatch: the deploy refuses the host, nothing ran', needsSsh: true, yml: (t) => sshEnv(t, { knownHosts: stranger!.knownHosts }), args: ['deploy', 'edge', '--yes', '--json'], code: 1, deployOf: { env: 'edge', status: null }, says: [/could not take the deploy lock of "edge", so nothing was deployed: ssh store root@127\.0\.0\.1:\.delivery\/edge: ssh: the host key of 127\.0\.0\.1:\d+ does not match/] },
  {
    name: 'an upload path full of shell metacharacters is created literally on the host',
    needsSsh: true,
    yml: (t) => sshEnv(t, {}, `${t.remote}/rel $(touch pwned) \`touch pwned\`; touch pwned '"`),
    args: ['deploy', 'edge', '--yes', '--json'],
    code: 0,
    deployOf: { env: 'edge', status: 'success' },
    says: [/"status":"success"/],
    ran: ['ran-remote'],
    check: (_r, t) => assert.ok(fs.existsSync(path.join(t.remote, `rel $(touch pwned) \`touch pwned\`; touch pwned '"`, 'app.js')), 'uploaded to the literal path'),
  },
  // --- git remotes ---
  {
    name: 'a git remote rejecting the push: the deploy fails with what the remote said',
    // state: local — with the default store (refs on this remote) the lock itself is refused: the next case.
    yml: (t) => `version: 1\nenvironments:\n  frozen:\n    deploy: { gitPush: { remote: "${makeGitRemote(t.remote, 'frozen', { rejectMessage: 'deploys are frozen until Monday' }).fileUrl}" } }\n    state: local\n`,
    args: ['deploy', 'frozen', '--yes', '--json'],
    code: 1,
    deployOf: { env: 'frozen', status: 'failed' },
    says: [/"reason":"git push to main failed: git push remote rejected \(pre-receive hook declined\); the remote said: deploys are frozen until Monday"/],
  },
  {
    name: 'a git remote refusing refs/delivery/*: the deploy is refused at its lock, with what the remote said and what to do',
    yml: (t) => `version: 1\nenvironments:\n  frozen:\n    deploy: { gitPush: { remote: "${makeGitRemote(t.remote, 'frozen', { rejectMessage: 'deploys are frozen until Monday' }).fileUrl}" } }\n`,
    args: ['deploy', 'frozen', '--yes', '--json'],
    code: 1,
    deployOf: { env: 'frozen', status: null },
    says: [/^delivery: could not take the deploy lock of "frozen", so nothing was deployed: could not write refs\/delivery\/frozen\/lock to git remote file:\/\/.*pre-receive hook declined.*deploys are frozen until Monday; to keep the lock and history elsewhere, set "state:" for this environment in delivery\.yml$/m],
  },
  {
    name: 'a git remote that does not exist',
    yml: (t) => `version: 1\nenvironments:\n  gone:\n    deploy: { gitPush: { remote: "file://${t.remote}/no-such-repo.git" } }\n`,
    args: ['deploy', 'gone', '--yes', '--json'],
    code: 1,
    deployOf: { env: 'gone', status: null },
    says: [/^delivery: could not take the deploy lock of "gone", so nothing was deployed: could not reach git remote file:\/\/\/tmp\/[^ ]+\/no-such-repo\.git to take the lock: fatal: '\/tmp\/[^']+\/no-such-repo\.git' does not appear to be a git repository/m],
  },
];

describe('bad-input catalogue: misbehaving targets (CLI against real servers)', function () {
  this.timeout(180_000);
  const results = new Map<string, { folder: string; state: string; r: CliResult; t: Targets }>();
  let server: Awaited<ReturnType<typeof misbehavingServer>>;
  let sshd: Sshd | null = null;
  before(async () => {
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are distinct');
    server = await misbehavingServer();
    if (!sshdUnavailable()) {
      sshd = await startSshd(path.join(tempDir('delivery-catalogue-sshd-'), 'sshd'));
      stranger = strangers(sshd);
    }
    const closedPort = await freePort();
    await inBatches(CASES, 4, async (c) => {
      if (c.needsSsh && !sshd) return;
      const t: Targets = { http: server.url, sshd, closedPort, remote: tempDir('delivery-catalogue-remote-') };
      const folder = caseFolder({ 'delivery.yml': c.yml(t), 'app/app.js': 'console.log("app")\n' });
      const state = await seededStateRoot(folder);
      results.set(c.name, { folder, state, t, r: await cli(folder, state, c.args) });
    });
  });
  after(async () => {
    await server?.close();
    await sshd?.stop();
    cleanupTempDirs();
  });

  for (const c of CASES) {
    it(c.name, async function () {
      const got = results.get(c.name);
      if (!got) {
        requireTool(this, c.needsSsh ? sshdUnavailable() : null);
        assert.fail(`case ${c.name} produced no result`);
      }
      const { folder, state, r, t } = got;
      const shown = `exit ${r.code}\n--- stderr\n${r.stderr.slice(0, 3000)}\n--- stdout\n${r.stdout.slice(0, 3000)}`;
      assert.equal(r.code, c.code, shown);
      for (const re of c.says) assert.match(`${r.stderr}\n${r.stdout}`, re, shown);
      c.check?.(r, t);
      if (c.deployOf) {
        const history = await new FileDeployStore(folderStateDir(folder, state)).list(c.deployOf.env);
        // status null: refused before anything ran, so nothing is recorded.
        assert.deepEqual(history.map((h) => h.status), c.deployOf.status === null ? [] : [c.deployOf.status], 'the history records the deploy');
        if (c.deployOf.status === 'failed') assert.ok(history[0].reason, 'with its reason');
      }
      assert.deepEqual(markers(folder, t.remote), c.ran ?? [], 'what ran on the target');
      assert.equal(fs.existsSync(path.join(os.homedir(), 'pwned')), false, 'nothing ran in the remote home');
      await assertNothingLost(folder, state);
    });
  }
});
