// CI/CD variables as GitLab treats them: `$VAR` / `${VAR}` expansion in values, names, durations, slugs.
import { parseDuration } from '../duration';
import { sha256Hex } from '../sha256';

export const VARIABLE_NAME = /^[A-Za-z0-9_]+$/;

/** A variable as declared in the file (global, job, rules, matrix). */
export interface VarDecl {
  name: string;
  value: string;
  /** false: `expand: false`, the value is used as written. */
  expand: boolean;
  /** Set for a pipeline variable prefilled in GitLab's "Run pipeline" form (top-level `variables:` only). */
  description?: string;
  /** The values offered for a prefilled variable. */
  options?: string[];
}

/**
 * Replaces `$VAR` and `${VAR}` with values from `lookup` (unknown variables become empty, as in a shell);
 * `$$` stands for a literal `$`. The result is data: it is never handed to a shell as script text.
 */
export function expandText(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/\$\$|\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    if (m === '$$') return '$';
    return lookup(braced ?? bare ?? '') ?? '';
  });
}

/** Like expandText, but unknown variables are left as written (for values shown before a run, e.g. include paths). */
export function expandKnown(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : m;
  });
}

/** Names of the variables a text refers to. */
export function referencedVariables(text: string): string[] {
  return [...text.matchAll(/\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? m[2]);
}

/**
 * The final values of a job's variables. `layers` go from lowest to highest precedence; a value marked
 * expandable is expanded against the final set (recursively, with a guard against cycles), as the runner does.
 */
export function resolveVariables(layers: readonly { vars: Record<string, string>; expand: boolean | Set<string> }[]): Record<string, string> {
  const raw = new Map<string, { value: string; expand: boolean }>();
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer.vars)) {
      const expand = layer.expand instanceof Set ? layer.expand.has(k) : layer.expand;
      raw.set(k, { value: v, expand });
    }
  }
  const done = new Map<string, string>();
  const active = new Set<string>();
  const value = (name: string): string | undefined => {
    const d = done.get(name);
    if (d !== undefined) return d;
    const r = raw.get(name);
    if (!r) return undefined;
    if (!r.expand || !r.value.includes('$')) {
      done.set(name, r.value);
      return r.value;
    }
    if (active.has(name)) return r.value; // a cycle: leave the value as written
    active.add(name);
    const v = expandText(r.value, value);
    active.delete(name);
    done.set(name, v);
    return v;
  };
  const out: Record<string, string> = {};
  for (const name of raw.keys()) out[name] = value(name) ?? '';
  return out;
}

/** GitLab's slug: lower case, runs of other characters as `-`, at most 63 characters, no `-` at either end. */
export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

/**
 * CI_ENVIRONMENT_SLUG exactly as GitLab makes it (Gitlab::Slug::Environment): lower case, every other character a
 * `-`, `env-` in front unless it starts with a letter, runs of `-` squeezed. When that is longer than 24 characters
 * or differs from the name, it is cut to 17 characters and gets `-` and a 6-character suffix: the last 6 base-36
 * digits of the name's SHA-256. Otherwise a trailing `-` is dropped.
 */
export function environmentSlug(name: string): string {
  let s = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
  if (!/^[a-z]/.test(s)) s = `env-${s}`;
  s = s.replace(/-+/g, '-');
  if (s.length <= 24 && s === name) return s.replace(/-$/, '');
  s = s.slice(0, 17);
  if (!s.endsWith('-')) s += '-';
  return s + BigInt(`0x${sha256Hex(name)}`).toString(36).slice(-6);
}

/** CI_ENVIRONMENT_TIER when `deployment_tier:` is not given: GitLab's guess from the name (Environment#guess_tier). */
export function environmentTier(name: string): string {
  if (/dev|review|trunk/i.test(name)) return 'development';
  if (/test|tst|int|ac(ce|)pt|qa|qc|control|quality/i.test(name)) return 'testing';
  if (/st(a|)g|mod(e|)l|pre|demo|non/i.test(name)) return 'staging';
  if (/pr(o|)d|live/i.test(name)) return 'production';
  return 'other';
}

/** GitLab's unit words, as the units parseDuration reads (weeks become days). */
const UNITS: [RegExp, string, number][] = [
  [/^(ms|msecs?|milliseconds?)$/, 'ms', 1],
  [/^(s|secs?|seconds?)$/, 's', 1],
  [/^(m|mins?|minutes?)$/, 'm', 1],
  [/^(h|hrs?|hours?)$/, 'h', 1],
  [/^(d|days?)$/, 'd', 1],
  [/^(w|wks?|weeks?)$/, 'd', 7],
];

/** GitLab durations: `3600`, `1h 30m`, `2 hours 10 minutes`, `1 day`, `30min`. Milliseconds, or null. */
export function parseGitlabDuration(v: string | number): number | null {
  if (typeof v === 'number') return parseDuration(v);
  let ok = true;
  const short = v
    .toLowerCase()
    .replace(/\band\b|,/g, ' ')
    .replace(/(\d+(?:\.\d+)?)\s*([a-z]+)/g, (_, n: string, word: string) => {
      const unit = UNITS.find(([re]) => re.test(word));
      if (!unit) ok = false;
      return unit ? `${Number(n) * unit[2]}${unit[1]}` : '';
    });
  return ok ? parseDuration(short) : null;
}
