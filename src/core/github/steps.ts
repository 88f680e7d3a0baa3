// The steps of a job: planned as data (planStep: the workflow step and what it uses, by kind — planData.ts), and
// opened as live steps when their job starts (openStep, the GitHub step interpreters of runtime.ts): `run:` steps
// whose command is built when they start (expressions, shell, working directory, step files), and actions read
// when they start: local ones from the workspace, remote ones fetched through PlanIO.actions when the job is set up
// (checkout of the workspace is a no-op), their `pre:` run then; composite actions expand into their steps,
// JavaScript actions run with this machine's node (nodeAction.ts), Docker actions in a container (dockerAction.ts);
// actions/setup-node|python|go|java use this machine's toolchain when its version fits (toolchains.ts).
import * as path from 'node:path';
import type { LiveStep, PlannedStep, StepContext, StepExpansion } from '../engine/plan';
import type { JobSetup } from '../engine/interpreters';
import type { GithubStepRun } from './planData';
import type { RemoteActionRef } from '../sources';
import { actionFiles, isNodeRuntime, parseUses, remoteActionPlan } from './actions';
import { handleCommandLine, newEffects, type CommandEffects } from './commands';
import { repositoryNotes, type Trusted } from './context';
import { evaluate, evaluateTemplate, parseCached, toText, truthy, type Value } from './expressions';
import type { JobRun } from './job';
import { NodeActionRun, type NodeActionShared } from './nodeAction';
import { actionImage, dockerActionStep } from './dockerAction';
import { optionWords } from './containers';
import { evalCondition, message, newScope, type Scope, type StepResult } from './scope';
import { decideSetup, setupActionOf, versionFromFile, type SetupAction, type SetupDecision } from './toolchains';
import { chooseShell, scriptCommand, substituteScript } from './script';
import { readAction, stepLabel, type ActionDef, type WorkflowStep } from './workflow';
import { stepJunitReports } from './testReports';

type ActionSourceRef = { kind: 'local'; path: string } | { kind: 'remote'; ref: RemoteActionRef };

/** A planned GitHub step. */
export type GithubPlannedStep = PlannedStep & { run: GithubStepRun };

/** What setting up a job attempt prepared for its steps: remote actions fetched and read, state shared with their pre. */
export interface PreparedActions {
  resolved: Map<GithubStepRun, ActionResolution>;
  /** JavaScript actions whose `pre:` was planned at the start of the job: the state their main and post share with it. */
  shared: Map<GithubStepRun, NodeActionShared>;
}

/** An action read from its repository (the workspace, or its fetched copy), or why it cannot be had. */
type ActionResolution =
  | { action: ActionDef; actionDir: string; root: string; remote: { repository: string; ref: string; commit: string } | null; notes: string[] }
  | { unsupported: string }
  | { error: string };

/** Actions that use actions that use…: deeper than this is a loop. */
const MAX_ACTION_DEPTH = 10;

/** A step's `with:` inputs, evaluated in its scope now. */
function stepInputs(jr: JobRun, ws: WorkflowStep, scope: Scope, ctx: StepContext): Record<string, string> {
  const env = jr.envContext(scope, ctx, ws);
  const es = jr.scope(scope, ctx, () => env);
  return Object.fromEntries(Object.entries(ws.with).map(([k, v]) => [k, toText(evaluateTemplate(v, es).value)]));
}

/** A step of a job that does not run here: listed for the record. */
export function listedStep(ws: WorkflowStep): PlannedStep {
  return { name: stepLabel(ws), when: 'on_success', continueOnError: false, timeoutMs: null, run: { kind: 'noop', note: null } };
}

/** Plans a list of steps as data: the job's, or (when a composite action is expanded) the action's. */
export function planSteps(jr: JobRun, list: WorkflowStep[], composite: boolean): GithubPlannedStep[] {
  return list.map((ws) => planStep(jr, ws, composite));
}

/** Opens the steps of a composite action (planned when it is expanded) as live steps of its scope. */
function buildSteps(jr: JobRun, list: WorkflowStep[], scopeOf: (ctx: StepContext) => Scope, composite: boolean): LiveStep[] {
  return list.map((ws) => openStep(jr, planStep(jr, ws, composite), scopeOf, null));
}

/**
 * A workflow step as data: its name (the matrix evaluated), continue-on-error and timeout (known when the run is
 * planned), and what it runs by kind; expressions that need run-time contexts stay templates.
 */
export function planStep(jr: JobRun, ws: WorkflowStep, composite: boolean): GithubPlannedStep {
  const run = jr.run;
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
  const data = { step: ws, composite };
  let kind: GithubStepRun;
  if (ws.uses === null) kind = { kind: 'github-run', ...data };
  else {
    const ref = parseUses(ws.uses);
    const setup = ref.kind === 'remote' ? setupActionOf(ref.name.split('/').slice(0, 2).join('/') === ref.name ? ref.name : '') : null;
    if (setup && ref.kind === 'remote') kind = { kind: 'github-setup', action: ref.name, ...data };
    else if (ref.kind === 'docker') kind = { kind: 'github-docker', image: ref.image, ...data };
    else if (ref.kind === 'local') kind = { kind: 'github-action', source: { kind: 'local', path: ref.path }, ...data };
    else {
      const r = remoteActionPlan(ref, ws.with);
      if ('fetch' in r) kind = { kind: 'github-action', source: { kind: 'remote', ref: r.fetch }, ...data };
      else kind = { kind: 'github-inert', unsupported: 'unsupported' in r ? r.unsupported : null, noop: 'noop' in r ? r.noop : null, ...data };
    }
  }
  return { name, when: 'on_success', continueOnError, timeoutMs: minutes === null ? null : Math.round(minutes * 60_000), run: kind };
}

/**
 * A planned step as a live step of its job attempt: its `if:`, its command or expansion, its workflow commands and
 * step files, its result in the steps context. `prepared`: what setting up the job did for it (a fetched action).
 */
export function openStep(jr: JobRun, planned: GithubPlannedStep, scopeOf: (ctx: StepContext) => Scope, prepared: PreparedActions | null): LiveStep {
  const run = jr.run;
  const folder = jr.facts.folder;
  const kind = planned.run;
  const ws = kind.step;
  const composite = kind.composite;
  const name = planned.name;
  const continueOnError = planned.continueOnError;
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
  const unsupportedStep = (ctx: StepContext, why: string, stopsJob = false): StepExpansion => {
    record(ctx, { unsupported: why });
    jr.updateOutputs(ctx);
    return { unsupported: why, ...(stopsJob ? { stopsJob } : {}) };
  };
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
  const base = { name, when: planned.when, continueOnError, timeoutMs: planned.timeoutMs };

  if (kind.kind !== 'github-run') {
    if (kind.kind === 'github-setup') {
      const setup = setupActionOf(kind.action);
      if (!setup) return { ...base, command: null, unsupported: `${ws.uses}: not a setup action this run knows`, noop: null };
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
          // The later steps would run with this machine's version, not the one asked for: they do not run.
          if ('unsupported' in decision) return unsupportedStep(ctx, decision.unsupported, true);
          record(ctx, { outputs: decision.outputs, outcome: 'success', conclusion: 'success' });
          jr.updateOutputs(ctx);
          return { replace: { name, when: 'always', command: null, unsupported: null, noop: decision.note, continueOnError } };
        },
      };
    }
    if (kind.kind === 'github-docker') {
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
          if (why) return unsupportedStep(ctx, `uses a Docker action ${ws.uses} (${why})`);
          const scope = scopeOf(ctx);
          try {
            const withValues = stepInputs(jr, ws, scope, ctx);
            const key = (k: string) => Object.keys(withValues).find((x) => x.toLowerCase() === k);
            const argsKey = key('args');
            const entryKey = key('entrypoint');
            const inputs = Object.fromEntries(Object.entries(withValues).filter(([k]) => k !== argsKey && k !== entryKey));
            return {
              replace: dockerActionStep(jr, {
                ws,
                name,
                image: { ref: kind.image },
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
    if (kind.kind === 'github-inert') {
      const unsupported = kind.unsupported;
      // A report action names the job's JUnit reports with its inputs as they are now (a composite action's
      // inputs, env, the matrix): read when the job ends (StepContext.reports).
      const names = (ctx: StepContext) => {
        if (unsupported) return;
        try {
          ctx.reports?.push(...(stepJunitReports(ws.uses, stepInputs(jr, ws, scopeOf(ctx), ctx)) ?? []));
        } catch {
          // An input that cannot be evaluated names no report here (as on GitHub, the step would fail there).
        }
      };
      return {
        ...base,
        command: null,
        unsupported,
        noop: kind.noop,
        // A condition that cannot be evaluated is shown as the reason the step did not run.
        condition: (ctx) => {
          const c = condition(ctx, () => {
            record(ctx, unsupported ? { unsupported } : { outputs: {}, outcome: 'success', conclusion: 'success' });
            names(ctx);
          });
          return conditionError ?? c;
        },
      };
    }
    const source: ActionSourceRef = kind.source;
    let child: Scope | null = null;
    let action: ActionDef | null = null;
    let js: NodeActionRun | null = null;
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
        const setUp = prepared?.resolved.get(kind);
        const resolved = setUp ?? (await resolveAction(jr, ws, source));
        if ('unsupported' in resolved) return unsupportedStep(ctx, resolved.unsupported);
        if ('error' in resolved) return failed(ctx, resolved.error);
        // Where the action came from is said when the job is set up for the actions fetched then.
        const notes: string[] = setUp ? [] : [...resolved.notes];
        const { root, remote } = resolved;
        const a = resolved.action;
        if (a.using === 'docker') {
          const why = await containerUnavailable(jr);
          if (why) return unsupportedStep(ctx, `uses a Docker action (${ws.uses}: image ${a.image ?? '?'}; ${why})`);
        }
        if (a.using !== 'composite' && a.using !== 'docker' && !isNodeRuntime(a.using)) {
          return failed(ctx, `action ${ws.uses}: unknown runs.using "${a.using}" (composite, docker, node12, node16, node20 or node24)`);
        }
        const actionDir = resolved.actionDir;
        try {
          const { inputs, c } = actionInputs(jr, ws, a, scope, ctx, actionDir, notes);
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
          // A pre run when the job was set up shares its state with main and post.
          const shared = prepared?.shared.get(kind);
          js = new NodeActionRun(
            jr,
            {
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
            },
            shared,
          );
          if (a.pre && source.kind === 'local') notes.push(`\`pre\` execution is not supported for local action from '${ws.uses}' (as on GitHub)`);
          // An action used by a composite action has its pre just before its main.
          const pre = source.kind === 'remote' && !shared ? js.preStep('pre') : null;
          return pre ? { steps: [pre, js.mainStep('main')], notes } : { replace: js.mainStep(name), notes };
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
        return { ...jr.withPath(scriptCommand(shell, script.script, cwd, procEnv, dir), ctx), ...(notes.length ? { notes } : {}) };
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

/**
 * An action's inputs as the step gives them (`with:` over the declared defaults) and the scope its own steps and
 * expressions see; lines for the log go to `notes`.
 */
function actionInputs(jr: JobRun, ws: WorkflowStep, a: ActionDef, scope: Scope, ctx: StepContext, actionDir: string, notes: string[]): { inputs: Trusted; c: Scope } {
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
  return { inputs, c };
}

/** Reads the action a step uses: fetched through PlanIO.actions when remote, its action.yml read and checked. */
async function resolveAction(jr: JobRun, ws: WorkflowStep, source: ActionSourceRef): Promise<ActionResolution> {
  const io = jr.run.ctx.io;
  if (!io) return { error: 'actions cannot be read in this run' };
  const notes: string[] = [];
  let root = jr.facts.folder;
  let remote: { repository: string; ref: string; commit: string } | null = null;
  if (source.kind === 'remote') {
    const r = source.ref;
    if (!io.actions) return { unsupported: `uses remote action ${ws.uses} (remote actions are not fetched in this run)` };
    let got: Awaited<ReturnType<NonNullable<typeof io.actions>['fetch']>>;
    try {
      got = await io.actions.fetch(r);
    } catch (e) {
      return { error: `action ${ws.uses}: ${message(e)}` };
    }
    if ('unsupported' in got) return { unsupported: got.unsupported };
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
      return { error: `action ${ws.uses}: ${(e as Error).message}` };
    }
    if (text !== null) {
      found = { file, text };
      break;
    }
  }
  if (!found) return { error: `action ${ws.uses} not found: there is no ${actionFiles(dir).join(' or ')} in ${where}` };
  const read = readAction(source.kind === 'local' ? found.file : `${ws.uses}: ${found.file}`, found.text);
  if (!read.action) {
    const p = read.f.problems.find((q) => q.severity === 'error');
    return { error: `invalid action ${ws.uses}: ${p ? `${p.file}:${p.line}:${p.column}: ${p.message}` : 'unreadable'}` };
  }
  return { action: read.action, actionDir: path.resolve(root, dir), root, remote, notes };
}

/**
 * Sets up a job attempt as GitHub's "Set up job" does: the remote actions its steps use are fetched and read, in
 * step order, and the `pre:` of each JavaScript action among them becomes a step run before the job's first
 * (pre-if decides; a local action's pre does not run, as on GitHub, where the action is not there yet).
 */
export async function setUpJob(jr: JobRun, steps: readonly PlannedStep[], ctx: StepContext, prepared: PreparedActions): Promise<JobSetup> {
  const out: JobSetup = { steps: [], notes: [] };
  if (!jr.run.ctx.io) return out;
  for (const step of steps) {
    const kind = step.run;
    if (kind.kind !== 'github-action' || kind.source.kind !== 'remote') continue;
    const ws = kind.step;
    const resolved = await resolveAction(jr, ws, kind.source);
    prepared.resolved.set(kind, resolved);
    if (!('action' in resolved)) continue;
    for (const note of resolved.notes) out.notes.push(`▷ ${step.name}: ${note}`);
    const a = resolved.action;
    if (!isNodeRuntime(a.using) || !a.pre) continue;
    const shared: NodeActionShared = { state: {}, preFailed: false };
    prepared.shared.set(kind, shared);
    const scope = jr.attempt(ctx).top;
    let inputs: Record<string, string>;
    try {
      const notes: string[] = [];
      inputs = Object.fromEntries(Object.entries(actionInputs(jr, ws, a, scope, ctx, resolved.actionDir, notes).inputs.values).map(([k, v]) => [k, toText(v)]));
    } catch (e) {
      const why = message(e);
      shared.preFailed = true;
      out.steps.push({ name: `Pre ${step.name}`, when: 'always', command: () => ({ error: why }), unsupported: null, noop: null, continueOnError: false });
      continue;
    }
    const js = new NodeActionRun(
      jr,
      {
        step: ws,
        name: step.name,
        action: a,
        actionDir: resolved.actionDir,
        root: resolved.root,
        scope,
        inputs,
        remote: resolved.remote,
        continueOnError: step.continueOnError,
        timeoutMs: step.timeoutMs,
        record: () => undefined,
      },
      shared,
    );
    const pre = js.preStep(`Pre ${step.name}`);
    if (pre) out.steps.push(pre);
  }
  return out;
}
