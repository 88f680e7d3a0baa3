// The ports verification reads metrics through (adapters/environments/prometheus.ts implements them over HTTP),
// and the answer types. Every bad answer is data: a Prometheus that is down, a query PromQL refuses, an empty
// result, several series, NaN — each comes back as a `MetricProblem` with a kind the verification decides on.

/** Where a Prometheus answers, as `verify.prometheus` says (secrets in headers/password not yet expanded). */
export interface PrometheusSource {
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix is kept: http://host/prometheus). */
  url: string;
  /** Extra request headers (a token: `Authorization: Bearer ${secret:PROM_TOKEN}`). */
  headers: Record<string, string>;
  /** Basic auth; the password may be `${secret:NAME}`. */
  basicAuth: { username: string; password: string } | null;
  /** A PEM file (absolute, or relative to the folder) with the CA that signed an https Prometheus's certificate. */
  ca: string | null;
  /** One request's timeout. */
  timeoutMs: number;
}

/**
 * Why a query gave no number:
 * - `down`: Prometheus could not be reached or answered something that is not its API (HTTP 5xx, not JSON…)
 * - `query`: PromQL refused the query (HTTP 400 `bad_data`): `message` is Prometheus's own, with `position`, the
 *   0-based character offset in the query when Prometheus names one (2.42 says `1:18: parse error: …`, line:column
 *   in UTF-8 bytes; older versions "at char N"; the adapter turns either into a character offset)
 * - `empty`: the query returned no series (no traffic yet, a label that matches nothing)
 * - `ambiguous`: more than one series; a check needs one number (wrap the query in sum() or max())
 * - `nan`: the value is NaN or ±Inf (0/0 when nothing was requested)
 * - `auth`: 401/403
 * - `cancelled`: the signal aborted
 */
export type MetricProblemKind = 'down' | 'query' | 'empty' | 'ambiguous' | 'nan' | 'auth' | 'cancelled';

export interface MetricProblem {
  kind: MetricProblemKind;
  message: string;
  position?: number;
}

export type MetricValue = { value: number } | { problem: MetricProblem };

/** A range of one series: [unix ms, value] points, NaN points left out. */
export type MetricSeries = { points: [number, number][] } | { problem: MetricProblem };

export interface MetricsPort {
  /** An instant query at `atMs` (unix ms; null: now) that must give exactly one number. */
  query(source: PrometheusSource, query: string, atMs: number | null, signal: AbortSignal): Promise<MetricValue>;
  /** A range query (`query_range`) from startMs to endMs every stepMs: the points of its one series. */
  queryRange(source: PrometheusSource, query: string, range: { startMs: number; endMs: number; stepMs: number }, signal: AbortSignal): Promise<MetricSeries>;
}

/** One GET of the `verify.http` URL, timed. */
export interface HttpProbeResult {
  /** The status matched `expect` (and the body contained `contains`, when given). */
  ok: boolean;
  /** From sending the request to the end of the answer; null when there was no answer. */
  latencyMs: number | null;
  /** What went wrong, when not ok. */
  detail: string | null;
}

export interface HttpProbeSpec {
  url: string;
  headers: Record<string, string>;
  expect: number;
  contains: string | null;
  timeoutMs: number;
}

export type HttpProber = (spec: HttpProbeSpec, signal: AbortSignal) => Promise<HttpProbeResult>;
