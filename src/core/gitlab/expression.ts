// GitLab's CI/CD variable expressions (`rules:if`, `only:variables`, `workflow:rules:if`):
//   $VAR, "string", 'string', /regex/flags, null, ==, !=, =~, !~, &&, || and parentheses.
// Parsed once when the file is read (syntax errors are located problems), evaluated per run.

export type Expr =
  | { k: 'var'; name: string }
  | { k: 'str'; value: string }
  | { k: 'regex'; source: string; flags: string }
  | { k: 'null' }
  | { k: 'cmp'; op: '==' | '!=' | '=~' | '!~'; left: Expr; right: Expr }
  | { k: 'and' | 'or'; left: Expr; right: Expr };

type Token =
  | { t: 'var'; name: string; at: number }
  | { t: 'str'; value: string; at: number }
  | { t: 'regex'; source: string; flags: string; at: number }
  | { t: 'null'; at: number }
  | { t: 'op'; op: '==' | '!=' | '=~' | '!~' | '&&' | '||' | '(' | ')'; at: number };

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** Offset in the expression text. */
    readonly at: number,
  ) {
    super(message);
  }
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '=~' || two === '!~' || two === '&&' || two === '||') {
      out.push({ t: 'op', op: two, at: i });
      i += 2;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ t: 'op', op: c, at: i });
      i++;
      continue;
    }
    if (c === '$') {
      // GitLab's lexer knows only `$NAME`: `${NAME}` is "invalid expression syntax" there, so it is here too.
      const braced = /^\$\{([A-Za-z0-9_]+)\}/.exec(src.slice(i));
      if (braced) throw new ExpressionError(`\${${braced[1]}} is not allowed in an expression (GitLab rejects it: invalid expression syntax); write $${braced[1]}`, i);
      const m = /^\$([A-Za-z0-9_]+)/.exec(src.slice(i));
      if (!m) throw new ExpressionError('expected a variable name after "$"', i);
      out.push({ t: 'var', name: m[1], at: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated string (missing closing ${c})`, i);
      out.push({ t: 'str', value: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    if (c === '/') {
      let j = i + 1;
      let source = '';
      while (j < src.length && src[j] !== '/') {
        if (src[j] === '\\' && j + 1 < src.length) {
          // `\/` is a slash inside the pattern; other escapes stay as written.
          source += src[j + 1] === '/' ? '/' : src.slice(j, j + 2);
          j += 2;
          continue;
        }
        source += src[j++];
      }
      if (j >= src.length) throw new ExpressionError('unterminated regular expression (missing closing /)', i);
      const flags = /^[a-z]*/.exec(src.slice(j + 1))![0];
      out.push({ t: 'regex', source, flags, at: i });
      i = j + 1 + flags.length;
      continue;
    }
    if (/^null\b/.test(src.slice(i))) {
      out.push({ t: 'null', at: i });
      i += 4;
      continue;
    }
    throw new ExpressionError(`unexpected "${src.slice(i, i + 10)}"`, i);
  }
  return out;
}

/** Parses an expression; throws ExpressionError with the offset of the problem. */
export function parseExpression(src: string): Expr {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (op: string) => {
    const t = peek();
    return t?.t === 'op' && t.op === op;
  };
  const primary = (): Expr => {
    const t = tokens[pos++];
    if (!t) throw new ExpressionError('expression ends too early', src.length);
    switch (t.t) {
      case 'var':
        return { k: 'var', name: t.name };
      case 'str':
        return { k: 'str', value: t.value };
      case 'regex':
        return { k: 'regex', source: t.source, flags: t.flags };
      case 'null':
        return { k: 'null' };
      case 'op':
        if (t.op === '(') {
          const e = or();
          if (!isOp(')')) throw new ExpressionError('missing ")"', peek()?.at ?? src.length);
          pos++;
          return e;
        }
        throw new ExpressionError(`unexpected "${t.op}"`, t.at);
    }
  };
  const comparison = (): Expr => {
    const left = primary();
    const t = peek();
    if (t?.t === 'op' && (t.op === '==' || t.op === '!=' || t.op === '=~' || t.op === '!~')) {
      pos++;
      const right = primary();
      if ((t.op === '=~' || t.op === '!~') && right.k !== 'regex' && right.k !== 'var') {
        throw new ExpressionError(`the right side of ${t.op} must be a /regular expression/ or a variable holding one`, t.at);
      }
      return { k: 'cmp', op: t.op, left, right };
    }
    return left;
  };
  // && binds tighter than ||; both associate to the left.
  const chain = (op: '&&' | '||', next: () => Expr): Expr => {
    let left = next();
    while (isOp(op)) {
      pos++;
      left = { k: op === '&&' ? 'and' : 'or', left, right: next() };
    }
    return left;
  };
  const and = (): Expr => chain('&&', comparison);
  const or = (): Expr => chain('||', and);
  if (tokens.length === 0) throw new ExpressionError('empty expression', 0);
  const e = or();
  if (pos < tokens.length) throw new ExpressionError(`unexpected "${src.slice(tokens[pos].at, tokens[pos].at + 10)}"`, tokens[pos].at);
  return e;
}

/** A Ruby/RE2-style regular expression as a JavaScript one (flags i and m; m means "dot matches newline"). */
export function toRegExp(source: string, flags: string): RegExp {
  const js = (flags.includes('i') ? 'i' : '') + (flags.includes('m') ? 's' : '');
  return new RegExp(source.replace(/\\A/g, '^').replace(/\\[zZ]/g, '$'), js);
}

type Value = string | null | RegExp | boolean;

/** Evaluates an expression; `lookup` gives a variable's value (undefined: not defined). */
export function evaluate(e: Expr, lookup: (name: string) => string | undefined): boolean {
  return truthy(value(e, lookup));
}

function truthy(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v !== '';
  return true;
}

function value(e: Expr, lookup: (name: string) => string | undefined): Value {
  switch (e.k) {
    case 'var':
      return lookup(e.name) ?? null;
    case 'str':
      return e.value;
    case 'null':
      return null;
    case 'regex':
      return safeRegExp(e.source, e.flags);
    case 'and':
      return truthy(value(e.left, lookup)) && truthy(value(e.right, lookup));
    case 'or':
      return truthy(value(e.left, lookup)) || truthy(value(e.right, lookup));
    case 'cmp': {
      const left = value(e.left, lookup);
      const right = value(e.right, lookup);
      if (e.op === '==' || e.op === '!=') {
        const eq = normal(left) === normal(right);
        return e.op === '==' ? eq : !eq;
      }
      const re = right instanceof RegExp ? right : typeof right === 'string' ? patternFromVariable(right) : null;
      const matched = re !== null && typeof left === 'string' && re.test(left);
      return e.op === '=~' ? matched : !matched;
    }
  }
}

function normal(v: Value): string | null {
  if (v === null) return null;
  if (v instanceof RegExp) return `/${v.source}/`;
  return String(v);
}

function safeRegExp(source: string, flags: string): RegExp | null {
  try {
    return toRegExp(source, flags);
  } catch {
    return null;
  }
}

/** A variable used on the right of =~ holds `/pattern/flags` (GitLab 15+); a plain string matches itself. */
function patternFromVariable(s: string): RegExp | null {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(s);
  if (m) return safeRegExp(m[1], m[2]);
  return safeRegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), '');
}
