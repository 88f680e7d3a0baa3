// Health over time for the editor (core/environments/healthOverTime.ts): the checks of verify: prometheus over a
// range with an in-memory MetricsPort and a fixed clock; the step chosen for the range; deploy markers from the
// history; the tree row's value now and how close it is to its bound. And the notification a verified deploy ends with.
import * as assert from 'node:assert/strict';
import { parseDeliveryConfig, type EnvironmentConfig } from '../../src/core/config/delivery';
import type { MetricSeries, MetricsPort, MetricValue, PrometheusSource } from '../../src/core/environments/metrics';
import { checkLevel, checkNow, chartBoundText, deployMarkers, healthOverTime, healthStep, MAX_HEALTH_POINTS } from '../../src/core/environments/healthOverTime';
import { brokenBound, verificationNotice } from '../../src/core/environments/verifyNotice';
import { newDeployRecord } from '../../src/core/environments/deployRun';
import type { DeployHistoryItem, DeployRecord } from '../../src/shared/model';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 7);

function env(verify: string): EnvironmentConfig {
  const cfg = parseDeliveryConfig(`version: 1\nenvironments:\n  staging:\n    name: Staging\n    deploy: { command: ./go }\n    verify:\n${verify}`);
  assert.deepEqual(cfg.problems, []);
  return cfg.environments[0];
}

const PROM = [
  '      prometheus: http://127.0.0.1:9090',
  '      checks:',
  '        - { name: error rate, query: "errors_q", max: 0.01 }',
  '        - { name: throughput, query: "rps_q", min: 5 }',
  '        - { name: p95 latency, query: "p95_q", compare: baseline, tolerance: 25% }',
  '',
].join('\n');

interface Call {
  kind: 'query' | 'range';
  query: string;
  range?: { startMs: number; endMs: number; stepMs: number };
  url: string;
}

/** Prometheus in memory: each query answers what `answers` says (a function of the range for query_range). */
function fakeMetrics(answers: Record<string, MetricValue | ((r: { startMs: number; endMs: number; stepMs: number }) => MetricSeries)>): MetricsPort & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async query(source: PrometheusSource, query: string): Promise<MetricValue> {
      calls.push({ kind: 'query', query, url: source.url });
      const a = answers[query];
      return typeof a === 'function' || a === undefined ? { problem: { kind: 'empty', message: `no series for ${query}` } } : a;
    },
    async queryRange(source: PrometheusSource, query: string, range): Promise<MetricSeries> {
      calls.push({ kind: 'range', query, range, url: source.url });
      const a = answers[query];
      return typeof a === 'function' ? a(range) : a && 'problem' in a ? a : { points: [] };
    },
  };
}

/** A series over the range: `f(t)` at every step. */
const every = (f: (t: number) => number) => (r: { startMs: number; endMs: number; stepMs: number }): MetricSeries => {
  const points: [number, number][] = [];
  for (let t = r.startMs; t <= r.endMs; t += r.stepMs) points.push([t, f(t)]);
  return { points };
};

function item(over: Partial<DeployHistoryItem>): DeployHistoryItem {
  return { id: 'd', action: 'deploy', sha: 'a'.repeat(40), fromSha: null, status: 'success', user: 'ann', host: 'box', startedAt: NOW - HOUR, durationMs: 9000, message: null, logFile: null, ref: 'HEAD', origin: 'shared', ...over };
}

const clock = { now: () => NOW };
const signal = new AbortController().signal;

describe('health over time (verify: prometheus)', () => {
  it('chooses a round step that keeps a chart at or under 300 points', () => {
    assert.equal(healthStep(6 * HOUR), 120_000);
    assert.equal(healthStep(5 * 60_000), 2000);
    assert.equal(healthStep(4 * 60_000), 1000);
    assert.equal(healthStep(HOUR), 15_000);
    assert.equal(healthStep(30 * 24 * HOUR), 3 * HOUR);
    for (const range of [60_000, 7 * 60_000, HOUR, 6 * HOUR, 24 * HOUR, 7 * 24 * HOUR, 400 * 24 * HOUR]) {
      const step = healthStep(range);
      assert.ok(range / step + 1 <= MAX_HEALTH_POINTS, `${range} ms every ${step} ms: ${range / step + 1} points`);
      assert.equal(step % 1000, 0);
    }
  });

  it('reads each check over the last 6 hours (aligned on the step) with its bound, and the deploys in that range', async () => {
    const metrics = fakeMetrics({ errors_q: every((t) => (t > NOW - HOUR ? 0.25 : 0.001)), rps_q: every(() => 40), p95_q: every(() => 0.02) });
    const history = [
      item({ id: 'r', action: 'rollback', sha: 'b'.repeat(40), startedAt: NOW - HOUR + 12_000, status: 'success' }),
      item({ id: 'l', action: 'lock', sha: null, startedAt: NOW - 2 * HOUR, status: 'done' }),
      item({ id: 'd', startedAt: NOW - HOUR, status: 'failed' }),
      item({ id: 'old', startedAt: NOW - 7 * HOUR }),
    ];
    const h = await healthOverTime(env(PROM), { metrics, clock }, history, signal);
    assert.ok(h);
    assert.equal(h.stepMs, 120_000);
    assert.equal(h.endMs, Math.floor(NOW / 120_000) * 120_000);
    assert.equal(h.endMs - h.startMs, 6 * HOUR);
    assert.deepEqual(
      metrics.calls.map((c) => [c.kind, c.query, c.url, c.range?.stepMs]),
      [['range', 'errors_q', 'http://127.0.0.1:9090', 120_000], ['range', 'rps_q', 'http://127.0.0.1:9090', 120_000], ['range', 'p95_q', 'http://127.0.0.1:9090', 120_000]],
    );
    assert.deepEqual(
      h.series.map((s) => [s.name, s.points.length, s.limit, s.boundText, s.error]),
      [
        ['error rate', 181, { op: '≤', value: 0.01 }, '≤ 0.01', null],
        ['throughput', 181, { op: '≥', value: 5 }, '≥ 5', null],
        // A baseline check: its bound moves with each deploy, so no line is drawn.
        ['p95 latency', 181, null, '≤ baseline + 25%', null],
      ],
    );
    assert.equal(h.series[0].points.at(-1)![1], 0.25);
    assert.deepEqual(h.markers, [
      { id: 'd', t: NOW - HOUR, sha: 'a'.repeat(40), action: 'deploy', status: 'failed' },
      { id: 'r', t: NOW - HOUR + 12_000, sha: 'b'.repeat(40), action: 'rollback', status: 'success' },
    ]);
  });

  it('takes a shorter range with a finer step, and leaves out points outside it', async () => {
    const metrics = fakeMetrics({ errors_q: (r) => ({ points: [[r.startMs - 1000, 9], [r.startMs, 0], [r.endMs, 0.5], [r.endMs + 1000, 9]] }) });
    const h = await healthOverTime(env(PROM), { metrics, clock }, [], signal, { rangeMs: 5 * 60_000 });
    assert.equal(h!.stepMs, 2000);
    assert.equal(h!.endMs - h!.startMs, 5 * 60_000);
    assert.deepEqual(h!.series[0].points.map(([, v]) => v), [0, 0.5]);
  });

  it('says why a check cannot be charted: Prometheus down, a refused query with its place in delivery.yml, no data', async () => {
    const metrics = fakeMetrics({
      errors_q: { problem: { kind: 'down', message: 'Prometheus at http://127.0.0.1:9090 cannot be reached: connection refused' } },
      rps_q: { problem: { kind: 'query', message: '1:1: parse error: unexpected end of input', position: 2 } },
    });
    const h = await healthOverTime(env(PROM), { metrics, clock }, [], signal);
    assert.deepEqual(
      h!.series.map((s) => s.error),
      [
        'Prometheus at http://127.0.0.1:9090 cannot be reached: connection refused',
        'delivery.yml:10:41: check "throughput": Prometheus refused the query: 1:1: parse error: unexpected end of input',
        'no data in this range',
      ],
    );
  });

  it('is nothing for an environment without verify:, or with HTTP probes (nothing to chart)', async () => {
    const metrics = fakeMetrics({});
    const plain = parseDeliveryConfig('version: 1\nenvironments:\n  staging:\n    deploy: { command: ./go }\n').environments[0];
    assert.equal(await healthOverTime(plain, { metrics, clock }, [], signal), null);
    assert.equal(await healthOverTime(env('      http: http://127.0.0.1:8080/\n'), { metrics, clock }, [], signal), null);
    assert.equal(await checkNow(plain, metrics, signal), null);
    assert.deepEqual(metrics.calls, []);
  });

  it('lists deploys on the time axis oldest first, without lock events or deploys outside the range', () => {
    const m = deployMarkers([item({ id: 'b', startedAt: 50 }), item({ id: 'lock', action: 'unlock', startedAt: 60 }), item({ id: 'a', startedAt: 10 }), item({ id: 'late', startedAt: 101 })], 0, 100);
    assert.deepEqual(m.map((x) => x.id), ['a', 'b']);
  });
});

describe('the first check now (the Environments tree row)', () => {
  it('asks one instant query and says the value, amber within 20% of the bound and red past it', async () => {
    const e = env(PROM);
    const at = async (v: number) => {
      const metrics = fakeMetrics({ errors_q: { value: v } });
      const c = await checkNow(e, metrics, signal);
      assert.deepEqual(metrics.calls.map((x) => [x.kind, x.query]), [['query', 'errors_q']]);
      return c!;
    };
    assert.deepEqual(await at(0.002), { name: 'error rate', value: 0.002, text: 'error rate 0.002', level: 'ok', boundText: '≤ 0.01', error: null });
    assert.equal((await at(0.0085)).level, 'near');
    assert.equal((await at(0.01)).level, 'near');
    assert.equal((await at(0.25)).level, 'past');
  });

  it('says what is missing when there is no number', async () => {
    const c = await checkNow(env(PROM), fakeMetrics({ errors_q: { problem: { kind: 'down', message: 'connection refused' } } }), signal);
    assert.deepEqual(c, { name: 'error rate', value: null, text: 'error rate: Prometheus unreachable', level: 'unknown', boundText: '≤ 0.01', error: 'connection refused' });
  });

  it('judges min bounds from below, a bound of 0 only when past, and a baseline check not at all', () => {
    assert.equal(checkLevel(10, { kind: 'min', value: 5 }), 'ok');
    assert.equal(checkLevel(5.9, { kind: 'min', value: 5 }), 'near');
    assert.equal(checkLevel(4, { kind: 'min', value: 5 }), 'past');
    assert.equal(checkLevel(0, { kind: 'max', value: 0 }), 'ok');
    assert.equal(checkLevel(0.1, { kind: 'max', value: 0 }), 'past');
    assert.equal(checkLevel(99, { kind: 'baseline', tolerance: { relative: true, value: 0.2 }, worse: 'higher' }), 'unknown');
    assert.equal(chartBoundText({ kind: 'baseline', tolerance: { relative: false, value: 0.5 }, worse: 'lower' }), '≥ baseline − 0.5');
  });
});

describe('the notification after a verified deploy', () => {
  const SHA = 'abc1234def5678abc1234def5678abc1234def56';
  function record(over: Partial<DeployRecord>): DeployRecord {
    const r = newDeployRecord({ id: 'x', environment: 'staging', folder: '/w', action: 'deploy', sha: SHA, ref: 'HEAD', previousSha: null, user: 'ann@box', trigger: 'vscode', pid: 1 }, [], 0, null);
    return { ...r, ...over };
  }
  const failed = { status: 'failed' as const, checks: [{ name: 'error rate', value: 0.25, bound: '≤ 0.01', ok: false, reason: 'x' }, { name: 'rps', value: 40, bound: '≥ 5', ok: true, reason: null }] };

  it('names the check, its value and the bound it broke, and the commit it rolled back to', () => {
    const n = verificationNotice(record({ status: 'failed', verification: failed, rolledBackTo: 'def5678abc1234def5678abc1234def5678abc12', reason: 'verification failed: …' }), 'Staging');
    assert.deepEqual(n, { severity: 'error', text: 'Deploy of abc1234 to Staging failed verification (error rate 0.25 > 0.01); rolled back to def5678' });
    assert.equal(brokenBound({ name: 'hits', value: 3, bound: '≥ 4.5 (baseline 5 − 10%)', ok: false, reason: null }), 'hits 3 < 4.5 (baseline 5 − 10%)');
  });

  it('says what happened when nothing was rolled back', () => {
    const summary = 'verification failed: error rate = 0.25, bound ≤ 0.01';
    const marked = verificationNotice(record({ status: 'failed', verification: failed, reason: `${summary} (the new release stays deployed: roll back to undo it)` }), 'Staging');
    assert.equal(marked?.text, 'Deploy of abc1234 to Staging failed verification (error rate 0.25 > 0.01); the new release stays deployed: roll back to undo it');
    const noTarget = verificationNotice(record({ status: 'failed', verification: failed, reason: `${summary}; nothing to roll back to (no earlier successful deploy of another commit); the new release stays deployed` }), 'Staging');
    assert.equal(noTarget?.text, 'Deploy of abc1234 to Staging failed verification (error rate 0.25 > 0.01); nothing to roll back to (no earlier successful deploy of another commit); the new release stays deployed');
  });

  it('warns when the verification could not decide, and says nothing for other ends', () => {
    const open = { status: 'unverified' as const, checks: [{ name: 'error rate', value: null, bound: '≤ 0.01', ok: null, reason: 'Prometheus at http://p cannot be reached' }] };
    assert.deepEqual(verificationNotice(record({ status: 'unverified', verification: open }), 'Staging'), {
      severity: 'warning',
      text: 'Deploy of abc1234 to Staging is unverified (error rate: Prometheus at http://p cannot be reached): the release stays deployed, but its metrics did not say whether it is good.',
    });
    assert.equal(verificationNotice(record({ status: 'success', verification: { status: 'passed', checks: [] } }), 'Staging'), null);
    assert.equal(verificationNotice(record({ status: 'failed', verification: null, reason: 'exit 3' }), 'Staging'), null);
    assert.equal(verificationNotice(record({ status: 'cancelled', verification: open }), 'Staging'), null);
  });
});
