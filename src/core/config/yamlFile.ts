// A parsed YAML file that remembers where every node came from, so each problem has a file, line and column.
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Problem, Severity, SourceLocation } from '../../shared/model';

/** Files above this size are refused before parsing (a 20 MB YAML file is a mistake, not a pipeline). */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;

export class YamlFile {
  readonly problems: Problem[] = [];
  readonly doc: Document.Parsed | null;
  private lineStarts: number[] | null = null;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    if (text.length > MAX_CONFIG_BYTES) {
      this.doc = null;
      this.add({ line: 1, column: 1 }, `file is too large (${Math.round(text.length / 1024)} KB; the limit is ${MAX_CONFIG_BYTES / 1024} KB)`);
      return;
    }
    if (text.includes('\u0000')) {
      this.doc = null;
      this.add({ line: 1, column: 1 }, 'file is binary (contains NUL bytes), not YAML');
      return;
    }
    const bad = text.indexOf('\uFFFD');
    if (bad >= 0) {
      this.doc = null;
      this.add(this.posAt(bad), 'file is not valid UTF-8');
      return;
    }
    this.doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true, strict: true });
    for (const e of this.doc.errors) {
      const [start, end] = e.pos;
      this.add(this.posAt(start), yamlMessage(e.message), 'error', this.posAt(Math.max(start, end)));
    }
    for (const w of this.doc.warnings) {
      this.add(this.posAt(w.pos[0]), yamlMessage(w.message), 'warning');
    }
  }

  get ok(): boolean {
    return this.doc !== null && this.doc.errors.length === 0;
  }

  /** The document's root node, or null when empty or unparseable. */
  get root(): Node | null {
    return this.ok ? ((this.doc?.contents as Node | null) ?? null) : null;
  }

  posAt(offset: number): { line: number; column: number } {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    }
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - this.lineStarts[lo] + 1 };
  }

  /** Problems in file order. */
  sortedProblems(): Problem[] {
    return this.problems.sort((a, b) => a.line - b.line || a.column - b.column);
  }

  location(node: Node | Pair | null | undefined): SourceLocation {
    const range = rangeOf(node);
    const p = this.posAt(range ? range[0] : 0);
    return { file: this.file, line: p.line, column: p.column };
  }

  /** Records a problem at a node (or at a key of a pair, which reads better for "unknown key"). */
  error(node: Node | Pair | null | undefined, message: string, severity: Severity = 'error'): void {
    const range = rangeOf(node);
    const start = this.posAt(range ? range[0] : 0);
    const end = this.posAt(range ? range[1] : 0);
    this.add(start, message, severity, end);
  }

  /** Records a problem at a location found earlier (when the node is no longer at hand). */
  errorAt(loc: { line: number; column: number }, message: string, severity: Severity = 'error'): void {
    this.add({ line: loc.line, column: loc.column }, message, severity);
  }

  private add(start: { line: number; column: number }, message: string, severity: Severity = 'error', end = start): void {
    this.problems.push({
      file: this.file,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.line === start.line && end.column <= start.column ? start.column + 1 : end.column,
      severity,
      message,
    });
  }
}

function rangeOf(node: Node | Pair | null | undefined): [number, number] | null {
  if (!node) return null;
  if ('range' in node && node.range) return [node.range[0], node.range[1]];
  // A pair: point at its key.
  const key = (node as Pair).key as Node | null;
  if (key && 'range' in key && key.range) return [key.range[0], key.range[1]];
  return null;
}

function yamlMessage(m: string): string {
  // The yaml library appends " at line X, column Y" (we give the position separately) and a code frame.
  return m.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').trim();
}

/** The key of a pair as a string (non-scalar keys are reported by callers). */
export function keyOf(pair: Pair): string {
  const k = pair.key as unknown;
  if (isScalar(k)) return String(k.value);
  return String(k);
}

export function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
    return `${typeof v} ${String(v)}`;
  }
  return 'an unsupported value';
}

/** Pairs of a mapping node, or null after reporting when it is not a mapping. */
export function mapPairs(f: YamlFile, node: unknown, what: string): Pair[] | null {
  if (!isMap(node)) {
    f.error(node as Node, `${what} must be a mapping, not ${describe(node)}`);
    return null;
  }
  return (node as YAMLMap).items as Pair[];
}
