// After a deploy: watch the environment's metrics for the bake window and decide whether the release is good.
// Prometheus checks are evaluated every interval; a check fails as soon as it has been past its bound more often
// than its failureLimit allows (the verification stops there), and otherwise is decided by its last evaluation at
// the end of the window. HTTP verification probes the URL every interval and decides on the success ratio and the
// 95th percentile latency of the window. Missing data is never a pass and never a failure: a check without a
// number at the end is "could not be decided", and the verification is then "unverified".
import type { Verification, VerificationCheck } from '../../shared/model';
import type { Clock } from '../clock';
import { formatDuration } from '../duration';
import type { HttpProber, MetricProblem, MetricsPort, MetricValue, PrometheusSource } from './metrics';
import { formatShare, httpChecks, queryPosition, type CheckBound, type HttpVerifySource, type VerifyCheck, type VerifySpec } from './verifyConfig';

export interface VerifyPorts {
  clock: Pick<Clock, 'now' | 'sleep'>;
  metrics: MetricsPort;
  probe: HttpProber;
}

export interface VerifyIO {
  signal: AbortSignal;
  line(stream: 'stdout' | 'system', text: string): void;
}

export interface VerifyOptions {
  /** When the deploy started: the baseline of `compare: baseline` is the window before it (null: no baseline). */
  baselineEndMs: number | null;
  /** Evaluate every check once, now (delivery verify), instead of watching the window. */
  once?: boolean;
}

/** Significant digits, without exponent noise: 0.01234, 1234.5, 0. */
export function formatValue(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-4) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** The largest (or smallest) value the check allows, given the baseline. null: no baseline. */
export function limitOf(bound: CheckBound, baseline: number | null): { op: '≤' | '≥'; limit: number } | null {
  switch (bound.kind) {
    case 'max':
      return { op: '≤', limit: bound.value };
    case 'min':
      return { op: '≥', limit: bound.value };
    case 'baseline': {
      if (baseline === null) return null;
      const slack = bound.tolerance.relative ? Math.abs(baseline) * bound.tolerance.value : bound.tolerance.value;
      return bound.worse === 'higher' ? { op: '≤', limit: baseline + slack } : { op: '≥', limit: baseline - slack };
    }
  }
}

export function boundText(bound: CheckBound, baseline: number | null): string {
  const l = limitOf(bound, baseline);
  if (bound.kind !== 'baseline') return `${l!.op} ${formatValue(l!.limit)}`;
  const tol = bound.tolerance.relative ? `${formatShare(bound.tolerance.value)}` : formatValue(bound.tolerance.value);
  const sign = bound.worse === 'higher' ? '+' : '−';
  if (!l) return `${bound.worse === 'higher' ? '≤' : '≥'} baseline ${sign} ${tol} (no baseline)`;
  return `${l.op} ${formatValue(l.limit)} (baseline ${formatValue(baseline!)} ${sign} ${tol})`;
}

export function withinBound(value: number, bound: CheckBound, baseline: number | null): boolean | null {
  const l = limitOf(bound, baseline);
  if (!l) return null;
  // Float noise must not fail a value equal to its bound.
  const eps = 1e-12 * Math.max(1, Math.abs(l.limit));
  return l.op === '≤' ? value <= l.limit + eps : value >= l.limit - eps;
}

/** A problem of a check, said once, with the query's position in delivery.yml for PromQL's own errors. */
export function describeProblem(check: Pick<VerifyCheck, 'name' | 'location' | 'queryStart'> | null, p: MetricProblem): string {
  if (p.kind === 'query' && check) {
    const at = queryPosition(check, p.position);
    return `${at.file}:${at.line}:${at.column}: check "${check.name}": Prometheus refused the query: ${p.message}`;
  }
  if (p.kind === 'empty') return `no data: ${p.message}`;
  if (p.kind === 'nan') return `no number: ${p.message}`;
  return p.message;
}

interface CheckState {
  check: VerifyCheck;
  baseline: number | null;
  baselineNote: string | null;
  breaches: number;
  /** The value that decided a failure. */
  failedWith: number | null;
  last: MetricValue | null;
}

/**
 * Runs the verification of `spec`. Resolves with its result (also when cancelled: the checks then say so); never
 * throws for bad answers.
 */
export async function runVerification(spec: VerifySpec, ports: VerifyPorts, io: VerifyIO, opts: VerifyOptions): Promise<Verification> {
  if (spec.source.kind === 'http') return verifyHttp(spec, spec.source, ports, io, opts);
  const source = spec.source;
  const states: CheckState[] = [];
  for (const check of spec.checks) states.push(await baselineOf(check, source, spec, ports, io, opts));
  const t0 = ports.clock.now();
  const windowMs = opts.once ? 0 : spec.windowMs;
  let round = 0;
  for (;;) {
    if (io.signal.aborted) break;
    round++;
    const left = Math.max(0, windowMs - (ports.clock.now() - t0));
    const parts: string[] = [];
    for (const s of states) {
      if (s.failedWith !== null) continue;
      const v = await ports.metrics.query(source, s.check.query, null, io.signal);
      if (io.signal.aborted) break;
      s.last = v;
      if ('value' in v) {
        const ok = withinBound(v.value, s.check.bound, s.baseline);
        if (ok === false) {
          s.breaches++;
          if (s.breaches > s.check.failureLimit) s.failedWith = v.value;
        }
        parts.push(`${s.check.name} = ${formatValue(v.value)} (${boundText(s.check.bound, s.baseline)}) ${ok === false ? '✗' : ok ? '✓' : '?'}`);
      } else parts.push(`${s.check.name}: ${describeProblem(s.check, v.problem)}`);
    }
    if (io.signal.aborted) break;
    if (!opts.once) io.line('stdout', `verify ${round}: ${parts.join('; ')}${left > 0 ? ` — ${formatDuration(left)} left` : ''}`);
    if (states.some((s) => s.failedWith !== null)) break;
    const elapsed = ports.clock.now() - t0;
    if (elapsed >= windowMs) break;
    await ports.clock.sleep(Math.min(spec.intervalMs, windowMs - elapsed), io.signal);
  }
  const checks = states.map((s) => checkResult(s, io.signal.aborted));
  return { status: overall(checks), checks };
}

async function baselineOf(check: VerifyCheck, source: PrometheusSource, spec: VerifySpec, ports: VerifyPorts, io: VerifyIO, opts: VerifyOptions): Promise<CheckState> {
  const state: CheckState = { check, baseline: null, baselineNote: null, breaches: 0, failedWith: null, last: null };
  if (check.bound.kind !== 'baseline') return state;
  if (opts.baselineEndMs === null) {
    state.baselineNote = 'no baseline: no deploy to compare with';
    return state;
  }
  const range = { startMs: opts.baselineEndMs - spec.windowMs, endMs: opts.baselineEndMs, stepMs: spec.intervalMs };
  const r = await ports.metrics.queryRange(source, check.query, range, io.signal);
  if ('points' in r && r.points.length > 0) {
    state.baseline = r.points.reduce((a, [, v]) => a + v, 0) / r.points.length;
    io.line('stdout', `baseline of ${check.name}: ${formatValue(state.baseline)} (mean of ${r.points.length} points over the ${formatDuration(spec.windowMs)} before the deploy)`);
  } else {
    state.baselineNote = `no baseline: ${'points' in r ? 'no data in the window before the deploy' : describeProblem(check, r.problem)}`;
    io.line('stdout', `baseline of ${check.name}: ${state.baselineNote}`);
  }
  return state;
}

function checkResult(s: CheckState, cancelled: boolean): VerificationCheck {
  const bound = boundText(s.check.bound, s.baseline);
  const base = { name: s.check.name, bound };
  if (s.failedWith !== null) {
    const times = s.breaches > 1 ? ` (${s.breaches} evaluations past it)` : '';
    return { ...base, value: s.failedWith, ok: false, reason: `${formatValue(s.failedWith)} is past the bound ${bound}${times}` };
  }
  if (cancelled) return { ...base, value: s.last && 'value' in s.last ? s.last.value : null, ok: null, reason: 'cancelled before the window ended' };
  if (s.last === null) return { ...base, value: null, ok: null, reason: 'not evaluated' };
  if ('problem' in s.last) return { ...base, value: null, ok: null, reason: describeProblem(s.check, s.last.problem) };
  const ok = withinBound(s.last.value, s.check.bound, s.baseline);
  if (ok === null) return { ...base, value: s.last.value, ok: null, reason: s.baselineNote ?? 'no baseline' };
  // A value past the bound here was tolerated by failureLimit.
  return { ...base, value: s.last.value, ok: true, reason: s.breaches > 0 ? `${s.breaches} evaluation(s) past the bound, within failureLimit ${s.check.failureLimit}` : null };
}

function overall(checks: readonly VerificationCheck[]): Verification['status'] {
  if (checks.some((c) => c.ok === false)) return 'failed';
  if (checks.length === 0 || checks.some((c) => c.ok === null)) return 'unverified';
  return 'passed';
}

/** The 95th percentile (nearest rank) of some numbers. */
export function p95(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
}

async function verifyHttp(spec: VerifySpec, h: HttpVerifySource, ports: VerifyPorts, io: VerifyIO, opts: VerifyOptions): Promise<Verification> {
  const t0 = ports.clock.now();
  const windowMs = opts.once ? 0 : spec.windowMs;
  let probes = 0;
  let ok = 0;
  const latencies: number[] = [];
  let lastFailure: string | null = null;
  for (;;) {
    if (io.signal.aborted) break;
    const r = await ports.probe(h, io.signal);
    if (io.signal.aborted) break;
    probes++;
    if (r.ok) ok++;
    else lastFailure = r.detail;
    if (r.latencyMs !== null) latencies.push(r.latencyMs);
    const elapsed = ports.clock.now() - t0;
    const left = Math.max(0, windowMs - elapsed);
    if (!opts.once) io.line('stdout', `probe ${probes}: ${r.ok ? 'ok' : `failed (${r.detail ?? 'no detail'})`}${r.latencyMs !== null ? ` in ${Math.round(r.latencyMs)} ms` : ''}; ${ok}/${probes} ok${left > 0 ? ` — ${formatDuration(left)} left` : ''}`);
    if (elapsed >= windowMs) break;
    await ports.clock.sleep(Math.min(spec.intervalMs, windowMs - elapsed), io.signal);
  }
  const [ratioCheck, latencyCheck] = httpChecks(h);
  const checks: VerificationCheck[] = [];
  if (probes === 0) {
    checks.push({ ...ratioCheck, value: null, ok: null, reason: io.signal.aborted ? 'cancelled before the first probe' : 'no probe ran' });
  } else {
    const ratio = ok / probes;
    const pass = ratio >= h.minSuccess - 1e-12;
    checks.push({ ...ratioCheck, value: ratio, ok: pass, reason: pass ? null : `${ok} of ${probes} probes succeeded (${formatShare(ratio)}); last failure: ${lastFailure ?? 'none'}` });
  }
  if (latencyCheck && h.maxLatencyMs !== null) {
    const p = p95(latencies);
    if (p === null) checks.push({ ...latencyCheck, value: null, ok: null, reason: 'no probe was answered' });
    else checks.push({ ...latencyCheck, value: Math.round(p), ok: p <= h.maxLatencyMs, reason: p <= h.maxLatencyMs ? null : `the 95th percentile of ${latencies.length} answers took ${Math.round(p)} ms` });
  }
  if (io.signal.aborted) for (const c of checks) if (c.ok !== false) Object.assign(c, { ok: null, reason: 'cancelled before the window ended' });
  return { status: overall(checks), checks };
}

/** One line for the record, the log and the notification. */
export function verificationSummary(v: Verification): string {
  const failed = v.checks.filter((c) => c.ok === false);
  if (v.status === 'failed') return `verification failed: ${failed.map((c) => `${c.name} = ${c.value === null ? '—' : formatValue(c.value)}, bound ${c.bound}`).join('; ')}`;
  if (v.status === 'unverified') {
    const open = v.checks.filter((c) => c.ok === null);
    return `unverified: ${open.map((c) => `${c.name}: ${c.reason ?? 'could not be decided'}`).join('; ') || 'no checks'}`;
  }
  return `verified: ${v.checks.map((c) => `${c.name} = ${c.value === null ? '—' : formatValue(c.value)} (${c.bound})`).join('; ')}`;
}

/**
 * Before a deploy: every query once. PromQL's refusal of one is a located error (the deploy must not start); a
 * Prometheus that cannot be reached now is only a warning (the verification will say "unverified").
 */
export async function preflightQueries(spec: VerifySpec, metrics: MetricsPort, signal: AbortSignal): Promise<{ errors: string[]; warnings: string[] }> {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (spec.source.kind !== 'prometheus') return { errors, warnings };
  for (const check of spec.checks) {
    const v = await metrics.query(spec.source, check.query, null, signal);
    if (!('problem' in v)) continue;
    if (v.problem.kind === 'query') errors.push(describeProblem(check, v.problem));
    else if (v.problem.kind === 'down' || v.problem.kind === 'auth') {
      warnings.push(`check "${check.name}": ${v.problem.message}`);
      break;
    }
  }
  return { errors, warnings };
}
