// hashFiles(): the patterns as the runner reads them (its hashFiles script globs with @actions/glob): one pattern per
// line of each argument, `#` comments, `!` negations applied in order, relative patterns rooted at the workspace,
// `*` `?` `[...]` `**` with dot files matched, no braces, a pattern also matching what is below a folder it matches,
// `.` and `..` refused. The walk itself (files in the order the runner meets them, each hashed) is an adapter's;
// this module decides what to walk and what matches. Paths are absolute, with `/` separators.

/** What a path matches: nothing, only as a folder (a pattern with a trailing `/`), or as anything. */
export const enum MatchKind {
  None = 0,
  Directory = 1,
  File = 2,
  All = 3,
}

type Segment = { literal: string } | { glob: RegExp } | 'globstar';

export class HashPattern {
  private constructor(
    readonly negate: boolean,
    private readonly segments: Segment[],
    readonly trailingSeparator: boolean,
    /** The literal folder before the first wildcard, where a walk starts. */
    readonly searchPath: string,
  ) {}

  static parse(line: string, workspace: string, home: string): HashPattern {
    let text = line.trim();
    let negate = false;
    while (text.startsWith('!')) {
      negate = !negate;
      text = text.slice(1).trim();
    }
    if (!text) throw new Error(`invalid pattern '${line}': it is empty`);
    const raw = text.replace(/\/+/g, '/').split('/');
    // The runner refuses `.` (except first) and `..` segments.
    if (raw.some((s, i) => (literalOf(s) === '.' && i > 0) || literalOf(s) === '..')) {
      throw new Error(`invalid pattern '${text}': relative pathing '.' and '..' is not allowed`);
    }
    let root: string[];
    let rest: string[];
    if (text.startsWith('/')) {
      root = [''];
      rest = raw.slice(1);
    } else if (raw[0] === '.' || raw[0] === '~') {
      root = splitPath(raw[0] === '.' ? workspace : home);
      rest = raw.slice(1);
    } else {
      root = splitPath(workspace);
      rest = raw;
    }
    const trailingSeparator = rest.length > 0 && rest[rest.length - 1] === '';
    if (trailingSeparator) rest = rest.slice(0, -1);
    const segments: Segment[] = [...root.map((literal) => ({ literal })), ...rest.map(compileSegment)];
    const search: string[] = [];
    for (const s of segments) {
      if (s === 'globstar' || 'glob' in s) break;
      search.push(s.literal);
    }
    return new HashPattern(negate, segments, trailingSeparator, joinPath(search));
  }

  /** The same pattern with `/**` added: a pattern also matches what is below what it matches. */
  descendants(): HashPattern {
    return new HashPattern(this.negate, [...this.segments, 'globstar'], false, this.searchPath);
  }

  get endsWithGlobstar(): boolean {
    return this.segments[this.segments.length - 1] === 'globstar';
  }

  match(path: string): MatchKind {
    return matchFrom(this.segments, 0, splitPath(path), 0, false) ? (this.trailingSeparator ? MatchKind.Directory : MatchKind.All) : MatchKind.None;
  }

  /** Whether something below `path` may match. */
  partialMatch(path: string): boolean {
    return matchFrom(this.segments, 0, splitPath(path), 0, true);
  }
}

export interface HashFilesRequest {
  patterns: HashPattern[];
  /** Where the walk starts, in order (a folder below another one is walked with it). */
  searchPaths: string[];
  followSymbolicLinks: boolean;
}

/**
 * The arguments of hashFiles() as the runner takes them: a first argument `--follow-symbolic-links` follows links,
 * every other argument holds patterns, one a line. Throws with the runner's reason on an invalid pattern.
 */
export function hashFilesRequest(args: string[], workspace: string, home: string): HashFilesRequest {
  let followSymbolicLinks = false;
  let rest = args;
  if (rest[0] === '--follow-symbolic-links') {
    followSymbolicLinks = true;
    rest = rest.slice(1);
  }
  const lines = rest.join('\n').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const written = lines.map((l) => HashPattern.parse(l, workspace, home));
  const patterns: HashPattern[] = [];
  for (const p of written) {
    patterns.push(p);
    if (p.trailingSeparator || !p.endsWithGlobstar) patterns.push(p.descendants());
  }
  return { patterns, searchPaths: searchPaths(patterns), followSymbolicLinks };
}

/** What the patterns, in order, make of a path (a negation takes back what the patterns before it matched). */
export function matchKind(patterns: HashPattern[], path: string): MatchKind {
  let result: number = MatchKind.None;
  for (const p of patterns) {
    if (p.negate) result &= ~p.match(path);
    else result |= p.match(path);
  }
  return result as MatchKind;
}

export function partialMatch(patterns: HashPattern[], path: string): boolean {
  return patterns.some((p) => !p.negate && p.partialMatch(path));
}

function searchPaths(patterns: HashPattern[]): string[] {
  const positive = patterns.filter((p) => !p.negate);
  const candidates = new Set(positive.map((p) => p.searchPath));
  const out: string[] = [];
  for (const p of positive) {
    if (out.includes(p.searchPath)) continue;
    let dir = p.searchPath;
    let ancestor = false;
    for (let up = parentOf(dir); up !== dir; dir = up, up = parentOf(up)) {
      if (candidates.has(up)) {
        ancestor = true;
        break;
      }
    }
    if (!ancestor) out.push(p.searchPath);
  }
  return out;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function splitPath(p: string): string[] {
  const parts = p.replace(/\\/g, '/').replace(/\/+/g, '/').replace(/(.)\/$/, '$1').split('/');
  return parts.length === 2 && parts[1] === '' ? [''] : parts;
}

function joinPath(segments: string[]): string {
  if (segments.length === 0) return '/';
  const j = segments.join('/');
  return j === '' ? '/' : j;
}

function matchFrom(pat: Segment[], pi: number, item: string[], ii: number, partial: boolean): boolean {
  for (; pi < pat.length; pi++, ii++) {
    const s = pat[pi];
    if (s === 'globstar') {
      if (pi === pat.length - 1) return true;
      for (let k = ii; k <= item.length; k++) if (matchFrom(pat, pi + 1, item, k, partial)) return true;
      return false;
    }
    if (ii >= item.length) return partial;
    if ('literal' in s ? s.literal !== item[ii] : !s.glob.test(item[ii])) return false;
  }
  return ii === item.length;
}

/** A segment's literal text (escapes and one-character sets resolved), or '' when it has wildcards. */
function literalOf(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\' && i + 1 < segment.length) {
      out += segment[++i];
      continue;
    }
    if (c === '*' || c === '?') return '';
    if (c === '[') {
      const set = charSet(segment, i);
      if (set) {
        if (set.chars.length > 1 || set.negated) return '';
        out += set.chars;
        i = set.end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function compileSegment(segment: string): Segment {
  if (segment === '**') return 'globstar';
  const literal = literalOf(segment);
  if (literal !== '' || segment === '') return { literal };
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\' && i + 1 < segment.length) re += escapeRe(segment[++i]);
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' && charSet(segment, i)) {
      const set = charSet(segment, i)!;
      re += `[${set.negated ? '^' : ''}${set.body}]`;
      i = set.end;
    } else re += escapeRe(c);
  }
  return { glob: new RegExp(`^${re}$`) };
}

/** A `[...]` set starting at `i`: its characters (for literals), its regexp body, and where it ends; null when unclosed. */
function charSet(segment: string, i: number): { chars: string; body: string; negated: boolean; end: number } | null {
  let j = i + 1;
  let negated = false;
  if (segment[j] === '!' || segment[j] === '^') {
    negated = true;
    j++;
  }
  let chars = '';
  let body = '';
  for (let first = true; j < segment.length; j++, first = false) {
    const c = segment[j];
    if (c === ']' && !first) return { chars, body, negated, end: j };
    if (c === '\\' && j + 1 < segment.length) {
      chars += segment[++j];
      body += escapeRe(segment[j]);
      continue;
    }
    chars += c;
    body += c === '-' ? '-' : escapeRe(c);
  }
  return null;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
