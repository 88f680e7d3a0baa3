// The remote engines' HTTP client against real local servers: conditional requests, pagination, rate limits and
// retries, errors in words, redirects that keep the token at home, a forwarding proxy, a CONNECT tunnel, and a
// private CA made by the test with openssl. Waits are recorded instead of slept. Pure parts: test/unit/remoteHttp.test.ts.
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { clockTime, HttpClient, loadCa, RemoteApiError, type HttpClientOptions } from '../../src/adapters/remote/http';
import { ReplayServer } from '../support/replay';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const TOKEN = 'ghp_replayTestToken0123456789';
const signal = () => new AbortController().signal;

function client(base: string, over: Partial<HttpClientOptions> = {}): { http: HttpClient; waits: number[] } {
  const waits: number[] = [];
  const http = new HttpClient({
    baseUrl: base,
    auth: async () => ({ authorization: `Bearer ${TOKEN}` }),
    words: { service: 'GitHub', tokenHint: 'set GITHUB_TOKEN or sign in to GitHub' },
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...over,
  });
  return { http, waits };
}

/** A forwarding proxy for http:// targets (absolute-URI requests) that also opens CONNECT tunnels. */
async function startProxy(): Promise<{ url: string; seen: { method: string; target: string; auth: string | undefined }[]; close(): Promise<void> }> {
  const seen: { method: string; target: string; auth: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    const target = new URL(req.url ?? '');
    if (target.hostname.endsWith('.test')) {
      // A made-up host: the proxy answers itself, nothing leaves this machine.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answeredBy: 'proxy', host: target.host }));
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const sockets = new Set<net.Socket>();
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push({ method: 'CONNECT', target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    const [host, port] = (req.url ?? '').split(':');
    const up = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up).add(socket);
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A self-signed certificate for 127.0.0.1, made now. */
function selfSigned(): { key: string; cert: string; certFile: string } {
  const dir = tempDir('delivery-ca-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

describe('remote HTTP client', function () {
  this.timeout(20_000);
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  after(() => cleanupTempDirs());

  async function replay(opts?: Parameters<typeof ReplayServer.start>[0]): Promise<ReplayServer> {
    const s = await ReplayServer.start(opts);
    closers.push(() => s.close());
    return s;
  }
  function use(c: { http: HttpClient; waits: number[] }) {
    closers.push(() => c.http.dispose());
    return c;
  }

  it('sends a conditional GET with the ETag and serves the cached body on 304 (recorded)', async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/repos/octo-org/hello-world/actions/runs/30433700', responses: [{ status: 200, file: 'github/run-in-progress.json', etag: 'W/"run-v1"' }] });
    const { http } = use(client(s.url));
    const first = await http.request('repos/octo-org/hello-world/actions/runs/30433700', { signal: signal() });
    const second = await http.request('repos/octo-org/hello-world/actions/runs/30433700', { signal: signal() });
    const sent = s.sent('GET', '/repos/octo-org/hello-world/actions/runs/30433700');
    assert.equal(sent.length, 2);
    assert.equal(sent[0]!.headers['if-none-match'], undefined);
    assert.equal(sent[1]!.headers['if-none-match'], 'W/"run-v1"');
    assert.deepEqual([sent[0]!.status, sent[1]!.status], [200, 304]);
    assert.equal(first.cached, false);
    assert.equal(second.cached, true);
    assert.equal(second.status, 200);
    assert.deepEqual(JSON.parse(second.body.toString()), JSON.parse(first.body.toString()));
    assert.equal(sent[0]!.headers.authorization, `Bearer ${TOKEN}`);
  });

  it('gets the new body when the ETag changes between polls (recorded)', async () => {
    const s = await replay();
    s.route({
      method: 'GET',
      path: '/r',
      responses: [
        { status: 200, file: 'github/run-queued.json', etag: '"a"' },
        { status: 200, file: 'github/run-queued.json', etag: '"a"' },
        { status: 200, file: 'github/run-failed.json', etag: '"b"' },
      ],
    });
    const { http } = use(client(s.url));
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await http.json<{ status: string; conclusion: string | null }>('r', { signal: signal() })).conclusion ?? 'none');
    assert.deepEqual(statuses, ['none', 'none', 'failure']);
    assert.deepEqual(s.requests.map((r) => r.status), [200, 304, 200]);
  });

  it('follows Link rel="next" across pages and stops at the limit (recorded)', async () => {
    const s = await replay();
    const p = '/repos/octo-org/hello-world/actions/workflows/ci.yml/runs';
    s.route(
      { method: 'GET', path: p, responses: [{ status: 200, file: 'github/runs-page1.json', headers: { link: `<{{base}}${p}?per_page=2&page=2>; rel="next", <{{base}}${p}?per_page=2&page=2>; rel="last"` } }] },
      { method: 'GET', path: p, query: { page: '2' }, responses: [{ status: 200, file: 'github/runs-page2.json', headers: { link: `<{{base}}${p}?per_page=2&page=1>; rel="prev", <{{base}}${p}?per_page=2&page=1>; rel="first"` } }] },
    );
    const { http } = use(client(s.url));
    const items = (b: unknown) => (b as { workflow_runs: { run_number: number }[] }).workflow_runs;
    const all = await http.collect(p, { query: { per_page: 2 }, signal: signal(), limit: 10, items });
    assert.deepEqual(all.map((r) => r.run_number), [42, 41, 40]);
    assert.deepEqual(s.requests.map((r) => r.query.page ?? '1'), ['1', '2']);
    const before = s.requests.length;
    const two = await http.collect(p, { query: { per_page: 2 }, signal: signal(), limit: 2, items, cache: false });
    assert.equal(two.length, 2);
    assert.equal(s.requests.length - before, 1, 'the second page is not fetched when the first one is enough');
  });

  it('follows X-Next-Page until X-Total-Pages (recorded)', async () => {
    const s = await replay();
    const p = '/api/v4/projects/group%2Fsub%2Fapp/pipelines';
    s.route(
      { method: 'GET', path: p, responses: [{ status: 200, file: 'gitlab/pipelines-page1.json', headers: { 'x-next-page': '2', 'x-page': '1', 'x-per-page': '2', 'x-total': '3', 'x-total-pages': '2' } }] },
      { method: 'GET', path: p, query: { page: '2' }, responses: [{ status: 200, file: 'gitlab/pipelines-page2.json', headers: { 'x-next-page': '', 'x-page': '2', 'x-per-page': '2', 'x-total': '3', 'x-total-pages': '2' } }] },
    );
    const { http } = use(client(`${s.url}/api/v4`));
    const all = await http.collect('projects/group%2Fsub%2Fapp/pipelines', { query: { per_page: 2 }, signal: signal(), limit: 100, items: (b) => b as { iid: number }[] });
    assert.deepEqual(all.map((p) => p.iid), [43, 42, 41]);
    assert.equal(s.requests[1]!.query.per_page, '2', 'the next page keeps the query');
  });

  it('reports a primary rate limit with its reset time and sends nothing more until then (recorded)', async () => {
    const s = await replay();
    s.route({
      method: 'GET',
      path: '/r',
      responses: [{ status: 403, file: 'github/error-403-rate-limit.json', headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': '{{epoch+3600}}', 'x-ratelimit-resource': 'core' } }],
    });
    const { http, waits } = use(client(s.url));
    const err = await http.request('r', { signal: signal() }).then(
      () => assert.fail('a rate-limited request must fail'),
      (e: unknown) => e,
    );
    assert.ok(RemoteApiError.is(err, 'rateLimit'), String(err));
    assert.ok(Math.abs(err.resetAt! - (Date.now() + 3_600_000)) < 10_000, `reset in about an hour, not ${err.resetAt}`);
    assert.equal(err.message, `GitHub API rate limit reached on ${new URL(s.url).host}; resets at ${clockTime(err.resetAt!)}`);
    assert.deepEqual(waits, [], 'an hour is not waited for');
    const again = await http.request('r', { signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(again, 'rateLimit'));
    assert.match(again.message, /not sent/);
    assert.equal(s.requests.length, 1, 'no request goes out while the limit is exhausted');
  });

  it('waits for a rate limit that resets soon, then retries (recorded)', async () => {
    const s = await replay();
    s.route({
      method: 'GET',
      path: '/r',
      responses: [
        { status: 403, file: 'github/error-403-rate-limit.json', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '{{epoch+5}}' } },
        { status: 200, json: { ok: true }, headers: { 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': '{{epoch+3600}}' } },
      ],
    });
    const { http, waits } = use(client(s.url));
    assert.deepEqual(await http.json('r', { signal: signal() }), { ok: true });
    assert.equal(waits.length, 1);
    assert.ok(waits[0]! > 3000 && waits[0]! <= 7000, `waited ${waits[0]} ms for a reset 5 s away`);
    assert.equal(s.requests.length, 2);
  });

  it('honours Retry-After on a secondary rate limit, for a POST too (recorded)', async () => {
    const s = await replay();
    s.route({
      method: 'POST',
      path: '/dispatch',
      responses: [
        { status: 403, file: 'github/error-403-secondary.json', headers: { 'retry-after': '7' } },
        { status: 204 },
      ],
    });
    // A clock that stands still: the wait is exactly Retry-After, not Retry-After minus the time the answer took.
    const { http, waits } = use(client(s.url, { now: () => 1_700_000_000_000 }));
    const res = await http.request('dispatch', { method: 'POST', body: { ref: 'main' }, signal: signal() });
    assert.equal(res.status, 204);
    assert.deepEqual(waits, [7000]);
    assert.deepEqual(s.requests.map((r) => r.body), ['{"ref":"main"}', '{"ref":"main"}']);
  });

  it('waits on GitLab 429 with Retry-After and fails when the wait is too long (recorded)', async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/api/v4/soon', responses: [{ status: 429, file: 'gitlab/error-429.json', headers: { 'retry-after': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '{{epoch+2}}' } }, { status: 200, json: [] }] });
    s.route({ method: 'GET', path: '/api/v4/later', responses: [{ status: 429, file: 'gitlab/error-429.json', headers: { 'retry-after': '600' } }] });
    const { http, waits } = use(client(`${s.url}/api/v4`, { words: { service: 'GitLab', tokenHint: 'set GITLAB_TOKEN' } }));
    assert.deepEqual(await http.json('soon', { signal: signal() }), []);
    assert.deepEqual(waits, [2000]);
    const err = await http.request('later', { signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(err, 'rateLimit'), String(err));
    assert.match(err.message, /^GitLab API rate limit reached on 127\.0\.0\.1:\d+; resets at \d\d:\d\d$/);
  });

  it('says what to do on 401 and never shows the token, even when the server echoes it (recorded)', async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/user', responses: [{ status: 401, json: { message: `Bad credentials for ${TOKEN}`, documentation_url: 'https://docs.github.com/rest' } }] });
    s.route({ method: 'GET', path: '/private', responses: [{ status: 403, json: { message: `Resource not accessible by integration (token ${TOKEN})` } }] });
    const { http } = use(client(s.url));
    const e401 = await http.request('user', { signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(e401, 'auth'));
    assert.match(e401.message, /rejected the token \(401\): token missing or invalid: set GITHUB_TOKEN or sign in to GitHub/);
    assert.ok(!e401.serverMessage!.includes(TOKEN) && e401.serverMessage!.includes('***'), e401.serverMessage!);
    const e403 = await http.request('private', { signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(e403, 'forbidden'));
    assert.ok(!e403.message.includes(TOKEN), e403.message);
    assert.match(e403.message, /refused GET \/private \(403\): Resource not accessible by integration \(token \*\*\*\)/);
  });

  it('without a token, a 401 asks for one (recorded)', async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/x', responses: [{ status: 401, file: 'gitlab/error-401.json' }] });
    const { http } = use(client(s.url, { auth: async () => ({}), words: { service: 'GitLab', tokenHint: 'set GITLAB_TOKEN' } }));
    const err = await http.request('x', { signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(err, 'auth'));
    assert.equal(err.message, `GitLab on ${new URL(s.url).host} needs a token (401): token missing or invalid: set GITLAB_TOKEN`);
    assert.equal(s.requests[0]!.headers.authorization, undefined);
  });

  it("uses the caller's words for a 404 (recorded)", async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/w', responses: [{ status: 404, file: 'github/error-404.json' }] });
    const { http } = use(client(s.url));
    const err = await http.request('w', { signal: signal(), notFound: 'no workflow ci.yml in octo-org/hello-world, or the token cannot see it' }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(err, 'notFound'));
    assert.equal(err.message, 'no workflow ci.yml in octo-org/hello-world, or the token cannot see it');
    assert.equal(err.serverMessage, 'Not Found');
  });

  it('retries a GET after a 5xx but never repeats a POST that failed', async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/g', responses: [{ status: 502, text: 'Bad Gateway' }, { status: 503, text: 'busy', headers: { 'retry-after': '3' } }, { status: 200, json: { ok: 1 } }] });
    s.route({ method: 'POST', path: '/p', responses: [{ status: 500, json: { message: 'Server Error' } }, { status: 201, json: {} }] });
    const { http, waits } = use(client(s.url));
    assert.deepEqual(await http.json('g', { signal: signal() }), { ok: 1 });
    assert.equal(waits.length, 2);
    assert.equal(waits[1], 3000, 'Retry-After of the 503 is honoured');
    const err = await http.request('p', { method: 'POST', signal: signal() }).catch((e: unknown) => e);
    assert.ok(RemoteApiError.is(err, 'server'));
    assert.match(err.message, /answered 500 Internal Server Error to POST \/p: Server Error/);
    assert.equal(s.sent('POST', '/p').length, 1);
  });

  it('follows a redirect to another origin without the token (recorded)', async () => {
    const api = await replay();
    const blob = await replay();
    api.vars.blob = blob.url;
    api.route({ method: 'GET', path: '/repos/octo-org/hello-world/actions/jobs/399444497/logs', responses: [{ status: 302, headers: { location: '{{blob}}/logs/399444497.txt?sig=abc' } }] });
    blob.route({ method: 'GET', path: '/logs/399444497.txt', responses: [{ status: 200, file: 'github/job-log.txt' }] });
    const { http } = use(client(api.url));
    const text = await http.text('repos/octo-org/hello-world/actions/jobs/399444497/logs', { signal: signal(), cache: false });
    assert.match(text, /Process completed with exit code 1/);
    assert.equal(api.requests[0]!.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(blob.requests.length, 1);
    assert.equal(blob.requests[0]!.headers.authorization, undefined, 'the token stays with the API');
    assert.equal(blob.requests[0]!.query.sig, 'abc');
  });

  it('decodes gzip bodies', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(JSON.stringify({ packed: 'yes' })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const { http: c } = use(client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    assert.deepEqual(await c.json('x', { signal: signal() }), { packed: 'yes' });
  });

  it('cancels a rate-limit wait when the signal aborts', async () => {
    const s = await replay();
    s.route({ method: 'GET', path: '/r', responses: [{ status: 429, json: { message: 'slow down' }, headers: { 'retry-after': '30' } }] });
    const c = new HttpClient({ baseUrl: s.url, auth: async () => ({}), words: { service: 'GitHub', tokenHint: '' } });
    closers.push(() => c.dispose());
    const ac = new AbortController();
    const pending = c.request('r', { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stopped by the user')), 100);
    await assert.rejects(pending, /stopped by the user/);
  });

  describe('proxy', () => {

    it("uses this process's HTTP_PROXY by default, but never for loopback", async () => {
      const s = await replay();
      s.route({ method: 'GET', path: '/here', responses: [{ status: 200, json: { answeredBy: 'replay' } }] });
      const proxy = await startProxy();
      closers.push(() => proxy.close());
      const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
      closers.push(() => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      });
      for (const k of Object.keys(saved)) delete process.env[k];
      process.env.HTTP_PROXY = proxy.url;
      // No token: a token never goes over plain http:// to a host that is not loopback.
      const { http: far } = use(client('http://ci.example.test/api/v4', { auth: async () => ({}) }));
      assert.deepEqual(await far.json('projects', { signal: signal() }), { answeredBy: 'proxy', host: 'ci.example.test' });
      assert.equal(proxy.seen[0]!.target, 'http://ci.example.test/api/v4/projects');
      const { http: near } = use(client(s.url));
      assert.deepEqual(await near.json('here', { signal: signal() }), { answeredBy: 'replay' });
      assert.equal(proxy.seen.length, 1, 'loopback goes direct');
    });

    it('sends http:// requests through a forwarding proxy, with its credentials, and bypasses it for NO_PROXY (recorded)', async () => {
      const s = await replay();
      s.route({ method: 'GET', path: '/api/v4/projects/group%2Fsub%2Fapp', responses: [{ status: 200, file: 'gitlab/project.json' }] });
      const proxy = await startProxy();
      closers.push(() => proxy.close());
      const proxied = new URL(proxy.url);
      proxied.username = 'deliver';
      proxied.password = 'p@ss';
      const { http: viaProxy } = use(client(`${s.url}/api/v4`, { proxy: { http: proxied.href } }));
      const project = await viaProxy.json<{ path_with_namespace: string }>('projects/group%2Fsub%2Fapp', { signal: signal() });
      assert.equal(project.path_with_namespace, 'group/sub/app');
      assert.equal(proxy.seen.length, 1);
      assert.equal(proxy.seen[0]!.target, `${s.url}/api/v4/projects/group%2Fsub%2Fapp`);
      assert.equal(proxy.seen[0]!.auth, `Basic ${Buffer.from('deliver:p@ss').toString('base64')}`);
      assert.equal(s.requests[0]!.headers.authorization, `Bearer ${TOKEN}`, 'the API token passes through the proxy to the API');
      const { http: direct } = use(client(`${s.url}/api/v4`, { proxy: { http: proxy.url, noProxy: '127.0.0.1' } }));
      await direct.json('projects/group%2Fsub%2Fapp', { signal: signal() });
      assert.equal(proxy.seen.length, 1, 'NO_PROXY goes direct');
      assert.equal(s.requests.length, 2);
    });

    it('says which proxy failed when it cannot be reached', async () => {
      const closed = net.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const { http } = use(client('http://127.0.0.1:1/api', { proxy: { http: `http://127.0.0.1:${port}` } }));
      const err = await http.request('x', { signal: signal() }).catch((e: unknown) => e);
      assert.ok(RemoteApiError.is(err, 'network'), String(err));
      assert.equal(err.message, `cannot reach 127.0.0.1:1 through proxy http://127.0.0.1:${port}: connection refused`);
    });
  });

  describe('custom CA', () => {
    let tls: ReturnType<typeof selfSigned>;
    before(() => {
      tls = selfSigned();
    });

    it('refuses a server whose certificate it cannot verify, and trusts it with the CA file (recorded)', async () => {
      const s = await replay({ tls });
      s.route({ method: 'GET', path: '/api/v3/repos/octo-org/hello-world/actions/workflows/ci.yml', responses: [{ status: 200, file: 'github/workflow.json' }] });
      const { http: strict } = use(client(`${s.url}/api/v3`));
      const err = await strict.request('repos/octo-org/hello-world/actions/workflows/ci.yml', { signal: signal() }).catch((e: unknown) => e);
      assert.ok(RemoteApiError.is(err, 'network'), String(err));
      assert.match(err.message, /^cannot verify the certificate of 127\.0\.0\.1:\d+ \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\): trust its CA/);
      const ca = loadCa({ caFile: tls.certFile, env: {} });
      assert.ok(ca && ca.length > 1 && ca.includes(tls.cert.trim()), 'Node roots plus the file');
      const { http: trusting } = use(client(`${s.url}/api/v3`, { ca }));
      const wf = await trusting.json<{ path: string }>('repos/octo-org/hello-world/actions/workflows/ci.yml', { signal: signal() });
      assert.equal(wf.path, '.github/workflows/ci.yml');
    });

    it('tunnels https through the proxy with CONNECT and verifies the server with the CA (recorded)', async () => {
      const s = await replay({ tls });
      s.route({ method: 'GET', path: '/api/v3/repos/octo-org/hello-world/actions/workflows/ci.yml', responses: [{ status: 200, file: 'github/workflow.json', etag: '"wf"' }] });
      const proxy = await startProxy();
      closers.push(() => proxy.close());
      const { http } = use(client(`${s.url}/api/v3`, { ca: loadCa({ caFile: tls.certFile, env: {} }), proxy: { https: proxy.url } }));
      const wf = await http.json<{ name: string }>('repos/octo-org/hello-world/actions/workflows/ci.yml', { signal: signal() });
      assert.equal(wf.name, 'CI');
      const again = await http.request('repos/octo-org/hello-world/actions/workflows/ci.yml', { signal: signal() });
      assert.equal(again.cached, true);
      assert.equal(proxy.seen[0]!.method, 'CONNECT');
      assert.equal(proxy.seen[0]!.target, new URL(s.url).host);
      assert.equal(proxy.seen.length, 1, 'the tunnel is kept alive for the second request');
      assert.equal(s.requests[0]!.headers.authorization, `Bearer ${TOKEN}`);
    });

    it('names a CA file that cannot be used', () => {
      const dir = tempDir();
      const bad = path.join(dir, 'not-a-cert.pem');
      fs.writeFileSync(bad, 'hello');
      assert.throws(() => loadCa({ caFile: bad, env: {} }), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} holds no PEM certificate`));
      assert.throws(() => loadCa({ caFile: path.join(dir, 'missing.pem'), env: {} }), /cannot read the CA certificates in .*missing\.pem: ENOENT/);
      assert.equal(loadCa({ env: {} }), undefined, "no CA file: Node's defaults");
      const other = selfSigned();
      const both = loadCa({ caFile: tls.certFile, env: { NODE_EXTRA_CA_CERTS: other.certFile } })!;
      assert.ok(both.includes(tls.cert.trim()) && both.includes(other.cert.trim()), 'NODE_EXTRA_CA_CERTS stays trusted beside the file');
    });

    it('trusts NODE_EXTRA_CA_CERTS in a CLI process without any option (recorded)', async () => {
      const s = await replay({ tls });
      s.route({ method: 'GET', path: '/api/v4/projects/group%2Fsub%2Fapp', responses: [{ status: 200, file: 'gitlab/project.json' }] });
      const script = [
        "const { HttpClient } = require(process.argv[1]);",
        "const c = new HttpClient({ baseUrl: process.argv[2], auth: async () => ({}), words: { service: 'GitLab', tokenHint: '' }, retries: 0 });",
        "c.json('projects/group%2Fsub%2Fapp', { signal: new AbortController().signal })",
        "  .then((p) => { console.log(p.path_with_namespace); c.dispose(); }, (e) => { console.log('ERR ' + e.message); c.dispose(); });",
      ].join('\n');
      const run = (env: NodeJS.ProcessEnv) =>
        new Promise<string>((resolve, reject) =>
          execFile(process.execPath, ['-e', script, path.resolve(__dirname, '../../src/adapters/remote/http.js'), `${s.url}/api/v4`], { env }, (err, out) => (err ? reject(err) : resolve(out.trim()))),
        );
      const { NODE_EXTRA_CA_CERTS: _drop, ...env } = process.env;
      assert.match(await run(env), /^ERR cannot verify the certificate of 127\.0\.0\.1:\d+/);
      assert.equal(await run({ ...env, NODE_EXTRA_CA_CERTS: tls.certFile }), 'group/sub/app');
    });
  });
});
