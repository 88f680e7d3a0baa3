// verify: in delivery.yml (located errors) and the verification's decisions with in-memory metrics and a fake clock.
import * as assert from 'node:assert/strict';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import type { HttpProbeResult, MetricValue } from '../../src/core/environments/metrics';
import { boundText, formatValue, p95, runVerification, verificationSummary } from '../../src/core/environments/verification';
import { parseAmount, promqlShapeProblem, type VerifySpec } from '../../src/core/environments/verifyConfig';
import { systemClock } from '../../src/adapters/clock';

function parse(verify: string) {
  return parseDeliveryConfig(`version: 1\nenvironments:\n  staging:\n    deploy: { command: ./go }\n    verify:\n${verify}`);
}

function spec(verify: string): VerifySpec {
  const cfg = parse(verify);
  assert.deepEqual(cfg.problems, []);
  return cfg.environments[0].verify!;
}

const problems = (verify: string) => parse(verify).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);

describe('verify: in delivery.yml', () => {
  it('reads a Prometheus verification with every kind of bound, and defaults', () => {
    const s = spec(
      [
        '      prometheus: { url: "https://prom.example/p", headers: { X-Org: "1" }, username: ci, password: "${secret:PROM_PW}", ca: certs/ca.pem, timeout: 3s }',
        '      window: 5m',
        '      checks:',
        '        - { name: errors, query: "sum(rate(x[1m]))", max: 0.01 }',
        '        - { name: rps, query: "sum(rate(y[1m]))", min: 5, failureLimit: 2 }',
        '        - { name: p95, query: p95_q, compare: baseline, tolerance: 25% }',
        '        - { name: hits, query: hits_q, compare: baseline, tolerance: 0.5, worse: lower }',
        '',
      ].join('\n'),
    );
    assert.deepEqual([s.windowMs, s.intervalMs, s.onFailure, s.verifyRollback], [300_000, 15_000, 'mark', false]);
    assert.deepEqual(s.source, { kind: 'prometheus', url: 'https://prom.example/p', headers: { 'X-Org': '1' }, basicAuth: { username: 'ci', password: '${secret:PROM_PW}' }, ca: 'certs/ca.pem', timeoutMs: 3000 });
    assert.deepEqual(
      s.checks.map((c) => [c.name, c.bound, c.failureLimit]),
      [
        ['errors', { kind: 'max', value: 0.01 }, 0],
        ['rps', { kind: 'min', value: 5 }, 2],
        ['p95', { kind: 'baseline', tolerance: { relative: true, value: 0.25 }, worse: 'higher' }, 0],
        ['hits', { kind: 'baseline', tolerance: { relative: false, value: 0.5 }, worse: 'lower' }, 0],
      ],
    );
    // Line 9, column 35: the first character inside the double quotes of the first query.
    assert.deepEqual(s.checks[0].queryStart, { line: 9, column: 35 });
    assert.deepEqual(s.checks[0].location, { file: 'delivery.yml', line: 9, column: 11 });
  });

  it('reads an HTTP verification', () => {
    const s = spec('      http: { url: "http://127.0.0.1:8080/", minSuccess: 99%, maxLatency: 300ms, expect: 204 }\n      window: 30s\n      interval: 2s\n      onFailure: rollback\n      verifyRollback: true\n');
    assert.deepEqual(s.source, { kind: 'http', url: 'http://127.0.0.1:8080/', headers: {}, expect: 204, contains: null, timeoutMs: 5000, minSuccess: 0.99, maxLatencyMs: 300 });
    assert.deepEqual([s.windowMs, s.intervalMs, s.onFailure, s.verifyRollback, s.checks], [30_000, 2000, 'rollback', true, []]);
  });

  it('says exactly where a verify: is wrong', () => {
    assert.deepEqual(problems('      window: 1m\n'), ['6:7: environment "staging": verify: say where the metrics come from: "prometheus" (with "checks") or "http" (repeated probes), one of them']);
    assert.deepEqual(problems('      prometheus: http://p:9090\n'), ['6:7: environment "staging": verify: "prometheus" needs "checks": a list of { name, query, max | min | compare }']);
    assert.deepEqual(problems('      prometheus: ftp://p\n      checks: [{ name: a, query: up, max: 1 }]\n'), ['6:19: environment "staging": verify: "prometheus" must be an http:// or https:// URL, not "ftp://p"']);
    assert.deepEqual(problems('      prometheus: http://p:9090\n      checks:\n        - { name: a, query: "sum(rate(x[1m])", max: 1 }\n'), [
      '8:33: environment "staging": verify: check "a": query: "(" at character 4 is never closed',
    ]);
    assert.deepEqual(problems('      prometheus: http://p:9090\n      checks:\n        - { name: a, query: up, max: 1, min: 0 }\n        - { name: a, query: up, max: high }\n'), [
      '8:41: environment "staging": verify: check "a": say what the value must stay within: one of "max", "min" or "compare: baseline"',
      '9:19: environment "staging": verify: check "a": another check has this name',
      '9:38: environment "staging": verify: check "a": "max" must be a number, not the string "high"',
    ]);
    assert.deepEqual(problems('      prometheus: { url: "http://p", username: u, password: hunter2 }\n      checks: [{ name: a, query: up, compare: baseline, tolerance: lots }]\n'), [
      '6:61: environment "staging": verify: prometheus: "password" must be a secret reference such as ${secret:PROMETHEUS_PASSWORD}, not a value written in the file',
      '7:68: environment "staging": verify: check "a": "tolerance" must be a percentage of the baseline (20%) or an amount (0.005), not the string "lots"',
    ]);
    assert.deepEqual(problems('      http: http://a/\n      interval: 500ms\n      window: 10s\n      onFailure: revert\n'), [
      '7:17: environment "staging": verify: "interval" must be at least 1s',
      '9:18: environment "staging": verify: "onFailure" must be one of mark, rollback, not "revert"',
    ]);
  });

  it('finds brackets and strings that do not pair up in PromQL, and nothing in valid queries', () => {
    for (const ok of ['sum(rate(http_requests_total{code=~"5..",env="a(b"}[1m])) / sum(rate(x[1m]))', 'histogram_quantile(0.95, sum by (le) (rate(b[5m])))', 'up # a comment with ( in it', "label_replace(up, 'a', '$1', 'b', '(.*)')"]) {
      assert.equal(promqlShapeProblem(ok), null, ok);
    }
    assert.deepEqual(promqlShapeProblem('sum(rate(x[1m]}'), { at: 14, message: '"}" at character 15 does not match "(" at character 9' });
    assert.deepEqual(promqlShapeProblem('up{a="b}'), { at: 5, message: 'the string that starts at character 6 does not end (no closing ")' });
    assert.deepEqual(promqlShapeProblem('x)'), { at: 1, message: '")" at character 2 closes nothing' });
  });

  it('amounts, values and bounds read well', () => {
    assert.deepEqual([parseAmount('20%'), parseAmount('0.5'), parseAmount(3), parseAmount('lots')], [{ relative: true, value: 0.2 }, { relative: false, value: 0.5 }, { relative: false, value: 3 }, null]);
    assert.deepEqual([0, 0.012345, 1234.567, 1e-7, 3].map(formatValue), ['0', '0.01235', '1235', '1.000e-7', '3']);
    assert.equal(boundText({ kind: 'baseline', tolerance: { relative: false, value: 5 }, worse: 'lower' }, 100), '≥ 95 (baseline 100 − 5)');
    assert.deepEqual([p95([]), p95([5]), p95(Array.from({ length: 100 }, (_, i) => i + 1))], [null, 5, 95]);
  });
});

describe('verification over time (fake clock, in-memory answers)', () => {
  const fakeClock = () => {
    const c = { t: 0 };
    return { c, clock: { ...systemClock, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) } };
  };
  const io = (lines: string[], signal = new AbortController().signal) => ({ signal, line: (_s: string, t: string) => void lines.push(t) });

  it('HTTP probes: the success ratio and the p95 latency of the window decide', async () => {
    const s = spec('      http: { url: "http://a/", minSuccess: 90%, maxLatency: 100ms }\n      window: 10s\n      interval: 1s\n');
    const { c, clock } = fakeClock();
    const answers: HttpProbeResult[] = [];
    const probe = async () => {
      const n = answers.length;
      const r = n % 5 === 4 ? { ok: false, latencyMs: 30, detail: 'HTTP 500' } : { ok: true, latencyMs: n === 3 ? 400 : 20, detail: null };
      answers.push(r);
      c.t += 0;
      return r;
    };
    const lines: string[] = [];
    const v = await runVerification(s, { clock, metrics: { query: async () => ({ value: 0 }), queryRange: async () => ({ points: [] }) }, probe }, io(lines), { baselineEndMs: null });
    assert.equal(answers.length, 11, 'at 0, 1, …, 10 s');
    assert.equal(v.status, 'failed');
    assert.deepEqual(v.checks, [
      { name: 'success ratio', bound: '≥ 90%', value: 9 / 11, ok: false, reason: '9 of 11 probes succeeded (81.82%); last failure: HTTP 500' },
      { name: 'p95 latency', bound: '≤ 100 ms', value: 400, ok: false, reason: 'the 95th percentile of 11 answers took 400 ms' },
    ]);
    assert.match(lines[0], /^probe 1: ok in 20 ms; 1\/1 ok — 10s left$/);
    assert.equal(verificationSummary(v), 'verification failed: success ratio = 0.8182, bound ≥ 90%; p95 latency = 400, bound ≤ 100 ms');
  });

  it('once (delivery verify): one evaluation each, no waiting, baseline from the window before the last deploy', async () => {
    const s = spec('      prometheus: http://p\n      window: 1m\n      checks:\n        - { name: e, query: e_q, max: 1 }\n        - { name: l, query: l_q, compare: baseline }\n');
    const { c, clock } = fakeClock();
    const asked: string[] = [];
    const ranges: number[][] = [];
    const metrics = {
      query: async (_s: unknown, q: string): Promise<MetricValue> => {
        asked.push(q);
        return { value: q === 'e_q' ? 0.5 : 12 };
      },
      queryRange: async (_s: unknown, _q: string, r: { startMs: number; endMs: number; stepMs: number }) => {
        ranges.push([r.startMs, r.endMs, r.stepMs]);
        return { points: [[1, 10]] as [number, number][] };
      },
    };
    const v = await runVerification(s, { clock, metrics, probe: async () => ({ ok: true, latencyMs: 1, detail: null }) }, io([]), { baselineEndMs: 500_000, once: true });
    assert.deepEqual(asked, ['e_q', 'l_q']);
    assert.deepEqual(ranges, [[440_000, 500_000, 15_000]]);
    assert.equal(c.t, 0);
    assert.deepEqual(v, {
      status: 'failed',
      checks: [
        { name: 'e', bound: '≤ 1', value: 0.5, ok: true, reason: null },
        { name: 'l', bound: '≤ 11 (baseline 10 + 10%)', value: 12, ok: false, reason: '12 is past the bound ≤ 11 (baseline 10 + 10%)' },
      ],
    });
  });

  it('an empty result, NaN and an ambiguous answer at the end leave checks undecided, each with its reason', async () => {
    const s = spec('      prometheus: http://p\n      window: 2s\n      interval: 1s\n      checks:\n        - { name: a, query: a, max: 1 }\n        - { name: b, query: b, max: 1 }\n        - { name: c, query: c, max: 1 }\n');
    const { clock } = fakeClock();
    const answers: Record<string, MetricValue> = {
      a: { problem: { kind: 'empty', message: 'the query returned no series' } },
      b: { problem: { kind: 'nan', message: 'the value is NaN' } },
      c: { problem: { kind: 'ambiguous', message: '2 series: {code="200"}, {code="500"}' } },
    };
    const v = await runVerification(s, { clock, metrics: { query: async (_s, q) => answers[q], queryRange: async () => ({ points: [] }) }, probe: async () => ({ ok: true, latencyMs: 1, detail: null }) }, io([]), { baselineEndMs: null });
    assert.equal(v.status, 'unverified');
    assert.deepEqual(v.checks.map((x) => x.reason), ['no data: the query returned no series', 'no number: the value is NaN', '2 series: {code="200"}, {code="500"}']);
  });
});
