// What else a log line can say about files: `path:line:col` references (links in log documents and on the board) and GitHub's
// workflow commands that concern problems (`::error file=…::`, `::add-matcher::`, `::remove-matcher owner=…::`).
import { compileMatcher, type CompiledMatcher } from './matchers';
import { parseWorkflowCommand } from '../github/commands';
import type { LogProblem } from './scanner';

// File references are found the same way in the board's webview: the scanner lives in src/shared.
export { fileReferences, type FileReference } from '../../shared/fileRefs';

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
