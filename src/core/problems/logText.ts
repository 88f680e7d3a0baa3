// What else a log line can say about files: `path:line:col` references (links in log documents) and GitHub's
// workflow commands that concern problems (`::error file=…::`, `::add-matcher::`, `::remove-matcher owner=…::`).
import { compileMatcher, type CompiledMatcher } from './matchers';
import { parseWorkflowCommand } from '../github/commands';
import type { LogProblem } from './scanner';

export interface FileReference {
  /** Offsets in the line: [start, end). */
  start: number;
  end: number;
  file: string;
  line: number;
  column: number | null;
}

// A path with an extension (or a slash), then `:line[:col]` or `(line[,col])`; not the host:port of a URL.
const REFERENCE = /(?<![\w/.\\:@-])((?:[A-Za-z]:[\\/])?(?:[\w.@~+-]*[\\/])*[\w@~+-][\w.@~+-]*\.[A-Za-z][\w]*|(?:[\w.@~+-]+[\\/])+[\w.@~+-]+)(?::(\d+)(?::(\d+))?|\((\d+)(?:,(\d+))?\))/g;
/** A line is searched for references over its first this many characters. */
const MAX_SCANNED = 4096;

/** The `file:line:col` references in a log line. */
export function fileReferences(text: string): FileReference[] {
  const out: FileReference[] = [];
  const head = text.length > MAX_SCANNED ? text.slice(0, MAX_SCANNED) : text;
  if (!/[:(]\d/.test(head)) return out;
  REFERENCE.lastIndex = 0;
  for (let m = REFERENCE.exec(head); m; m = REFERENCE.exec(head)) {
    // A URL's host and port (`http://localhost:8080`) is not a file.
    if (head.slice(Math.max(0, m.index - 3), m.index) === '://') continue;
    const line = Number(m[2] ?? m[4]);
    if (!(line >= 1)) continue;
    const col = m[3] ?? m[5];
    out.push({ start: m.index, end: m.index + m[0].length, file: m[1], line, column: col ? Number(col) || null : null });
  }
  return out;
}

export type WorkflowProblemCommand =
  | { kind: 'annotation'; severity: 'error' | 'warning' | 'info'; file: string; line: number; column: number | null; endLine: number | null; endColumn: number | null; title: string | null; message: string }
  | { kind: 'add-matcher'; file: string }
  | { kind: 'remove-matcher'; owner: string };

const PROBLEM_COMMANDS = new Set(['error', 'warning', 'notice', 'add-matcher', 'remove-matcher']);

/** A GitHub workflow command about problems (lines of other commands, or none: null). */
export function workflowProblemCommand(line: string): WorkflowProblemCommand | null {
  if (!line.trimStart().startsWith('::')) return null;
  const cmd = parseWorkflowCommand(line);
  const name = cmd?.name.toLowerCase();
  if (!cmd || !name || !PROBLEM_COMMANDS.has(name)) return null;
  const { props, value } = cmd;
  if (name === 'add-matcher') return value.trim() ? { kind: 'add-matcher', file: value.trim() } : null;
  if (name === 'remove-matcher') return props.owner ? { kind: 'remove-matcher', owner: props.owner } : null;
  // An annotation without a file belongs to the run, not to a place in the code.
  if (!props.file) return null;
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) && Number(s) >= 1 ? Number(s) : null);
  return {
    kind: 'annotation',
    severity: name === 'notice' ? 'info' : name,
    file: props.file,
    line: num(props.line) ?? 1,
    column: num(props.col),
    endLine: num(props.endLine),
    endColumn: num(props.endColumn),
    title: props.title ?? null,
    message: value,
  } as WorkflowProblemCommand;
}

/** An annotation as a problem (owner `github`), its file resolved as GitHub does: relative to the workspace. */
export function annotationProblem(c: Extract<WorkflowProblemCommand, { kind: 'annotation' }>, resolve: (file: string, loc: CompiledMatcher['fileLocation']) => string): LogProblem {
  return {
    owner: 'github',
    source: 'GitHub Actions',
    file: resolve(c.file, { kind: 'autoDetect', base: '${workspaceFolder}' }),
    line: c.line,
    column: c.column,
    endLine: c.endLine,
    endColumn: c.endColumn,
    severity: c.severity,
    message: c.title ? `${c.title}: ${c.message}` : c.message,
    code: null,
  };
}

/**
 * The matchers of a GitHub matcher file (`{"problemMatcher": [{owner, severity?, pattern: [...]}]}`), read with the
 * same checks as inline ones; its relative files are relative to the workspace, as on GitHub.
 */
export function githubMatcherFile(json: unknown): { matchers: CompiledMatcher[]; errors: string[] } {
  const list = typeof json === 'object' && json !== null ? (json as { problemMatcher?: unknown }).problemMatcher : undefined;
  if (!Array.isArray(list)) return { matchers: [], errors: ['a matcher file holds {"problemMatcher": [ … ]}'] };
  const out = { matchers: [] as CompiledMatcher[], errors: [] as string[] };
  for (const item of list) {
    const spec = typeof item === 'object' && item !== null ? { fileLocation: ['autoDetect', '${workspaceFolder}'], ...(item as object) } : item;
    const r = compileMatcher(spec);
    if ('matcher' in r) out.matchers.push(r.matcher);
    else out.errors.push(...r.issues.map((i) => i.message));
  }
  return out;
}
