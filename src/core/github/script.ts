// `run:` scripts: which command runs them (GitHub's shell table) and how `${{ }}` values get into them.
//
// Security: GitHub pastes expression values into the script text. We do that only for values that come from the
// workflow file itself (matrix values, env literals, input defaults). A value from outside — a branch name, an
// event payload, a step's output — is handed over in an environment variable, and the script gets a reference to
// it (`${DELIVERY_EXPR_1}`) instead, placed so the shell expands it as data: a branch named `$(touch pwned)` stays
// text. Shells we cannot place such a reference in safely (python, pwsh, custom commands) get an error instead.
import type { CommandSpec } from '../engine/ports';
import { parseExpression, references, splitTemplate, toText, type Evaluated } from './expressions';

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

export function scriptCommand(shell: ShellChoice, script: string, cwd: string, env: Record<string, string>, dir?: string): CommandSpec {
  return { command: shell.argv[0], args: shell.argv.slice(1), cwd, env, scriptFile: { text: script, extension: shell.extension, ...(dir ? { dir } : {}) } };
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
  const shownAs: Record<string, string> = {};
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
    shownAs[name] = shown;
    const where = scanner.context();
    let ref: string;
    if (where === 'single') ref = `'"\${${name}}"'`;
    else if (where === 'literal') {
      return { error: `${shown} takes its value from outside the workflow file and stands inside a quoted here-document or $'…' string, where a variable cannot be expanded; pass it through "env:" instead` };
    } else ref = `\${${name}}`;
    out += ref;
    scanner.feed(ref);
  }
  if (n > 0) {
    // Where bash evaluates arithmetic, a value is code (`a[$(cmd)]`): only plain integers get there.
    const arithmetic = arithmeticReferences(out);
    for (const [name, value] of Object.entries(env)) {
      if (!arithmetic.has(name) || PLAIN_INTEGER.test(value)) continue;
      return {
        error:
          `${shownAs[name]} takes its value from outside the workflow file and stands where bash evaluates arithmetic ((( )), $(( )), [[ … -gt … ]], let, an array index), ` +
          'where a value such as a[$(cmd)] runs cmd; its value is not a plain integer, so the step does not run. ' +
          'Pass it through "env:" and check it first: [[ $N =~ ^[0-9]+$ ]] || exit 1',
      };
    }
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

// ---- bash arithmetic contexts ----
//
// Values reach a script only as parameter expansions (above), but bash evaluates some places as ARITHMETIC, and
// there a value is evaluated again: `a[$(touch pwned)]` as a value runs `touch pwned` in `(( x > 0 ))`,
// `$(( x ))`, `[[ x -gt 0 ]]`, `let`, array subscripts, `${s:offset}` and assignments to `declare -i` names.

/** A value that bash may evaluate as arithmetic without running anything: empty or a plain integer literal. */
const PLAIN_INTEGER = /^\s*(?:[-+]?(?:0[xX][0-9A-Fa-f]+|[0-9]+))?\s*$/;

const ARITH_OPERATORS = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);
/** Words after which the next word is still in command position. */
const COMMAND_KEYWORDS = new Set(['if', 'then', 'elif', 'else', 'while', 'until', 'do', '!', 'time', '{']);
const DECLARE_WORDS = new Set(['declare', 'typeset', 'local', 'readonly', 'export']);

interface Frame {
  /** cmd: commands ($( ), ` `, the script); heredoc: an unquoted here-document body; arith: (( )), $(( )), $[ ];
   * subscript: name[ … ]; param: ${ … }; offset: ${name: … } (an arithmetic offset and length). */
  kind: 'cmd' | 'heredoc' | 'arith' | 'subscript' | 'param' | 'offset';
  /** arith: what closes it; cmd: the ) or ` that closes a command substitution (null: the script itself). */
  close: string | null;
  /** Nesting of ( or [ inside arith and subscript frames. */
  depth: number;
  /** subscript: false for an associative array (its keys are not arithmetic). */
  arith: boolean;
  /** cmd: inside "…". */
  quote: boolean;
  words: string[];
  word: string;
  wordRefs: string[];
  mode: 'none' | 'let' | 'decl' | 'cond';
  declInt: boolean;
  prevRefs: string[];
  nextArith: boolean;
}

function frame(kind: Frame['kind'], close: string | null = null, arith = true): Frame {
  return { kind, close, depth: 0, arith, quote: kind === 'heredoc', words: [], word: '', wordRefs: [], mode: 'none', declInt: false, prevRefs: [], nextArith: false };
}

/** Names declared with `declare -<flag>` (and typeset/local/readonly/export) anywhere in the script. */
function declaredWith(script: string, flag: string): Set<string> {
  const out = new Set<string>();
  for (const m of script.matchAll(/\b(?:declare|typeset|local|readonly|export)((?:[ \t]+[-+][A-Za-z]+)+)[ \t]+([^;&|\n]*)/g)) {
    if (!m[1].split(/\s+/).some((o) => o.startsWith('-') && o.includes(flag))) continue;
    for (const n of m[2].matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?=[=[\s]|$)/g)) out.add(n[1]);
  }
  return out;
}

/**
 * Names of the variables a bash script expands (or names) where bash evaluates arithmetic. A heuristic reading
 * of bash: it follows quotes, command substitutions, here-documents and parameter expansions, and errs on the
 * side of finding too much.
 */
export function arithmeticReferences(script: string): Set<string> {
  const found = new Set<string>();
  const ints = declaredWith(script, 'i');
  const assoc = declaredWith(script, 'A');
  const stack: Frame[] = [frame('cmd')];
  const pending: { delim: string; literal: boolean; strip: boolean }[] = [];
  const s = script;
  const top = () => stack[stack.length - 1];
  const nearestCommand = (): Frame => {
    for (let k = stack.length - 1; k >= 0; k--) if (stack[k].kind === 'cmd' || stack[k].kind === 'heredoc') return stack[k];
    return stack[0];
  };
  const arithmetic = (): boolean => {
    for (let k = stack.length - 1; k >= 0; k--) {
      const f = stack[k];
      if (f.kind === 'arith' || f.kind === 'offset') return true;
      if (f.kind === 'subscript') return f.arith;
      if (f.kind === 'heredoc') return false;
      if (f.kind === 'cmd') return f.mode === 'let' || (f.mode === 'decl' && f.declInt);
    }
    return false;
  };
  const ref = (name: string) => {
    if (arithmetic()) found.add(name);
    else nearestCommand().wordRefs.push(name);
  };
  const atCommand = (f: Frame) => f.words.length === 0;
  const endWord = (f: Frame) => {
    const w = f.word;
    const refs = f.wordRefs;
    f.word = '';
    f.wordRefs = [];
    if (w === '' && refs.length === 0) return;
    if (f.mode === 'cond') {
      if (w === ']]') {
        f.mode = 'none';
        f.words.push(w);
      } else if (ARITH_OPERATORS.has(w)) {
        for (const r of f.prevRefs) found.add(r);
        f.prevRefs = [];
        f.nextArith = true;
      } else {
        if (f.nextArith) for (const r of refs) found.add(r);
        f.nextArith = false;
        f.prevRefs = refs;
        f.words.push(w);
      }
      return;
    }
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[.*\])?\+?=/.exec(w);
    if (assign && ints.has(assign[1])) for (const r of refs) found.add(r);
    if (atCommand(f)) {
      if (COMMAND_KEYWORDS.has(w)) return;
      if (w === '[[') {
        f.mode = 'cond';
        f.prevRefs = [];
        f.nextArith = false;
      } else if (w === 'let') f.mode = 'let';
      else if (DECLARE_WORDS.has(w)) f.mode = 'decl';
    } else if (f.mode === 'decl' && /^-[A-Za-z]*i/.test(w)) f.declInt = true;
    f.words.push(w);
  };
  const endCommand = (f: Frame) => {
    endWord(f);
    if (f.mode === 'cond') return;
    f.words = [];
    f.mode = 'none';
    f.declInt = false;
  };
  /** `$…` at i; returns the index of the last character consumed. */
  const dollar = (i: number): number => {
    const n = s[i + 1];
    if (n === '(' && s[i + 2] === '(') {
      stack.push(frame('arith', '))'));
      return i + 2;
    }
    if (n === '(') {
      stack.push(frame('cmd', ')'));
      return i + 1;
    }
    if (n === '[') {
      stack.push(frame('arith', ']'));
      return i + 1;
    }
    if (n === "'") {
      let j = i + 2;
      while (j < s.length && s[j] !== "'") j += s[j] === '\\' ? 2 : 1;
      return j;
    }
    if (n === '{') {
      let j = i + 2;
      if (s[j] === '#' || s[j] === '!') j++;
      const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])/.exec(s.slice(j));
      const name = m ? m[0] : '';
      if (name) ref(name);
      j += name.length;
      if (s[j] === '}') return j;
      stack.push(frame('param'));
      if (s[j] === '[') {
        stack.push(frame('subscript', ']', !assoc.has(name)));
        return j;
      }
      if (s[j] === ':' && !'-=+?'.includes(s[j + 1] ?? '')) {
        stack.pop();
        stack.push(frame('offset', '}'));
        return j;
      }
      return j - 1;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
    if (m) {
      ref(m[0]);
      return i + m[0].length;
    }
    return i;
  };
  /** Reads the here-documents that start after the newline at i; returns the index of their last character. */
  const heredocs = (i: number): number => {
    let pos = i + 1;
    while (pending.length > 0 && pos <= s.length) {
      const h = pending.shift()!;
      const body = frame('heredoc');
      if (!h.literal) stack.push(body);
      while (pos <= s.length) {
        const end = s.indexOf('\n', pos);
        const lineEnd = end < 0 ? s.length : end;
        const line = s.slice(pos, lineEnd);
        if ((h.strip ? line.replace(/^\t+/, '') : line) === h.delim) {
          pos = lineEnd + 1;
          break;
        }
        if (!h.literal) for (let k = pos; k <= lineEnd && k < s.length; k++) k = step(k);
        pos = lineEnd + 1;
      }
      if (!h.literal) while (stack.length > 1 && stack.pop() !== body);
    }
    return Math.min(pos, s.length) - 1;
  };
  /** Handles the character at i; returns the index of the last character consumed. */
  const step = (i: number): number => {
    const f = top();
    const c = s[i];
    if (f.kind === 'cmd' || f.kind === 'heredoc') {
      if (f.quote) {
        if (c === '\\') f.word += s[++i] ?? '';
        else if (c === '"' && f.kind === 'cmd') {
          f.quote = false;
          f.word += c;
        } else if (c === '$') return dollar(i);
        else if (c === '`') stack.push(frame('cmd', '`'));
        else f.word += c;
        return i;
      }
      switch (c) {
        case ' ':
        case '\t':
          endWord(f);
          return i;
        case '\n':
          if (f.mode === 'cond') endWord(f);
          else endCommand(f);
          return pending.length > 0 ? heredocs(i) : i;
        case ';':
        case '&':
        case '|':
          if ((c === '&' || c === '|') && s[i + 1] === c) {
            if (f.mode === 'cond') endWord(f);
            else endCommand(f);
            return i + 1;
          }
          endCommand(f);
          return i;
        case '(':
          if (f.mode === 'cond') endWord(f);
          else if (s[i + 1] === '(' && f.word === '') {
            stack.push(frame('arith', '))'));
            return i + 1;
          } else endCommand(f);
          return i;
        case ')':
          if (f.close === ')') {
            endCommand(f);
            stack.pop();
          } else if (f.mode === 'cond') endWord(f);
          else endCommand(f);
          return i;
        case '`':
          if (f.close === '`') {
            endCommand(f);
            stack.pop();
          } else stack.push(frame('cmd', '`'));
          return i;
        case '#':
          if (f.word === '') {
            const nl = s.indexOf('\n', i);
            return (nl < 0 ? s.length : nl) - 1;
          }
          f.word += c;
          return i;
        case '<': {
          const m = s[i + 1] === '<' && s[i + 2] !== '<' && s[i - 1] !== '<' ? /^<<(-?)[ \t]*(?:'([^'\n]*)'|"([^"\n]*)"|(\\?[A-Za-z0-9_.-]+))/.exec(s.slice(i)) : null;
          if (m) {
            pending.push({ delim: (m[2] ?? m[3] ?? m[4]).replace(/^\\/, ''), literal: m[2] !== undefined || m[3] !== undefined || m[0].includes('\\'), strip: m[1] === '-' });
            return i + m[0].length - 1;
          }
          f.word += c;
          return i;
        }
        case '"':
          f.quote = true;
          f.word += c;
          return i;
        case "'": {
          const end = s.indexOf("'", i + 1);
          const j = end < 0 ? s.length : end;
          f.word += s.slice(i, j + 1);
          return j;
        }
        case '$':
          return dollar(i);
        case '\\':
          if (s[i + 1] !== '\n') f.word += s[i + 1] ?? '';
          return i + 1;
        case '[': {
          const subscript =
            /^[A-Za-z_][A-Za-z0-9_]*$/.test(f.word) &&
            (atCommand(f) || f.mode === 'decl' || f.words[0] === 'unset' || (f.mode === 'cond' && f.words.at(-1) === '-v'));
          f.word += c;
          if (subscript) stack.push(frame('subscript', ']', !assoc.has(f.word.slice(0, -1))));
          return i;
        }
        default:
          f.word += c;
          return i;
      }
    }
    // arith, subscript, offset, param
    if (c === '\\') return i + 1;
    if (c === '$') return dollar(i);
    if (c === '`') {
      stack.push(frame('cmd', '`'));
      return i;
    }
    if (c === "'" && f.kind !== 'param') {
      const end = s.indexOf("'", i + 1);
      return end < 0 ? s.length - 1 : end;
    }
    if (f.kind === 'param' || f.kind === 'offset') {
      if (c === '}') stack.pop();
      else if (f.kind === 'offset') {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
        if (m) {
          found.add(m[0]);
          return i + m[0].length - 1;
        }
      }
      return i;
    }
    const open = f.close === ']' ? '[' : '(';
    const close = f.close === ']' ? ']' : ')';
    if (c === open) f.depth++;
    else if (c === close) {
      if (f.depth > 0) f.depth--;
      else {
        stack.pop();
        return f.close === '))' && s[i + 1] === ')' ? i + 1 : i;
      }
    } else if (f.arith) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
      if (m) {
        found.add(m[0]);
        return i + m[0].length - 1;
      }
    }
    return i;
  };
  for (let i = 0; i < s.length; i++) i = step(i);
  for (const f of [...stack].reverse()) if (f.kind === 'cmd' || f.kind === 'heredoc') endWord(f);
  return found;
}

/**
 * The `${{ }}` expressions of a `run:` script (offsets into it) that bash would evaluate as arithmetic; those that
 * read no context (literals) are left out.
 */
export function arithmeticExpressions(script: string): { expr: string; offset: number }[] {
  let parts;
  try {
    parts = splitTemplate(script);
  } catch {
    return [];
  }
  if (!parts) return [];
  let text = '';
  const exprs: { expr: string; offset: number }[] = [];
  for (const p of parts) {
    if ('text' in p) text += p.text;
    else {
      exprs.push(p);
      text += `\${DELIVERY_EXPR_${exprs.length}}`;
    }
  }
  if (!mayHaveArithmetic(text)) return [];
  const found = arithmeticReferences(text);
  return exprs.filter((p, k) => {
    if (!found.has(`DELIVERY_EXPR_${k + 1}`)) return false;
    try {
      return references(parseExpression(p.expr)).contexts.length > 0;
    } catch {
      return false;
    }
  });
}

/**
 * False when arithmeticReferences(script) finds nothing whatever the script says: every arithmetic place it knows
 * needs a ( or [ ((( )), $(( )), $[ ], [[ ]], a subscript), a : (${name:offset}), or the word let or a declaration
 * (declare -i …), also when quoted apart (l"e"t). Most run: scripts have none: the scan is skipped.
 */
export function mayHaveArithmetic(script: string): boolean {
  return /[([:]/.test(script) || /let|declare|typeset|local|readonly|export/.test(script.replace(/["'\\$]/g, ''));
}

/** The message of the located warning for an expression in an arithmetic context. */
export function arithmeticWarning(expr: string): string {
  return (
    `\${{ ${expr.trim()} }} stands where bash evaluates arithmetic ((( )), $(( )), [[ … -gt … ]], let, an array index): ` +
    'a value from outside the workflow file (a step output, the event, an input, a branch name) such as a[$(cmd)] runs cmd there. ' +
    'Local runs refuse such a value unless it is a plain integer; on GitHub it runs. ' +
    'Pass it through "env:" and check it first: [[ $N =~ ^[0-9]+$ ]] || exit 1'
  );
}
