// The one YAML reader: text → parsed documents with positions. It refuses what is not a pipeline file before
// parsing (too large, binary, not UTF-8), parses with the yaml library (anchors, aliases and `<<:` merges on),
// turns offsets into line and column, library messages into ours, and bounds what aliases may expand into.
// delivery.yml and GitHub workflows read it through YamlFile (one document, yaml nodes); GitLab CI through
// parseGitlabYaml (a spec: header and a body, converted into located values).
import { parseAllDocuments, parseDocument, type Document, type Tags } from 'yaml';

/** Files above this size are refused before parsing (a 20 MB YAML file is a mistake, not a pipeline). */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;

/** Values produced by expanding aliases, at most (guards against "billion laughs" documents). */
export const MAX_ALIAS_VALUES = 200_000;

export interface Position {
  line: number;
  column: number;
}

export interface Span extends Position {
  endLine: number;
  endColumn: number;
}

/** An error or warning of the yaml library, at offsets [start, end] of the text. */
export interface YamlDiagnostic {
  severity: 'error' | 'warning';
  message: string;
  pos: [number, number];
}

export interface YamlSourceOptions {
  /** Several documents separated by `---` (default: one). */
  multi?: boolean;
  /** A key repeated in a mapping is an error (else a library warning the reader may handle). */
  uniqueKeys: boolean;
  customTags?: Tags;
}

export class YamlSource {
  /** Why the text was not parsed at all (then there are no documents), at an offset. */
  readonly refused: { offset: number; message: string } | null = null;
  readonly documents: Document.Parsed[] = [];
  /** The library's problems, document by document: its errors, then its warnings. */
  readonly diagnostics: YamlDiagnostic[] = [];
  private lineStarts: number[] | null = null;

  constructor(
    readonly text: string,
    opts: YamlSourceOptions,
  ) {
    this.refused = refusal(text);
    if (this.refused) return;
    const options = { prettyErrors: false, uniqueKeys: opts.uniqueKeys, merge: true, strict: true, ...(opts.customTags ? { customTags: opts.customTags } : {}) };
    // An empty stream (only comments) is an empty list of documents.
    this.documents = opts.multi ? [...parseAllDocuments(text, options)] : [parseDocument(text, options)];
    for (const d of this.documents) {
      for (const e of d.errors) this.diagnostics.push({ severity: 'error', message: yamlMessage(e.message), pos: [e.pos[0], e.pos[1]] });
      for (const w of d.warnings) this.diagnostics.push({ severity: 'warning', message: yamlMessage(w.message), pos: [w.pos[0], w.pos[1]] });
    }
  }

  get hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  /** Line and column (1-based) of an offset, clamped to the text. */
  pos(offset: number): Position {
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

  /** From `start` to `end` (never before start); an empty span still covers one character. */
  span(start: number, end = start): Span {
    const a = this.pos(start);
    const b = this.pos(Math.max(start, end));
    return { line: a.line, column: a.column, endLine: b.line, endColumn: spanEnd(a, b) };
  }
}

/** The end column of a problem from `start` to `end`: at least one character wide. */
export function spanEnd(start: Position, end: Position): number {
  return end.line === start.line && end.column <= start.column ? start.column + 1 : end.column;
}

function refusal(text: string): { offset: number; message: string } | null {
  if (text.length > MAX_CONFIG_BYTES) return { offset: 0, message: `file is too large (${Math.round(text.length / 1024)} KB; the limit is ${MAX_CONFIG_BYTES / 1024} KB)` };
  if (text.includes('\u0000')) return { offset: 0, message: 'file is binary (contains NUL bytes), not YAML' };
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) return { offset: bad, message: 'file is not valid UTF-8' };
  return null;
}

function yamlMessage(m: string): string {
  // The yaml library appends " at line X, column Y" (we give the position separately) and a code frame.
  return m.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').trim();
}

/**
 * Counts the values a reader produces while following aliases; past MAX_ALIAS_VALUES it stops expanding.
 * `take()` says 'exceeded' once (report it there), then 'spent'.
 */
export class AliasBudget {
  static readonly message = 'too many values: the file expands its aliases into more than 200,000 values';
  private left = MAX_ALIAS_VALUES;

  take(): 'ok' | 'exceeded' | 'spent' {
    const left = --this.left;
    return left > 0 ? 'ok' : left === 0 ? 'exceeded' : 'spent';
  }

  /** More values were asked for than the limit allows: what was read is incomplete. */
  get overdrawn(): boolean {
    return this.left < 0;
  }
}
