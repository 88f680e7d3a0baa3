// `verify:` of an environment: after a deploy, watch real metrics (Prometheus queries, or repeated HTTP probes) for
// a bake window and decide whether the release is good. Parsed into a typed spec with located problems; the
// decisions are in verification.ts. Nothing here does I/O.
import { isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { MapReader } from '../config/reader';
import { describe, type YamlFile } from '../config/yamlFile';
import type { SourceLocation } from '../../shared/model';
import type { HttpProbeSpec, PrometheusSource } from './metrics';
import { checkUrl, headerMap } from './specReader';

export const DEFAULT_VERIFY_WINDOW_MS = 2 * 60_000;
export const DEFAULT_VERIFY_INTERVAL_MS = 15_000;
export const DEFAULT_PROMETHEUS_TIMEOUT_MS = 10_000;
/** `compare: baseline` without `tolerance`. */
export const DEFAULT_TOLERANCE = { relative: true, value: 0.1 } as const;

/** `tolerance:` — `20%` of the baseline, or an absolute amount (`0.005`). */
export interface Tolerance {
  relative: boolean;
  value: number;
}

export type CheckBound =
  | { kind: 'max'; value: number }
  | { kind: 'min'; value: number }
  /** The same query over the window before the deploy; `worse`: which way a change is bad. */
  | { kind: 'baseline'; tolerance: Tolerance; worse: 'higher' | 'lower' };

export interface VerifyCheck {
  name: string;
  query: string;
  bound: CheckBound;
  /** Evaluations past the bound that are tolerated before the check fails (default 0: the first one fails it). */
  failureLimit: number;
  /** Where the check is written (for messages about it). */
  location: SourceLocation;
  /** Where the query's first character is, when the query is on one line (the offset of a PromQL error maps onto it). */
  queryStart: { line: number; column: number } | null;
}

export interface HttpVerifySource extends HttpProbeSpec {
  /** The share of probes that must succeed (0..1, default 1). */
  minSuccess: number;
  /** The 95th percentile of the probes' latency must stay under this (null: not checked). */
  maxLatencyMs: number | null;
}

export type VerifySource = ({ kind: 'prometheus' } & PrometheusSource) | ({ kind: 'http' } & HttpVerifySource);

export interface VerifySpec {
  source: VerifySource;
  /** How long to watch after the deploy (the bake time). */
  windowMs: number;
  intervalMs: number;
  /** The Prometheus checks (for `http:`, the success-ratio and latency checks are made from its keys). */
  checks: VerifyCheck[];
  /** `mark` (default): a failed verification fails the deploy and leaves the release running; `rollback`: deploys the previous release again. */
  onFailure: 'mark' | 'rollback';
  /** Whether the automatic rollback is verified too (default false: its own verification is skipped). */
  verifyRollback: boolean;
  location: SourceLocation;
}

const VERIFY_KEYS = ['prometheus', 'http', 'window', 'interval', 'checks', 'onFailure', 'verifyRollback'] as const;
const PROMETHEUS_KEYS = ['url', 'headers', 'username', 'password', 'ca', 'timeout'] as const;
const HTTP_KEYS = ['url', 'headers', 'expect', 'contains', 'timeout', 'minSuccess', 'maxLatency'] as const;
const CHECK_KEYS = ['name', 'query', 'max', 'min', 'compare', 'tolerance', 'worse', 'failureLimit'] as const;

export function readVerify(f: YamlFile, envId: string, node: Node): VerifySpec | null {
  const what = `environment "${envId}": verify`;
  const r = MapReader.from(f, node, what, VERIFY_KEYS);
  if (!r) return null;
  const windowMs = r.duration('window') ?? DEFAULT_VERIFY_WINDOW_MS;
  const intervalMs = r.duration('interval') ?? DEFAULT_VERIFY_INTERVAL_MS;
  if (r.has('interval') && intervalMs < 1000) f.error(r.at('interval'), `${what}: "interval" must be at least 1s`);
  if (r.has('window') && windowMs < intervalMs) f.error(r.at('window'), `${what}: "window" must be at least one interval (${intervalMs / 1000}s)`);
  const onFailure = r.oneOf('onFailure', ['mark', 'rollback'] as const) ?? 'mark';
  const verifyRollback = r.bool('verifyRollback') ?? false;
  const hasProm = r.has('prometheus');
  const hasHttp = r.has('http');
  if (hasProm === hasHttp) {
    f.error(r.node, `${what}: say where the metrics come from: "prometheus" (with "checks") or "http" (repeated probes), one of them`);
    return null;
  }
  const base = { windowMs, intervalMs, onFailure, verifyRollback, location: f.location(r.node) };
  if (hasHttp) {
    if (r.has('checks')) f.error(r.pair('checks'), `${what}: "checks" are Prometheus queries; with "http" the checks are its "minSuccess" and "maxLatency"`);
    const source = readHttpSource(f, r, what);
    return source ? { ...base, source, checks: [] } : null;
  }
  const source = readPrometheusSource(f, r, what);
  const checks = readChecks(f, r, what);
  return source && checks ? { ...base, source, checks } : null;
}

function readPrometheusSource(f: YamlFile, r: MapReader, what: string): VerifySource | null {
  const v = r.value('prometheus');
  const w = `${what}: prometheus`;
  if (isScalar(v)) {
    const url = checkUrl(r, 'prometheus', r.string('prometheus', { nonEmpty: true }));
    return url === undefined ? null : { kind: 'prometheus', url, headers: {}, basicAuth: null, ca: null, timeoutMs: DEFAULT_PROMETHEUS_TIMEOUT_MS };
  }
  const p = MapReader.from(f, v, w, PROMETHEUS_KEYS);
  if (!p) return null;
  const url = p.required('url') ? checkUrl(p, 'url', p.string('url', { nonEmpty: true })) : undefined;
  const username = p.string('username', { nonEmpty: true });
  const password = p.string('password');
  if ((username === undefined) !== (password === undefined)) f.error(p.node, `${w}: basic auth needs both "username" and "password" (the password as \${secret:NAME})`);
  if (password !== undefined && password !== '' && !/^\$\{secret:[A-Za-z_][A-Za-z0-9_]*\}$/.test(password)) {
    f.error(p.at('password'), `${w}: "password" must be a secret reference such as \${secret:PROMETHEUS_PASSWORD}, not a value written in the file`);
  }
  const ca = p.string('ca', { nonEmpty: true }) ?? null;
  if (url === undefined) return null;
  return {
    kind: 'prometheus',
    url,
    headers: headerMap(p, 'headers') ?? {},
    basicAuth: username !== undefined && password !== undefined ? { username, password } : null,
    ca,
    timeoutMs: p.duration('timeout') ?? DEFAULT_PROMETHEUS_TIMEOUT_MS,
  };
}

function readHttpSource(f: YamlFile, r: MapReader, what: string): VerifySource | null {
  const v = r.value('http');
  const w = `${what}: http`;
  const defaults = { headers: {}, expect: 200, contains: null, timeoutMs: 5_000, minSuccess: 1, maxLatencyMs: null };
  if (isScalar(v)) {
    const url = checkUrl(r, 'http', r.string('http', { nonEmpty: true }));
    return url === undefined ? null : { kind: 'http', url, ...defaults };
  }
  const h = MapReader.from(f, v, w, HTTP_KEYS);
  if (!h) return null;
  const url = h.required('url') ? checkUrl(h, 'url', h.string('url', { nonEmpty: true })) : undefined;
  const minSuccess = h.has('minSuccess') ? share(f, h, 'minSuccess') : 1;
  const maxLatencyMs = h.has('maxLatency') ? (h.duration('maxLatency') ?? null) : null;
  if (url === undefined || minSuccess === undefined) return null;
  return {
    kind: 'http',
    url,
    headers: headerMap(h, 'headers') ?? {},
    expect: h.int('expect', 100, 599) ?? 200,
    contains: h.string('contains') ?? null,
    timeoutMs: h.duration('timeout') ?? 5_000,
    minSuccess,
    maxLatencyMs,
  };
}

/** `99%` or `0.99`. */
function share(f: YamlFile, r: MapReader, key: string): number | undefined {
  const n = r.value(key);
  const t = isScalar(n) ? parseAmount(n.value) : null;
  if (t === null || t.value < 0 || t.value > 1) {
    f.error(n ?? r.pair(key), `${r.what}: "${key}" must be a share such as 99% or 0.99, not ${describe(n)}`);
    return undefined;
  }
  return t.value;
}

/** `20%` → relative 0.2; `0.5`, `3` → absolute. */
export function parseAmount(v: unknown): Tolerance | null {
  if (typeof v === 'number' && Number.isFinite(v)) return { relative: false, value: v };
  if (typeof v !== 'string') return null;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(v);
  if (m) return { relative: true, value: Number(m[1]) / 100 };
  const n = Number(v.trim());
  return v.trim() !== '' && Number.isFinite(n) ? { relative: false, value: n } : null;
}

function readChecks(f: YamlFile, r: MapReader, what: string): VerifyCheck[] | null {
  const list = r.value('checks');
  if (list === undefined) {
    f.error(r.node, `${what}: "prometheus" needs "checks": a list of { name, query, max | min | compare }`);
    return null;
  }
  if (!isSeq(list) || list.items.length === 0) {
    f.error(list ?? r.pair('checks'), `${what}: "checks" must be a non-empty list, not ${describe(list)}`);
    return null;
  }
  const out: VerifyCheck[] = [];
  const names = new Set<string>();
  list.items.forEach((item, i) => {
    const c = MapReader.from(f, item, `${what}: checks[${i}]`, CHECK_KEYS);
    if (!c) return;
    const name = c.required('name') ? c.string('name', { nonEmpty: true, allowNumbers: true }) : undefined;
    const cw = name ? `${what}: check "${name}"` : `${what}: checks[${i}]`;
    if (name !== undefined && names.has(name)) f.error(c.at('name'), `${cw}: another check has this name`);
    if (name !== undefined) names.add(name);
    const query = c.required('query') ? c.string('query', { nonEmpty: true }) : undefined;
    const queryNode = c.value('query');
    const queryStart = query !== undefined && isScalar(queryNode) ? scalarStart(f, queryNode as Scalar) : null;
    if (query !== undefined) {
      const bad = promqlShapeProblem(query);
      if (bad) {
        if (queryStart) f.errorAt({ line: queryStart.line, column: queryStart.column + bad.at }, `${cw}: query: ${bad.message}`);
        else f.error(queryNode, `${cw}: query: ${bad.message}`);
      }
    }
    const bounds = (['max', 'min', 'compare'] as const).filter((k) => c.has(k));
    if (bounds.length !== 1) {
      f.error(bounds.length ? c.pair(bounds[1]) : c.node, `${cw}: say what the value must stay within: one of "max", "min" or "compare: baseline"`);
      return;
    }
    let bound: CheckBound | undefined;
    const b = bounds[0];
    if (b === 'compare') {
      const mode = c.oneOf('compare', ['baseline'] as const);
      const tolNode = c.value('tolerance');
      const tol = tolNode === undefined ? DEFAULT_TOLERANCE : isScalar(tolNode) ? parseAmount(tolNode.value) : null;
      if (tol === null || tol.value < 0) f.error(tolNode ?? c.pair('tolerance'), `${cw}: "tolerance" must be a percentage of the baseline (20%) or an amount (0.005), not ${describe(tolNode)}`);
      const worse = c.oneOf('worse', ['higher', 'lower'] as const) ?? 'higher';
      if (mode && tol && tol.value >= 0) bound = { kind: 'baseline', tolerance: tol, worse };
    } else {
      for (const k of ['tolerance', 'worse'] as const) if (c.has(k)) f.error(c.pair(k), `${cw}: "${k}" goes with "compare: baseline"`);
      const n = c.value(b);
      if (isScalar(n) && typeof n.value === 'number' && Number.isFinite(n.value)) bound = { kind: b, value: n.value };
      else f.error(n ?? c.pair(b), `${cw}: "${b}" must be a number, not ${describe(n)}`);
    }
    const failureLimit = c.int('failureLimit', 0, 1000) ?? 0;
    if (name === undefined || query === undefined || bound === undefined) return;
    out.push({ name, query, bound, failureLimit, location: f.location(c.node), queryStart });
  });
  return out.length === list.items.length ? out : null;
}

/** Where a one-line scalar's text starts (after an opening quote); null for block scalars and multi-line ones. */
function scalarStart(f: YamlFile, node: Scalar): { line: number; column: number } | null {
  if (!node.range) return null;
  const start = f.posAt(node.range[0]);
  const end = f.posAt(node.range[1]);
  if (start.line !== end.line) return null;
  if (node.type === 'PLAIN') return start;
  if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') return { line: start.line, column: start.column + 1 };
  return null;
}

/**
 * What can be said about a PromQL query without Prometheus: brackets that do not pair up and strings that do not
 * end. `at` is the 0-based offset of the character to point at. (Prometheus itself checks the rest before a deploy.)
 */
export function promqlShapeProblem(q: string): { at: number; message: string } | null {
  const open: { ch: string; at: number }[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < q.length; i++) {
    const ch = q[i];
    if (ch === '"' || ch === "'" || ch === '`') {
      const start = i;
      for (i++; i < q.length && q[i] !== ch; i++) if (q[i] === '\\' && ch !== '`') i++;
      if (i >= q.length) return { at: start, message: `the string that starts at character ${start + 1} does not end (no closing ${ch})` };
    } else if (ch === '#') {
      while (i < q.length && q[i] !== '\n') i++;
    } else if (ch === '(' || ch === '[' || ch === '{') open.push({ ch, at: i });
    else if (ch in pairs) {
      const top = open.pop();
      if (!top) return { at: i, message: `"${ch}" at character ${i + 1} closes nothing` };
      if (top.ch !== pairs[ch]) return { at: i, message: `"${ch}" at character ${i + 1} does not match "${top.ch}" at character ${top.at + 1}` };
    }
  }
  const left = open.pop();
  return left ? { at: left.at, message: `"${left.ch}" at character ${left.at + 1} is never closed` } : null;
}

/** Where character `position` (0-based) of a check's query is in delivery.yml. */
export function queryPosition(check: Pick<VerifyCheck, 'location' | 'queryStart'>, position: number | undefined): SourceLocation {
  if (check.queryStart && position !== undefined && position >= 0) return { file: check.location.file, line: check.queryStart.line, column: check.queryStart.column + position };
  return check.location;
}

/** The checks a `verify.http` source stands for (names and bounds). */
export function httpChecks(h: HttpVerifySource): { name: string; bound: string }[] {
  const out = [{ name: 'success ratio', bound: `≥ ${formatShare(h.minSuccess)}` }];
  if (h.maxLatencyMs !== null) out.push({ name: 'p95 latency', bound: `≤ ${h.maxLatencyMs} ms` });
  return out;
}

export function formatShare(x: number): string {
  return `${Number((x * 100).toPrecision(4))}%`;
}
