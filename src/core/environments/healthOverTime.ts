// What the editor shows of an environment's `verify: prometheus` checks outside a deploy: each check over the last
// hours (query_range) with its bound and the deploys on the time axis, for the overview's charts; and the first
// check's value now, for the Environments tree row. Pure: the metrics come through a MetricsPort, time from a Clock.
//
// A baseline check (`compare: baseline`) has no fixed bound: it is compared with the window before each deploy, so
// its limit moves with every deploy. The chart draws no bound line for it (one line over six hours would be the
// bound of none of its deploys) and the tree row does not colour it; the bound's text says why.
import type { DeployHistoryItem } from '../../shared/model';
import type { CheckNow, DeployMarker, EnvironmentHealthView, HealthSeries } from '../../shared/views';
import type { Clock } from '../clock';
import { plainText } from '../sanitize';
import type { EnvironmentConfig } from '../config/delivery';
import type { MetricProblem, MetricsPort, PrometheusSource } from './metrics';
import { boundText, describeProblem, formatValue, limitOf, withinBound } from './verification';
import { formatShare, type CheckBound, type VerifyCheck } from './verifyConfig';

export const DEFAULT_HEALTH_RANGE_MS = 6 * 3_600_000;
/** At most this many points per chart: the step is chosen from the range to stay under it. */
export const MAX_HEALTH_POINTS = 300;
/** A value this close to its bound (a share of the bound) is "near": amber in the tree. */
export const NEAR_BOUND_SHARE = 0.2;

/** Steps a person reads as round; the smallest at or above range/maxPoints is used. */
const ROUND_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** The step of a range query over `rangeMs` that gives at most `maxPoints` points (a round number of seconds). */
export function healthStep(rangeMs: number, maxPoints = MAX_HEALTH_POINTS): number {
  const want = Math.max(1000, Math.ceil(rangeMs / Math.max(1, maxPoints - 1)));
  const round = ROUND_STEPS_S.find((s) => s * 1000 >= want);
  return round !== undefined ? round * 1000 : Math.ceil(want / 86_400_000) * 86_400_000;
}

/** What the overview shows of one environment (its folder is added by the front end). */
export type EnvironmentHealth = Omit<EnvironmentHealthView, 'folder'>;

/** The Prometheus source of an environment's verify:, or null (no verify:, or HTTP probes: nothing to chart). */
export function prometheusOf(env: EnvironmentConfig): { source: PrometheusSource; checks: VerifyCheck[] } | null {
  const v = env.verify;
  if (!v || v.source.kind !== 'prometheus') return null;
  return { source: v.source, checks: v.checks };
}

/**
 * Each check of the environment over the last `rangeMs` (default 6 h) ending now, and its deploys in that range
 * (from `history`, newest first or in any order). null when the environment has no `verify: prometheus`. Never
 * throws for bad answers: a check that cannot be charted says why in its `error`.
 */
export async function healthOverTime(
  env: EnvironmentConfig,
  ports: { metrics: MetricsPort; clock: Pick<Clock, 'now'> },
  history: readonly DeployHistoryItem[],
  signal: AbortSignal,
  opts: { rangeMs?: number; maxPoints?: number } = {},
): Promise<EnvironmentHealth | null> {
  const prom = prometheusOf(env);
  if (!prom) return null;
  const rangeMs = opts.rangeMs ?? DEFAULT_HEALTH_RANGE_MS;
  const stepMs = healthStep(rangeMs, opts.maxPoints);
  // Aligned on the step: the same points each time the chart is drawn again, so it does not jitter.
  const endMs = Math.floor(ports.clock.now() / stepMs) * stepMs;
  const startMs = endMs - Math.floor(rangeMs / stepMs) * stepMs;
  const series = await Promise.all(
    prom.checks.map(async (check): Promise<HealthSeries> => {
      const base = { name: check.name, limit: fixedLimit(check.bound), boundText: chartBoundText(check.bound) };
      const r = await ports.metrics.queryRange(prom.source, check.query, { startMs, endMs, stepMs }, signal);
      if ('problem' in r) return { ...base, points: [], error: problemText(check, r.problem) };
      const points = r.points.filter(([t, v]) => t >= startMs && t <= endMs && Number.isFinite(v));
      return { ...base, points, error: points.length === 0 ? 'no data in this range' : null };
    }),
  );
  return { environment: env.id, name: env.name, startMs, endMs, stepMs, series, markers: deployMarkers(history, startMs, endMs) };
}

/** The deploys, rollbacks and promotes that started in [startMs, endMs], oldest first (lock events left out). */
export function deployMarkers(history: readonly DeployHistoryItem[], startMs: number, endMs: number): DeployMarker[] {
  return history
    .filter((d) => d.action !== 'lock' && d.action !== 'unlock' && d.startedAt >= startMs && d.startedAt <= endMs)
    .map((d) => ({ id: d.id, t: d.startedAt, sha: d.sha, action: d.action, status: d.status }))
    .sort((a, b) => a.t - b.t);
}

/** The line a chart draws: a fixed max or min; none for a baseline check (its bound moves with each deploy). */
export function fixedLimit(bound: CheckBound): HealthSeries['limit'] {
  if (bound.kind === 'baseline') return null;
  const l = limitOf(bound, null);
  return l ? { op: l.op, value: l.limit } : null;
}

/** "≤ 0.01"; for a baseline check "≤ baseline + 25%" (no number: each deploy has its own baseline). */
export function chartBoundText(bound: CheckBound): string {
  if (bound.kind !== 'baseline') return boundText(bound, null);
  const tol = bound.tolerance.relative ? formatShare(bound.tolerance.value) : formatValue(bound.tolerance.value);
  return bound.worse === 'higher' ? `≤ baseline + ${tol}` : `≥ baseline − ${tol}`;
}

/** ok, near (within NEAR_BOUND_SHARE of its bound, on the good side), past, or unknown (a baseline check). */
export function checkLevel(value: number, bound: CheckBound): CheckNow['level'] {
  const l = fixedLimit(bound);
  if (!l) return 'unknown';
  if (withinBound(value, bound, null) === false) return 'past';
  const margin = Math.abs(l.value) * NEAR_BOUND_SHARE;
  if (margin === 0) return 'ok';
  return (l.op === '≤' ? value >= l.value - margin : value <= l.value + margin) ? 'near' : 'ok';
}

/** A short word for the tree row; the whole problem goes to the tooltip. */
const PROBLEM_WORDS: Record<MetricProblem['kind'], string> = {
  down: 'Prometheus unreachable',
  auth: 'Prometheus refused the credentials',
  query: 'query error',
  empty: 'no data',
  ambiguous: 'several series',
  nan: 'no number',
  cancelled: 'cancelled',
};

/**
 * The environment's first check now: one instant query. null when the environment has no `verify: prometheus`.
 */
export async function checkNow(env: EnvironmentConfig, metrics: MetricsPort, signal: AbortSignal): Promise<CheckNow | null> {
  const prom = prometheusOf(env);
  const check = prom?.checks[0];
  if (!prom || !check) return null;
  const bound = chartBoundText(check.bound);
  const r = await metrics.query(prom.source, check.query, null, signal);
  if ('problem' in r) {
    return { name: check.name, value: null, text: plainText(`${check.name}: ${PROBLEM_WORDS[r.problem.kind]}`, { oneLine: true }), level: 'unknown', boundText: bound, error: problemText(check, r.problem) };
  }
  return { name: check.name, value: r.value, text: plainText(`${check.name} ${formatValue(r.value)}`, { oneLine: true }), level: checkLevel(r.value, check.bound), boundText: bound, error: null };
}

/** What went wrong, as the views show it (PromQL's refusal with the check's place in delivery.yml). */
function problemText(check: VerifyCheck, p: MetricProblem): string {
  return plainText(describeProblem(check, p), { oneLine: true });
}
