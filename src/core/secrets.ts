// `${secret:NAME}` in environment settings: resolved at the last moment from a secret store (VS Code
// SecretStorage; the CLI reads DELIVERY_SECRET_<NAME> from its environment), and masked as *** everywhere.

import type { PlannedJob, PlannedStep, RunPlan } from './engine/plan';

export type SecretResolver = (name: string) => Promise<string | undefined>;

const REF = /\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export class MissingSecretError extends Error {
  constructor(readonly names: string[]) {
    super(`missing secret${names.length === 1 ? '' : 's'} ${names.join(', ')}: set ${names.length === 1 ? 'it' : 'them'} with "Delivery: Set Secret" (or DELIVERY_SECRET_${names[0]} for the CLI)`);
  }
}

/** Replaces every ${secret:NAME}; throws MissingSecretError naming all the missing ones. */
export async function expandSecrets(text: string, resolve: SecretResolver, found?: Set<string>): Promise<string> {
  const names = [...new Set([...text.matchAll(REF)].map((m) => m[1]))];
  if (names.length === 0) return text;
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const n of names) {
    const v = await resolve(n);
    if (v === undefined || v === '') missing.push(n);
    else {
      values.set(n, v);
      found?.add(v);
    }
  }
  if (missing.length) throw new MissingSecretError(missing);
  return text.replace(REF, (_, n: string) => values.get(n)!);
}

/** Expands secrets in every value of a record. */
export async function expandSecretsIn(record: Record<string, string>, resolve: SecretResolver, found?: Set<string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k] = await expandSecrets(v, resolve, found);
  return out;
}

// ---- masking ----
//
// Every sink (log files, run and deploy records, the CLI's text and JSON, errors, notifications, trees, the board)
// goes through one Masker. What it masks, for each secret value:
// - the whole value, if it has at least MIN_SECRET_LENGTH characters (shorter values would mask ordinary words);
// - each line of a multi-line value (an SSH key, a certificate), trimmed, if it has at least MIN_SECRET_LINE_LENGTH
//   characters: output is often split into lines before it reaches a sink, and a tool may print a key line by line
//   (GitHub Actions masks the lines of multi-line secrets the same way);
// - the value with its whitespace runs collapsed to one space (messages show excerpts of answers collapsed that way);
// - the value as it appears inside a JSON string (quotes, backslashes, newlines escaped).
// Overlapping occurrences (two secrets sharing characters) are masked as one run, so no piece of either shows.

/** Shortest secret value masked (whole): shorter ones would turn ordinary words into ***. */
export const MIN_SECRET_LENGTH = 3;
/** Shortest line of a multi-line secret masked on its own; shorter lines ("-----", "==") are left alone. */
export const MIN_SECRET_LINE_LENGTH = 4;
export const MASK = '***';

/** The strings a secret value is masked as (see above). */
export function maskedForms(value: string): string[] {
  const forms = new Set<string>();
  if (value.length >= MIN_SECRET_LENGTH) forms.add(value);
  else return [];
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n|\r/)) {
      const t = line.trim();
      if (t.length >= MIN_SECRET_LINE_LENGTH) forms.add(t);
    }
  }
  const collapsed = value.replace(/\s+/g, ' ').trim();
  if (collapsed.length >= MIN_SECRET_LENGTH) forms.add(collapsed);
  for (const f of [...forms]) {
    const json = JSON.stringify(f).slice(1, -1);
    if (json !== f) forms.add(json);
  }
  return [...forms];
}

/**
 * The set of secret values to mask, and the one place that masks them. Values can be added as they become known
 * (a secret read from the keychain on first use); masking after that covers them.
 */
export class Masker {
  private readonly values = new Set<string>();
  private forms: string[] = [];

  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  /** Its values. Also what `with` reads from a Masker of another bundle (the lazily loaded features bundle has its own class, so `instanceof` fails). */
  [Symbol.iterator](): Iterator<string> {
    return this.values.values();
  }

  add(value: string | undefined | null): void {
    if (!value || this.values.has(value)) return;
    const forms = maskedForms(value);
    if (forms.length === 0) return;
    this.values.add(value);
    this.forms = [...new Set([...this.forms, ...forms])].sort((a, b) => b.length - a.length);
  }

  /** The values of both maskers (the original values, so every form is derived again). */
  with(other: Masker | Iterable<string> | undefined): Masker {
    const m = new Masker(this.values);
    if (other instanceof Masker) for (const v of other.values) m.add(v);
    else if (other) for (const v of other) m.add(v);
    return m;
  }

  get empty(): boolean {
    return this.forms.length === 0;
  }

  /** Length of the longest form: a streaming masker never holds back more than this minus one. */
  get longest(): number {
    return this.forms.length ? this.forms[0].length : 0;
  }

  /** `text` with every occurrence of a secret replaced by ***. */
  mask = (text: string): string => {
    if (this.forms.length === 0 || text.length === 0) return text;
    const runs = this.runs(text);
    return runs.length === 0 ? text : replaceRuns(text, runs, 0, text.length);
  };

  /** A masker for a stream of text that arrives in arbitrary pieces (see StreamMasker). */
  stream(): StreamMasker {
    return new StreamMasker(this);
  }

  /** Every stretch of `text` covered by an occurrence of some form, merged, in order. @internal */
  runs(text: string): [number, number][] {
    const hits: [number, number][] = [];
    for (const f of this.forms) {
      for (let i = text.indexOf(f); i >= 0; i = text.indexOf(f, i + 1)) hits.push([i, i + f.length]);
    }
    if (hits.length === 0) return hits;
    hits.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [hits[0]];
    for (const [s, e] of hits.slice(1)) {
      const last = merged[merged.length - 1];
      // Overlapping runs are one (no piece of either shows); adjacent ones stay two, as a stream masks them.
      if (s < last[1]) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    return merged;
  }

  /** The longest suffix of `text` that is a proper prefix of some form (it may be the start of a secret). @internal */
  pendingSuffix(text: string): number {
    let best = 0;
    for (const f of this.forms) {
      const from = Math.max(0, text.length - f.length + 1);
      for (let i = from; i < text.length; i++) {
        if (text.length - i <= best) break;
        if (text.charCodeAt(i) === f.charCodeAt(0) && f.startsWith(text.slice(i))) {
          best = text.length - i;
          break;
        }
      }
    }
    return best;
  }
}

function replaceRuns(text: string, runs: readonly [number, number][], from: number, to: number): string {
  let out = '';
  let at = from;
  for (const [s, e] of runs) {
    if (e <= from || s >= to) continue;
    out += text.slice(at, s) + MASK;
    at = e;
  }
  return out + text.slice(at, to);
}

/** More than this held back (a chain of overlapping secrets that never ends) is let out, masked as far as known. */
const MAX_HELD = 1024 * 1024;

/**
 * Masks a stream before it is split into lines or cut into pieces, so that a secret written in two pieces (two
 * writes, a pipe's chunk boundary) is still masked. It holds back only a tail that could be the start of a secret
 * (at most the longest form minus one character) until the next piece, or the end, decides.
 */
export class StreamMasker {
  private held = '';

  constructor(private readonly masker: Masker) {}

  /** The text that can be let out now (masked); the rest is kept for the next push or end(). */
  push(chunk: string): string {
    const text = this.held + chunk;
    if (this.masker.empty) {
      this.held = '';
      return text;
    }
    const runs = this.masker.runs(text);
    let cut = text.length - this.masker.pendingSuffix(text);
    // A secret already seen in full that reaches past the cut is kept whole for the next round.
    for (const [s, e] of runs) if (s < cut && e > cut) cut = s;
    if (cut === 0 && text.length > MAX_HELD) cut = text.length;
    this.held = text.slice(cut);
    return replaceRuns(text, runs, 0, cut);
  }

  /** What is still held, masked: the stream ended. */
  end(): string {
    const rest = this.held;
    this.held = '';
    return this.masker.mask(rest);
  }
}

/** A masking function for a set of values (see Masker). */
export function redactor(values: Iterable<string>): (text: string) => string {
  return new Masker(values).mask;
}

/** The CLI's resolver: DELIVERY_SECRET_<NAME> from the environment. */
export function envSecretResolver(env: Record<string, string | undefined>): SecretResolver {
  return async (name) => env[`DELIVERY_SECRET_${name}`];
}

/** A secret's name as GitHub allows it: letters, digits and `_`, not starting with a digit. */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A dotenv file of secrets (`delivery run --secret-file`): `NAME=VALUE` lines, `#` comments and blank lines,
 * an optional `export ` before the name. A value is bare (trimmed; ` #` starts a comment), in '…' (as written)
 * or in "…" (`\n`, `\t`, `\"`, `\\` escapes); a quoted value may span lines (a key, a certificate). A line that is
 * none of these is an error naming the file and line.
 */
export function parseDotenv(text: string, file: string): { values: Record<string, string> } | { error: string } {
  const values: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i];
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = /^\s*(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) return { error: `${file}:${lineNo}: expected NAME=VALUE, a # comment or a blank line` };
    const [, name, rest] = m;
    if (!SECRET_NAME_PATTERN.test(name)) return { error: `${file}:${lineNo}: "${name}" is not a secret name (letters, digits and _, not starting with a digit)` };
    const quote = rest[0];
    if (quote !== '"' && quote !== "'") {
      values[name] = rest.replace(/\s+#.*$/, '').trim();
      continue;
    }
    // A quoted value: up to the closing quote, on this line or a later one.
    let body = rest.slice(1);
    let end = closingQuote(body, quote);
    while (end < 0 && i + 1 < lines.length) {
      body += `\n${lines[++i]}`;
      end = closingQuote(body, quote);
    }
    if (end < 0) return { error: `${file}:${lineNo}: the value of ${name} opens a ${quote} quote that is never closed` };
    const after = body.slice(end + 1).trim();
    if (after !== '' && !after.startsWith('#')) return { error: `${file}:${i + 1}: unexpected text after the closing quote of ${name}'s value` };
    const raw = body.slice(0, end);
    values[name] = quote === "'" ? raw : raw.replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' })[c]!);
  }
  return { values };
}

function closingQuote(body: string, quote: string): number {
  for (let j = 0; j < body.length; j++) {
    if (quote === '"' && body[j] === '\\') j++;
    else if (body[j] === quote) return j;
  }
  return -1;
}

/**
 * The plan with secrets masked in its job and step names (a step's `name:` may read `secrets.*`): names go to the
 * run record, the trees and the board as they are. Jobs and steps known only later (a matrix from needs, a
 * composite action's steps) are masked when they become known.
 */
export function maskPlanNames(plan: RunPlan, masker: Masker | undefined): RunPlan {
  if (!masker || masker.empty) return plan;
  // Names made while the run goes (expanded steps and jobs) are masked by the engine.
  const step = (s: PlannedStep): PlannedStep => ({ ...s, name: masker.mask(s.name) });
  const job = (j: PlannedJob): PlannedJob => ({ ...j, name: masker.mask(j.name), steps: j.steps.map(step) });
  return { ...plan, pipelineName: masker.mask(plan.pipelineName), jobs: plan.jobs.map(job) };
}
