// Deploy verification's I/O: Prometheus's HTTP API (instant and range queries) and the timed GET of `verify.http`.
// Prometheus is asked over node:http(s), not fetch, so that a per-source CA can be trusted. Every way a query can
// fail comes back as a MetricProblem of the kind core/environments/metrics.ts documents; nothing here throws.
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HttpProber, HttpProbeResult, MetricProblem, MetricProblemKind, MetricSeries, MetricsPort, MetricValue, PrometheusSource } from '../../core/environments/metrics';
import { excerpt, waitedFor } from '../../core/environments/status';
import { expandSecrets, expandSecretsIn, Masker, type SecretResolver } from '../../core/secrets';
import { loadCa } from '../remote/http/tls';
import { describeFetchError, httpGet } from './http';

/** An answer for a check is one number or one series; more than this is not what a check asked for. */
export const MAX_PROMETHEUS_BODY_BYTES = 8 * 1024 * 1024;

/** The label sets an `ambiguous` problem lists. */
const SHOWN_SERIES = 3;

/** Prometheus's HTTP API for `verify.prometheus`: `ca` paths are relative to `folder`, secrets resolved per query. */
export function prometheusMetrics(folder: string, secrets: SecretResolver): MetricsPort {
  return {
    async query(source, query, atMs, signal): Promise<MetricValue> {
      const params: Record<string, string> = { query };
      if (atMs !== null) params.time = seconds(atMs);
      const r = await callApi(folder, secrets, source, 'query', params, signal);
      return 'problem' in r ? r : instantValue(r.data, r.mask);
    },
    async queryRange(source, query, range, signal): Promise<MetricSeries> {
      if (!(range.stepMs > 0) || !(range.endMs >= range.startMs)) return problem('query', `a range query needs start <= end and a step above 0 (got ${range.startMs}..${range.endMs} every ${range.stepMs}ms)`);
      const params = { query, start: seconds(range.startMs), end: seconds(range.endMs), step: seconds(range.stepMs) };
      const r = await callApi(folder, secrets, source, 'query_range', params, signal);
      return 'problem' in r ? r : rangeSeries(r.data, r.mask);
    },
  };
}

/** One timed GET of the `verify.http` URL (redirects, body cap and error words as for health checks: ./http.ts). */
export function httpProber(secrets: SecretResolver): HttpProber {
  return async (spec, signal): Promise<HttpProbeResult> => {
    const found = new Set<string>();
    let url: string;
    let headers: Record<string, string>;
    try {
      url = await expandSecrets(spec.url, secrets, found);
      headers = await expandSecretsIn(spec.headers, secrets, found);
    } catch (e) {
      return { ok: false, latencyMs: null, detail: (e as Error).message };
    }
    const { mask } = new Masker(found);
    const t0 = performance.now();
    const r = await httpGet(url, { headers, timeoutMs: spec.timeoutMs, signal, what: spec.url });
    if ('error' in r) return { ok: false, latencyMs: null, detail: mask(r.error) };
    const latencyMs = performance.now() - t0;
    const { status, statusText, body } = r.answer;
    if (status !== spec.expect) return { ok: false, latencyMs, detail: `HTTP ${status}${statusText ? ` ${mask(statusText)}` : ''} (expected ${spec.expect}): ${excerpt(mask(body), 80)}` };
    if (spec.contains !== null && !body.includes(spec.contains)) return { ok: false, latencyMs, detail: `the answer does not contain "${spec.contains}": ${excerpt(mask(body), 80)}` };
    return { ok: true, latencyMs, detail: null };
  };
}

// ---- one API call ----

type ApiData = { resultType: string; result: unknown };

type Called = { data: ApiData; mask: (text: string) => string } | { problem: MetricProblem };

interface RawAnswer {
  status: number;
  statusText: string;
  contentType: string;
  location: string | null;
  body: string;
  /** The body was larger than MAX_PROMETHEUS_BODY_BYTES (and was not read to the end). */
  tooLarge: boolean;
}

function problem(kind: MetricProblemKind, message: string, position?: number): { problem: MetricProblem } {
  return { problem: position === undefined ? { kind, message } : { kind, message, position } };
}

async function callApi(folder: string, secrets: SecretResolver, source: PrometheusSource, endpoint: 'query' | 'query_range', params: Record<string, string>, signal: AbortSignal): Promise<Called> {
  if (signal.aborted) return problem('cancelled', 'cancelled');
  let base: URL;
  try {
    base = new URL(source.url);
  } catch {
    return problem('down', `the Prometheus url "${excerpt(source.url, 100)}" is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return problem('down', `the Prometheus url must be http:// or https://, not ${base.protocol}//`);
  // Shown in messages: no credentials, no query string.
  const shown = `Prometheus at ${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const found = new Set<string>();
  const headers: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(await expandSecretsIn(source.headers, secrets, found))) {
      if (!/^(content-type|content-length|host|accept)$/i.test(k)) headers[k] = v;
    }
    let auth: { username: string; password: string } | null = null;
    if (source.basicAuth) auth = { username: await expandSecrets(source.basicAuth.username, secrets, found), password: await expandSecrets(source.basicAuth.password, secrets, found) };
    else if (base.username) auth = { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) };
    if (auth) {
      for (const k of Object.keys(headers)) if (/^authorization$/i.test(k)) delete headers[k];
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
  } catch (e) {
    return problem('auth', `${shown}: ${(e as Error).message}`);
  }
  const { mask } = new Masker(found);
  const hadCredentials = Object.keys(headers).some((k) => /auth|token|key|cookie/i.test(k));

  let ca: string[] | undefined;
  if (base.protocol === 'https:' && source.ca) {
    try {
      ca = loadCa({ caFile: path.resolve(folder, source.ca) });
    } catch (e) {
      return problem('down', `${shown} could not be reached: ${(e as Error).message}`);
    }
  }

  const target = new URL(base.href);
  target.username = '';
  target.password = '';
  target.search = '';
  target.hash = '';
  // A path prefix (http://host/prometheus) is kept.
  target.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/${endpoint}`;
  const form = new URLSearchParams(params).toString();

  let answer: RawAnswer;
  try {
    answer = await post(target, { ...headers, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, form, ca, source.timeoutMs, signal);
  } catch (e) {
    if (signal.aborted) return problem('cancelled', 'cancelled');
    if ((e as Error).name === 'TimeoutError') return problem('down', `${shown} did not answer within ${waitedFor(source.timeoutMs)}`);
    return problem('down', mask(`${shown} could not be reached: ${describeFetchError({ cause: e })}`));
  }
  const interpreted = interpret(answer, shown, params.query, hadCredentials, mask);
  return 'problem' in interpreted ? interpreted : { data: interpreted.data, mask };
}

/** POSTs a form and reads the answer, at most MAX_PROMETHEUS_BODY_BYTES of it, within `timeoutMs`. */
function post(url: URL, headers: Record<string, string>, form: string, ca: string[] | undefined, timeoutMs: number, signal: AbortSignal): Promise<RawAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  const body = Buffer.from(form, 'utf8');
  return new Promise<RawAnswer>((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      both.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (e: unknown) => done(() => reject(timeout.aborted && !signal.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e));
    const onAbort = () => {
      req.destroy();
      fail(new Error('aborted'));
    };
    const options: https.RequestOptions = { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent: false };
    if (ca) options.ca = ca;
    let req: http.ClientRequest;
    try {
      req = (url.protocol === 'https:' ? https : http).request(url, options);
    } catch (e) {
      // An invalid header (a secret with a newline in it) is refused before anything is sent.
      reject(e);
      return;
    }
    req.on('error', fail);
    both.addEventListener('abort', onAbort);
    if (both.aborted) return onAbort();
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (tooLarge: boolean) =>
        done(() =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            contentType: String(res.headers['content-type'] ?? ''),
            location: res.headers.location ?? null,
            body: Buffer.concat(chunks).toString('utf8'),
            tooLarge,
          }),
        );
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_PROMETHEUS_BODY_BYTES) {
          finish(true);
          res.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('error', fail);
      res.on('end', () => finish(false));
      res.on('close', () => {
        if (!res.complete) fail(new Error('the server closed the connection in the middle of the answer'));
      });
    });
    req.end(body);
  });
}

/** The answer as API data, or the problem it shows. */
function interpret(a: RawAnswer, shown: string, query: string, hadCredentials: boolean, mask: (t: string) => string): { data: ApiData } | { problem: MetricProblem } {
  const json = a.tooLarge ? undefined : parseJson(a.body);
  const apiError = json && typeof json === 'object' && typeof json.error === 'string' ? mask(json.error) : null;
  const status = `HTTP ${a.status}${a.statusText ? ` ${mask(a.statusText)}` : ''}`;
  const answered = () => (apiError ?? excerpt(mask(a.body), 120));
  if (a.status === 401 || a.status === 403) {
    const what = a.status === 401 && !hadCredentials ? 'asks for credentials (set username and password, or an Authorization header)' : a.status === 401 ? 'refused the credentials' : 'refused access with these credentials';
    return problem('auth', `${shown} ${what} (${status}): ${answered()}`);
  }
  if (a.tooLarge) {
    if (a.status === 200 && /json/i.test(a.contentType)) return problem('ambiguous', `${shown} answered more than ${MAX_PROMETHEUS_BODY_BYTES / 1024 / 1024} MiB: the query returns far too many series; a check needs one (wrap it in sum() or max())`);
    return problem('down', `${shown} answered ${status} with more than ${MAX_PROMETHEUS_BODY_BYTES / 1024 / 1024} MiB that is not the Prometheus API: is the url right?`);
  }
  if ((a.status === 400 || a.status === 422) && json && typeof json.errorType === 'string' && apiError !== null) {
    // bad_data: PromQL does not parse, or a parameter is wrong; execution: the query cannot be evaluated (many-to-many matching…).
    if (json.errorType === 'bad_data' || json.errorType === 'execution') return problem('query', apiError, errorPosition(query, apiError));
  }
  if (a.status >= 300 && a.status < 400) {
    return problem('down', `${shown} answered ${status}${a.location ? ` (a redirect to ${redirectShown(a.location)})` : ''}, not the Prometheus API: is the url (and its path prefix) right?`);
  }
  if (a.status === 404) return problem('down', `${shown} answered ${status} for /api/v1: is the url (and its path prefix) right?`);
  if (a.status !== 200) return problem('down', `${shown} answered ${status}: ${answered()}`);
  if (json === undefined) return problem('down', `${shown} answered something that is not the Prometheus API (${a.contentType || 'no content type'}: ${excerpt(mask(a.body), 80)}): is the url right?`);
  const data = json.data as { resultType?: unknown; result?: unknown } | undefined;
  if (json.status !== 'success' || !data || typeof data !== 'object' || typeof data.resultType !== 'string') {
    return problem('down', `${shown} answered something that is not the Prometheus API: ${excerpt(mask(a.body), 80)}`);
  }
  return { data: { resultType: data.resultType, result: data.result } };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function redirectShown(location: string): string {
  try {
    const u = new URL(location, 'http://relative.invalid');
    return u.host === 'relative.invalid' ? u.pathname : `${u.origin}${u.pathname}`;
  } catch {
    return excerpt(location, 100);
  }
}

// ---- answers ----

type Sample = [number, string];
interface VectorSample {
  metric: Record<string, string>;
  value: Sample;
}
interface MatrixSeries {
  metric: Record<string, string>;
  values: Sample[];
}

const malformed = (what: string) => problem('down', `Prometheus answered a ${what} this client cannot read`);

function instantValue(data: ApiData, mask: (t: string) => string): MetricValue {
  switch (data.resultType) {
    case 'scalar':
      return sampleValue(data.result);
    case 'vector': {
      if (!Array.isArray(data.result)) return malformed('vector');
      const series = data.result as VectorSample[];
      if (series.length === 0) return problem('empty', 'the query returned no series (no traffic yet, or a label that matches nothing)');
      if (series.length > 1) return problem('ambiguous', ambiguousMessage(series, mask));
      return sampleValue(series[0]?.value);
    }
    case 'matrix':
      return problem('query', 'the query returns a range vector (it ends in [duration]), not a number: wrap it in a function such as rate() or max_over_time()');
    case 'string':
      return problem('query', 'the query returns a string, not a number');
    default:
      return malformed(`result of type "${excerpt(data.resultType, 40)}"`);
  }
}

function rangeSeries(data: ApiData, mask: (t: string) => string): MetricSeries {
  if (data.resultType !== 'matrix' || !Array.isArray(data.result)) return malformed('range result');
  const series = data.result as MatrixSeries[];
  if (series.length === 0) return problem('empty', 'the query returned no series over the range (no traffic yet, or a label that matches nothing)');
  if (series.length > 1) return problem('ambiguous', ambiguousMessage(series, mask));
  const values = series[0]?.values;
  if (!Array.isArray(values)) return malformed('range result');
  const points: [number, number][] = [];
  for (const s of values) {
    const v = sample(s);
    if (v === undefined) return malformed('sample');
    if (!Number.isNaN(v.value)) points.push([v.ms, v.value]);
  }
  if (points.length === 0 && values.length > 0) return problem('nan', 'every point of the range is NaN (0/0: nothing to divide, e.g. no requests)');
  return { points };
}

function sampleValue(s: unknown): MetricValue {
  const v = sample(s);
  if (v === undefined) return malformed('sample');
  if (Number.isNaN(v.value)) return problem('nan', 'the value is NaN (0/0: nothing to divide, e.g. no requests in the window)');
  if (!Number.isFinite(v.value)) return problem('nan', `the value is ${v.value > 0 ? '+Inf' : '-Inf'} (a division by zero)`);
  return { value: v.value };
}

/** A [unix seconds, "value"] pair; Prometheus writes NaN and infinities as "NaN", "+Inf", "-Inf". */
function sample(s: unknown): { ms: number; value: number } | undefined {
  if (!Array.isArray(s) || s.length !== 2 || typeof s[0] !== 'number' || typeof s[1] !== 'string') return undefined;
  const text = s[1];
  const value = text === 'NaN' ? NaN : text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  if (Number.isNaN(value) && text !== 'NaN') return undefined;
  return { ms: Math.round(s[0] * 1000), value };
}

function ambiguousMessage(series: { metric: Record<string, string> }[], mask: (t: string) => string): string {
  const shown = series.slice(0, SHOWN_SERIES).map((s) => mask(labelSet(s.metric)));
  const more = series.length > SHOWN_SERIES ? ` and ${series.length - SHOWN_SERIES} more` : '';
  return `the query returned ${series.length} series; a check needs one number (wrap it in sum() or max()): ${shown.join(', ')}${more}`;
}

/** `name{a="1", b="2"}` as PromQL writes a series. */
function labelSet(metric: Record<string, string> | undefined): string {
  const m = metric && typeof metric === 'object' ? metric : {};
  const name = typeof m.__name__ === 'string' ? m.__name__ : '';
  const labels = Object.entries(m)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`);
  return `${name}{${labels.join(', ')}}`;
}

function seconds(ms: number): string {
  return String(ms / 1000);
}

// ---- positions ----

/**
 * The 0-based character offset in `query` that Prometheus's error names, if it names one. Prometheus 2.x writes
 * "1:18: parse error: …" (line and 1-based column, counted in bytes of the UTF-8 query); older versions wrote
 * "parse error at char 12: …" or "parse error at line 2, char 3: …".
 */
export function errorPosition(query: string, error: string): number | undefined {
  let line: number;
  let column: number;
  const modern = /(?:^|[\s"])(\d+):(\d+): parse error/.exec(error);
  const old = /parse error at (?:line (\d+), )?char (\d+)/.exec(error);
  if (modern) {
    line = Number(modern[1]);
    column = Number(modern[2]);
  } else if (old) {
    line = old[1] === undefined ? 1 : Number(old[1]);
    column = Number(old[2]);
  } else return undefined;
  if (line < 1 || column < 1) return undefined;
  const bytes = Buffer.from(query, 'utf8');
  let lineStart = 0;
  for (let l = 1; l < line; l++) {
    const nl = bytes.indexOf(0x0a, lineStart);
    if (nl < 0) return undefined;
    lineStart = nl + 1;
  }
  const byteOffset = Math.min(lineStart + column - 1, bytes.length);
  return Math.min(bytes.subarray(0, byteOffset).toString('utf8').length, query.length);
}
