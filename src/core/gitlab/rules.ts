// `rules:` (jobs, workflow, include) and `only:`/`except:`: read when the file is read, evaluated per run.
// `if` is evaluated locally; `exists` against the project's files; `changes` needs a push event with a diff, which
// a local run does not have, so it is reported once and treated as matching.
import { ExpressionError, parseExpression, toRegExp, evaluate, type Expr } from './expression';
import { readStringList, readVariables, ValReader } from './reader';
import { describeVal, flatten, type Loc, type Problems, type Val } from './yaml';
import { expandText, type VarDecl } from './variables';

export type GlWhen = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed' | 'never';
export const WHEN_VALUES: readonly GlWhen[] = ['on_success', 'on_failure', 'always', 'manual', 'delayed', 'never'];

export interface AllowFailure {
  allowed: boolean;
  /** `allow_failure: exit_codes`: these exit codes make a failure allowed. */
  exitCodes: number[];
}

export interface Condition {
  expr: Expr;
  text: string;
}

export interface Rule {
  loc: Loc;
  if: Condition | null;
  exists: { patterns: string[]; remote: boolean } | null;
  changes: boolean;
  when: GlWhen | null;
  allowFailure: AllowFailure | null;
  variables: VarDecl[];
  /** Raw `needs:` of the rule (read by the job reader, which knows needs). */
  needs: Val | null;
}

export type RuleScope = 'job' | 'workflow' | 'include';

const KEYS: Record<RuleScope, readonly string[]> = {
  job: ['if', 'changes', 'exists', 'when', 'allow_failure', 'variables', 'needs', 'start_in', 'interruptible'],
  workflow: ['if', 'changes', 'exists', 'when', 'variables', 'auto_cancel'],
  include: ['if', 'changes', 'exists', 'when'],
};

/** Parses an expression value, reporting syntax errors at it. */
export function readCondition(problems: Problems, v: Val, what: string): Condition | null {
  if (v.t !== 'scalar' || typeof v.value !== 'string') {
    problems.error(v.loc, `${what} must be an expression string such as '$CI_COMMIT_BRANCH == "main"', not ${describeVal(v)}`);
    return null;
  }
  try {
    const expr = parseExpression(v.value);
    const bad = badRegex(expr);
    if (bad) {
      problems.error(v.loc, `${what}: invalid regular expression /${bad}/`);
      return null;
    }
    return { expr, text: v.value };
  } catch (e) {
    const msg = e instanceof ExpressionError ? `${e.message} at character ${e.at + 1}` : String(e);
    problems.error(v.loc, `${what}: invalid expression "${v.value}": ${msg}`);
    return null;
  }
}

function badRegex(e: Expr): string | null {
  switch (e.k) {
    case 'regex':
      try {
        toRegExp(e.source, e.flags);
        return null;
      } catch {
        return e.source;
      }
    case 'cmp':
    case 'and':
    case 'or':
      return badRegex(e.left) ?? badRegex(e.right);
    default:
      return null;
  }
}

export function readAllowFailure(problems: Problems, v: Val, what: string): AllowFailure | null {
  if (v.t === 'scalar' && typeof v.value === 'boolean') return { allowed: v.value, exitCodes: [] };
  if (v.t === 'map') {
    const r = new ValReader(problems, v, `${what}: allow_failure`, ['exit_codes']);
    const codes = r.value('exit_codes');
    if (!codes) return r.fail(v, '"exit_codes" is required') ?? null;
    const list = codes.t === 'seq' ? flatten(codes).items : [codes];
    const out: number[] = [];
    for (const c of list) {
      if (c.t === 'scalar' && typeof c.value === 'number' && Number.isInteger(c.value)) out.push(c.value);
      else problems.error(c.loc, `${what}: allow_failure:exit_codes must be whole numbers, not ${describeVal(c)}`);
    }
    return { allowed: false, exitCodes: out };
  }
  problems.error(v.loc, `${what}: allow_failure must be true, false or { exit_codes: [...] }, not ${describeVal(v)}`);
  return null;
}

/** `rules:` of a job, the workflow or an include. Null when absent; an empty list is an error (as in GitLab). */
export function readRules(problems: Problems, v: Val | undefined, what: string, scope: RuleScope): Rule[] | null {
  if (!v || (v.t === 'scalar' && v.value === null)) return null;
  if (v.t !== 'seq') {
    problems.error(v.loc, `${what} rules: must be a list of rules, not ${describeVal(v)}`);
    return null;
  }
  const items = flatten(v).items;
  if (items.length === 0) {
    problems.error(v.loc, `${what} rules: config can't be blank (remove "rules:" or add a rule)`);
    return null;
  }
  const out: Rule[] = [];
  for (const item of items) {
    const r = ValReader.from(problems, item, `${what} rule`, KEYS[scope]);
    if (!r) continue;
    const rule: Rule = { loc: item.loc, if: null, exists: null, changes: false, when: null, allowFailure: null, variables: [], needs: null };
    const cond = r.value('if');
    if (cond) rule.if = readCondition(problems, cond, `${what} rules:if`);
    const exists = r.value('exists');
    if (exists) rule.exists = readExists(problems, exists, `${what} rules:exists`);
    if (r.has('changes')) {
      rule.changes = true;
      // Said once per place: a rule in a template shared by many jobs is one note, not one per job.
      problems.info(r.entry('changes')!.keyLoc, 'rules:changes cannot be evaluated in a local run (there is no pushed diff); the condition is treated as true');
    }
    const when = r.string('when');
    if (when !== undefined) {
      const allowed: readonly GlWhen[] = scope === 'job' ? WHEN_VALUES : ['always', 'never'];
      if ((allowed as readonly string[]).includes(when)) rule.when = when as GlWhen;
      else r.fail(r.value('when')!, `rules:when must be one of ${allowed.join(', ')}, not "${when}"`);
    }
    const af = r.value('allow_failure');
    if (af) rule.allowFailure = readAllowFailure(problems, af, what);
    rule.variables = readVariables(problems, r.value('variables'), `${what} rule`);
    rule.needs = r.entry('needs')?.value ?? null;
    out.push(rule);
  }
  return out;
}

function readExists(problems: Problems, v: Val, what: string): Rule['exists'] {
  if (v.t === 'map') {
    const r = new ValReader(problems, v, what, ['paths', 'project', 'ref']);
    const patterns = r.stringList('paths') ?? [];
    return { patterns, remote: r.has('project') };
  }
  const patterns = readStringList(problems, v, what);
  return patterns ? { patterns, remote: false } : null;
}

/** What rule evaluation needs from a run. */
export interface RuleEnv {
  lookup(name: string): string | undefined;
  /** True when any file of the project matches one of the glob patterns. */
  exists(patterns: string[]): Promise<boolean>;
}

/** The first rule whose conditions all hold, or null when none does. */
export async function firstMatch<R extends Rule>(rules: readonly R[], env: RuleEnv): Promise<R | null> {
  for (const rule of rules) {
    if (rule.if && !evaluate(rule.if.expr, env.lookup)) continue;
    if (rule.exists && !rule.exists.remote) {
      const patterns = rule.exists.patterns.map((p) => expandText(p, env.lookup).replace(/^\//, '')).filter((p) => p !== '');
      if (patterns.length === 0 || !(await env.exists(patterns))) continue;
    }
    return rule;
  }
  return null;
}

// ---- only / except ----

export interface RefFilter {
  loc: Loc;
  refs: string[] | null;
  variables: Condition[] | null;
  changes: boolean;
}

export function readRefFilter(problems: Problems, v: Val | undefined, what: string): RefFilter | null {
  if (!v || (v.t === 'scalar' && v.value === null)) return null;
  if (v.t === 'map') {
    const r = new ValReader(problems, v, what, ['refs', 'variables', 'changes', 'kubernetes']);
    const refs = r.stringList('refs') ?? null;
    const vars = r.value('variables');
    let variables: Condition[] | null = null;
    if (vars) {
      const items = vars.t === 'seq' ? flatten(vars).items : [vars];
      variables = items.map((i) => readCondition(problems, i, `${what}:variables`)).filter((c): c is Condition => c !== null);
    }
    if (r.has('changes')) problems.info(r.entry('changes')!.keyLoc, `${what}:changes cannot be evaluated in a local run; it is treated as true`);
    return { loc: v.loc, refs, variables, changes: r.has('changes') };
  }
  const refs = readStringList(problems, v, what);
  return refs ? { loc: v.loc, refs, variables: null, changes: false } : null;
}

export interface RefFacts {
  /** Branch or tag name (CI_COMMIT_REF_NAME). */
  ref: string;
  isTag: boolean;
  source: string;
}

const SOURCE_KEYWORDS: Record<string, string[]> = {
  api: ['api'],
  chat: ['chat'],
  external: ['external'],
  external_pull_requests: ['external_pull_request_event'],
  merge_requests: ['merge_request_event'],
  pipelines: ['pipeline', 'parent_pipeline'],
  pushes: ['push'],
  schedules: ['schedule'],
  triggers: ['trigger'],
  web: ['web'],
};

function refMatches(pattern: string, facts: RefFacts): boolean {
  if (pattern === 'branches') return !facts.isTag && facts.source !== 'merge_request_event';
  if (pattern === 'tags') return facts.isTag;
  const keyword = SOURCE_KEYWORDS[pattern];
  if (keyword) return keyword.includes(facts.source);
  const name = pattern.replace(/@.*$/, '');
  const re = /^\/(.*)\/([a-z]*)$/s.exec(name);
  if (re) {
    try {
      return toRegExp(re[1], re[2]).test(facts.ref);
    } catch {
      return false;
    }
  }
  return name === facts.ref;
}

/** only: all given parts hold; except: any given part holds. */
export function refFilterMatches(f: RefFilter, facts: RefFacts, lookup: (n: string) => string | undefined, mode: 'only' | 'except'): boolean {
  const parts: boolean[] = [];
  if (f.refs) parts.push(f.refs.some((p) => refMatches(p, facts)));
  if (f.variables) parts.push(f.variables.some((c) => evaluate(c.expr, lookup)));
  if (f.changes) parts.push(true);
  if (parts.length === 0) return mode === 'only';
  return mode === 'only' ? parts.every(Boolean) : parts.some(Boolean);
}
