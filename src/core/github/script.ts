// `run:` scripts: which command runs them (GitHub's shell table) and how `${{ }}` values get into them.
//
// Security: GitHub pastes expression values into the script text. We do that only for values that come from the
// workflow file itself (matrix values, env literals, input defaults). A value from outside — a branch name, an
// event payload, a step's output — is handed over in an environment variable, and the script gets a reference to
// it (`${DELIVERY_EXPR_1}`) instead, placed so the shell expands it as data: a branch named `$(touch pwned)` stays
// text. Shells we cannot place such a reference in safely (python, pwsh, custom commands) get an error instead.
import type { CommandSpec } from '../engine/ports';
import { splitTemplate, toText, type Evaluated } from './expressions';

export type ShellKind = 'posix' | 'other';

export interface ShellChoice {
  /** The command with `{0}` standing for the script file. */
  argv: string[];
  extension: string;
  kind: ShellKind;
  label: string;
}

/** GitHub's shells (docs: jobs.<job_id>.steps[*].shell); `null` is the runner default (bash -e, no pipefail). */
export function chooseShell(shell: string | null, fallback: 'bash' | 'sh' | 'pwsh'): ShellChoice | { error: string } {
  const s = shell?.trim() ?? '';
  if (s === '') {
    if (fallback === 'bash') return { argv: ['bash', '-e', '{0}'], extension: '.sh', kind: 'posix', label: 'bash' };
    if (fallback === 'sh') return { argv: ['sh', '-e', '{0}'], extension: '.sh', kind: 'posix', label: 'sh' };
    return chooseShell('pwsh', 'bash');
  }
  switch (s) {
    case 'bash':
      return { argv: ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '{0}'], extension: '.sh', kind: 'posix', label: 'bash' };
    case 'sh':
      return { argv: ['sh', '-e', '{0}'], extension: '.sh', kind: 'posix', label: 'sh' };
    case 'python':
      // Debian and macOS ship python3 without a `python` command.
      return { argv: ['python3', '{0}'], extension: '.py', kind: 'other', label: 'python' };
    case 'pwsh':
      return { argv: ['pwsh', '-command', ". '{0}'"], extension: '.ps1', kind: 'other', label: 'pwsh' };
    case 'powershell':
      return { argv: ['powershell', '-command', ". '{0}'"], extension: '.ps1', kind: 'other', label: 'powershell' };
    case 'cmd':
      return { error: 'shell "cmd" runs only on Windows runners' };
  }
  const argv = splitCommandLine(s);
  if (argv === null) return { error: `shell "${s}" has an unclosed quote` };
  if (!argv.some((a) => a.includes('{0}'))) return { error: `custom shell "${s}" must contain {0} (where the script file goes)` };
  const base = argv[0].split('/').pop() ?? '';
  const posix = ['bash', 'sh', 'dash', 'zsh', 'ksh'].includes(base);
  return { argv, extension: base === 'python' || base === 'python3' ? '.py' : '.sh', kind: posix ? 'posix' : 'other', label: s };
}

/** Splits a shell option into words, honouring single and double quotes (no expansion: it is our argv). */
function splitCommandLine(s: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (quote) return null;
  if (has || cur) out.push(cur);
  return out;
}

export function scriptCommand(shell: ShellChoice, script: string, cwd: string, env: Record<string, string>): CommandSpec {
  return { command: shell.argv[0], args: shell.argv.slice(1), cwd, env, scriptFile: { text: script, extension: shell.extension } };
}

/**
 * The script with its expressions replaced, and the environment variables that carry the values from outside the
 * workflow file. `evaluate` evaluates one expression (the text inside `${{ }}`).
 */
export function substituteScript(
  script: string,
  shell: ShellChoice,
  evaluate: (expr: string) => Evaluated,
): { script: string; env: Record<string, string> } | { error: string } {
  const parts = splitTemplate(script);
  if (!parts) return { script, env: {} };
  const scanner = new QuoteScanner();
  const env: Record<string, string> = {};
  let out = '';
  let n = 0;
  for (const p of parts) {
    if ('text' in p) {
      out += p.text;
      scanner.feed(p.text);
      continue;
    }
    const r = evaluate(p.expr);
    const text = toText(r.value);
    if (!r.tainted) {
      out += text;
      scanner.feed(text);
      continue;
    }
    const shown = `\${{${p.expr}}}`;
    if (shell.kind !== 'posix') {
      return { error: `${shown} takes its value from outside the workflow file, so it is not pasted into a ${shell.label} script (it could run as code); pass it through "env:" and read the environment variable` };
    }
    const name = `DELIVERY_EXPR_${++n}`;
    env[name] = text;
    const where = scanner.context();
    let ref: string;
    if (where === 'single') ref = `'"\${${name}}"'`;
    else if (where === 'literal') {
      return { error: `${shown} takes its value from outside the workflow file and stands inside a quoted here-document or $'…' string, where a variable cannot be expanded; pass it through "env:" instead` };
    } else ref = `\${${name}}`;
    out += ref;
    scanner.feed(ref);
  }
  return { script: out, env };
}

type Mode = 'normal' | 'single' | 'ansi' | 'double' | 'comment' | 'heredoc';

/**
 * Follows POSIX shell quoting far enough to know where a text position is: outside quotes, inside '…', "…",
 * $'…', a comment or a here-document. It never has to be perfect for safety — whatever it decides, the value
 * reaches the shell only as a parameter expansion — only for the value to arrive intact.
 */
class QuoteScanner {
  private mode: Mode = 'normal';
  /** Open "…" and $( … ) / `…` around the current position (innermost last). */
  private stack: ('double' | 'paren' | 'backtick')[] = [];
  private parenDepth: number[] = [];
  private pending: { delim: string; literal: boolean; strip: boolean }[] = [];
  private heredoc: { delim: string; literal: boolean; strip: boolean } | null = null;
  private line = '';
  private prev = '\n';

  context(): 'normal' | 'single' | 'literal' {
    if (this.mode === 'single') return 'single';
    if (this.mode === 'ansi') return 'literal';
    if (this.mode === 'heredoc') return this.heredoc?.literal ? 'literal' : 'normal';
    return 'normal';
  }

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      switch (this.mode) {
        case 'heredoc':
          if (c === '\n') {
            const l = this.heredoc!.strip ? this.line.replace(/^\t+/, '') : this.line;
            if (l === this.heredoc!.delim) this.heredoc = this.pending.shift() ?? null;
            if (!this.heredoc) this.mode = 'normal';
            this.line = '';
          } else this.line += c;
          break;
        case 'single':
          if (c === "'") this.mode = this.stack.at(-1) === 'double' ? 'double' : 'normal';
          break;
        case 'ansi':
          if (c === '\\') i++;
          else if (c === "'") this.mode = this.stack.at(-1) === 'double' ? 'double' : 'normal';
          break;
        case 'comment':
          if (c === '\n') this.newline();
          break;
        case 'double':
          if (c === '\\') i++;
          else if (c === '"') {
            this.stack.pop();
            this.mode = 'normal';
          } else if (c === '$' && text[i + 1] === '(') {
            this.stack.push('paren');
            this.parenDepth.push(0);
            this.mode = 'normal';
            i++;
          } else if (c === '`') {
            this.stack.push('backtick');
            this.mode = 'normal';
          }
          break;
        case 'normal':
          i = this.normal(text, i);
          break;
      }
      this.prev = text[i] ?? this.prev;
    }
  }

  private newline(): void {
    if (this.pending.length > 0) {
      this.heredoc = this.pending.shift()!;
      this.mode = 'heredoc';
      this.line = '';
    } else this.mode = this.stack.at(-1) === 'double' ? 'double' : 'normal';
  }

  /** Handles one character outside quotes; returns the index of the last character consumed. */
  private normal(text: string, i: number): number {
    const c = text[i];
    const top = this.stack.at(-1);
    if (c === '\\') return i + 1;
    if (c === '\n') {
      if (this.stack.length === 0 || top === 'paren' || top === 'backtick') this.newline();
      return i;
    }
    if (c === "'") this.mode = 'single';
    else if (c === '$' && text[i + 1] === "'") {
      this.mode = 'ansi';
      return i + 1;
    } else if (c === '"') {
      this.stack.push('double');
      this.mode = 'double';
    } else if (c === '$' && text[i + 1] === '(') {
      this.stack.push('paren');
      this.parenDepth.push(0);
      return i + 1;
    } else if (c === '(' && top === 'paren') this.parenDepth[this.parenDepth.length - 1]++;
    else if (c === ')' && top === 'paren') {
      if (this.parenDepth[this.parenDepth.length - 1] > 0) this.parenDepth[this.parenDepth.length - 1]--;
      else {
        this.stack.pop();
        this.parenDepth.pop();
        if (this.stack.at(-1) === 'double') this.mode = 'double';
      }
    } else if (c === '`') {
      if (top === 'backtick') {
        this.stack.pop();
        if (this.stack.at(-1) === 'double') this.mode = 'double';
      } else this.stack.push('backtick');
    } else if (c === '#' && /[\s;&|(]/.test(this.prev)) this.mode = 'comment';
    else if (c === '<' && text[i + 1] === '<' && text[i + 2] !== '<') {
      const m = /^<<(-?)[ \t]*(?:'([^']*)'|"([^"]*)"|\\?([A-Za-z0-9_.-]+))/.exec(text.slice(i));
      if (m) {
        const delim = m[2] ?? m[3] ?? m[4];
        this.pending.push({ delim, literal: m[2] !== undefined || m[3] !== undefined || m[0].includes('\\'), strip: m[1] === '-' });
        return i + m[0].length - 1;
      }
    }
    return i;
  }
}
