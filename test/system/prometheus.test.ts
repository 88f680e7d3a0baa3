// Deploy verification's metrics adapter against a real Prometheus scraping the real metrics app
// (test/fixtures/targets/metrics-app.js): numbers, a bad release's error rate, PromQL's own errors with their
// position, empty / ambiguous / NaN answers, ranges, a Prometheus that is down. Then a real Prometheus behind TLS
// (a CA made here with openssl), basic auth and a path prefix; a loopback server for answers Prometheus would not
// give (5xx, HTML, redirects, huge bodies, no answer); and the timed GET of `verify.http`.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { HttpProbeSpec, MetricSeries, MetricValue, PrometheusSource } from '../../src/core/environments/metrics';
import { errorPosition, httpProber, prometheusMetrics } from '../../src/adapters/environments/prometheus';
import type { SecretResolver } from '../../src/core/secrets';
import { freePort } from '../support/targets/common';
import { stageMetricsApp, startLoad, startMetricsApp, type Load, type MetricsApp } from '../support/targets/metricsApp';
import { prometheusUnavailable, startPrometheus, type Prometheus } from '../support/targets/prometheus';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const SECRETS: Record<string, string> = { PROM_TOKEN: 'prom-token-0123456789', PROM_PASS: 'prom-basic-pass' };
const secrets: SecretResolver = async (name) => SECRETS[name];
/** bcrypt of SECRETS.PROM_PASS (cost 4), as Prometheus's web config wants it. */
const PROM_PASS_BCRYPT = '$2b$04$QFdlhl0YizCTtIBACcShfeEu5lUIPyRIN/j/QG6tFnii0.JqGeIWC';

const never = () => new AbortController().signal;

function source(url: string, over: Partial<PrometheusSource> = {}): PrometheusSource {
  return { url, headers: {}, basicAuth: null, ca: null, timeoutMs: 5000, ...over };
}

function value(r: MetricValue): number {
  assert.ok('value' in r, `expected a number, got ${JSON.stringify(r)}`);
  return r.value;
}

function problemOf(r: MetricValue | MetricSeries) {
  assert.ok('problem' in r, `expected a problem, got ${JSON.stringify(r)}`);
  return r.problem;
}

/** Polls `fn` until it gives something (a wait bound, not a speed assertion). */
async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    const v = await fn().catch((e: unknown) => {
      last = e;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not after ${ms} ms${last ? ` (last: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus metrics: a real Prometheus scraping the metrics app', function () {
  this.timeout(120_000);
  const metrics = prometheusMetrics('/', secrets);
  let base: string;
  let app: MetricsApp;
  let load: Load | undefined;
  let prom: Prometheus | undefined;
  const q = (query: string, atMs: number | null = null) => metrics.query(source(prom!.url), query, atMs, never());

  before(async function () {
    requireTool(this, prometheusUnavailable());
    base = tempDir('delivery-prom-');
    stageMetricsApp(path.join(base, 'app'), { version: 'v1' });
    app = await startMetricsApp(path.join(base, 'app'));
    load = startLoad(`${app.url}/`, { everyMs: 25 });
    prom = await startPrometheus(path.join(base, 'prom'), { targets: [app.target] });
  });
  after(async () => {
    await load?.stop();
    await app?.stop();
    await prom?.stop();
    cleanupTempDirs();
  });

  it('gives the number of a query that returns one series, a scalar, and at a given time', async () => {
    assert.equal(value(await q('up{job="app"}')), 1);
    assert.equal(value(await q('scalar(up{job="app"})')), 1);
    assert.equal(value(await q('sum(up)', Date.now())), 1);
    const requests = await eventually('requests counted', async () => {
      const v = value(await q('sum(http_requests_total)'));
      return v > 0 ? v : undefined;
    });
    assert.ok(requests > 0);
  });

  it("a 5xx-rate query gives 0 for a good release and a bad release's error rate under load", async () => {
    const ratio = 'sum(rate(http_requests_total{code="500"}[5s])) / sum(rate(http_requests_total[5s]))';
    await eventually('the good release at 0% errors', async () => {
      const r = await q(ratio);
      return 'value' in r && r.value === 0 ? true : undefined;
    });
    // The bad release: the same folder and port, as a command deploy running metrics-restart.sh would leave it.
    stageMetricsApp(app.dir, { version: 'v2', errorRate: 0.5 });
    app = await startMetricsApp(app.dir, { port: app.port });
    await eventually('the bad release scraped', async () => ('value' in (await q('app_version_info{version="v2"}')) ? true : undefined));
    const rate = await eventually('the bad release at about 50% errors', async () => {
      const r = await q(ratio);
      return 'value' in r && r.value > 0.4 && r.value < 0.6 ? r.value : undefined;
    });
    assert.ok(rate > 0.4 && rate < 0.6, String(rate));
    assert.ok((load!.answered[500] ?? 0) > 0, 'the load saw 500s');
  });

  it("a query PromQL refuses gives kind query with Prometheus's message and the 0-based position", async () => {
    const unclosed = 'sum(rate(http_requests_total[1m])';
    const p1 = problemOf(await q(unclosed));
    assert.equal(p1.kind, 'query');
    assert.match(p1.message, /parse error: unclosed left parenthesis/);
    assert.equal(p1.position, unclosed.length);
    // A second line, and a character of two bytes before the error: Prometheus counts bytes per line.
    const op = 'sum(\n  http_requests_total{code="é"}) +* 2';
    const p2 = problemOf(await q(op));
    assert.equal(p2.kind, 'query');
    assert.match(p2.message, /2:\d+: parse error: unexpected <op:\*>/);
    assert.equal(p2.position, op.indexOf('*'));
    const p3 = problemOf(await q('rate(http_requests_total)'));
    assert.equal(p3.kind, 'query');
    assert.match(p3.message, /expected type range vector/);
    assert.equal(p3.position, 5);
  });

  it('an empty result, several series and NaN or Inf each give their kind', async () => {
    const empty = problemOf(await q('http_requests_total{code="404"}'));
    assert.equal(empty.kind, 'empty');
    const many = problemOf(await q('http_requests_total'));
    assert.equal(many.kind, 'ambiguous');
    assert.match(many.message, /2 series/);
    assert.match(many.message, /http_requests_total\{code="200", instance="127\.0\.0\.1:\d+", job="app"\}/);
    assert.match(many.message, /code="500"/);
    assert.match(many.message, /sum\(\)/);
    for (const nan of ['0/0', 'sum(up) * 0 / 0']) {
      const p = problemOf(await q(nan));
      assert.equal(p.kind, 'nan', nan);
      assert.match(p.message, /NaN/);
    }
    const inf = problemOf(await q('sum(up) / 0'));
    assert.equal(inf.kind, 'nan');
    assert.match(inf.message, /\+Inf/);
    assert.equal(problemOf(await q('up[10s]')).kind, 'query');
  });

  it('queryRange gives the points of one series, or its problem', async () => {
    const endMs = Date.now();
    const range = { startMs: endMs - 10_000, endMs, stepMs: 1000 };
    const r = await metrics.queryRange(source(prom!.url), 'sum(up)', range, never());
    assert.ok('points' in r, JSON.stringify(r));
    assert.ok(r.points.length >= 3, JSON.stringify(r.points));
    for (const [ms, v] of r.points) {
      assert.ok(Number.isInteger(ms) && ms >= range.startMs - 1 && ms <= endMs + 1, String(ms));
      // up is 1 per answered scrape; on a busy machine a 1 s scrape can time out (0).
      assert.ok(v === 0 || v === 1, String(v));
    }
    assert.ok(r.points.some(([, v]) => v === 1), JSON.stringify(r.points));
    assert.deepEqual(
      r.points.map(([ms]) => ms),
      [...r.points.map(([ms]) => ms)].sort((a, b) => a - b),
    );
    assert.equal(problemOf(await metrics.queryRange(source(prom!.url), 'http_requests_total', range, never())).kind, 'ambiguous');
    assert.equal(problemOf(await metrics.queryRange(source(prom!.url), 'http_requests_total{code="404"}', range, never())).kind, 'empty');
    assert.equal(problemOf(await metrics.queryRange(source(prom!.url), 'sum(up) * 0 / 0', range, never())).kind, 'nan');
    assert.equal(problemOf(await metrics.queryRange(source(prom!.url), 'sum(up', range, never())).kind, 'query');
  });

  it('a stopped Prometheus gives kind down naming its URL', async () => {
    const url = prom!.url;
    await prom!.stop();
    const p = problemOf(await metrics.query(source(url), 'sum(up)', null, never()));
    assert.equal(p.kind, 'down');
    assert.equal(p.message, `Prometheus at ${url} could not be reached: connection refused (nothing listens there)`);
    const r = problemOf(await metrics.queryRange(source(url), 'sum(up)', { startMs: Date.now() - 5000, endMs: Date.now(), stepMs: 1000 }, never()));
    assert.equal(r.kind, 'down');
  });
});

describe('Prometheus metrics: TLS with a private CA, basic auth and a path prefix (real Prometheus)', function () {
  this.timeout(60_000);
  let dir: string;
  let prom: Prometheus | undefined;

  before(async function () {
    requireTool(this, prometheusUnavailable());
    dir = tempDir('delivery-prom-tls-');
    makeCa(dir);
    prom = await startPrometheus(path.join(dir, 'prom'), {
      targets: [],
      pathPrefix: '/prom',
      tls: { certFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server.key'), caFile: path.join(dir, 'ca.pem') },
      basicAuth: { username: 'verifier', password: SECRETS.PROM_PASS!, bcrypt: PROM_PASS_BCRYPT },
    });
  });
  after(async () => {
    await prom?.stop();
    cleanupTempDirs();
  });

  const metrics = () => prometheusMetrics(dir, secrets);
  const auth = { username: 'verifier', password: '${secret:PROM_PASS}' };

  it('queries through the prefix with the CA (relative to the folder) and the password from a secret', async () => {
    assert.match(prom!.url, /^https:\/\/127\.0\.0\.1:\d+\/prom$/);
    assert.equal(value(await metrics().query(source(prom!.url, { basicAuth: auth, ca: 'ca.pem' }), 'vector(42)', null, never())), 42);
    assert.equal(value(await metrics().query(source(`${prom!.url}/`, { basicAuth: auth, ca: path.join(dir, 'ca.pem') }), 'scalar(vector(7))', null, never())), 7);
  });

  it('a wrong password, no credentials or a missing secret give kind auth', async () => {
    const wrong = problemOf(await metrics().query(source(prom!.url, { basicAuth: { username: 'verifier', password: 'nope' }, ca: 'ca.pem' }), 'vector(1)', null, never()));
    assert.equal(wrong.kind, 'auth');
    assert.match(wrong.message, /refused the credentials \(HTTP 401/);
    const none = problemOf(await metrics().query(source(prom!.url, { ca: 'ca.pem' }), 'vector(1)', null, never()));
    assert.equal(none.kind, 'auth');
    assert.match(none.message, /asks for credentials/);
    const missing = problemOf(await metrics().query(source(prom!.url, { basicAuth: { username: 'verifier', password: '${secret:NOT_SET}' }, ca: 'ca.pem' }), 'vector(1)', null, never()));
    assert.equal(missing.kind, 'auth');
    assert.match(missing.message, /NOT_SET/);
    assert.ok(missing.message.startsWith(`Prometheus at ${prom!.url}: missing secret NOT_SET`), missing.message);
  });

  it("without the CA the certificate is refused (down); a missing CA file is named; the prefix can't be left out", async () => {
    const untrusted = problemOf(await metrics().query(source(prom!.url, { basicAuth: auth }), 'vector(1)', null, never()));
    assert.equal(untrusted.kind, 'down');
    assert.match(untrusted.message, /could not be reached: TLS error/);
    const noFile = problemOf(await metrics().query(source(prom!.url, { basicAuth: auth, ca: 'missing-ca.pem' }), 'vector(1)', null, never()));
    assert.equal(noFile.kind, 'down');
    assert.match(noFile.message, new RegExp(`${path.join(dir, 'missing-ca.pem').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));
    const root = prom!.url.replace(/\/prom$/, '');
    const unprefixed = problemOf(await metrics().query(source(root, { basicAuth: auth, ca: 'ca.pem' }), 'vector(1)', null, never()));
    assert.equal(unprefixed.kind, 'down');
    assert.match(unprefixed.message, /path prefix/);
  });
});

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('Prometheus metrics: answers Prometheus would not give (a loopback server)', function () {
  this.timeout(30_000);
  let server: http.Server;
  let url: string;
  const seen: Seen[] = [];
  let reply: (req: Seen, res: http.ServerResponse) => void = () => undefined;
  const metrics = prometheusMetrics('/', secrets);
  const ok = (res: http.ServerResponse, data: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data }));
  };

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        seen.push(s);
        reply(s, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen.length = 0;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('keeps the path prefix, sends the form and the headers with their secrets, parses the answer', async () => {
    reply = (_req, res) => ok(res, { resultType: 'vector', result: [{ metric: {}, value: [1700000000.5, '0.25'] }] });
    const r = await metrics.query(source(`${url}/team/prometheus/`, { headers: { Authorization: 'Bearer ${secret:PROM_TOKEN}', 'X-Scope-OrgID': 'team-a' } }), 'sum(rate(x[5m]))', 1_700_000_000_500, never());
    assert.equal(value(r), 0.25);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'POST');
    assert.equal(seen[0]!.url, '/team/prometheus/api/v1/query');
    assert.equal(seen[0]!.headers.authorization, `Bearer ${SECRETS.PROM_TOKEN}`);
    assert.equal(seen[0]!.headers['x-scope-orgid'], 'team-a');
    const form = new URLSearchParams(seen[0]!.body);
    assert.equal(form.get('query'), 'sum(rate(x[5m]))');
    assert.equal(form.get('time'), '1700000000.5');
    reply = (_req, res) => ok(res, { resultType: 'matrix', result: [{ metric: {}, values: [[1700000000, '1'], [1700000001, 'NaN'], [1700000002, '3']] }] });
    const range = await metrics.queryRange(source(`${url}/p`), 'x', { startMs: 1_700_000_000_000, endMs: 1_700_000_002_000, stepMs: 1000 }, never());
    assert.deepEqual(range, { points: [[1_700_000_000_000, 1], [1_700_000_002_000, 3]] });
    assert.equal(seen[1]!.url, '/p/api/v1/query_range');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(seen[1]!.body)), { query: 'x', start: '1700000000', end: '1700000002', step: '1' });
  });

  it('basic auth from the source; a missing header secret is kind auth naming it', async () => {
    reply = (_req, res) => ok(res, { resultType: 'scalar', result: [1700000000, '5'] });
    assert.equal(value(await metrics.query(source(url, { basicAuth: { username: 'me', password: '${secret:PROM_PASS}' } }), 'x', null, never())), 5);
    assert.equal(seen[0]!.headers.authorization, `Basic ${Buffer.from(`me:${SECRETS.PROM_PASS}`).toString('base64')}`);
    const p = problemOf(await metrics.query(source(url, { headers: { Authorization: 'Bearer ${secret:NO_SUCH}' } }), 'x', null, never()));
    assert.equal(p.kind, 'auth');
    assert.match(p.message, /missing secret NO_SUCH/);
    assert.equal(seen.length, 1, 'nothing sent without the secret');
  });

  it('401 and 403 are auth; 5xx, HTML, 404, redirects and huge non-API bodies are down; a huge JSON answer is ambiguous', async () => {
    const cases: [number, string, string, string][] = [
      [401, 'application/json', '{"error":"no"}', 'auth'],
      [403, 'text/plain', 'forbidden', 'auth'],
      [500, 'text/plain', 'boom', 'down'],
      [503, 'application/json', '{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}', 'down'],
      [200, 'text/html', '<!doctype html><title>Login</title>', 'down'],
      [200, 'application/json', '{"hello":"world"}', 'down'],
      [404, 'text/plain', 'not found', 'down'],
      [400, 'text/html', 'bad request', 'down'],
    ];
    for (const [status, type, body, kind] of cases) {
      reply = (_req, res) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      const p = problemOf(await metrics.query(source(url, { headers: { Authorization: 'Bearer ${secret:PROM_TOKEN}' } }), 'x', null, never()));
      assert.equal(p.kind, kind, `${status} ${body}`);
      assert.ok(p.message.startsWith(`Prometheus at ${url}`), p.message);
    }
    reply = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}');
    };
    assert.match(problemOf(await metrics.query(source(url), 'x', null, never())).message, /HTTP 503.*query timed out in expression evaluation/);
    reply = (_req, res) => {
      res.writeHead(302, { location: 'https://login.example.invalid/sso?token=secret' });
      res.end();
    };
    const redirect = problemOf(await metrics.query(source(url, { headers: { Authorization: 'Bearer ${secret:PROM_TOKEN}' } }), 'x', null, never()));
    assert.equal(redirect.kind, 'down');
    assert.match(redirect.message, /HTTP 302.*redirect to https:\/\/login\.example\.invalid\/sso\), not the Prometheus API/);
    assert.doesNotMatch(redirect.message, /token=secret/);
    assert.equal(seen.filter((s) => s.url.startsWith('/sso')).length, 0);
    // An answer that echoes the token is masked.
    reply = (req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`bad token ${String(req.headers.authorization)}`);
    };
    const echoed = problemOf(await metrics.query(source(url, { headers: { Authorization: 'Bearer ${secret:PROM_TOKEN}' } }), 'x', null, never()));
    assert.doesNotMatch(echoed.message, new RegExp(SECRETS.PROM_TOKEN!));
    assert.match(echoed.message, /\*\*\*/);
    // Bodies over 8 MiB are not read to the end.
    const huge = Buffer.alloc(9 * 1024 * 1024, 'x');
    for (const [type, kind] of [
      ['application/json', 'ambiguous'],
      ['text/html', 'down'],
    ]) {
      reply = (_req, res) => {
        res.writeHead(200, { 'content-type': type! });
        res.end(huge);
      };
      assert.equal(problemOf(await metrics.query(source(url), 'x', null, never())).kind, kind);
    }
  });

  it('bad_data and execution errors are kind query; a malformed sample is down', async () => {
    reply = (_req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'execution', error: 'found duplicate series for the match group' }));
    };
    assert.deepEqual(problemOf(await metrics.query(source(url), 'a + on() b', null, never())), { kind: 'query', message: 'found duplicate series for the match group' });
    reply = (_req, res) => ok(res, { resultType: 'scalar', result: [1, 'twelve'] });
    assert.equal(problemOf(await metrics.query(source(url), 'x', null, never())).kind, 'down');
    reply = (_req, res) => ok(res, { resultType: 'scalar', result: [1, '-Inf'] });
    assert.match(problemOf(await metrics.query(source(url), 'x', null, never())).message, /-Inf/);
  });

  it('no answer within the timeout is down; an abort is cancelled at once; refused names the URL', async () => {
    reply = () => undefined; // holds every request
    const slow = problemOf(await metrics.query(source(url, { timeoutMs: 300 }), 'x', null, never()));
    assert.deepEqual(slow, { kind: 'down', message: `Prometheus at ${url} did not answer within 300ms` });
    const ac = new AbortController();
    const pending = metrics.query(source(url, { timeoutMs: 60_000 }), 'x', null, ac.signal);
    await eventually('the request arrived', async () => (seen.length > 1 ? true : undefined), 10_000);
    ac.abort();
    assert.deepEqual(problemOf(await pending), { kind: 'cancelled', message: 'cancelled' });
    const ac2 = new AbortController();
    const range = metrics.queryRange(source(url, { timeoutMs: 60_000 }), 'x', { startMs: 0, endMs: 1000, stepMs: 1000 }, ac2.signal);
    ac2.abort();
    assert.equal(problemOf(await range).kind, 'cancelled');
    const before = seen.length;
    assert.equal(problemOf(await metrics.query(source(url), 'x', null, AbortSignal.abort())).kind, 'cancelled');
    assert.equal(seen.length, before, 'nothing sent after an abort');
    server.closeAllConnections();
    const closed = `http://127.0.0.1:${await freePort()}`;
    assert.deepEqual(problemOf(await metrics.query(source(`${closed}/prom`), 'x', null, never())), {
      kind: 'down',
      message: `Prometheus at ${closed}/prom could not be reached: connection refused (nothing listens there)`,
    });
    assert.equal(problemOf(await metrics.query(source('not a url'), 'x', null, never())).kind, 'down');
  });
});

describe('Prometheus error positions', () => {
  it("maps PromQL's line:column (bytes) and the older 'at char N' onto 0-based character offsets", () => {
    assert.equal(errorPosition('foo +', 'invalid parameter "query": 1:6: parse error: unexpected end of input'), 5);
    assert.equal(errorPosition('a{x="é"} +* 2', '1:12: parse error: unexpected <op:*>'), 10);
    assert.equal(errorPosition('a\nb +* 2', '2:4: parse error: unexpected <op:*>'), 5);
    assert.equal(errorPosition('sum(foo', 'parse error at char 8: unclosed left parenthesis'), 7);
    assert.equal(errorPosition('x', 'something else'), undefined);
  });
});

describe('httpProber: the timed GET of verify.http against the metrics app', function () {
  this.timeout(30_000);
  let app: MetricsApp | undefined;
  const probe = httpProber(secrets);
  const spec = (over: Partial<HttpProbeSpec> = {}): HttpProbeSpec => ({ url: `${app!.url}/`, headers: {}, expect: 200, contains: null, timeoutMs: 5000, ...over });

  before(async () => {
    const dir = tempDir('delivery-probe-');
    stageMetricsApp(dir, { version: 'v1' });
    app = await startMetricsApp(dir);
  });
  after(async () => {
    await app?.stop();
    cleanupTempDirs();
  });

  it('a good answer is ok with its latency; a 500 or a missing text is not, with the detail', async () => {
    const good = await probe(spec({ contains: 'ok', headers: { 'X-Token': '${secret:PROM_TOKEN}' } }), never());
    assert.equal(good.ok, true, String(good.detail));
    assert.equal(good.detail, null);
    assert.ok(typeof good.latencyMs === 'number' && good.latencyMs >= 0);
    const missing = await probe(spec({ contains: 'welcome' }), never());
    assert.equal(missing.ok, false);
    assert.match(missing.detail ?? '', /does not contain "welcome"/);
    fs.writeFileSync(path.join(app!.dir, 'ERROR_RATE'), '1\n'); // read on every request: every answer is now a 500
    const bad = await probe(spec(), never());
    assert.equal(bad.ok, false);
    assert.ok(typeof bad.latencyMs === 'number');
    assert.match(bad.detail ?? '', /^HTTP 500 Internal Server Error \(expected 200\): release error/);
    fs.rmSync(path.join(app!.dir, 'ERROR_RATE'));
  });

  it('refused, a missing secret and an abort are not ok, without a latency', async () => {
    const port = await freePort();
    const refused = await probe(spec({ url: `http://127.0.0.1:${port}/` }), never());
    assert.deepEqual(refused, { ok: false, latencyMs: null, detail: `http://127.0.0.1:${port}/: connection refused (nothing listens there)` });
    const secret = await probe(spec({ headers: { Authorization: 'Bearer ${secret:NOPE}' } }), never());
    assert.equal(secret.ok, false);
    assert.equal(secret.latencyMs, null);
    assert.match(secret.detail ?? '', /missing secret NOPE/);
    const cancelled = await probe(spec(), AbortSignal.abort());
    assert.deepEqual(cancelled, { ok: false, latencyMs: null, detail: 'cancelled' });
  });
});

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl in `dir`. */
function makeCa(dir: string): void {
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Delivery Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  execFileSync('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')], { stdio: 'ignore' });
}
