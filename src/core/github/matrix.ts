// strategy.matrix: evaluates the values (expressions included) and expands them into combinations the way GitHub
// does — the cartesian product of the lists, minus `exclude`, then `include` entries merged into every combination
// whose original values they match, or added as new combinations.
import { toText, type Evaluated, type Value, type ValueObject } from './expressions';

export interface Combination {
  values: ValueObject;
  /** Values in key order, for the job id: `test (18, linux)`. */
  label: string;
}

export type TemplateEvaluator = (s: string) => Evaluated;

/** Jobs a matrix may expand into; more is almost certainly a mistake (GitHub's own limit is 256). */
export const MAX_COMBINATIONS = 256;

export function expandMatrix(raw: unknown, evaluate: TemplateEvaluator): { combinations: Combination[]; tainted: boolean } | { error: string } {
  const taint = { tainted: false };
  let m: Value;
  try {
    m = deepEvaluate(raw, evaluate, taint);
  } catch (e) {
    return { error: `matrix: ${(e as Error).message}` };
  }
  if (!isObject(m)) return { error: `matrix must be a mapping, not ${kind(m)}` };
  const include = listOfObjects(m.include ?? m.Include ?? null, 'include');
  const exclude = listOfObjects(m.exclude ?? m.Exclude ?? null, 'exclude');
  if ('error' in include) return include;
  if ('error' in exclude) return exclude;
  const keys = Object.keys(m).filter((k) => k.toLowerCase() !== 'include' && k.toLowerCase() !== 'exclude');
  let combos: ValueObject[] = keys.length ? [{}] : [];
  for (const key of keys) {
    const values = m[key];
    if (!Array.isArray(values)) return { error: `matrix "${key}" must be a list, not ${kind(values)}` };
    if (values.length === 0) return { error: `matrix "${key}" has no values` };
    const next: ValueObject[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [key]: v });
    combos = next;
    if (combos.length > MAX_COMBINATIONS * 4) return { error: `the matrix has more than ${MAX_COMBINATIONS} combinations` };
  }
  combos = combos.filter((c) => !exclude.list.some((ex) => Object.entries(ex).every(([k, v]) => k in c && deepEqual(c[k], v))));
  const original = new Set(keys);
  const originals = combos.length;
  for (const inc of include.list) {
    let merged = false;
    for (let i = 0; i < originals; i++) {
      const c = combos[i];
      if (Object.entries(inc).every(([k, v]) => !original.has(k) || deepEqual(c[k], v))) {
        combos[i] = { ...c, ...inc };
        merged = true;
      }
    }
    if (!merged) combos.push({ ...inc });
  }
  if (combos.length === 0) return { error: 'the matrix has no combinations (every one is excluded)' };
  if (combos.length > MAX_COMBINATIONS) return { error: `the matrix has ${combos.length} combinations; at most ${MAX_COMBINATIONS} are run` };
  return {
    combinations: combos.map((values) => ({ values, label: Object.values(values).map(labelOf).join(', ') })),
    tainted: taint.tainted,
  };
}

function labelOf(v: Value): string {
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : toText(v);
}

/** A mapping key that is GitHub's insert directive. */
const INSERT = /^\$\{\{\s*insert\s*\}\}$/;

/** Evaluates every string of the matrix; an expression that yields a list inside a list is spliced into it. */
function deepEvaluate(raw: unknown, evaluate: TemplateEvaluator, taint: { tainted: boolean }): Value {
  if (typeof raw === 'string') {
    const r = evaluate(raw);
    taint.tainted ||= r.tainted;
    return r.value;
  }
  if (Array.isArray(raw)) {
    const out: Value[] = [];
    for (const item of raw) {
      const v = deepEvaluate(item, evaluate, taint);
      if (typeof item === 'string' && Array.isArray(v)) out.push(...v);
      else out.push(v);
    }
    return out;
  }
  if (raw !== null && typeof raw === 'object') {
    const out: ValueObject = {};
    for (const [k, v] of Object.entries(raw)) {
      if (INSERT.test(k)) {
        // `${{ insert }}: <mapping>`: the mapping's keys join this mapping where the directive is (GitHub's templates).
        const inserted = deepEvaluate(v, evaluate, taint);
        if (!isObject(inserted)) throw new Error(`"\${{ insert }}" needs a mapping, not ${kind(inserted)}`);
        for (const [ik, iv] of Object.entries(inserted)) {
          if (Object.keys(out).some((o) => o.toLowerCase() === ik.toLowerCase())) throw new Error(`"${ik}" is already defined (inserted by "\${{ insert }}")`);
          out[ik] = iv;
        }
        continue;
      }
      out[k] = deepEvaluate(v, evaluate, taint);
    }
    return out;
  }
  return (raw ?? null) as Value;
}

function listOfObjects(v: Value, what: string): { list: ValueObject[] } | { error: string } {
  if (v === null) return { list: [] };
  if (!Array.isArray(v)) return { error: `matrix "${what}" must be a list of mappings, not ${kind(v)}` };
  for (const item of v) if (!isObject(item)) return { error: `matrix "${what}" entries must be mappings, not ${kind(item)}` };
  return { list: v as ValueObject[] };
}

function isObject(v: Value | undefined): v is ValueObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function kind(v: Value | undefined): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `the ${typeof v} ${JSON.stringify(v)}`;
}

export function deepEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
