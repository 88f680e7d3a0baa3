// GitLab CI YAML as a tree of located values. Anchors, aliases and `<<:` merges are applied while converting,
// `!reference` tags stay as reference nodes (resolved after includes are merged), and every value remembers
// the file, line and column it came from, so problems found after merging files still point at the right place.
// Parsing, the limits and positions are YamlSource's (config/yamlSource.ts).
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import type { Problem, Severity, SourceLocation } from '../../shared/model';
import { AliasBudget, YamlSource } from '../config/yamlSource';

export interface Loc extends SourceLocation {
  endLine: number;
  endColumn: number;
}

export interface Entry {
  key: string;
  keyLoc: Loc;
  value: Val;
}

export type Scalar = string | number | boolean | null;

export type Val =
  | { t: 'map'; loc: Loc; entries: Map<string, Entry> }
  | { t: 'seq'; loc: Loc; items: Val[] }
  | { t: 'scalar'; loc: Loc; value: Scalar }
  /** `!reference [.job, key, ...]`, resolved against the merged configuration. */
  | { t: 'ref'; loc: Loc; path: string[] };

export type MapVal = Extract<Val, { t: 'map' }>;
export type SeqVal = Extract<Val, { t: 'seq' }>;
export type ScalarVal = Extract<Val, { t: 'scalar' }>;

/** Collects located problems from every file of a pipeline. */
export class Problems {
  readonly list: Problem[] = [];
  error(loc: Loc, message: string, severity: Severity = 'error'): void {
    // A template shared by several jobs would report the same mistake once per job.
    if (this.list.some((p) => p.message === message && p.file === loc.file && p.line === loc.line && p.column === loc.column)) return;
    this.list.push({ ...loc, severity, message });
  }
  warn(loc: Loc, message: string): void {
    this.error(loc, message, 'warning');
  }
  info(loc: Loc, message: string): void {
    this.error(loc, message, 'info');
  }
  get hasErrors(): boolean {
    return this.list.some((p) => p.severity === 'error');
  }
}

export function fileLoc(file: string): Loc {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 2 };
}

export function mapVal(loc: Loc, entries: Entry[] = []): MapVal {
  return { t: 'map', loc, entries: new Map(entries.map((e) => [e.key, e])) };
}

export function isMapVal(v: Val | undefined | null): v is MapVal {
  return !!v && v.t === 'map';
}

export function isNull(v: Val | undefined | null): boolean {
  return !v || (v.t === 'scalar' && v.value === null);
}

/** Short description of a value for messages. */
export function describeVal(v: Val | undefined): string {
  if (!v) return 'nothing';
  switch (v.t) {
    case 'map':
      return 'a mapping';
    case 'seq':
      return 'a list';
    case 'ref':
      return `!reference [${v.path.join(', ')}]`;
    case 'scalar':
      if (v.value === null) return 'null';
      if (typeof v.value === 'string') return `the string "${v.value.length > 40 ? v.value.slice(0, 40) + '…' : v.value}"`;
      return `${typeof v.value} ${String(v.value)}`;
  }
}

/** Plain JavaScript value of a located value (references become their text). */
export function toPlain(v: Val): unknown {
  switch (v.t) {
    case 'map':
      return Object.fromEntries([...v.entries.values()].map((e) => [e.key, toPlain(e.value)]));
    case 'seq':
      return v.items.map(toPlain);
    case 'scalar':
      return v.value;
    case 'ref':
      return `!reference [${v.path.join(', ')}]`;
  }
}

/** Converts a plain value (an input's default, a computed list) into a located value at `loc`. */
export function fromPlain(x: unknown, loc: Loc): Val {
  if (Array.isArray(x)) return { t: 'seq', loc, items: x.map((i) => fromPlain(i, loc)) };
  if (x !== null && typeof x === 'object') {
    return mapVal(loc, Object.entries(x as Record<string, unknown>).map(([key, value]) => ({ key, keyLoc: loc, value: fromPlain(value, loc) })));
  }
  if (x === null || x === undefined) return { t: 'scalar', loc, value: null };
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return { t: 'scalar', loc, value: x };
  return { t: 'scalar', loc, value: String(x) };
}

/** A `!reference` tag: kept as a sequence with the tag, turned into a reference node below. */
const referenceTag = { tag: '!reference', collection: 'seq' as const, default: false, resolve: (seq: unknown) => seq };

export interface ParsedFile {
  file: string;
  text: string;
  /** The `spec:` header document (before `---`), when the file has one. */
  header: MapVal | null;
  /** The configuration document; null when the file is empty or could not be parsed. */
  body: Val | null;
  ok: boolean;
}

/** Parses one GitLab CI file. Problems go to `problems`; `ok` is false when the file could not be read at all. */
export function parseGitlabYaml(file: string, text: string, problems: Problems): ParsedFile {
  const source = new YamlSource(text, { multi: true, uniqueKeys: false, customTags: [referenceTag] });
  const loc = (start: number, end = start): Loc => ({ file, ...source.span(start, end) });
  const out: ParsedFile = { file, text, header: null, body: null, ok: false };
  if (source.refused) {
    problems.error(loc(source.refused.offset), source.refused.message);
    return out;
  }
  const docs = source.documents;
  let failed = false;
  for (const d of source.diagnostics) {
    if (d.severity === 'error') {
      problems.error(loc(d.pos[0], d.pos[1]), d.message);
      failed = true;
    } else problems.warn(loc(d.pos[0], d.pos[1]), d.message);
  }
  if (failed) return out;
  const budget = new AliasBudget();
  const converted = docs.map((d) => (d.contents === null ? null : convert(d.contents as Node, d, loc, problems, budget)));
  if (budget.overdrawn) return out;
  if (converted.length > 2) {
    problems.error(loc(docs[2].range[0]), 'a pipeline file holds one YAML document (optionally after a spec: header document)');
    return out;
  }
  if (converted.length === 2) {
    const header = converted[0];
    if (!isMapVal(header) || !header.entries.has('spec') || header.entries.size !== 1) {
      problems.error(header?.loc ?? loc(0), 'the first of two YAML documents must be a header with only "spec:"');
      return out;
    }
    out.header = header;
    out.body = converted[1];
  } else {
    out.body = converted[0] ?? null;
  }
  if (out.body && isNull(out.body)) out.body = null;
  out.ok = true;
  return out;
}

function convert(
  node: Node,
  doc: Document.Parsed,
  loc: (start: number, end?: number) => Loc,
  problems: Problems,
  budget: AliasBudget,
  depth = 0,
): Val {
  const here = (n: Node): Loc => (n.range ? loc(n.range[0], n.range[1]) : loc(0));
  const counted = budget.take();
  if (counted === 'exceeded') problems.error(here(node), AliasBudget.message);
  if (counted !== 'ok' || depth > 200) return { t: 'scalar', loc: here(node), value: null };
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) {
      problems.error(here(node), `unknown alias *${node.source}`);
      return { t: 'scalar', loc: here(node), value: null };
    }
    return convert(target, doc, loc, problems, budget, depth + 1);
  }
  if (isScalar(node)) {
    const v = node.value;
    const value: Scalar = v === null || v === undefined ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
    if (node.tag && node.tag !== '!reference' && !node.tag.startsWith('tag:yaml.org')) {
      problems.warn(here(node), `unknown tag ${node.tag}; the value is read as plain YAML`);
    }
    if (node.tag === '!reference') problems.error(here(node), '!reference needs a list: !reference [.job, key]');
    return { t: 'scalar', loc: here(node), value };
  }
  if (isSeq(node)) {
    if (node.tag === '!reference') {
      const path: string[] = [];
      for (const item of node.items as Node[]) {
        if (isScalar(item) && typeof item.value === 'string') path.push(item.value);
        else if (isScalar(item) && typeof item.value === 'number') {
          // GitLab's reference tag takes strings only (Tags::Reference#valid?): it refuses the file, it picks no list item.
          problems.error(here(item), `!reference takes names only: GitLab refuses ${String(item.value)} (a number; a reference cannot pick an item of a list — quote it if it names a key)`);
        } else problems.error(item ? here(item) : here(node), '!reference takes a list of names: !reference [.job, key]');
      }
      if (path.length === 0) problems.error(here(node), '!reference needs at least a job name: !reference [.job, key]');
      return { t: 'ref', loc: here(node), path };
    }
    return { t: 'seq', loc: here(node), items: (node.items as (Node | null)[]).map((i) => (i ? convert(i, doc, loc, problems, budget, depth + 1) : { t: 'scalar', loc: here(node), value: null })) };
  }
  if (isMap(node)) {
    const own = new Map<string, Entry>();
    const merged = new Map<string, Entry>();
    for (const pair of node.items as Pair[]) {
      const keyNode = pair.key as Node | null;
      const keyLoc = keyNode ? here(keyNode) : here(node);
      const valueNode = pair.value as Node | null;
      if (isScalar(keyNode) && (keyNode.source === '<<' || typeof keyNode.value === 'symbol')) {
        // `<<:` merge: the sources fill in keys this mapping does not set; among sources, the first wins.
        const sources = valueNode && isSeq(valueNode) ? (valueNode.items as Node[]) : valueNode ? [valueNode] : [];
        for (const src of sources) {
          const v = convert(src, doc, loc, problems, budget, depth + 1);
          if (v.t !== 'map') {
            problems.error(v.loc, `"<<" merges mappings only, not ${describeVal(v)}`);
            continue;
          }
          for (const [k, e] of v.entries) if (!merged.has(k)) merged.set(k, e);
        }
        continue;
      }
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        problems.error(keyLoc, 'keys must be plain names, not lists or mappings');
        continue;
      }
      const key = String(keyNode.value);
      const value = valueNode ? convert(valueNode, doc, loc, problems, budget, depth + 1) : { t: 'scalar' as const, loc: keyLoc, value: null };
      if (own.has(key)) {
        // gitlab-ci-local's behaviour: the later key replaces the earlier one (anchors on the earlier one still work).
        problems.warn(keyLoc, `duplicated mapping key detected: "${key}" is defined more than once in this mapping; the last one is used`);
        own.delete(key);
      }
      own.set(key, { key, keyLoc, value });
    }
    const entries = new Map<string, Entry>();
    for (const [k, e] of merged) if (!own.has(k)) entries.set(k, e);
    for (const [k, e] of own) entries.set(k, e);
    return { t: 'map', loc: here(node), entries };
  }
  problems.error(here(node), 'unsupported YAML node');
  return { t: 'scalar', loc: here(node), value: null };
}

/**
 * Deep merge as GitLab does it for includes and `extends`: mappings merge key by key (recursively), any other
 * value of `over` replaces the one in `base`. Neither input is changed.
 */
export function deepMerge(base: MapVal, over: MapVal): MapVal {
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    const prev = entries.get(k);
    // A merged mapping (a job extended by a later file) keeps the location where it was first defined.
    if (prev && prev.value.t === 'map' && e.value.t === 'map') entries.set(k, { key: k, keyLoc: prev.keyLoc, value: deepMerge(prev.value, e.value) });
    else entries.set(k, e);
  }
  return { t: 'map', loc: over.loc, entries };
}

/**
 * Items of a list with nested lists flattened (GitLab accepts nested lists in script, rules, needs...,
 * and `!reference` produces them). Returns the depth reached, so callers can enforce GitLab's limit.
 */
export function flatten(v: Val): { items: Val[]; depth: number } {
  const items: Val[] = [];
  let max = 0;
  const walk = (x: Val, depth: number) => {
    max = Math.max(max, depth);
    if (x.t === 'seq') for (const i of x.items) walk(i, depth + 1);
    else items.push(x);
  };
  if (v.t === 'seq') walk(v, 0);
  else items.push(v);
  return { items, depth: max };
}
