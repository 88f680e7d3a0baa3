// Problems in a job's output: matchers run over its lines as they come (streaming: a multi-line pattern keeps only
// what its earlier lines matched), paths resolved against where the job ran and mapped back to the user's folder.
// Memory is bounded: a problem's text is capped, and a job keeps at most MAX_PROBLEMS problems.
import * as path from 'node:path';
import type { CompiledMatcher, CompiledPattern, MatcherSeverity } from './matchers';

export type ProblemSeverity = MatcherSeverity | 'hint';

export interface LogProblem {
  owner: string;
  source: string;
  /** Absolute path in the user's folder (a job's own workspace mapped back), or as matched when it cannot be placed. */
  file: string;
  /** 1-based; column null: the whole line. */
  line: number;
  column: number | null;
  endLine: number | null;
  endColumn: number | null;
  severity: ProblemSeverity;
  message: string;
  code: string | null;
}

/**
 * Where a job ran, for its relative paths: `cwd` and `root` (its ${cwd} and ${workspaceFolder}) as the job saw them,
 * and `folder`, the user's folder that `root` stands for (the same unless the job ran in a workspace of its own).
 */
export interface JobPlace {
  cwd: string;
  root: string;
  folder: string;
}

/** A job keeps at most this many problems (later ones are counted, not kept). */
export const MAX_PROBLEMS = 5000;
const MAX_MESSAGE = 2000;
/** Lines longer than this are matched on their head (a pattern runs on every line: its cost stays per line bounded). */
const MAX_MATCHED_LINE = 4096;
const ANSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

interface Partial {
  file?: string;
  location?: string;
  line?: string;
  column?: string;
  endLine?: string;
  endColumn?: string;
  severity?: string;
  code?: string;
  message?: string;
}

const FIELDS = ['file', 'location', 'line', 'column', 'endLine', 'endColumn', 'severity', 'code', 'message'] as const;

/** One matcher's progress through its patterns. */
class MatcherState {
  /** The next pattern to match (0: none matched yet). */
  private next = 0;
  /** What the earlier patterns matched; for a loop, what the lines before it matched. */
  private data: Partial = {};

  constructor(readonly matcher: CompiledMatcher) {}

  /** The problem this line completes, if any. */
  feed(text: string): Partial | null {
    const patterns = this.matcher.patterns;
    if (this.next > 0) {
      const p = patterns[this.next];
      const m = p.regexp.exec(text);
      if (m) {
        const data = fill({ ...this.data }, p, m);
        if (this.next < patterns.length - 1) {
          this.data = data;
          this.next++;
          return null;
        }
        if (!p.loop) this.reset();
        return data;
      }
      this.reset(); // the line may start a new problem
    }
    const m = patterns[0].regexp.exec(text);
    if (!m) return null;
    const data = fill({}, patterns[0], m);
    if (patterns.length === 1) return data;
    this.data = data;
    this.next = 1;
    return null;
  }

  private reset(): void {
    this.next = 0;
    this.data = {};
  }
}

function fill(data: Partial, p: CompiledPattern, m: RegExpExecArray): Partial {
  for (const f of FIELDS) {
    const g = p[f];
    if (g === undefined) continue;
    const v = m[g];
    if (v !== undefined && (f !== 'message' || v !== '')) data[f] = f === 'file' || f === 'message' ? v.trim() : v;
  }
  return data;
}

/** Scans one job's output with its matchers. */
export class ProblemScanner {
  private readonly states: MatcherState[];
  /** Problems found, in order (at most MAX_PROBLEMS). */
  problems: LogProblem[] = [];
  /** Problems found beyond MAX_PROBLEMS. */
  dropped = 0;

  constructor(
    matchers: readonly CompiledMatcher[],
    /** Where the job ran (its paths are resolved against it). */
    readonly place: JobPlace,
  ) {
    this.states = matchers.map((m) => new MatcherState(m));
  }

  get empty(): boolean {
    return this.states.length === 0;
  }

  /** Forgets what was found (the job is tried again), and where multi-line patterns were. */
  restart(): void {
    this.problems = [];
    this.dropped = 0;
    for (let i = 0; i < this.states.length; i++) this.states[i] = new MatcherState(this.states[i].matcher);
  }

  /** Adds a matcher (GitHub's `::add-matcher::`); one of the same owner is replaced. */
  add(matcher: CompiledMatcher): void {
    this.remove(matcher.owner);
    this.states.push(new MatcherState(matcher));
  }

  /** Removes the matchers of an owner (GitHub's `::remove-matcher owner=…::`). */
  remove(owner: string): void {
    for (let i = this.states.length - 1; i >= 0; i--) if (this.states[i].matcher.owner === owner) this.states.splice(i, 1);
  }

  /** One line of output (without its newline); returns how many problems it completed. */
  line(raw: string): number {
    let text = raw.length > MAX_MATCHED_LINE ? raw.slice(0, MAX_MATCHED_LINE) : raw;
    // Colours (a compiler that thinks it writes to a terminal) are not part of what a pattern matches.
    if (text.includes('\x1b')) text = text.replace(ANSI, '');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    let found = 0;
    for (const s of this.states) {
      const data = s.feed(text);
      if (!data) continue;
      found++;
      // Beyond the cap a problem is counted, not made (no path resolved, no text copied).
      if (this.problems.length >= MAX_PROBLEMS) this.dropped++;
      else {
        const p = toProblem(s.matcher, data, this.place);
        if (p) this.problems.push(p);
        else found--;
      }
    }
    return found;
  }

  /** A problem found another way (a GitHub `::error file=…::` annotation). */
  push(p: LogProblem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
    else this.dropped++;
  }
}

function toProblem(m: CompiledMatcher, d: Partial, place: JobPlace): LogProblem | null {
  if (d.file === undefined || d.file === '') return null;
  const message = d.message ?? '';
  const pattern = m.patterns[0];
  let line = 1;
  let column: number | null = null;
  let endLine: number | null = null;
  let endColumn: number | null = null;
  if (pattern.kind === 'location') {
    if (d.location !== undefined) {
      const parts = d.location.split(',').map(Number);
      [line, column = null, endLine = null, endColumn = null] = parts;
    } else {
      line = Number(d.line);
      column = d.column ? Number(d.column) : null;
      endLine = d.endLine ? Number(d.endLine) : null;
      endColumn = d.endColumn ? Number(d.endColumn) : null;
    }
    if (!Number.isFinite(line) || line < 1) return null;
    if (column !== null && !(column >= 1)) column = null;
  }
  return {
    owner: m.owner,
    source: m.source,
    file: resolveProblemFile(d.file, m.fileLocation, place),
    line,
    column,
    endLine: endLine !== null && endLine >= line ? endLine : null,
    endColumn: endColumn !== null && endColumn >= 1 ? endColumn : null,
    severity: severityOf(d.severity, m.severity),
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message,
    code: d.code ?? null,
  };
}

function severityOf(text: string | undefined, fallback: MatcherSeverity | null): ProblemSeverity {
  const t = text?.toLowerCase();
  if (t) {
    if (t.includes('error') || t === 'e' || t === 'fatal') return 'error';
    if (t.startsWith('warn') || t === 'w') return 'warning';
    if (t.startsWith('info') || t === 'note' || t === 'notice' || t === 'i') return 'info';
    if (t === 'hint') return 'hint';
  }
  return fallback ?? 'error';
}

/**
 * The file a matcher named, as a path in the user's folder: made absolute as its fileLocation says (${cwd} and
 * ${workspaceFolder} as the job saw them), then, when the job ran in a workspace of its own, mapped back from it.
 */
export function resolveProblemFile(file: string, loc: CompiledMatcher['fileLocation'], place: JobPlace): string {
  const name = file.replace(/\\/g, '/');
  let abs: string;
  if (loc.kind === 'absolute' || (loc.kind === 'autoDetect' && path.isAbsolute(name))) abs = path.normalize(name);
  else {
    const base = loc.base.replace(/\$\{cwd\}/g, place.cwd).replace(/\$\{workspaceFolder\}|\$\{workspaceRoot\}/g, place.root);
    abs = path.resolve(path.isAbsolute(base) ? base : path.resolve(place.root, base), name);
  }
  return mapToFolder(abs, place);
}

/** A path in the job's own workspace as the same path in the user's folder; any other path as it is. */
export function mapToFolder(abs: string, place: Pick<JobPlace, 'root' | 'folder'>): string {
  if (place.root === place.folder) return abs;
  const rel = path.relative(place.root, abs);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return path.join(place.folder, rel);
  return abs;
}
