// Typed, located reading of YAML mappings: each accessor reports a problem at the offending node and returns
// undefined, so validation goes on and the user gets every problem of a file at once.
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { describe, keyOf, type YamlFile } from './yamlFile';
import { MAX_DURATION_MS, parseDuration } from '../duration';

export class MapReader {
  private readonly pairs = new Map<string, Pair>();

  constructor(
    readonly f: YamlFile,
    readonly node: YAMLMap,
    /** What the mapping is, for messages: `job "build"`. */
    readonly what: string,
    known: readonly string[] | null,
  ) {
    for (const pair of node.items as Pair[]) {
      if (!isScalar(pair.key)) {
        f.error(pair.key as Node, `${what}: keys must be plain strings`);
        continue;
      }
      const key = keyOf(pair);
      this.pairs.set(key, pair);
      if (known && !known.includes(key)) {
        const hint = suggest(key, known);
        f.error(pair.key as Node, `${what}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    }
  }

  static from(f: YamlFile, node: unknown, what: string, known: readonly string[] | null): MapReader | undefined {
    if (!isMap(node)) {
      f.error(node as Node, `${what} must be a mapping, not ${describe(node)}`);
      return undefined;
    }
    return new MapReader(f, node, what, known);
  }

  has(key: string): boolean {
    return this.pairs.has(key);
  }

  keys(): string[] {
    return [...this.pairs.keys()];
  }

  pair(key: string): Pair | undefined {
    return this.pairs.get(key);
  }

  value(key: string): Node | undefined {
    return this.pairs.get(key)?.value as Node | undefined;
  }

  /** The node to point at for this key: its value if present, else the key, else the mapping. */
  at(key: string): Node | Pair {
    return this.value(key) ?? this.pairs.get(key) ?? this.node;
  }

  required(key: string): boolean {
    if (this.pairs.has(key)) return true;
    this.f.error(this.node, `${this.what}: missing required key "${key}"`);
    return false;
  }

  string(key: string, opts: { allowNumbers?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const n = this.value(key);
    if (n === undefined) return undefined;
    if (isScalar(n) && typeof n.value === 'string') {
      if (opts.nonEmpty && n.value.trim() === '') {
        this.f.error(n, `${this.what}: "${key}" must not be empty`);
        return undefined;
      }
      return n.value;
    }
    if (opts.allowNumbers && isScalar(n) && (typeof n.value === 'number' || typeof n.value === 'boolean')) {
      return String(n.value);
    }
    this.f.error(n ?? this.pair(key), `${this.what}: "${key}" must be a string, not ${describe(n)}`);
    return undefined;
  }

  bool(key: string): boolean | undefined {
    const n = this.value(key);
    if (n === undefined) return undefined;
    if (isScalar(n) && typeof n.value === 'boolean') return n.value;
    this.f.error(n ?? this.pair(key), `${this.what}: "${key}" must be true or false, not ${describe(n)}`);
    return undefined;
  }

  int(key: string, min: number, max: number): number | undefined {
    const n = this.value(key);
    if (n === undefined) return undefined;
    if (isScalar(n) && typeof n.value === 'number' && Number.isInteger(n.value) && n.value >= min && n.value <= max) {
      return n.value;
    }
    this.f.error(n ?? this.pair(key), `${this.what}: "${key}" must be a whole number from ${min} to ${max}, not ${describe(n)}`);
    return undefined;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const s = this.string(key);
    if (s === undefined) return undefined;
    if ((allowed as readonly string[]).includes(s)) return s as T;
    this.f.error(this.value(key), `${this.what}: "${key}" must be one of ${allowed.join(', ')}, not "${s}"`);
    return undefined;
  }

  /** A string or a list of strings (a single string becomes a one-element list). */
  stringList(key: string, opts: { single?: boolean } = { single: true }): string[] | undefined {
    const n = this.value(key);
    if (n === undefined) return undefined;
    if (opts.single && isScalar(n) && typeof n.value === 'string') return [n.value];
    if (!isSeq(n)) {
      this.f.error(n ?? this.pair(key), `${this.what}: "${key}" must be a list of strings, not ${describe(n)}`);
      return undefined;
    }
    const out: string[] = [];
    for (const item of n.items as Node[]) {
      if (isScalar(item) && typeof item.value === 'string') out.push(item.value);
      else this.f.error(item, `${this.what}: "${key}" must contain only strings, not ${describe(item)}`);
    }
    return out;
  }

  /** A mapping of names to scalar values (numbers and booleans are turned into strings, as CI systems do). */
  stringMap(key: string): Record<string, string> | undefined {
    const n = this.value(key);
    if (n === undefined) return undefined;
    if (!isMap(n)) {
      this.f.error(n ?? this.pair(key), `${this.what}: "${key}" must be a mapping of names to values, not ${describe(n)}`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const pair of n.items as Pair[]) {
      const name = keyOf(pair);
      const v = pair.value as Node | null;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        this.f.error(pair.key as Node, `${this.what}: "${name}" is not a valid environment variable name`);
        continue;
      }
      if (isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean')) {
        out[name] = String(v.value);
      } else if (isScalar(v) && v.value === null) {
        out[name] = '';
      } else {
        this.f.error(v ?? pair, `${this.what}: "${key}.${name}" must be a string, number or boolean, not ${describe(v)}`);
      }
    }
    return out;
  }

  /** `10m`, `1h30m`, `45s`, `500ms`, or a number of seconds; returns milliseconds. */
  duration(key: string): number | undefined {
    const n = this.value(key);
    if (n === undefined) return undefined;
    if (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number')) {
      const ms = parseDuration(n.value);
      if (ms !== null && ms > MAX_DURATION_MS) {
        this.f.error(n, `${this.what}: "${key}" must be at most 24 days, not ${describe(n)}`);
        return undefined;
      }
      if (ms !== null) return ms;
    }
    this.f.error(n ?? this.pair(key), `${this.what}: "${key}" must be a duration such as 30s, 10m or 1h30m, not ${describe(n)}`);
    return undefined;
  }
}

/** The closest known key, when it is close enough to be a likely typo. */
export function suggest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
