// `spec:inputs` headers and `$[[ inputs.name ]]` interpolation of included files (GitLab 15.11+).
// Error texts follow GitLab's own, so they read the same as on gitlab.com.
import { describeVal, fromPlain, toPlain, type Entry, type Loc, type MapVal, type Problems, type Val } from './yaml';

export type InputType = 'string' | 'number' | 'boolean' | 'array';

interface InputSpec {
  name: string;
  type: InputType;
  default: Val | null;
  options: Val[] | null;
  /** `re` is null when the pattern is not a valid regular expression (reported when the input is used). */
  regex: { source: string; re: RegExp | null } | null;
  loc: Loc;
}

const INPUT_KEYS = ['default', 'description', 'options', 'regex', 'type'];
const MAX_FUNCTIONS = 3;

/** Reads the header's `spec:inputs`. Null after reporting when it is invalid. */
export function readSpec(header: MapVal, problems: Problems): InputSpec[] | null {
  const spec = header.entries.get('spec')!.value;
  if (spec.t === 'scalar' && spec.value === null) return [];
  if (spec.t !== 'map') {
    problems.error(spec.loc, `spec must be a mapping, not ${describeVal(spec)}`);
    return null;
  }
  let ok = true;
  for (const e of spec.entries.values()) {
    if (e.key !== 'inputs' && e.key !== 'description' && e.key !== 'component') {
      problems.error(e.keyLoc, `spec: unknown key "${e.key}" (spec has inputs, description and component)`);
      ok = false;
    }
  }
  const inputs = spec.entries.get('inputs')?.value;
  if (!inputs || (inputs.t === 'scalar' && inputs.value === null)) return ok ? [] : null;
  if (inputs.t !== 'map') {
    problems.error(inputs.loc, `spec:inputs must be a mapping of input names, not ${describeVal(inputs)}`);
    return null;
  }
  const out: InputSpec[] = [];
  for (const e of inputs.entries.values()) {
    const s = readInput(e, problems);
    if (s) out.push(s);
    else ok = false;
  }
  return ok ? out : null;
}

function readInput(e: Entry, problems: Problems): InputSpec | null {
  const spec: InputSpec = { name: e.key, type: 'string', default: null, options: null, regex: null, loc: e.keyLoc };
  const v = e.value;
  if (v.t === 'scalar' && v.value === null) return spec;
  if (v.t !== 'map') {
    problems.error(v.loc, `spec:inputs:${e.key} must be a mapping (default, type, options, regex, description), not ${describeVal(v)}`);
    return null;
  }
  let ok = true;
  for (const k of v.entries.values()) {
    if (!INPUT_KEYS.includes(k.key)) {
      problems.error(k.keyLoc, `spec:inputs:${e.key}: unknown key "${k.key}" (use ${INPUT_KEYS.join(', ')})`);
      ok = false;
    }
  }
  const type = v.entries.get('type')?.value;
  if (type) {
    const t = type.t === 'scalar' ? String(type.value) : '';
    if (t === 'string' || t === 'number' || t === 'boolean' || t === 'array') spec.type = t;
    else {
      problems.error(type.loc, `spec:inputs:${e.key} input type unknown value: ${t || describeVal(type)} (use string, number, boolean or array)`);
      ok = false;
    }
  }
  const def = v.entries.get('default')?.value;
  if (def) spec.default = def;
  const options = v.entries.get('options')?.value;
  if (options) {
    if (options.t === 'seq') spec.options = options.items;
    else {
      problems.error(options.loc, `spec:inputs:${e.key}: options must be a list, not ${describeVal(options)}`);
      ok = false;
    }
  }
  const regex = v.entries.get('regex')?.value;
  if (regex) {
    const source = regex.t === 'scalar' && regex.value !== null ? String(regex.value) : null;
    if (source === null) {
      problems.error(regex.loc, `spec:inputs:${e.key}: regex must be a string`);
      ok = false;
    } else {
      let re: RegExp | null = null;
      try {
        re = new RegExp(source);
      } catch {
        re = null;
      }
      spec.regex = { source, re };
    }
  }
  return ok ? spec : null;
}

/**
 * The value of every input: given ones (validated against the spec), else defaults. Null after reporting
 * problems. `given` errors are reported at `at` (the include entry) when they concern the given value.
 */
export function resolveInputs(specs: InputSpec[], given: MapVal | null, at: Loc, file: string, problems: Problems): Map<string, Val> | null {
  const out = new Map<string, Val>();
  let ok = true;
  const fail = (loc: Loc, message: string) => {
    problems.error(loc, message);
    ok = false;
  };
  for (const e of given?.entries.values() ?? []) {
    if (!specs.some((s) => s.name === e.key)) fail(e.keyLoc, `\`${e.key}\` input: unknown input; ${file} declares ${specs.length ? specs.map((s) => s.name).join(', ') : 'no inputs'} in spec:inputs`);
  }
  for (const s of specs) {
    const g = given?.entries.get(s.name);
    const value = g?.value ?? s.default;
    const loc = g?.value.loc ?? at;
    if (!value) {
      fail(at, `\`${s.name}\` input: required value has not been provided.`);
      continue;
    }
    const typeOk =
      (s.type === 'string' && value.t === 'scalar' && typeof value.value === 'string') ||
      (s.type === 'number' && value.t === 'scalar' && typeof value.value === 'number') ||
      (s.type === 'boolean' && value.t === 'scalar' && typeof value.value === 'boolean') ||
      (s.type === 'array' && value.t === 'seq');
    if (!typeOk) {
      fail(loc, `\`${s.name}\` input: provided value is not ${s.type === 'array' ? 'an array' : `a ${s.type}`}.`);
      continue;
    }
    if (s.options) {
      const allowed = s.options.map((o) => JSON.stringify(toPlain(o)));
      const values = value.t === 'seq' ? value.items : [value];
      const bad = values.find((x) => !allowed.includes(JSON.stringify(toPlain(x))));
      if (bad) {
        fail(loc, `\`${s.name}\` input: \`${plainText(bad)}\` cannot be used because it is not in the list of allowed options.`);
        continue;
      }
    }
    if (s.regex) {
      if (!s.regex.re) {
        fail(s.loc, `\`${s.name}\` input: regex \`${s.regex.source}\` is not a valid regular expression.`);
        continue;
      }
      const text = plainText(value);
      if (!s.regex.re.test(text)) {
        fail(loc, `\`${s.name}\` input: \`${text}\` does not match required regex: ${s.regex.source}.`);
        continue;
      }
    }
    out.set(s.name, value);
  }
  return ok ? out : null;
}

/** An input value as text inside a string: scalars as written, lists and mappings as compact JSON. */
function plainText(v: Val): string {
  if (v.t === 'scalar') return v.value === null ? '' : String(v.value);
  return JSON.stringify(toPlain(v));
}

const BLOCK = /\$\[\[\s*(.*?)\s*\]\]/g;

/** `$[[ matrix.NAME ]]` belongs to needs:parallel:matrix (job.ts), resolved per job instance: inputs leave it alone. */
function isMatrixBlock(inner: string): boolean {
  return inner.split('|')[0].trim().split('.')[0] === 'matrix';
}

/**
 * Replaces `$[[ inputs.x ]]` in every string of `body` (keys included). A string that is exactly one block takes
 * the input's own type (a list input becomes a list); inside a longer string the value is written as text.
 */
export function interpolate(body: Val, inputs: Map<string, Val>, problems: Problems, expandVars: (s: string, loc: Loc) => string): Val {
  const one = (inner: string, loc: Loc): Val | null => {
    const parts = inner.split('|').map((p) => p.trim());
    const m = /^inputs\.([A-Za-z0-9_-]+)$/.exec(parts[0]);
    if (!m) {
      problems.error(loc, `unknown interpolation provided: \`${parts[0]}\` (use $[[ inputs.name ]])`);
      return null;
    }
    const v = inputs.get(m[1]);
    if (!v) {
      problems.error(loc, `unknown interpolation key: \`${m[1]}\`.`);
      return null;
    }
    const fns = parts.slice(1);
    if (fns.length > MAX_FUNCTIONS) {
      problems.error(loc, `too many functions in interpolation block. (at most ${MAX_FUNCTIONS})`);
      return null;
    }
    let text: string | null = null;
    for (const fn of fns) {
      text ??= plainText(v);
      const call = /^([a-z_]+)(?:\((.*)\))?$/.exec(fn);
      const args = call?.[2]?.split(',').map((a) => a.trim()) ?? [];
      if (call?.[1] === 'expand_vars') text = expandVars(text, loc);
      else if (call?.[1] === 'posix_escape') text = text.replace(/[^A-Za-z0-9_\-.,:/@\n]/g, '\\$&');
      else if (call?.[1] === 'truncate' && args.length === 2 && args.every((a) => /^\d+$/.test(a))) text = text.substr(Number(args[0]), Number(args[1]));
      else {
        problems.error(loc, `unknown interpolation function: \`${fn}\` (GitLab has expand_vars, truncate(offset,length) and posix_escape)`);
        return null;
      }
    }
    return text === null ? v : { t: 'scalar', loc, value: text };
  };
  const str = (s: string, loc: Loc): Val => {
    const whole = /^\$\[\[\s*(.*?)\s*\]\]$/.exec(s);
    if (whole && !whole[1].includes(']]') && !isMatrixBlock(whole[1])) {
      const v = one(whole[1], loc);
      return v ? (v.t === 'scalar' ? { ...v, loc } : fromPlain(toPlain(v), loc)) : { t: 'scalar', loc, value: s };
    }
    return { t: 'scalar', loc, value: replaceIn(s, loc) };
  };
  const replaceIn = (s: string, loc: Loc): string =>
    s.replace(BLOCK, (m, inner: string) => {
      if (isMatrixBlock(inner)) return m;
      const v = one(inner, loc);
      return v ? plainText(v) : m;
    });
  const walk = (v: Val): Val => {
    switch (v.t) {
      case 'scalar':
        return typeof v.value === 'string' && v.value.includes('$[[') ? str(v.value, v.loc) : v;
      case 'seq':
        return { ...v, items: v.items.map(walk) };
      case 'ref':
        return v;
      case 'map': {
        const entries = new Map<string, Entry>();
        for (const e of v.entries.values()) {
          const key = e.key.includes('$[[') ? replaceIn(e.key, e.keyLoc) : e.key;
          entries.set(key, { key, keyLoc: e.keyLoc, value: walk(e.value) });
        }
        return { ...v, entries };
      }
    }
  };
  return walk(body);
}
