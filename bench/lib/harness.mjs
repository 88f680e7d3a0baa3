// Running cases: a warm-up, then N runs in which the cases take turns (so a burst of noise from the other work on
// the machine hits every case alike), each run a fresh process. And the rows of the result table.
import { runOnce, stats } from './measure.mjs';

/**
 * @param {{runs: number, warmup: number, log: (s: string) => void}} ctx
 * @param {{name: string, spec: () => object, after?: (r: object) => void}[]} cases
 * @returns {Promise<Record<string, object[]>>} the measured runs of each case (warm-up excluded)
 */
export async function measureCases(ctx, cases) {
  const results = Object.fromEntries(cases.map((c) => [c.name, []]));
  const total = ctx.warmup + ctx.runs;
  const last = {};
  for (let i = 0; i < total; i++) {
    // Rotate the order of the cases from run to run.
    const order = cases.map((_, k) => cases[(k + i) % cases.length]);
    for (const c of order) {
      const r = await runOnce(c.spec());
      c.after?.(r);
      last[c.name] = r;
      if (i >= ctx.warmup) results[c.name].push(r);
    }
    ctx.log(`  run ${i + 1}/${total}${i < ctx.warmup ? ' (warm-up)' : ''}: ${order.map((c) => `${c.name} ${fmtMs(last[c.name].wallMs)}`).join(', ')}`);
  }
  return results;
}

/**
 * A row of the table. `value` and `reference.value` are stats() of the samples; `ratio` what the target is about.
 * `median`: the row's value when it is not the median of `samples` (a difference of medians: the samples then give
 * only the spread).
 * @returns {object}
 */
export function row({ scenario, measured, samples, unit = 'ms', reference = null, ratio = null, ratioText = null, target, met = null, note = null, median: value = null }) {
  return {
    scenario,
    measured,
    unit,
    value: value === null ? stats(samples) : { ...stats(samples), median: value },
    samples,
    reference: reference ? { name: reference.name, value: stats(reference.samples), samples: reference.samples, unit: reference.unit ?? unit } : null,
    ratio,
    ratioText,
    target,
    met,
    note,
  };
}

export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmt(value, unit) {
  if (!Number.isFinite(value)) return '–';
  switch (unit) {
    case 'ms': return fmtMs(value);
    case 'KB': return `${Math.round(value)} KB`;
    case 'MB': return `${value.toFixed(0)} MB`;
    case '/s': return `${value.toFixed(1)}/s`;
    default: return `${Number.isInteger(value) ? value : value.toFixed(2)}${unit ? ` ${unit}` : ''}`;
  }
}

export const median = (xs) => stats(xs).median;
