// Security of the HTTP clients (issue #17 items 1, 2, 8c, 8e), against real servers on 127.0.0.1:
// - a repository's delivery.yml does not choose where the user's GitHub/GitLab token goes (`apiUrl`, `host`);
// - redirects to another origin never carry a probe's or a deploy hook's configured headers and body;
// - a deploy hook's answer is read up to a cap, however much the server sends;
// - HTTP header names are RFC 9110 tokens (X-Api-Key, PRIVATE-TOKEN), not environment variable names.
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { callHook, MAX_HOOK_ANSWER_BYTES } from '../../src/adapters/deploy/http';
import { httpGet } from '../../src/adapters/environments/http';
import { FolderSources } from '../../src/adapters/folderSources';
import { HttpClient, RemoteApiError } from '../../src/adapters/remote/http';
import { main } from '../../src/cli/main';
import { checkApiHost, parseTrustedApiHosts } from '../../src/core/remote/tokens';
import { cleanupTempDirs, git, gitRepo } from '../support/tmp';
import { appRepo, deployer, readLog } from '../support/deploySupport';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Server {
  port: number;
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A loopback server that records every request (with its body) and answers with `handle`. */
async function server(handle: (req: Seen, res: http.ServerResponse) => void | Promise<void>): Promise<Server> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(r);
      void handle(r, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

/** `delivery …` in this process, with its own environment; what it wrote. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        add(chunk.toString());
        cb();
      },
    });
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  return { code, stdout, stderr };
}

const GITHUB_TOKEN = 'ghp_repository-must-not-choose-where-this-goes';
const GITLAB_TOKEN = 'glpat-repository-must-not-choose-where-this-goes';

describe('security: HTTP clients', function () {
  this.timeout(60_000);
  after(() => cleanupTempDirs());

  describe('a repository does not choose where the token goes (#17.1)', () => {
    let api: Server;
    before(async () => {
      api = await server((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url.startsWith('/api/v4/') ? '[]' : JSON.stringify({ total_count: 0, workflow_runs: [] }));
      });
    });
    after(() => api.close());

    const yml = () => `version: 1
pipelines:
  gh:
    remote: { github: { repo: acme/shop, apiUrl: "${api.url}/api/v3" } }
  gl:
    remote: { gitlab: { project: acme/shop, apiUrl: "${api.url}/api/v4" } }
`;
    const tokens = (seen: Seen[]) => seen.flatMap((r) => [r.headers.authorization, r.headers['private-token']].filter((v) => v !== undefined));

    it('delivery.yml naming another API host gets a located warning', async () => {
      const repo = gitRepo({ 'delivery.yml': yml() });
      const snap = await new FolderSources(repo).loadAll();
      const warnings = snap.problems.filter((p) => p.severity === 'warning').map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings[0], new RegExp(`^delivery\\.yml:4:\\d+ pipeline "gh": remote: github: "apiUrl" names the API host 127\\.0\\.0\\.1:${api.port}, not api\\.github\\.com: the GitHub token is sent there only when`));
      assert.match(warnings[0], new RegExp(`--trust-api-host 127\\.0\\.0\\.1:${api.port}`));
      assert.match(warnings[1], /^delivery\.yml:6:\d+ pipeline "gl": remote: gitlab: "apiUrl" names the API host .* not gitlab\.com/);
    });

    it('`delivery remote runs` does not send GITHUB_TOKEN / GITLAB_TOKEN to it, and says how to trust it', async () => {
      const repo = gitRepo({ 'delivery.yml': yml() });
      api.seen.length = 0;
      for (const p of ['gh', 'gl']) {
        const r = await cli(['--cwd', repo, 'remote', 'runs', p, '--json'], { GITHUB_TOKEN, GITLAB_TOKEN });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`token was not sent to 127\\.0\\.0\\.1:${api.port}: the repository's delivery\\.yml names that API host`));
        assert.match(r.stderr, new RegExp(`--trust-api-host 127\\.0\\.0\\.1:${api.port}`));
      }
      assert.deepEqual(tokens(api.seen), [], 'no token reached the host the repository named');
      assert.ok(!JSON.stringify(api.seen).includes('repository-must-not-choose'), 'the token is nowhere in what the server received');
    });

    it('sends it once the user trusts the host (--trust-api-host, DELIVERY_TRUSTED_API_HOSTS) or it is the origin remote’s', async () => {
      const repo = gitRepo({ 'delivery.yml': yml() });
      const host = `127.0.0.1:${api.port}`;
      api.seen.length = 0;
      const a = await cli(['--cwd', repo, 'remote', 'runs', 'gh', '--json', '--trust-api-host', host], { GITHUB_TOKEN });
      assert.equal(a.code, 0, a.stderr);
      assert.deepEqual(JSON.parse(a.stdout), { runs: [] });
      assert.deepEqual(tokens(api.seen), [`Bearer ${GITHUB_TOKEN}`]);

      api.seen.length = 0;
      const b = await cli(['--cwd', repo, 'remote', 'runs', 'gl', '--json'], { GITLAB_TOKEN, DELIVERY_TRUSTED_API_HOSTS: `other.example, ${host}` });
      assert.equal(b.code, 0, b.stderr);
      assert.deepEqual(tokens(api.seen), [`Bearer ${GITLAB_TOKEN}`]);

      // The user's clone points at this host: its API is theirs.
      git(repo, 'remote', 'add', 'origin', `${api.url}/acme/shop.git`);
      api.seen.length = 0;
      const c = await cli(['--cwd', repo, 'remote', 'runs', 'gh', '--json'], { GITHUB_TOKEN });
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual(tokens(api.seen), [`Bearer ${GITHUB_TOKEN}`]);
    });

    it('without a token there is nothing to keep back: requests go unauthenticated', async () => {
      const repo = gitRepo({ 'delivery.yml': yml() });
      api.seen.length = 0;
      const r = await cli(['--cwd', repo, 'remote', 'runs', 'gh', '--json'], {});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(api.seen.length, 1);
      assert.deepEqual(tokens(api.seen), []);
    });

    it('trusts the engine default and the origin host, nothing else the repository names', () => {
      const gh = (apiUrl: string) => ({ engine: 'github' as const, host: 'github.com', apiUrl, owner: 'o', repo: 'r', workflow: 'ci.yml' });
      assert.equal(checkApiHost(gh('https://api.github.com'), null).trusted, true);
      assert.equal(checkApiHost(gh('https://evil.example/api/v3'), null).trusted, false);
      assert.equal(checkApiHost(gh('https://evil.example/api/v3'), 'git@github.com:o/r.git').trusted, false);
      assert.equal(checkApiHost(gh('https://ghe.corp/api/v3'), 'git@ghe.corp:o/r.git').trusted, true);
      assert.equal(checkApiHost(gh('https://ghe.corp:8443/api/v3'), 'git@ghe.corp:o/r.git').trusted, false, 'another port is another service');
      assert.equal(checkApiHost(gh('https://api.acme.ghe.com'), 'https://acme.ghe.com/o/r').trusted, true);
      assert.equal(checkApiHost(gh('https://ghe.corp:8443/api/v3'), null, parseTrustedApiHosts('https://GHE.corp:8443')).trusted, true);
      assert.equal(checkApiHost({ engine: 'gitlab', host: 'gitlab.com', apiUrl: 'https://gitlab.com/api/v4', project: 'g/p' }, null).trusted, true);
    });

    it('never sends a token over plain http:// to a host that is not loopback', async () => {
      const c = new HttpClient({
        baseUrl: 'http://192.0.2.1:9/api/v3', // TEST-NET-1: never contacted
        auth: async () => ({ authorization: `Bearer ${GITHUB_TOKEN}` }),
        words: { service: 'GitHub', tokenHint: 'set GITHUB_TOKEN' },
        proxy: {},
        timeoutMs: 2000,
        retries: 0,
      });
      try {
        const err = await c.json('repos/o/r', { signal: AbortSignal.timeout(5000) }).then(
          () => assert.fail('answered'),
          (e: unknown) => e,
        );
        assert.ok(RemoteApiError.is(err, 'auth'), String(err));
        assert.equal((err as Error).message, 'GitHub: the token is not sent over plain http:// to 192.0.2.1:9 (only to loopback); use https://');
      } finally {
        c.dispose();
      }
    });
  });

  describe('redirects to another origin carry no configured headers or body (#17.2)', () => {
    let b: Server;
    let a: Server;
    const SECRET = 'hook-secret-6f1c';
    before(async () => {
      b = await server((_req, res) => void res.writeHead(200).end('{"sha":"0000000"}'));
      a = await server((req, res) => {
        if (req.url.startsWith('/elsewhere')) return void res.writeHead(307, { location: `${b.url}/stolen` }).end();
        if (req.url.startsWith('/see-other')) return void res.writeHead(303, { location: `${b.url}/stolen` }).end();
        if (req.url.startsWith('/moved')) return void res.writeHead(307, { location: '/hook' }).end();
        if (req.url.startsWith('/found')) return void res.writeHead(302, { location: '/hook' }).end();
        res.writeHead(200).end('{"sha":"1111111"}');
      });
    });
    after(async () => {
      await a.close();
      await b.close();
    });
    beforeEach(() => {
      a.seen.length = 0;
      b.seen.length = 0;
    });

    const hookYml = (path: string) => `version: 1
environments:
  web:
    deploy:
      http:
        url: "${a.url}${path}"
        headers: { X-Api-Key: "\${secret:KEY}", Authorization: "Bearer \${secret:KEY}" }
        body: '{"key":"\${secret:KEY}"}'
`;

    it('a deploy hook 307-redirected to another origin: refused, nothing secret reaches it, the log says why', async () => {
      const d = deployer(appRepo(hookYml('/elsewhere')), { KEY: SECRET });
      const { record } = await d.deploy('web');
      assert.ok(!JSON.stringify(b.seen).includes(SECRET), `the other origin saw the secret: ${JSON.stringify(b.seen)}`);
      assert.equal(a.seen[0]?.headers['x-api-key'], SECRET, 'the hook itself got its header');
      assert.equal(record.status, 'failed');
      assert.match(record.reason ?? '', new RegExp(`redirected \\(HTTP 307\\) to other origin ${b.url}: not followed, the configured headers and body are not sent there`));
      assert.match(readLog(record), /to other origin http:\/\/127\.0\.0\.1:\d+: not followed/);
    });

    it('a 303 to another origin drops the body; the configured headers still keep it from being followed', async () => {
      const d = deployer(appRepo(hookYml('/see-other')), { KEY: SECRET });
      const { record } = await d.deploy('web');
      assert.deepEqual(b.seen, []);
      assert.equal(record.status, 'failed');
      assert.match(record.reason ?? '', /redirected \(HTTP 303\) to other origin/);
    });

    it('same-origin redirects keep headers and body (307), or turn into a GET without the body (302)', async () => {
      const d = deployer(appRepo(hookYml('/moved')), { KEY: SECRET });
      assert.equal((await d.deploy('web')).record.status, 'success');
      const hook = a.seen.find((r) => r.url === '/hook')!;
      assert.equal(hook.method, 'POST');
      assert.equal(hook.headers['x-api-key'], SECRET);
      assert.equal(hook.body, `{"key":"${SECRET}"}`);

      a.seen.length = 0;
      const d2 = deployer(appRepo(hookYml('/found')), { KEY: SECRET });
      assert.equal((await d2.deploy('web')).record.status, 'success');
      const got = a.seen.find((r) => r.url === '/hook')!;
      assert.equal(got.method, 'GET');
      assert.equal(got.body, '');
      assert.deepEqual(b.seen, []);
    });

    it('a version probe with headers redirected to another origin: refused, the header stays home', async () => {
      const r = await httpGet(`${a.url}/elsewhere`, { headers: { 'X-Api-Key': SECRET }, timeoutMs: 5000, signal: AbortSignal.timeout(10_000) });
      assert.equal(b.seen.length, 0, 'the other origin got nothing');
      assert.ok('error' in r);
      assert.match(r.error, /redirected \(HTTP 307\) to other origin http:\/\/127\.0\.0\.1:\d+: not followed/);
      // Without configured headers there is nothing to protect: a health check follows the redirect.
      const plain = await httpGet(`${a.url}/elsewhere`, { timeoutMs: 5000, signal: AbortSignal.timeout(10_000) });
      assert.ok('answer' in plain && plain.answer.body === '{"sha":"0000000"}');
      assert.equal(b.seen.length, 1);
      assert.equal(b.seen[0].headers['x-api-key'], undefined);
    });
  });

  it('a deploy hook answering 100 MB is read up to the cap (#17.8c)', async () => {
    const TOTAL = 100 * 1024 * 1024;
    let written = 0;
    let closed!: () => void;
    const done = new Promise<void>((r) => (closed = r));
    const big = await server(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(TOTAL) });
      const gone = new Promise<void>((r) => res.once('close', r));
      void gone.then(closed);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // Writes as fast as the client reads (backpressure): what was written is what the client took, plus buffers.
      while (written < TOTAL && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), gone]);
      }
      res.end();
    });
    try {
      const lines: string[] = [];
      const out = await callHook({ url: `${big.url}/hook`, method: 'POST', headers: {}, body: null }, { signal: AbortSignal.timeout(30_000), line: (_s, t) => lines.push(t) });
      await done;
      assert.ok(written < 24 * 1024 * 1024, `the client kept reading: the server wrote ${Math.round(written / 1024 / 1024)} MB`);
      assert.equal(out.status, 'success');
      assert.match(lines.join('\n'), new RegExp(`^HTTP 200 x+… \\(answer truncated at ${MAX_HOOK_ANSWER_BYTES / 1024} KiB\\)$`));
    } finally {
      await big.close();
    }
  });

  describe('the GitHub/GitLab client (sweep)', () => {
    const client = (baseUrl: string, over: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
      new HttpClient({ baseUrl, auth: async () => ({ 'private-token': GITLAB_TOKEN }), words: { service: 'GitLab', tokenHint: 'set GITLAB_TOKEN' }, proxy: {}, retries: 0, timeoutMs: 10_000, ...over });

    it('a redirect to another origin does not carry PRIVATE-TOKEN', async () => {
      const b = await server((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
      const a = await server((_req, res) => void res.writeHead(302, { location: `${b.url}/elsewhere` }).end());
      const c = client(`${a.url}/api/v4`);
      try {
        assert.deepEqual(await c.json('projects/1', { signal: AbortSignal.timeout(10_000) }), { ok: true });
        assert.equal(a.seen[0].headers['private-token'], GITLAB_TOKEN, 'the API itself gets the token');
        assert.equal(b.seen.length, 1);
        assert.ok(!JSON.stringify(b.seen).includes(GITLAB_TOKEN), 'the other origin does not');
      } finally {
        c.dispose();
        await a.close();
        await b.close();
      }
    });

    it('a gzip answer that inflates past the cap is refused, not inflated', async () => {
      const bomb = zlib.gzipSync(Buffer.alloc(48 * 1024 * 1024), { level: 9 });
      assert.ok(bomb.length < 256 * 1024);
      const s = await server((_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb));
      const c = client(`${s.url}/api/v4`, { maxBodyBytes: 1024 * 1024 });
      try {
        const err = await c.json('projects/1', { signal: AbortSignal.timeout(10_000) }).then(
          () => assert.fail('answered'),
          (e: unknown) => e as Error,
        );
        assert.match(err.message, /the answer is larger than 1 MiB once decompressed/);
      } finally {
        c.dispose();
        await s.close();
      }
    });
  });

  describe('HTTP header names are RFC 9110 tokens (#17.8e)', () => {
    it('X-Api-Key and PRIVATE-TOKEN are valid and reach the server', async () => {
      let sha = '';
      const s = await server((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sha })));
      try {
        const repo = appRepo(`version: 1
environments:
  web:
    version: { http: "${s.url}/version", json: sha, headers: { X-Api-Key: "\${secret:KEY}", PRIVATE-TOKEN: "t0k" } }
    deploy:
      http: { url: "${s.url}/hook", headers: { X-Api-Key: "\${secret:KEY}", PRIVATE-TOKEN: "t0k", "x!#$%&'*+.^_\`|~": "odd but legal" } }
`);
        sha = git(repo, 'rev-parse', 'HEAD');
        const snap = await new FolderSources(repo).loadAll();
        assert.deepEqual(snap.problems, []);
        const { record } = await deployer(repo, { KEY: 'k-123' }).deploy('web');
        assert.equal(record.status, 'success', record.reason ?? '');
        const hook = s.seen.find((r) => r.url === '/hook')!;
        assert.equal(hook.headers['x-api-key'], 'k-123');
        assert.equal(hook.headers['private-token'], 't0k');
        assert.equal(hook.headers["x!#$%&'*+.^_`|~"], 'odd but legal');
        const probe = s.seen.find((r) => r.url === '/version')!;
        assert.equal(probe.headers['private-token'], 't0k');
      } finally {
        await s.close();
      }
    });

    it('a name with a space or a colon, or a value with a line break, is a located error', async () => {
      const repo = gitRepo({
        'delivery.yml': `version: 1
environments:
  web:
    version: { http: "http://127.0.0.1:1/version", headers: { "X Api": a, "X:Api": b } }
    deploy:
      http: { url: "http://127.0.0.1:1/hook", headers: { X-Ok: "line\\nbreak", "": c } }
`,
      });
      const snap = await new FolderSources(repo).loadAll();
      assert.deepEqual(
        snap.problems.map((p) => `${p.line}:${p.column} ${p.severity} ${p.message}`),
        [
          `4:63 error environment "web": version: "X Api" is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
          `4:75 error environment "web": version: "X:Api" is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
          '6:64 error environment "web": deploy: http: "headers.X-Ok" must be one line: a header value cannot hold a line break or NUL',
          `6:79 error environment "web": deploy: http: "" is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
        ],
      );
    });
  });
});
