// GitHub Actions expressions (`${{ ... }}`): a parser and an evaluator with GitHub's rules — loose equality with
// number coercion, case-insensitive string comparison and property names, `&&`/`||` returning an operand, object
// filters (`a.*.b`) and the built-in functions. Values a local run cannot know are `Unknown` markers: reading one is
// an error with its reason, never a silent empty string.

export type Value = null | boolean | number | string | Value[] | ValueObject | Unknown | LazyObject;
export interface ValueObject {
  [key: string]: Value;
}

/** A value a local run does not have (a secret, a token); reading it fails with the reason. */
export class Unknown {
  constructor(readonly reason: string) {}
}

/** An object whose entries are looked up one by one (secrets, vars): it cannot be listed. */
export class LazyObject {
  constructor(
    readonly what: string,
    readonly get: (key: string) => Value | undefined,
  ) {}
}

/** The result of an object filter (`.*`): property access maps over its elements. */
class Filtered extends Array<Value> {}

export type Expr =
  | { kind: 'literal'; value: null | boolean | number | string; pos: number }
  | { kind: 'context'; name: string; pos: number }
  | { kind: 'index'; object: Expr; index: Expr | '*'; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number };

type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** Offset in the expression text. */
    readonly pos: number,
  ) {
    super(message);
  }
}

export const CONTEXTS = ['github', 'env', 'vars', 'job', 'jobs', 'steps', 'runner', 'secrets', 'strategy', 'matrix', 'needs', 'inputs'] as const;
export const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'] as const;
const FUNCTIONS: Record<string, [min: number, max: number]> = {
  contains: [2, 2],
  startswith: [2, 2],
  endswith: [2, 2],
  format: [1, Infinity],
  join: [1, 2],
  tojson: [1, 1],
  fromjson: [1, 1],
  hashfiles: [1, Infinity],
  success: [0, 0],
  failure: [0, 0],
  always: [0, 0],
  cancelled: [0, 0],
};

// ---- tokens and parsing ----

type Token =
  | { t: 'num'; v: number; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'id'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ExpressionError('unterminated string', start);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i++];
      }
      out.push({ t: 'str', v, pos: start });
      continue;
    }
    const prev = out.at(-1);
    const operandExpected = !prev || (prev.t === 'op' && prev.v !== ')' && prev.v !== ']');
    const signed = (c === '-' || c === '+') && operandExpected;
    const num = /^(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(text.slice(signed ? i + 1 : i));
    if (num && (signed || /[\d.]/.test(c))) {
      i += (signed ? 1 : 0) + num[0].length;
      if (/[A-Za-z0-9_]/.test(text[i] ?? '')) throw new ExpressionError(`invalid number "${text.slice(start, i + 1)}"`, start);
      out.push({ t: 'num', v: (c === '-' ? -1 : 1) * Number(num[0]), pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i))!;
      i += m[0].length;
      out.push({ t: 'id', v: m[0], pos: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      out.push({ t: 'op', v: two, pos: start });
      i += 2;
      continue;
    }
    if ('!<>()[].,*'.includes(c)) {
      out.push({ t: 'op', v: c, pos: start });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected "${c}"`, start);
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

/** Parses an expression (the text inside `${{ }}`, or an `if:` without it). */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let k = 0;
  const peek = () => tokens[k];
  const isOp = (v: string) => {
    const t = tokens[k];
    return t.t === 'op' && t.v === v;
  };
  const expectOp = (v: string) => {
    if (!isOp(v)) throw new ExpressionError(`expected "${v}"`, peek().pos);
    k++;
  };
  const binary = (ops: string[], next: () => Expr) => (): Expr => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.t === 'op' && ops.includes(t.v)) {
        k++;
        left = { kind: 'binary', op: t.v as BinaryOp, left, right: next(), pos: t.pos };
      } else return left;
    }
  };
  const unary = (): Expr => {
    const t = peek();
    if (t.t === 'op' && t.v === '!') {
      k++;
      return { kind: 'not', operand: unary(), pos: t.pos };
    }
    return postfix();
  };
  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      const t = peek();
      if (t.t === 'op' && t.v === '.') {
        k++;
        const p = peek();
        if (p.t === 'op' && p.v === '*') {
          k++;
          e = { kind: 'index', object: e, index: '*', pos: p.pos };
        } else if (p.t === 'id') {
          k++;
          e = { kind: 'index', object: e, index: { kind: 'literal', value: p.v, pos: p.pos }, pos: p.pos };
        } else throw new ExpressionError('expected a property name after "."', p.pos);
      } else if (t.t === 'op' && t.v === '[') {
        k++;
        if (isOp('*')) {
          k++;
          e = { kind: 'index', object: e, index: '*', pos: t.pos };
        } else e = { kind: 'index', object: e, index: or(), pos: t.pos };
        expectOp(']');
      } else return e;
    }
  };
  const primary = (): Expr => {
    const t = peek();
    k++;
    switch (t.t) {
      case 'num':
        return { kind: 'literal', value: t.v, pos: t.pos };
      case 'str':
        return { kind: 'literal', value: t.v, pos: t.pos };
      case 'id': {
        const lower = t.v.toLowerCase();
        if (isOp('(')) {
          k++;
          const args: Expr[] = [];
          if (!isOp(')')) {
            args.push(or());
            while (isOp(',')) {
              k++;
              args.push(or());
            }
          }
          expectOp(')');
          const arity = FUNCTIONS[lower];
          if (!arity) throw new ExpressionError(`unknown function ${t.v}()`, t.pos);
          if (args.length < arity[0] || args.length > arity[1]) {
            throw new ExpressionError(`${t.v}() takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} or more`} argument${arity[1] === 1 ? '' : 's'}, not ${args.length}`, t.pos);
          }
          return { kind: 'call', name: lower, args, pos: t.pos };
        }
        if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true', pos: t.pos };
        if (lower === 'null') return { kind: 'literal', value: null, pos: t.pos };
        if (lower === 'nan') return { kind: 'literal', value: NaN, pos: t.pos };
        if (lower === 'infinity') return { kind: 'literal', value: Infinity, pos: t.pos };
        if (!(CONTEXTS as readonly string[]).includes(lower)) throw new ExpressionError(`unrecognized named-value "${t.v}"`, t.pos);
        return { kind: 'context', name: lower, pos: t.pos };
      }
      case 'op':
        if (t.v === '(') {
          const e = or();
          expectOp(')');
          return e;
        }
        throw new ExpressionError(`unexpected "${t.v}"`, t.pos);
      case 'end':
        throw new ExpressionError('unexpected end of expression', t.pos);
    }
  };
  const compare = binary(['<', '<=', '>', '>='], unary);
  const equality = binary(['==', '!='], compare);
  const and = binary(['&&'], equality);
  const or = binary(['||'], and);
  const e = or();
  if (peek().t !== 'end') throw new ExpressionError(`unexpected "${text.slice(peek().pos, peek().pos + 10).trim()}"`, peek().pos);
  return e;
}

// ---- templates: strings with ${{ }} ----

export type TemplatePart = { text: string } | { expr: string; offset: number };

/** Splits a string into text and `${{ }}` parts; null when it has no expression. Throws on an unclosed `${{`. */
export function splitTemplate(s: string): TemplatePart[] | null {
  if (!s.includes('${{')) return null;
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('${{', i);
    if (open < 0) {
      parts.push({ text: s.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: s.slice(i, open) });
    let j = open + 3;
    let close = -1;
    while (j < s.length) {
      if (s[j] === "'") {
        j++;
        while (j < s.length && !(s[j] === "'" && s[j + 1] !== "'")) j += s[j] === "'" ? 2 : 1;
        j++;
        continue;
      }
      if (s.startsWith('}}', j)) {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) throw new ExpressionError('"${{" is not closed with "}}"', open);
    parts.push({ expr: s.slice(open + 3, close), offset: open + 3 });
    i = close + 2;
  }
  return parts;
}

/** The expression of a value that is exactly one `${{ }}` (it keeps its type), else null. */
export function soleExpression(s: string): { expr: string; offset: number } | null {
  const parts = splitTemplate(s.trim());
  if (parts && parts.length === 1 && 'expr' in parts[0]) return { expr: parts[0].expr, offset: parts[0].offset + (s.length - s.trimStart().length) };
  return null;
}

// ---- evaluation ----

export interface EvalScope {
  /** The value of a context, or undefined when it is not available here. */
  context(name: string): Value | undefined;
  /** Whether values read from this context (and key) come from the workflow file itself. Default: no. */
  trusted?(name: string, key: string | null): boolean;
  /** Status functions; absent: they are not available here. */
  status?: { success(): boolean; failure(): boolean; cancelled(): boolean };
  /** hashFiles() of the workspace (its arguments as text); absent: not available here. */
  hashFiles?(args: string[]): string;
}

export interface Evaluated {
  value: Value;
  /** The value may come from outside the workflow file (git, the event, run output). */
  tainted: boolean;
}

export function evaluate(expr: Expr, scope: EvalScope): Evaluated {
  const taint = { tainted: false };
  const raw = ev(expr, scope, taint);
  const value = raw instanceof Filtered ? [...raw] : raw;
  const plain = value === null || typeof value === 'boolean' || typeof value === 'number';
  return { value, tainted: taint.tainted && !plain };
}

function ev(e: Expr, scope: EvalScope, taint: { tainted: boolean }): Value {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'context': {
      const v = scope.context(e.name);
      if (v === undefined) throw new ExpressionError(`the ${e.name} context is not available here`, e.pos);
      if (!scope.trusted?.(e.name, null)) taint.tainted = true;
      return v;
    }
    case 'index': {
      // A context's first property decides trust on its own (env.X from the file is trusted, env.Y from GITHUB_ENV not).
      let obj: Value;
      if (e.object.kind === 'context' && e.index !== '*' && e.index.kind === 'literal' && typeof e.index.value === 'string') {
        obj = scope.context(e.object.name) as Value;
        if (obj === undefined) throw new ExpressionError(`the ${e.object.name} context is not available here`, e.object.pos);
        if (!scope.trusted?.(e.object.name, e.index.value)) taint.tainted = true;
      } else obj = ev(e.object, scope, taint);
      if (obj instanceof Unknown) throw new ExpressionError(obj.reason, e.pos);
      if (e.index === '*') {
        const out = new Filtered();
        if (Array.isArray(obj)) out.push(...obj);
        else if (isObject(obj)) out.push(...Object.values(obj));
        return out;
      }
      const key = ev(e.index, scope, taint);
      return readKey(obj, key, e.pos);
    }
    case 'not':
      return !truthy(ev(e.operand, scope, taint), e.pos);
    case 'binary': {
      const l = ev(e.left, scope, taint);
      if (e.op === '&&') return truthy(l, e.pos) ? ev(e.right, scope, taint) : l;
      if (e.op === '||') return truthy(l, e.pos) ? l : ev(e.right, scope, taint);
      const r = ev(e.right, scope, taint);
      known(l, e.pos);
      known(r, e.pos);
      switch (e.op) {
        case '==':
          return looseEquals(l, r);
        case '!=':
          return !looseEquals(l, r);
        case '<':
          return lessThan(l, r);
        case '>':
          return lessThan(r, l);
        case '<=':
          return lessThan(l, r) || looseEquals(l, r);
        case '>=':
          return lessThan(r, l) || looseEquals(l, r);
      }
      return null;
    }
    case 'call':
      return call(e, scope, taint);
  }
}

function readKey(obj: Value, key: Value, pos: number): Value {
  if (obj instanceof Filtered) {
    const out = new Filtered();
    for (const item of obj) {
      const v = item === null || typeof item !== 'object' ? null : readKey(item, key, pos);
      if (v instanceof Filtered) out.push(...v);
      else if (v !== null) out.push(v);
    }
    return out;
  }
  if (Array.isArray(obj)) {
    const n = typeof key === 'number' ? key : toNumber(key);
    if (!Number.isInteger(n) || n < 0 || n >= obj.length) return null;
    return unknownCheck(obj[n], pos);
  }
  if (obj instanceof LazyObject) {
    const v = obj.get(toText(key));
    return unknownCheck(v === undefined ? null : v, pos);
  }
  if (isObject(obj)) {
    const name = toText(key);
    if (Object.prototype.hasOwnProperty.call(obj, name)) return unknownCheck(obj[name], pos);
    const lower = name.toLowerCase();
    for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return unknownCheck(obj[k], pos);
    return null;
  }
  return null;
}

function unknownCheck(v: Value, pos: number): Value {
  if (v instanceof Unknown) throw new ExpressionError(v.reason, pos);
  return v;
}

function known(v: Value, pos: number): void {
  if (v instanceof Unknown) throw new ExpressionError(v.reason, pos);
}

function call(e: Extract<Expr, { kind: 'call' }>, scope: EvalScope, taint: { tainted: boolean }): Value {
  const status = (name: keyof NonNullable<EvalScope['status']>) => {
    if (!scope.status) throw new ExpressionError(`${name}() is not available here`, e.pos);
    return scope.status[name]();
  };
  switch (e.name) {
    case 'success':
      return status('success');
    case 'failure':
      return status('failure');
    case 'cancelled':
      return status('cancelled');
    case 'always':
      return true;
    case 'hashfiles': {
      if (!scope.hashFiles) throw new ExpressionError('hashFiles() is not available here', e.pos);
      // The result is a digest (hex) whatever the arguments: never tainted.
      const args = e.args.map((a) => ev(a, scope, { tainted: false }));
      for (const a of args) known(a, e.pos);
      try {
        return scope.hashFiles(args.map((a) => toText(a)));
      } catch (err) {
        throw new ExpressionError(`hashFiles(${args.map((a) => `'${toText(a)}'`).join(', ')}): ${(err as Error).message.replace(/^hashFiles: /, '')}`, e.pos);
      }
    }
  }
  const args = e.args.map((a) => ev(a, scope, taint));
  for (const a of args) known(a, e.pos);
  switch (e.name) {
    case 'contains': {
      const [search, item] = args;
      if (Array.isArray(search)) return search.some((x) => looseEquals(x, item));
      return toText(search).toUpperCase().includes(toText(item).toUpperCase());
    }
    case 'startswith':
      return toText(args[0]).toUpperCase().startsWith(toText(args[1]).toUpperCase());
    case 'endswith':
      return toText(args[0]).toUpperCase().endsWith(toText(args[1]).toUpperCase());
    case 'format':
      return format(toText(args[0]), args.slice(1), e.pos);
    case 'join': {
      const sep = args.length > 1 ? toText(args[1]) : ',';
      return Array.isArray(args[0]) ? args[0].map((x) => toText(x)).join(sep) : toText(args[0]);
    }
    case 'tojson':
      return toJson(args[0], e.pos);
    case 'fromjson': {
      const text = toText(args[0]);
      try {
        return JSON.parse(text) as Value;
      } catch (err) {
        throw new ExpressionError(`fromJSON(): not valid JSON (${(err as Error).message}): ${text.length > 60 ? text.slice(0, 60) + '…' : text}`, e.pos);
      }
    }
  }
  throw new ExpressionError(`unknown function ${e.name}()`, e.pos);
}

function format(fmt: string, args: Value[], pos: number): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c === '{' && fmt[i + 1] === '{') {
      out += '{';
      i++;
    } else if (c === '}' && fmt[i + 1] === '}') {
      out += '}';
      i++;
    } else if (c === '{') {
      const m = /^\{(\d+)\}/.exec(fmt.slice(i));
      if (!m) throw new ExpressionError(`format(): invalid format string "${fmt}"`, pos);
      const n = Number(m[1]);
      if (n >= args.length) throw new ExpressionError(`format(): "{${n}}" has no argument`, pos);
      out += toText(args[n]);
      i += m[0].length - 1;
    } else if (c === '}') {
      throw new ExpressionError(`format(): invalid format string "${fmt}"`, pos);
    } else out += c;
  }
  return out;
}

function toJson(v: Value, pos: number): string {
  const plain = (x: Value): unknown => {
    if (x instanceof Unknown) throw new ExpressionError(x.reason, pos);
    if (x instanceof LazyObject) throw new ExpressionError(`toJSON(): the ${x.what} context cannot be listed in a local run`, pos);
    if (Array.isArray(x)) return x.map(plain);
    if (isObject(x)) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, plain(y)]));
    return x;
  };
  return JSON.stringify(plain(v), null, 2) ?? 'null';
}

function isObject(v: Value): v is ValueObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Unknown) && !(v instanceof LazyObject);
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';
function kindOf(v: Value): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
  }
  return 'object';
}

export function truthy(v: Value, pos = 0): boolean {
  if (v instanceof Unknown) throw new ExpressionError(v.reason, pos);
  if (v === null || v === false || v === '') return false;
  if (typeof v === 'number') return !(v === 0 || Number.isNaN(v));
  return true;
}

/** GitHub's string form of a value: null is '', arrays and objects are "Array" and "Object". */
export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  if (v instanceof Unknown) throw new ExpressionError(v.reason, 0);
  return Array.isArray(v) ? 'Array' : 'Object';
}

export function toNumber(v: Value): number {
  switch (kindOf(v)) {
    case 'null':
      return 0;
    case 'boolean':
      return v ? 1 : 0;
    case 'number':
      return v as number;
    case 'string': {
      const s = (v as string).trim();
      if (s === '') return 0;
      if (/^[+-]?0x[0-9a-f]+$/i.test(s)) return (s.startsWith('-') ? -1 : 1) * parseInt(s.replace(/^[+-]/, ''), 16);
      if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return Number(s);
      if (/^[+-]?infinity$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
      return NaN;
    }
  }
  return NaN;
}

/** Brings two values to one kind the way GitHub does before comparing them (primitives become numbers). */
function coerce(l: Value, r: Value): [Value, Value] {
  const lk = kindOf(l);
  const rk = kindOf(r);
  if (lk === rk) return [l, r];
  if (lk === 'number' && rk === 'string') return [l, toNumber(r)];
  if (lk === 'string' && rk === 'number') return [toNumber(l), r];
  if (lk === 'boolean' || lk === 'null') return coerce(toNumber(l), r);
  if (rk === 'boolean' || rk === 'null') return coerce(l, toNumber(r));
  return [l, r];
}

export function looseEquals(a: Value, b: Value): boolean {
  const [l, r] = coerce(a, b);
  const k = kindOf(l);
  if (k !== kindOf(r)) return false;
  if (k === 'string') return (l as string).toUpperCase() === (r as string).toUpperCase();
  if (k === 'null') return true;
  return l === r;
}

function lessThan(a: Value, b: Value): boolean {
  const [l, r] = coerce(a, b);
  const k = kindOf(l);
  if (k !== kindOf(r)) return false;
  if (k === 'number') return (l as number) < (r as number);
  if (k === 'string') return (l as string).toUpperCase() < (r as string).toUpperCase();
  return false;
}

// ---- analysis ----

/** Walks an expression: context references (with their first key) and function calls. */
export function references(e: Expr): { contexts: { name: string; key: string | null; pos: number }[]; functions: { name: string; pos: number }[] } {
  const contexts: { name: string; key: string | null; pos: number }[] = [];
  const functions: { name: string; pos: number }[] = [];
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case 'context':
        contexts.push({ name: x.name, key: null, pos: x.pos });
        return;
      case 'index':
        if (x.object.kind === 'context' && x.index !== '*' && x.index.kind === 'literal' && typeof x.index.value === 'string') {
          contexts.push({ name: x.object.name, key: x.index.value, pos: x.object.pos });
        } else walk(x.object);
        if (x.index !== '*') walk(x.index);
        return;
      case 'not':
        walk(x.operand);
        return;
      case 'binary':
        walk(x.left);
        walk(x.right);
        return;
      case 'call':
        functions.push({ name: x.name, pos: x.pos });
        x.args.forEach(walk);
        return;
      case 'literal':
        return;
    }
  };
  walk(e);
  return { contexts, functions };
}

/** Whether an `if:` calls a status function (else GitHub wraps it in `success() && (...)`). */
export function usesStatusFunction(e: Expr): boolean {
  return references(e).functions.some((f) => (STATUS_FUNCTIONS as readonly string[]).includes(f.name));
}

const parsed = new Map<string, Expr>();

/** Parses with a cache (the same expressions are evaluated for every step and matrix job). */
export function parseCached(text: string): Expr {
  let e = parsed.get(text);
  if (!e) {
    e = parseExpression(text);
    if (parsed.size > 5000) parsed.clear();
    parsed.set(text, e);
  }
  return e;
}

/**
 * Evaluates a string that may hold `${{ }}`: a value that is exactly one expression keeps its type (a list, a
 * boolean); otherwise the parts are joined as text.
 */
export function evaluateTemplate(s: string, scope: EvalScope): Evaluated {
  const parts = splitTemplate(s);
  if (!parts) return { value: s, tainted: false };
  const sole = soleExpression(s);
  if (sole) return evaluate(parseCached(sole.expr), scope);
  let text = '';
  let tainted = false;
  for (const p of parts) {
    if ('text' in p) text += p.text;
    else {
      const r = evaluate(parseCached(p.expr), scope);
      text += toText(r.value);
      tainted ||= r.tainted;
    }
  }
  return { value: text, tainted };
}
