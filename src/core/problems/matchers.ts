// Problem matchers: what turns a job's output into problems at a file, line and column. Written as data in the shape
// of VS Code's tasks.json `problemMatcher` (owner, fileLocation, pattern with regexp and group numbers, multi-line
// patterns with `loop`): the built-in ones by name in BUILTIN_MATCHERS, inline ones validated by readMatcherRefs.
import { suggest } from '../config/reader';

/** One line's pattern: a regular expression and which of its groups say what (0: the whole match). */
export interface ProblemPatternSpec {
  regexp: string;
  /** `file`: the problem is about the whole file; `location` (default): about a line, or a range. */
  kind?: 'file' | 'location';
  file?: number;
  /** One group holding `line`, `line,column` or `line,column,endLine,endColumn`. */
  location?: number;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  severity?: number;
  code?: number;
  message?: number;
  /** The last pattern of several: it matches again on the next lines, each match a problem. */
  loop?: boolean;
}

export type MatcherSeverity = 'error' | 'warning' | 'info';

/**
 * How a matched file name becomes a path: `absolute`, `relative` to a base, or `autoDetect` (absolute when it is,
 * else relative to the base). The base may use ${workspaceFolder} (the job's folder) and ${cwd} (its working
 * directory); default ${workspaceFolder}.
 */
export type FileLocationSpec = 'absolute' | 'relative' | 'autoDetect' | 'search' | [string, ...string[]];

export interface ProblemMatcherSpec {
  /** A built-in matcher this one starts from (`$tsc`): what is given here replaces what it says. */
  base?: string;
  owner?: string;
  /** What Problems shows as the problem's source (default: the owner). */
  source?: string;
  /** The severity of problems whose pattern gives none (default: error). */
  severity?: MatcherSeverity;
  fileLocation?: FileLocationSpec;
  pattern?: ProblemPatternSpec | ProblemPatternSpec[];
}

/** A matcher as a job names it: a built-in's name (`$tsc`) or an inline matcher. */
export type ProblemMatcherRef = string | ProblemMatcherSpec;

// The problem matchers VS Code ships (its own, TypeScript's, Less's) and the common ones of its C/C++ and Rust
// extensions, as data. Patterns from their public contributions.
const TSC_PATTERN: ProblemPatternSpec = {
  regexp: '^([^\\s].*)[\\(:](\\d+)[,:](\\d+)(?:\\):\\s+|\\s+-\\s+)(error|warning|info)\\s+TS(\\d+)\\s*:\\s*(.*)$',
  file: 1,
  line: 2,
  column: 3,
  severity: 4,
  code: 5,
  message: 6,
};
const ESLINT_STYLISH: ProblemPatternSpec[] = [
  { regexp: '^((?:[a-zA-Z]:)*[./\\\\]+.*?)$', kind: 'location', file: 1 },
  { regexp: '^\\s+(\\d+):(\\d+)\\s+(error|warning|info)\\s+(.+?)(?:\\s\\s+(.*))?$', line: 1, column: 2, severity: 3, message: 4, code: 5, loop: true },
];
const JSHINT_STYLISH: ProblemPatternSpec[] = [
  { regexp: '^(.+)$', kind: 'location', file: 1 },
  { regexp: '^\\s+line\\s+(\\d+)\\s+col\\s+(\\d+)\\s+(.+?)(?:\\s+\\((\\w)(\\d+)\\))?$', line: 1, column: 2, message: 3, severity: 4, code: 5, loop: true },
];
const LOCATION_GROUP = '(\\d+|\\d+,\\d+|\\d+,\\d+,\\d+,\\d+)';

export const BUILTIN_MATCHERS = {
  $tsc: { owner: 'typescript', source: 'ts', fileLocation: ['relative', '${cwd}'], pattern: TSC_PATTERN },
  '$tsc-watch': { owner: 'typescript', source: 'ts', fileLocation: ['relative', '${cwd}'], pattern: TSC_PATTERN },
  '$eslint-stylish': { owner: 'eslint', source: 'eslint', fileLocation: 'absolute', pattern: ESLINT_STYLISH },
  '$eslint-compact': {
    owner: 'eslint',
    source: 'eslint',
    fileLocation: ['relative', '${workspaceFolder}'],
    pattern: { regexp: '^(.+):\\sline\\s(\\d+),\\scol\\s(\\d+),\\s(Error|Warning|Info)\\s-\\s(.+)\\s\\((.+)\\)$', file: 1, line: 2, column: 3, severity: 4, message: 5, code: 6 },
  },
  $gcc: {
    owner: 'gcc',
    source: 'gcc',
    fileLocation: ['autoDetect', '${cwd}'],
    pattern: { regexp: '^(.*?):(\\d+):(\\d*):?\\s+(?:fatal\\s+)?(warning|error|note):\\s+(.*)$', file: 1, line: 2, column: 3, severity: 4, message: 5 },
  },
  $go: {
    owner: 'go',
    source: 'go',
    fileLocation: ['relative', '${cwd}'],
    pattern: { regexp: '^([^:]*: )?((.:)?[^:]*):(\\d+)(:(\\d+))?: (.*)$', file: 2, line: 4, column: 6, message: 7 },
  },
  $msCompile: {
    owner: 'msCompile',
    source: 'cpp',
    fileLocation: 'absolute',
    pattern: { regexp: `^(?:\\s*\\d+>)?(\\S.*)\\(${LOCATION_GROUP}\\)\\s*:\\s+((?:fatal +)?error|warning|info)\\s+(\\w+\\d+)\\s*:\\s*(.*)$`, file: 1, location: 2, severity: 3, code: 4, message: 5 },
  },
  $lessCompile: {
    owner: 'lessCompile',
    source: 'less',
    fileLocation: 'absolute',
    severity: 'error',
    pattern: { regexp: '^\\s*(.*) in file (.*) line no. (\\d+)$', message: 1, file: 2, line: 3 },
  },
  '$gulp-tsc': {
    owner: 'typescript',
    source: 'ts',
    fileLocation: ['relative', '${cwd}'],
    pattern: { regexp: `^([^\\s].*)\\(${LOCATION_GROUP}\\):\\s+(\\d+)\\s+(.*)$`, file: 1, location: 2, code: 3, message: 4 },
  },
  $jshint: {
    owner: 'jshint',
    source: 'jshint',
    fileLocation: 'absolute',
    pattern: { regexp: '^(.*):\\s+line\\s+(\\d+),\\s+col\\s+(\\d+),\\s(.+?)(?:\\s+\\((\\w)(\\d+)\\))?$', file: 1, line: 2, column: 3, message: 4, severity: 5, code: 6 },
  },
  '$jshint-stylish': { owner: 'jshint', source: 'jshint', fileLocation: 'absolute', pattern: JSHINT_STYLISH },
  $rustc: {
    owner: 'rustc',
    source: 'rustc',
    fileLocation: ['relative', '${cwd}'],
    pattern: [
      { regexp: '^(warning|warn|error)(?:\\[(.*?)\\])?: (.*)$', severity: 1, code: 2, message: 3 },
      { regexp: '^[\\s->=]*(.*?):(\\d*):(\\d*)\\s*$', file: 1, line: 2, column: 3 },
    ],
  },
} satisfies Record<`$${string}`, ProblemMatcherSpec>;

export type BuiltinMatcherName = keyof typeof BUILTIN_MATCHERS;

export function isBuiltinMatcher(name: string): name is BuiltinMatcherName {
  return Object.prototype.hasOwnProperty.call(BUILTIN_MATCHERS, name);
}

/** A pattern ready to run: its expression compiled once. */
export interface CompiledPattern extends Omit<ProblemPatternSpec, 'regexp'> {
  regexp: RegExp;
  kind: 'file' | 'location';
}

export interface CompiledMatcher {
  owner: string;
  source: string;
  severity: MatcherSeverity | null;
  fileLocation: { kind: 'absolute' } | { kind: 'relative' | 'autoDetect'; base: string };
  patterns: CompiledPattern[];
}

/** A problem with a matcher as written, at a path inside it (for located messages). */
export interface MatcherIssue {
  path: (string | number)[];
  message: string;
}

export const PATTERN_KEYS = ['regexp', 'kind', 'file', 'location', 'line', 'column', 'endLine', 'endColumn', 'severity', 'code', 'message', 'loop'] as const;
const GROUP_KEYS = ['file', 'location', 'line', 'column', 'endLine', 'endColumn', 'severity', 'code', 'message'] as const;
export const MATCHER_KEYS = ['base', 'owner', 'source', 'severity', 'fileLocation', 'pattern'] as const;
/** Regular expressions a matcher may hold, at most this long (a pattern is run on every line of a job). */
const MAX_REGEXP = 2000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads `problemMatcher` as a job gives it — a name, an inline matcher, or a list of them — into matchers ready to
 * run, and every problem with it (an unknown name, a bad regular expression, a missing group), each at its path.
 */
export function readMatcherRefs(value: unknown): { matchers: CompiledMatcher[]; refs: ProblemMatcherRef[]; issues: MatcherIssue[] } {
  const items = Array.isArray(value) ? value : [value];
  const out = { matchers: [] as CompiledMatcher[], refs: [] as ProblemMatcherRef[], issues: [] as MatcherIssue[] };
  items.forEach((item, i) => {
    const at = Array.isArray(value) ? [i] : [];
    const r = compileMatcher(item, at);
    if ('issues' in r) out.issues.push(...r.issues);
    else {
      out.matchers.push(r.matcher);
      out.refs.push(item as ProblemMatcherRef);
    }
  });
  return out;
}

/** One matcher: a built-in's name or an inline matcher (VS Code's tasks.json shape, or GitHub's matcher files'). */
export function compileMatcher(ref: unknown, at: (string | number)[] = []): { matcher: CompiledMatcher } | { issues: MatcherIssue[] } {
  if (typeof ref === 'string') {
    if (!isBuiltinMatcher(ref)) return { issues: [{ path: at, message: unknownName(ref) }] };
    return compileMatcher(BUILTIN_MATCHERS[ref], at);
  }
  if (!isObject(ref)) return { issues: [{ path: at, message: `a problem matcher is a name such as "$tsc" or a mapping with "owner" and "pattern", not ${kindOf(ref)}` }] };
  const issues: MatcherIssue[] = [];
  for (const k of Object.keys(ref)) {
    if (!(MATCHER_KEYS as readonly string[]).includes(k)) issues.push({ path: [...at, k], message: `problem matcher: unknown key "${k}" (known: ${MATCHER_KEYS.join(', ')})` });
  }
  let spec = ref as ProblemMatcherSpec;
  if (ref.base !== undefined) {
    if (typeof ref.base !== 'string' || !isBuiltinMatcher(ref.base)) {
      return { issues: [...issues, { path: [...at, 'base'], message: typeof ref.base === 'string' ? unknownName(ref.base) : 'problem matcher: "base" must be the name of a built-in matcher' }] };
    }
    spec = { ...BUILTIN_MATCHERS[ref.base], ...spec };
  }
  const owner = spec.owner;
  if (typeof owner !== 'string' || owner.trim() === '') issues.push({ path: [...at, 'owner'], message: 'problem matcher: "owner" must be a non-empty string' });
  if (spec.source !== undefined && typeof spec.source !== 'string') issues.push({ path: [...at, 'source'], message: 'problem matcher: "source" must be a string' });
  if (spec.severity !== undefined && !['error', 'warning', 'info'].includes(spec.severity)) {
    issues.push({ path: [...at, 'severity'], message: `problem matcher: "severity" must be one of error, warning, info, not ${kindOf(spec.severity)}` });
  }
  const fileLocation = readFileLocation(spec.fileLocation, [...at, 'fileLocation'], issues);
  const patterns = readPatterns(spec.pattern, [...at, 'pattern'], issues);
  if (issues.length || !patterns || !fileLocation) return { issues };
  return { matcher: { owner: owner as string, source: spec.source ?? (owner as string), severity: spec.severity ?? null, fileLocation, patterns } };
}

function unknownName(name: string): string {
  const names = Object.keys(BUILTIN_MATCHERS);
  const close = names.find((k) => k.toLowerCase() === `$${name.replace(/^\$/, '')}`.toLowerCase()) ?? suggest(name, names);
  return `unknown problem matcher "${name}"${close ? ` (did you mean "${close}"?)` : ''}; built-in: ${Object.keys(BUILTIN_MATCHERS).join(', ')}`;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

function readFileLocation(v: unknown, at: (string | number)[], issues: MatcherIssue[]): CompiledMatcher['fileLocation'] | null {
  if (v === undefined) return { kind: 'relative', base: '${workspaceFolder}' };
  const [kind, base] = Array.isArray(v) ? [v[0], v[1]] : [v, undefined];
  if (kind === 'absolute' && base === undefined) return { kind: 'absolute' };
  if ((kind === 'relative' || kind === 'autoDetect' || kind === 'search') && (base === undefined || typeof base === 'string')) {
    // `search` looks for the file under a folder: the matched path relative to it, or absolute, is what we can do.
    return { kind: kind === 'relative' ? 'relative' : 'autoDetect', base: base ?? '${workspaceFolder}' };
  }
  issues.push({ path: at, message: `problem matcher: "fileLocation" must be absolute, relative, autoDetect or search, or [relative|autoDetect, "<folder>"], not ${kindOf(v)}` });
  return null;
}

function readPatterns(v: unknown, at: (string | number)[], issues: MatcherIssue[]): CompiledPattern[] | null {
  if (v === undefined) {
    issues.push({ path: at, message: 'problem matcher: "pattern" is missing' });
    return null;
  }
  if (typeof v === 'string') {
    issues.push({ path: at, message: `problem matcher: named patterns ("${v}") are not supported; use "base": "$…" to start from a built-in matcher` });
    return null;
  }
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) {
    issues.push({ path: at, message: 'problem matcher: "pattern" is an empty list' });
    return null;
  }
  const single = !Array.isArray(v);
  const before = issues.length;
  const out = list.map((p, i) => readPattern(p, single ? at : [...at, i], single, i === list.length - 1, issues));
  if (issues.length > before) return null;
  const has = (k: keyof ProblemPatternSpec) => out.some((p) => p![k] !== undefined);
  if (!has('file')) issues.push({ path: at, message: 'problem matcher: no pattern says which group holds the file ("file")' });
  if (!has('message')) issues.push({ path: at, message: 'problem matcher: no pattern says which group holds the message ("message")' });
  if (out[0]!.kind === 'location' && !has('line') && !has('location')) issues.push({ path: at, message: 'problem matcher: no pattern says which group holds the line ("line" or "location")' });
  return issues.length > before ? null : (out as CompiledPattern[]);
}

function readPattern(p: unknown, at: (string | number)[], single: boolean, last: boolean, issues: MatcherIssue[]): CompiledPattern | null {
  if (!isObject(p)) {
    issues.push({ path: at, message: `problem matcher: a pattern must be a mapping with "regexp", not ${kindOf(p)}` });
    return null;
  }
  for (const k of Object.keys(p)) {
    if (!(PATTERN_KEYS as readonly string[]).includes(k) && k !== 'fromPath') issues.push({ path: [...at, k], message: `problem matcher pattern: unknown key "${k}"` });
  }
  const src = p.regexp;
  let regexp: RegExp | null = null;
  if (typeof src !== 'string' || src === '') issues.push({ path: [...at, 'regexp'], message: 'problem matcher pattern: "regexp" must be a non-empty string' });
  else if (src.length > MAX_REGEXP) issues.push({ path: [...at, 'regexp'], message: `problem matcher pattern: "regexp" is longer than ${MAX_REGEXP} characters` });
  else {
    try {
      regexp = new RegExp(src);
    } catch (e) {
      issues.push({ path: [...at, 'regexp'], message: `problem matcher pattern: "regexp" is not a valid regular expression: ${(e as Error).message}` });
    }
  }
  const groups = regexp ? countGroups(regexp) : Infinity;
  for (const k of GROUP_KEYS) {
    const g = p[k];
    if (g === undefined) continue;
    if (typeof g !== 'number' || !Number.isInteger(g) || g < 0) issues.push({ path: [...at, k], message: `problem matcher pattern: "${k}" must be a group number (0: the whole match), not ${kindOf(g)}` });
    else if (g > groups) issues.push({ path: [...at, k], message: `problem matcher pattern: "${k}" names group ${g}, but the expression has ${groups} group${groups === 1 ? '' : 's'}` });
  }
  if (p.kind !== undefined && p.kind !== 'file' && p.kind !== 'location') issues.push({ path: [...at, 'kind'], message: `problem matcher pattern: "kind" must be file or location, not ${kindOf(p.kind)}` });
  if (p.loop !== undefined && typeof p.loop !== 'boolean') issues.push({ path: [...at, 'loop'], message: 'problem matcher pattern: "loop" must be true or false' });
  else if (p.loop === true && single) issues.push({ path: [...at, 'loop'], message: 'problem matcher pattern: "loop" is for the last of several patterns' });
  else if (p.loop === true && !last) issues.push({ path: [...at, 'loop'], message: 'problem matcher pattern: only the last pattern may "loop"' });
  if (!regexp) return null;
  const spec = p as unknown as ProblemPatternSpec;
  const out: CompiledPattern = { ...spec, regexp, kind: spec.kind ?? 'location' };
  delete (out as { fromPath?: unknown }).fromPath;
  if (single) {
    // VS Code's defaults for a pattern on its own.
    out.file ??= 1;
    out.message ??= 0;
    if (out.location === undefined) {
      out.line ??= 2;
      out.column ??= 3;
    }
  }
  return out;
}

/** Capturing groups of an expression: what an empty alternative beside it matches with. */
function countGroups(re: RegExp): number {
  return (new RegExp(`${re.source}|`).exec('')?.length ?? 1) - 1;
}
