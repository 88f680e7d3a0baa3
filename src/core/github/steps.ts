// The steps of a job as planned steps: `run:` steps whose command is built when they start (expressions,
// shell, working directory, step files), and actions read when they start: local ones from the workspace, remote
// ones fetched through PlanIO.actions (checkout of the workspace is a no-op); composite actions expand into their
// steps, JavaScript actions run with this machine's node (nodeAction.ts), Docker actions are unsupported;
// actions/setup-node|python|go|java use this machine's toolchain when its version fits (toolchains.ts).
import * as path from 'node:path';
import type { PlannedStep, StepContext, StepExpansion } from '../engine/plan';
import type { RemoteActionRef } from '../sources';
import { actionFiles, isNodeRuntime, parseUses, remoteActionPlan } from './actions';
import { handleCommandLine, newEffects, type CommandEffects } from './commands';
import { repositoryNotes, type Trusted } from './context';
import { evaluate, evaluateTemplate, parseCached, toText, truthy, type Value } from './expressions';
import type { JobRun } from './job';
import { NodeActionRun } from './nodeAction';
import { actionImage, dockerActionStep } from './dockerAction';
import { optionWords } from './containers';
import { evalCondition, message, newScope, type Scope, type StepResult } from './scope';
import { decideSetup, setupActionOf, versionFromFile, type SetupAction, type SetupDecision } from './toolchains';
import { chooseShell, scriptCommand, substituteScript } from './script';
import { readAction, stepLabel, type ActionDef, type WorkflowStep } from './workflow';

type ActionSourceRef = { kind: 'local'; path: string } | { kind: 'remote'; ref: RemoteActionRef };

/** Actions that use actions that use…: deeper than this is a loop. */
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
  const folder = jr.facts.folder;
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
    const setup = ref.kind === 'remote' ? setupActionOf(ref.name.split('/').slice(0, 2).join('/') === ref.name ? ref.name : '') : null;
    if (setup) {
      return {
        ...base,
        command: null,
        unsupported: null,
        noop: null,
        condition: (ctx) => condition(ctx),
        expand: async (ctx) => {
          if (conditionError) return failed(ctx, conditionError);
          let decision: SetupDecision;
          try {
            decision = await setupOnThisMachine(jr, ws, setup, scopeOf(ctx), ctx);
          } catch (e) {
            return failed(ctx, message(e));
          }
          if ('unsupported' in decision) {
            record(ctx, { unsupported: decision.unsupported });
            jr.updateOutputs(ctx);
            return { unsupported: decision.unsupported };
          }
          record(ctx, { outputs: decision.outputs, outcome: 'success', conclusion: 'success' });
          jr.updateOutputs(ctx);
          return { replace: { name, when: 'always', command: null, unsupported: null, noop: decision.note, continueOnError } };
        },
      };
    }
    if (ref.kind === 'docker') {
      // docker://image: run in a container of the image when a container engine answers.
      return {
        ...base,
        command: null,
        unsupported: null,
        noop: null,
        condition: (ctx) => condition(ctx),
        expand: async (ctx): Promise<StepExpansion> => {
          if (conditionError) return failed(ctx, conditionError);
          const why = await containerUnavailable(jr);
          if (why) {
            record(ctx, { unsupported: `uses a Docker action ${ws.uses} (${why})` });
            jr.updateOutputs(ctx);
            return { unsupported: `uses a Docker action ${ws.uses} (${why})` };
          }
          const scope = scopeOf(ctx);
          try {
            const env = jr.envContext(scope, ctx, ws);
            const es = jr.scope(scope, ctx, () => env);
            const withValues = Object.fromEntries(Object.entries(ws.with).map(([k, v]) => [k, toText(evaluateTemplate(v, es).value)]));
            const key = (k: string) => Object.keys(withValues).find((x) => x.toLowerCase() === k);
            const argsKey = key('args');
            const entryKey = key('entrypoint');
            const inputs = Object.fromEntries(Object.entries(withValues).filter(([k]) => k !== argsKey && k !== entryKey));
            return {
              replace: dockerActionStep(jr, {
                ws,
                name,
                image: { ref: ref.image },
                args: argsKey ? optionWords(withValues[argsKey]) : [],
                entrypoint: entryKey ? withValues[entryKey] : null,
                env: {},
                inputs,
                scope,
                actionDir: null,
                continueOnError,
                timeoutMs: base.timeoutMs,
                record: (cx, r) => record(cx, r),
              }),
            };
          } catch (e) {
            return failed(ctx, message(e));
          }
        },
      };
    }
    let source: ActionSourceRef;
    if (ref.kind === 'local') source = { kind: 'local', path: ref.path };
    else {
      const r = remoteActionPlan(ref, ws.with);
      if ('fetch' in r) source = { kind: 'remote', ref: r.fetch };
      else {
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
    }
    let child: Scope | null = null;
    let action: ActionDef | null = null;
    let js: NodeActionRun | null = null;
    const unsupportedStep = (ctx: StepContext, why: string): StepExpansion => {
      record(ctx, { unsupported: why });
      jr.updateOutputs(ctx);
      return { unsupported: why };
    };
    return {
      ...base,
      command: null,
      unsupported: null,
      noop: null,
      condition: (ctx) => condition(ctx),
      expand: async (ctx): Promise<StepExpansion> => {
        child = null;
        action = null;
        js = null;
        if (conditionError) return failed(ctx, conditionError);
        const scope = scopeOf(ctx);
        if (scope.depth >= MAX_ACTION_DEPTH) return failed(ctx, `actions nest more than ${MAX_ACTION_DEPTH} deep (does ${ws.uses} use itself?)`);
        const io = run.ctx.io;
        if (!io) return failed(ctx, 'actions cannot be read in this run');
        const notes: string[] = [];
        let root = folder;
        let remote: { repository: string; ref: string; commit: string } | null = null;
        if (source.kind === 'remote') {
          const r = source.ref;
          if (!io.actions) return unsupportedStep(ctx, `uses remote action ${ws.uses} (remote actions are not fetched in this run)`);
          const got = await io.actions.fetch(r);
          if ('unsupported' in got) return unsupportedStep(ctx, got.unsupported);
          root = got.root;
          remote = { repository: `${r.owner}/${r.repo}`, ref: r.ref, commit: got.commit };
          notes.push(`${got.source === 'cache' ? 'Using' : 'Downloaded'} action repository '${r.owner}/${r.repo}@${r.ref}' (SHA:${got.commit})${got.source === 'cache' ? ' from the action cache' : ` from ${io.actions.host}`}`);
          if (got.note) notes.push(got.note);
        }
        const dir = source.kind === 'local' ? source.path : source.ref.path;
        const where = source.kind === 'local' ? 'the workspace' : `${remote!.repository}@${remote!.ref}`;
        let found: { file: string; text: string } | null = null;
        for (const file of actionFiles(dir)) {
          let text: string | null;
          try {
            // Inside the repository (the workspace, or the action's) only: symlinks resolved, a regular file, size-capped.
            text = await io.readRepoFile(root, file);
          } catch (e) {
            return failed(ctx, `action ${ws.uses}: ${(e as Error).message}`);
          }
          if (text !== null) {
            found = { file, text };
            break;
          }
        }
        if (!found) return failed(ctx, `action ${ws.uses} not found: there is no ${actionFiles(dir).join(' or ')} in ${where}`);
        const read = readAction(source.kind === 'local' ? found.file : `${ws.uses}: ${found.file}`, found.text);
        if (!read.action) {
          const p = read.f.problems.find((q) => q.severity === 'error');
          return failed(ctx, `invalid action ${ws.uses}: ${p ? `${p.file}:${p.line}:${p.column}: ${p.message}` : 'unreadable'}`);
        }
        const a = read.action;
        if (a.using === 'docker') {
          const why = await containerUnavailable(jr);
          if (why) return unsupportedStep(ctx, `uses a Docker action (${ws.uses}: image ${a.image ?? '?'}; ${why})`);
        }
        if (a.using !== 'composite' && a.using !== 'docker' && !isNodeRuntime(a.using)) {
          return failed(ctx, `action ${ws.uses}: unknown runs.using "${a.using}" (composite, docker, node12, node16, node20 or node24)`);
        }
        const actionDir = path.resolve(root, dir);
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
          const c = newScope(scope, inputs, actionDir, stepEnv);
          const given = new Set(Object.keys(inputs.values).map((k) => k.toLowerCase()));
          const inner = jr.scope(c, ctx, () => jr.envContext(c, ctx, null));
          for (const decl of a.inputs) {
            if (given.has(decl.name.toLowerCase())) continue;
            let r: { value: Value; tainted: boolean } = { value: '', tainted: false };
            if (decl.default !== undefined) {
              try {
                r = evaluateTemplate(decl.default, inner);
              } catch (e) {
                // Most often ${{ github.token }}: the action gets what a run without it has, and the log says so.
                notes.push(`input "${decl.name}": its default is not known locally (${message(e)}); the action gets an empty value`);
              }
            }
            inputs.values[decl.name] = toText(r.value);
            if (!r.tainted) inputs.trusted.add(decl.name);
          }
          const declared = new Set(a.inputs.map((d) => d.name.toLowerCase()));
          const unexpected = Object.keys(ws.with).filter((k) => !declared.has(k.toLowerCase()));
          if (unexpected.length > 0 && a.inputs.length > 0) {
            notes.push(`Unexpected input(s) ${unexpected.map((k) => `'${k}'`).join(', ')}, valid inputs are [${a.inputs.map((d) => `'${d.name}'`).join(', ')}]`);
          }
          action = a;
          if (a.using === 'docker') {
            const image = actionImage(a.image ?? '', actionDir);
            if ('error' in image) return failed(ctx, `action ${ws.uses}: ${image.error}`);
            const actionScope = jr.scope(c, ctx, () => jr.envContext(c, ctx, null));
            const evalText = (t: string) => toText(evaluateTemplate(t, actionScope).value);
            // `with: args` replaces runs.args (as on GitHub); `with: entrypoint` replaces runs.entrypoint.
            const over = (k: string) => Object.keys(ws.with).find((x) => x.toLowerCase() === k);
            const args = over('args') ? optionWords(toText(inputs.values[over('args')!] ?? '')) : a.args.map(evalText);
            const entrypoint = over('entrypoint') ? toText(inputs.values[over('entrypoint')!] ?? '') : a.entrypoint;
            const env = Object.fromEntries(Object.entries(a.env).map(([k, v]) => [k, evalText(v)]));
            action = null; // the container step records the outcome itself
            return {
              replace: dockerActionStep(jr, {
                ws,
                name,
                image,
                args,
                entrypoint,
                env,
                inputs: Object.fromEntries(Object.entries(inputs.values).map(([k, v]) => [k, toText(v)])),
                scope,
                actionDir,
                continueOnError,
                timeoutMs: base.timeoutMs,
                record: (cx, r) => record(cx, r),
              }),
              notes,
            };
          }
          if (a.using === 'composite') {
            child = c;
            return { steps: buildSteps(jr, a.steps, () => c, true), notes };
          }
          js = new NodeActionRun(jr, {
            step: ws,
            name,
            action: a,
            actionDir,
            root,
            scope,
            inputs: Object.fromEntries(Object.entries(inputs.values).map(([k, v]) => [k, toText(v)])),
            remote,
            continueOnError,
            timeoutMs: base.timeoutMs,
            record: (cx, r) => record(cx, r),
          });
          if (a.pre && source.kind === 'local') notes.push(`\`pre\` execution is not supported for local action from '${ws.uses}' (as on GitHub)`);
          const pre = source.kind === 'remote' ? js.preStep(ctx) : null;
          return pre ? { steps: [pre, js.mainStep()], notes } : { replace: js.mainStep(), notes };
        } catch (e) {
          return failed(ctx, message(e));
        }
      },
      after: (result, ctx) => {
        const c = child;
        const a = action;
        const j = js;
        child = null;
        action = null;
        js = null;
        if (j) {
          // Its main step recorded the outcome; a pre step that failed kept main from running.
          if (!j.mainRan) {
            record(ctx, { outputs: {}, outcome: 'failure', conclusion: continueOnError ? 'success' : 'failure' });
            if (!continueOnError) jr.stepFailed();
            jr.updateOutputs(ctx);
          }
          return;
        }
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
        const notes = repositoryNotes(jr.facts, [ws.run, ws.if, ...Object.values(ws.env), ...Object.values(jr.job.env), ...Object.values(f.env)]);
        return { ...jr.withPath(scriptCommand(shell, script.script, cwd, procEnv), ctx), ...(notes.length ? { notes } : {}) };
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
      return jr.settleStep(ctx, cur, result.exitCode, continueOnError, record);
    },
  };
}

/**
 * actions/setup-node|python|go|java on this machine: the versions the step asks for (its input, else its version
 * file), against this machine's toolchain (PlanIO.toolVersion). Nothing is installed.
 */
async function setupOnThisMachine(jr: JobRun, ws: WorkflowStep, setup: SetupAction, scope: Scope, ctx: StepContext): Promise<SetupDecision> {
  const run = jr.run;
  const io = run.ctx.io;
  const uses = ws.uses!;
  const env = jr.envContext(scope, ctx, ws);
  const es = jr.scope(scope, ctx, () => env);
  const input = (name: string): string => {
    const key = Object.keys(ws.with).find((k) => k.toLowerCase() === name);
    return key === undefined ? '' : toText(evaluateTemplate(ws.with[key], es).value).trim();
  };
  let wants = input(setup.input).split(/\r?\n/).map((v) => v.trim()).filter((v) => v !== '');
  const notes: string[] = [];
  const file = wants.length === 0 ? input(setup.fileInput) : '';
  if (file !== '') {
    let text: string | null = null;
    let why: string | null = null;
    try {
      text = await io?.readRepoFile(jr.facts.folder, file.replace(/^\.\//, '')) ?? null;
    } catch (e) {
      why = message(e);
    }
    const version = text === null ? null : versionFromFile(setup.tool, file, text);
    if (version !== null) wants = [version];
    else notes.push(`${setup.fileInput} ${file}: ${why ?? (text === null ? 'no such file' : 'no version read from it')}, so the version is not checked`);
  }
  if (!io?.toolVersion) return { unsupported: `${uses}: this run cannot ask for this machine's ${setup.label} version` };
  return decideSetup(setup, uses, wants, await io.toolVersion(setup.tool), notes);
}

/** Null when steps can run in containers in this run, else why not. */
async function containerUnavailable(jr: JobRun): Promise<string | null> {
  const ready = jr.run.ctx.io?.containerReady;
  if (!ready) return 'this run has no container engine';
  try {
    return await ready();
  } catch (e) {
    return message(e);
  }
}
