// Typed, located reading of GitLab mappings: each accessor reports a problem at the offending value and returns
// undefined, so reading goes on and every problem of a file is reported at once.
import { suggest } from '../config/reader';
import { describeVal, flatten, type Entry, type Loc, type MapVal, type Problems, type Val } from './yaml';
import { VARIABLE_NAME, type VarDecl } from './variables';

export class ValReader {
  constructor(
    readonly problems: Problems,
    readonly map: MapVal,
    /** What the mapping is, for messages: `job "build"`. */
    readonly what: string,
    known: readonly string[] | null,
  ) {
    if (known) {
      for (const e of map.entries.values()) {
        if (!known.includes(e.key)) {
          const hint = suggest(e.key, known);
          problems.error(e.keyLoc, `${what}: unknown key "${e.key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
        }
      }
    }
  }

  static from(problems: Problems, v: Val, what: string, known: readonly string[] | null): ValReader | undefined {
    if (v.t !== 'map') {
      problems.error(v.loc, `${what} must be a mapping, not ${describeVal(v)}`);
      return undefined;
    }
    return new ValReader(problems, v, what, known);
  }

  has(key: string): boolean {
    return this.map.entries.has(key);
  }

  entry(key: string): Entry | undefined {
    return this.map.entries.get(key);
  }

  /** The value, treating an explicit null as absent (GitLab ignores `key:` with nothing after it). */
  value(key: string): Val | undefined {
    const v = this.map.entries.get(key)?.value;
    return v && !(v.t === 'scalar' && v.value === null) ? v : undefined;
  }

  /** Where to point for this key: its value if present, else the mapping. */
  at(key: string): Loc {
    return this.map.entries.get(key)?.value.loc ?? this.map.loc;
  }

  fail(v: Val | Loc, message: string): undefined {
    this.problems.error('t' in v ? v.loc : v, `${this.what}: ${message}`);
    return undefined;
  }

  string(key: string, opts: { allowNumbers?: boolean } = {}): string | undefined {
    const v = this.value(key);
    if (!v) return undefined;
    if (v.t === 'scalar' && typeof v.value === 'string') return v.value;
    if (opts.allowNumbers && v.t === 'scalar' && (typeof v.value === 'number' || typeof v.value === 'boolean')) return String(v.value);
    return this.fail(v, `"${key}" must be a string, not ${describeVal(v)}`);
  }

  bool(key: string): boolean | undefined {
    const v = this.value(key);
    if (!v) return undefined;
    if (v.t === 'scalar' && typeof v.value === 'boolean') return v.value;
    return this.fail(v, `"${key}" must be true or false, not ${describeVal(v)}`);
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.value(key);
    if (!v) return undefined;
    if (v.t === 'scalar' && typeof v.value === 'number' && Number.isInteger(v.value) && v.value >= min && v.value <= max) return v.value;
    return this.fail(v, `"${key}" must be a whole number from ${min} to ${max}, not ${describeVal(v)}`);
  }

  /** A string or a (nested) list of strings. */
  stringList(key: string): string[] | undefined {
    const v = this.value(key);
    if (!v) return undefined;
    return readStringList(this.problems, v, `${this.what}: "${key}"`);
  }
}

/** A string or a (nested) list of strings; numbers are accepted as text. Undefined after reporting. */
export function readStringList(problems: Problems, v: Val, what: string): string[] | undefined {
  if (v.t === 'scalar' && v.value !== null) return [String(v.value)];
  if (v.t !== 'seq') {
    problems.error(v.loc, `${what} must be a string or a list of strings, not ${describeVal(v)}`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  for (const item of flatten(v).items) {
    if (item.t === 'scalar' && (typeof item.value === 'string' || typeof item.value === 'number')) out.push(String(item.value));
    else {
      problems.error(item.loc, `${what} must contain only strings, not ${describeVal(item)}`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

/**
 * `variables:` — `NAME: value` or `NAME: { value, description, expand, options }`. Numbers and booleans become
 * text; null becomes empty.
 */
export function readVariables(problems: Problems, v: Val | undefined, what: string): VarDecl[] {
  if (!v || (v.t === 'scalar' && v.value === null)) return [];
  if (v.t !== 'map') {
    problems.error(v.loc, `${what}: variables must be a mapping of names to values, not ${describeVal(v)}`);
    return [];
  }
  const out: VarDecl[] = [];
  for (const e of v.entries.values()) {
    if (!VARIABLE_NAME.test(e.key)) {
      problems.error(e.keyLoc, `${what}: "${e.key}" is not a valid variable name (letters, digits and _ only)`);
      continue;
    }
    const x = e.value;
    if (x.t === 'scalar') {
      out.push({ name: e.key, value: x.value === null ? '' : String(x.value), expand: true });
      continue;
    }
    if (x.t === 'map') {
      const r = new ValReader(problems, x, `${what}: variable "${e.key}"`, ['value', 'description', 'expand', 'options']);
      const value = r.string('value', { allowNumbers: true }) ?? '';
      const expand = r.bool('expand') ?? true;
      const options = r.stringList('options');
      const description = r.string('description');
      out.push({ name: e.key, value, expand, ...(description !== undefined ? { description } : {}), ...(options ? { options } : {}) });
      continue;
    }
    problems.error(x.loc, `${what}: variable "${e.key}" must be a string, a number or a mapping with "value", not ${describeVal(x)}`);
  }
  return out;
}
