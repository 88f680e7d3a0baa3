// The steps of a job as planned steps: `run:` steps whose command is built when they start (expressions,
// shell, working directory, step files), remote and Docker actions listed as unsupported (checkout of the
// workspace is a no-op), and local composite actions read and expanded when they start.
import * as path from 'node:path';
import type { PlannedStep, StepContext, StepExpansion } from '../engine/plan';
import { actionFiles, parseUses, remoteActionPlan } from './actions';
import { handleCommandLine, newEffects, type CommandEffects } from './commands';
import type { Trusted } from './context';
import { evaluate, evaluateTemplate, parseCached, toText, truthy, type Value } from './expressions';
import type { JobRun } from './job';
import { evalCondition, message, newScope, type Scope, type StepResult } from './scope';
import { chooseShell, scriptCommand, substituteScript } from './script';
import { readAction, stepLabel, type ActionDef, type WorkflowStep } from './workflow';

/** Local actions that use local actions that use…: deeper than this is a loop. */
const MAX_ACTION_DEPTH = 10;

/** A step of a job that does not run here: listed for the record. */
export function listedStep(ws: WorkflowStep): PlannedStep {
  return { name: stepLabel(ws), when: 'on_success', command: null, unsupported: null, noop: null, continueOnError: false };
}

/** Plans a list of steps: the job's, or (when a composite action is expanded) the action's. */
export function buildSteps(jr: JobRun, list: WorkflowStep[], scopeOf: (ctx: StepContext) => Scope, composite: boolean): PlannedStep[] {
  return list.map((ws) => buildStep(jr, ws, scopeOf, composite));
}

function buildStep(jr: JobRun, ws: WorkflowStep, scopeOf: (ctx: StepContext) => Scope, composite: boolean): PlannedStep {
  const run = jr.run;
  const folder = run.facts.folder;
  let conditionError: string | null = null;
  const record = (ctx: StepContext, r: StepResult) => {
    if (ws.id !== null) scopeOf(ctx).steps.set(ws.id, r);
  };
  const failed = (ctx: StepContext, why: string) => {
    record(ctx, { outputs: {}, outcome: 'failure', conclusion: continueOnError ? 'success' : 'failure' });
    if (!continueOnError) jr.stepFailed();
    jr.updateOutputs(ctx);
    return { error: why };
  };
  const planScope = jr.planScope();
  const continueOnError = typeof ws.continueOnError === 'boolean' ? ws.continueOnError : planTruthy(ws.continueOnError, 'continue-on-error');
  const minutes = ws.timeoutMinutes === null ? null : typeof ws.timeoutMinutes === 'number' ? ws.timeoutMinutes : Number(toText(planEval(ws.timeoutMinutes, 'timeout-minutes')));
  function planEval(t: string, what: string): Value {
    try {
      return evaluateTemplate(t, planScope).value;
    } catch (e) {
      throw new Error(`${run.wf.file}:${ws.location.line}:${ws.location.column}: ${what}: ${message(e)}`);
    }
  }
  function planTruthy(t: string, what: string): boolean {
    return truthy(planEval(t, what));
  }
  // An explicit name may use the matrix (`Test on ${{ matrix.os }}`); the `Run <script>` label stays as written.
  let name = stepLabel(ws);
  if (ws.name !== null && !composite) {
    try {
      name = toText(evaluateTemplate(name, planScope).value);
    } catch {
      // Known only at run time: shown as written.
    }
  }
  const condition = (ctx: StepContext, onRun?: () => void): boolean | string => {
    const scope = scopeOf(ctx);
    conditionError = null;
    let go: boolean;
    try {
      go = evalCondition(ws.if, jr.scope(scope, ctx, () => jr.envContext(scope, ctx, null)));
    } catch (e) {
      conditionError = `if: ${message(e)}`;
      return true;
    }
    if (!go) {
      record(ctx, { outputs: {}, outcome: 'skipped', conclusion: 'skipped' });
      jr.updateOutputs(ctx);
      return false;
    }
    onRun?.();
    return true;
  };
  const base = { name, when: 'on_success' as const, continueOnError, timeoutMs: minutes === null ? null : Math.round(minutes * 60_000) };

  if (ws.uses !== null) {
    const ref = parseUses(ws.uses);
    if (ref.kind !== 'local') {
      const r = remoteActionPlan(ref, ws.with);
      const unsupported = 'unsupported' in r ? r.unsupported : null;
      return {
        ...base,
        command: null,
        unsupported,
        noop: 'noop' in r ? r.noop : null,
        // A condition that cannot be evaluated is shown as the reason the step did not run.
        condition: (ctx) => {
          const c = condition(ctx, () => record(ctx, unsupported ? { unsupported } : { outputs: {}, outcome: 'success', conclusion: 'success' }));
          return conditionError ?? c;
        },
      };
    }
    let child: Scope | null = null;
    let action: ActionDef | null = null;
    return {
      ...base,
      command: null,
      unsupported: null,
      noop: null,
      condition: (ctx) => condition(ctx),
      expand: async (ctx): Promise<StepExpansion> => {
        if (conditionError) return failed(ctx, conditionError);
        const scope = scopeOf(ctx);
        if (scope.depth >= MAX_ACTION_DEPTH) return failed(ctx, `local actions nest more than ${MAX_ACTION_DEPTH} deep (does ${ws.uses} use itself?)`);
        const io = run.ctx.io;
        if (!io) return failed(ctx, 'local actions cannot be read in this run');
        let found: { file: string; text: string } | null = null;
        for (const file of actionFiles(ref.path)) {
          let text: string | null;
          try {
            // Inside the repository only (symlinks resolved), a regular file, size-capped.
            text = await io.readRepoFile(folder, file);
          } catch (e) {
            return failed(ctx, `action ${ws.uses}: ${(e as Error).message}`);
          }
          if (text !== null) {
            found = { file, text };
            break;
          }
        }
        if (!found) return failed(ctx, `action ${ws.uses} not found: there is no ${actionFiles(ref.path).join(' or ')} in the workspace`);
        const read = readAction(found.file, found.text);
        if (!read.action) {
          const p = read.f.problems.find((q) => q.severity === 'error');
          return failed(ctx, `invalid action ${ws.uses}: ${p ? `${p.file}:${p.line}:${p.column}: ${p.message}` : 'unreadable'}`);
        }
        action = read.action;
        if (action.using === 'docker') {
          record(ctx, { unsupported: `uses a Docker action` });
          return { unsupported: `uses a Docker action (${ws.uses}: image ${action.image ?? '?'}; needs a container engine)` };
        }
        if (/^node\d*$/.test(action.using)) {
          record(ctx, { unsupported: `uses a JavaScript action` });
          return { unsupported: `uses a JavaScript action (${ws.uses}: runs.using ${action.using}; JavaScript actions are not run locally)` };
        }
        if (action.using !== 'composite') return failed(ctx, `action ${ws.uses}: unknown runs.using "${action.using}" (composite, docker or node20)`);
        try {
          const outerEnv = jr.envContext(scope, ctx, ws);
          const outer = jr.scope(scope, ctx, () => outerEnv);
          const inputs: Trusted = { values: {}, trusted: new Set() };
          for (const [k, raw] of Object.entries(ws.with)) {
            const r = evaluateTemplate(raw, outer);
            inputs.values[k] = toText(r.value);
            if (!r.tainted) inputs.trusted.add(k);
          }
          const stepEnv: Trusted = { values: {}, trusted: new Set() };
          const beforeStep = jr.envContext(scope, ctx, null);
          const envScope = jr.scope(scope, ctx, () => beforeStep);
          for (const [k, raw] of Object.entries(ws.env)) {
            const r = evaluateTemplate(raw, envScope);
            stepEnv.values[k] = toText(r.value);
            if (!r.tainted) stepEnv.trusted.add(k);
          }
          const c = newScope(scope, inputs, path.resolve(folder, ref.path), stepEnv);
          const given = new Set(Object.keys(inputs.values).map((k) => k.toLowerCase()));
          const inner = jr.scope(c, ctx, () => jr.envContext(c, ctx, null));
          for (const decl of action.inputs) {
            if (given.has(decl.name.toLowerCase())) continue;
            const r = decl.default === undefined ? { value: '', tainted: false } : evaluateTemplate(decl.default, inner);
            inputs.values[decl.name] = toText(r.value);
            if (!r.tainted) inputs.trusted.add(decl.name);
          }
          child = c;
          return { steps: buildSteps(jr, action.steps, () => c, true) };
        } catch (e) {
          return failed(ctx, message(e));
        }
      },
      after: (result, ctx) => {
        const c = child;
        const a = action;
        child = null;
        if (!c || !a) return;
        const outputs: Record<string, string> = {};
        const problems: string[] = [];
        const inner = jr.scope(c, ctx, () => jr.envContext(c, ctx, null));
        for (const o of a.outputs) {
          if (o.value === null) continue;
          try {
            outputs[o.name] = toText(evaluateTemplate(o.value, inner).value);
          } catch (e) {
            problems.push(`output "${o.name}": ${message(e)}`);
          }
        }
        const outcome = result.exitCode === 0 && problems.length === 0 ? 'success' : 'failure';
        record(ctx, { outputs, outcome, conclusion: outcome === 'failure' && continueOnError ? 'success' : outcome });
        if (outcome === 'failure' && !continueOnError) jr.stepFailed();
        jr.updateOutputs(ctx);
        return problems.length ? problems.join('; ') : undefined;
      },
    };
  }

  // A run step.
  let current: { eff: CommandEffects; files: Record<string, string>; allowUnsecure: boolean } | null = null;
  return {
    ...base,
    unsupported: null,
    noop: null,
    condition: (ctx) => condition(ctx),
    command: async (ctx) => {
      current = null;
      if (conditionError) return failed(ctx, conditionError);
      const scope = scopeOf(ctx);
      try {
        const dir = await jr.dir(ctx);
        const env = jr.envContext(scope, ctx, ws);
        const es = jr.scope(scope, ctx, () => env);
        const f = run.wf;
        const shellRaw = ws.shell ?? (composite ? null : (jr.job.defaults.shell ?? f.defaults.shell));
        const shell = chooseShell(shellRaw === null ? null : toText(evaluateTemplate(shellRaw, es).value), jr.shellDefault);
        if ('error' in shell) return failed(ctx, shell.error);
        const wdRaw = ws.workingDirectory ?? (composite ? null : (jr.job.defaults.workingDirectory ?? f.defaults.workingDirectory));
        const cwd = wdRaw === null ? folder : path.resolve(folder, toText(evaluateTemplate(wdRaw, es).value));
        const script = substituteScript(ws.run ?? '', shell, (expr) => evaluate(parseCached(expr), es));
        if ('error' in script) return failed(ctx, script.error);
        const files = await jr.stepFiles(ctx);
        const actionId = ws.id ?? (scope.runs++ === 0 ? '__run' : `__run_${scope.runs}`);
        const procEnv = { ...jr.processEnv(env, scope, ctx, actionId, files, dir), ...script.env };
        current = { eff: newEffects(), files, allowUnsecure: (env.values.ACTIONS_ALLOW_UNSECURE_COMMANDS ?? '').toString().toLowerCase() === 'true' };
        return jr.withPath(scriptCommand(shell, script.script, cwd, procEnv), ctx);
      } catch (e) {
        return failed(ctx, message(e));
      }
    },
    onLine: (_stream, text) => {
      if (current) handleCommandLine(text, current.eff, current.allowUnsecure);
    },
    after: async (result, ctx) => {
      const cur = current;
      current = null;
      if (!cur) return;
      const applied = await jr.applyStepFiles(ctx, cur.files, cur.eff);
      const outcome = ctx.cancelled ? 'cancelled' : result.exitCode === 0 && !applied.error ? 'success' : 'failure';
      record(ctx, { outputs: applied.outputs, outcome, conclusion: outcome === 'failure' && continueOnError ? 'success' : outcome });
      if (outcome === 'failure' && !continueOnError) jr.stepFailed();
      jr.updateOutputs(ctx);
      return applied.error ?? undefined;
    },
  };
}
