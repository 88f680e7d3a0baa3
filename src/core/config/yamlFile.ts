// A parsed YAML file (delivery.yml, a GitHub workflow) that remembers where every node came from, so each problem
// has a file, line and column. Parsing, the limits and positions are YamlSource's (yamlSource.ts).
import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Problem, Severity, SourceLocation } from '../../shared/model';
import { spanEnd, YamlSource } from './yamlSource';

export class YamlFile {
  readonly problems: Problem[] = [];
  readonly doc: Document.Parsed | null;
  private readonly source: YamlSource;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.source = new YamlSource(text, { uniqueKeys: true });
    const refused = this.source.refused;
    if (refused) {
      this.doc = null;
      this.add(this.posAt(refused.offset), refused.message);
      return;
    }
    this.doc = this.source.documents[0];
    for (const d of this.source.diagnostics) {
      const [start, end] = d.pos;
      if (d.severity === 'error') this.add(this.posAt(start), d.message, 'error', this.posAt(Math.max(start, end)));
      else this.add(this.posAt(start), d.message, 'warning');
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
    return this.source.pos(offset);
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
      endColumn: spanEnd(start, end),
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
