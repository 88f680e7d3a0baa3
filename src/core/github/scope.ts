// The state a job's steps share while they run: the `steps` context of each list of steps (the job's, or a
// composite action's own), the attempt's GITHUB_ENV / GITHUB_PATH additions, and `if:` evaluation.
import type { Trusted } from './context';
import { Unknown, evaluate, evaluateTemplate, parseCached, soleExpression, truthy, usesStatusFunction, type EvalScope, type ValueObject } from './expressions';

export type StepResult = { outputs: Record<string, string>; outcome: string; conclusion: string } | { unsupported: string };

/** The steps context of one list of steps: the job's, or a composite action's (which has its own). */
export interface Scope {
  steps: Map<string, StepResult>;
  /** A composite action's inputs; null: the workflow's. */
  inputs: Trusted | null;
  actionPath: string | null;
  /** The env of the `uses:` steps that led into this composite action, outermost first. */
  actionEnv: Trusted[];
  depth: number;
  runs: number;
}

export function newScope(parent: Scope | null, inputs: Trusted | null, actionPath: string | null, env: Trusted | null): Scope {
  return {
    steps: new Map(),
    inputs,
    actionPath,
    actionEnv: parent ? [...parent.actionEnv, ...(env ? [env] : [])] : [],
    depth: parent ? parent.depth + 1 : 0,
    runs: 0,
  };
}

/** State of one attempt of one job (retries start over). */
export interface Attempt {
  attempt: number;
  dir: string | null;
  seq: number;
  /** Set through GITHUB_ENV or ::set-env. */
  env: Record<string, string>;
  /** Added through GITHUB_PATH or ::add-path, newest first. */
  paths: string[];
  top: Scope;
}

export function stepsContext(scope: Scope): ValueObject {
  const out: ValueObject = {};
  for (const [id, r] of scope.steps) {
    out[id] = 'unsupported' in r ? new Unknown(`steps.${id} did not run locally: ${r.unsupported}`) : { outputs: r.outputs, outcome: r.outcome, conclusion: r.conclusion };
  }
  return out;
}

/** An `if:` (null: `success()`); without a status function it means `success() && (...)`, as on GitHub. */
export function evalCondition(raw: string | null, scope: EvalScope): boolean {
  if (raw === null) return scope.status!.success();
  const sole = soleExpression(raw);
  if (!sole && raw.includes('${{')) {
    // Text around ${{ }} makes the condition a string: true unless it comes out empty.
    return scope.status!.success() && truthy(evaluateTemplate(raw, scope).value);
  }
  const expr = parseCached(sole ? sole.expr : raw);
  if (!usesStatusFunction(expr)) return scope.status!.success() && truthy(evaluate(expr, scope).value);
  return truthy(evaluate(expr, scope).value);
}

export function oneLine(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
