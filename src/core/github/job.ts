// One planned job of a workflow run (a matrix combination, or the job itself): its `if:` over the jobs it needs,
// its contexts, its env (workflow < job < GITHUB_ENV < composite < step < run variables) and the files its steps
// write. WorkflowRun holds what the jobs of one run share.
import * as path from 'node:path';
import type { DepState, PlannedJob, PlannedStep, StepContext } from '../engine/plan';
import type { CommandSpec } from '../engine/ports';
import type { RunRequest } from '../engine/select';
import type { PlanContext } from '../sources';
import { parseEnvFile, parsePathFile, type CommandEffects } from './commands';
import { isTrustedKey, type RunFacts, type Trusted } from './context';
import { Unknown, evaluateTemplate, parseCached, references, soleExpression, splitTemplate, toText, truthy, usesStatusFunction, type EvalScope, type Value, type ValueObject } from './expressions';
import type { Combination } from './matrix';
import { evalCondition, newScope, oneLine, stepsContext, type Attempt, type Scope, type StepResult } from './scope';
import { callOutputs, type CallSite } from './reusable';
import { listedStep, planSteps } from './steps';
import { isWindowsLabel, platformOf, runsOnLabels } from './platforms';
import { jobPlacement, type JobPlacement } from './containers';
import { backgroundStepsReason, type Workflow, type WorkflowJob, type WorkflowStep } from './workflow';
import { jobJunitReports } from './testReports';

/** What the jobs of one run share (a called reusable workflow is a WorkflowRun of its own, with its call site). */
export class WorkflowRun {
  /** Workflow job id -> the planned job ids it became (its matrix jobs, the jobs of the workflow it calls, or itself). */
  readonly expansions = new Map<string, string[]>();
  /** Planned jobs that did not run, or ran, after a failure upstream (for failure() and success()). */
  readonly failedUpstream: Set<string>;
  /** Workflow job id -> the first of its matrix jobs that failed (fail-fast). */
  readonly failFast = new Map<string, string>();
  /** Planned job id -> outputs that could not be evaluated, with the reason. */
  readonly outputErrors: Map<string, Record<string, string>>;
  /** Workflow job id of a caller job -> the runs of the workflow it calls (one per matrix combination). */
  readonly calls = new Map<string, WorkflowRun[]>();
  /** Planned job id -> its JobRun (kept by the top run, for the runtime's gates and steps). */
  readonly jobRuns = new Map<string, JobRun>();
  /** Planned id of a matrix known only from needs -> how it becomes its jobs (kept by the top run). */
  readonly groups = new Map<string, (deps: Record<string, DepState>) => { jobs: PlannedJob[] } | { error: string }>();
  readonly facts: RunFacts;

  constructor(
    readonly wf: Workflow,
    readonly ctx: PlanContext,
    readonly request: RunRequest,
    facts: RunFacts,
    /** Set for a called workflow: its caller and what its jobs inherit. */
    readonly site: CallSite | null = null,
    readonly parent: WorkflowRun | null = null,
  ) {
    this.facts = site?.facts ?? facts;
    this.failedUpstream = parent?.failedUpstream ?? new Set();
    this.outputErrors = parent?.outputErrors ?? new Map();
  }

  /** The workflow the run was started for. */
  get root(): WorkflowRun {
    return this.parent ? this.parent.root : this;
  }

  /** Contexts known when the run is planned (matrix values, job names, timeouts). */
  planScope(matrix: Value | null, needs?: ValueObject, trustedMatrix = true): EvalScope {
    const f = this.facts;
    return {
      context: (name) => {
        switch (name) {
          case 'github':
            return f.github;
          case 'inputs':
            return f.inputs.values;
          case 'vars':
            return f.vars;
          case 'secrets':
            return f.secrets;
          case 'matrix':
            return matrix ?? undefined;
          case 'needs':
            return needs;
          case 'strategy':
            return matrix === null ? undefined : {};
        }
        return undefined;
      },
      trusted: (name, key) => (name === 'inputs' ? isTrustedKey(f.inputs, key) : name === 'matrix' ? trustedMatrix : false),
    };
  }

  /** `needs.<job>.result` and `.outputs` of the declared needs, with matrix jobs summed up as one. */
  needsContext(declared: string[], deps: Record<string, DepState>): ValueObject {
    const out: ValueObject = {};
    for (const need of declared) {
      const ids = this.expansions.get(need) ?? [need];
      const states = ids.map((id) => deps[id]).filter((d): d is DepState => !!d);
      if (states.length === 0) {
        out[need] = new Unknown(`needs.${need} is not known: job "${need}" is not part of this run (run the job with the jobs it needs)`);
        continue;
      }
      const outputs: ValueObject = {};
      const calls = this.calls.get(need);
      if (calls) {
        // A caller job's outputs are the called workflow's outputs (on.workflow_call.outputs), over its jobs.
        for (const c of calls) Object.assign(outputs, callOutputs(c.wf, c.facts, c.needsContext([...c.expansions.keys()], deps)));
      } else {
        for (const id of ids) {
          Object.assign(outputs, deps[id]?.outputs ?? {});
          for (const [k, why] of Object.entries(this.outputErrors.get(id) ?? {})) if (!(k in (deps[id]?.outputs ?? {}))) outputs[k] = new Unknown(`needs.${need}.outputs.${k}: ${why}`);
        }
      }
      out[need] = { result: resultOf(states), outputs };
    }
    return out;
  }
}

/** A name that shows matrix values itself gets no `(values)` suffix. */
export function readsMatrix(raw: string): boolean {
  try {
    return (splitTemplate(raw) ?? []).some((p) => 'expr' in p && references(parseCached(p.expr)).contexts.some((c) => c.name === 'matrix'));
  } catch {
    return /\$\{\{[^}]*matrix/i.test(raw);
  }
}

function resultOf(states: DepState[]): string {
  if (states.some((s) => (s.status === 'failed' || s.status === 'unsupported') && !s.allowFailure)) return 'failure';
  if (states.some((s) => s.status === 'cancelled')) return 'cancelled';
  if (states.every((s) => s.status === 'skipped' || s.status === 'manual')) return 'skipped';
  return 'success';
}

export class JobRun {
  private state: Attempt | null = null;
  readonly allowFailure: boolean;
  readonly timeoutMs: number | null;
  readonly name: string;
  private readonly defaultShell: 'bash' | 'sh' | 'pwsh';
  private readonly matrix: ValueObject | null;
  private readonly strategy: ValueObject;
  readonly steps: PlannedStep[];
  readonly unsupported: string | null;
  /** The image `runs-on` maps to (--platform LABEL=IMAGE), or null: this machine. */
  readonly platformImage: string | null;
  /** The job's own workspace (a copy of the folder made before it starts), or null: it runs in the folder. */
  readonly workspace: string | null;
  /** The run's facts as this job sees them: its workspace is the folder (GITHUB_WORKSPACE, github.workspace). */
  readonly facts: RunFacts;

  constructor(
    readonly run: WorkflowRun,
    readonly job: WorkflowJob,
    readonly id: string,
    combo: Combination | null,
    readonly matrixTrusted: boolean,
    position: { index: number; total: number },
    /** The declared needs that are part of this run. */
    readonly needIds: string[],
    /** The needs context when the job is planned once they have run (a matrix computed from their outputs). */
    needs?: ValueObject,
  ) {
    this.matrix = combo?.values ?? null;
    // Each job in a copy of the folder, as each gets a fresh checkout on GitHub (unless the run says shared).
    this.workspace = run.ctx.workspace === 'shared' ? null : (run.ctx.workspaceFor?.(id) ?? null);
    this.facts = this.workspace === null ? run.facts : inWorkspace(run.facts, this.workspace, run.ctx);
    const failFast = typeof job.failFast === 'boolean' ? job.failFast : truthy(this.planValue(job.failFast, 'strategy.fail-fast'));
    this.strategy = { 'fail-fast': failFast, 'job-index': position.index, 'job-total': position.total, 'max-parallel': job.maxParallel ?? position.total };
    const coe = job.continueOnError;
    this.allowFailure = typeof coe === 'boolean' ? coe : truthy(this.planValue(coe, 'continue-on-error'));
    const tm = job.timeoutMinutes;
    const minutes = tm === null ? null : typeof tm === 'number' ? tm : Number(toText(this.planValue(tm, 'timeout-minutes')));
    if (minutes !== null && !(minutes > 0)) throw new Error(`${run.wf.file}: job "${job.id}": timeout-minutes must be a positive number`);
    this.timeoutMs = minutes === null ? null : Math.round(minutes * 60_000);
    this.name = (run.site?.namePrefix ?? '') + this.displayName(combo, needs);
    // runs-on, per matrix leg: this machine, an image, or no local platform (core/github/platforms.ts). A Windows
    // runner mapped to this machine keeps its PowerShell scripts.
    const platform = this.platform();
    const windows = 'host' in platform && platform.labels.some(isWindowsLabel);
    this.platformImage = 'image' in platform ? platform.image : null;
    this.defaultShell = job.container ? 'sh' : windows ? 'pwsh' : 'bash';
    this.unsupported = 'unsupported' in platform ? platform.unsupported : this.unsupportedReason();
    this.steps = this.unsupported ? job.steps.map((s) => listedStep(s)) : planSteps(this, job.steps, false);
    run.root.jobRuns.set(id, this);
  }

  /** Contexts known when the run is planned, with this job's matrix values. */
  planScope(): EvalScope {
    return this.run.planScope(this.matrix, undefined, this.matrixTrusted);
  }

  /** What a caller job's `with:` and `secrets:` read: the plan's contexts, its matrix and strategy, its needs. */
  callScope(needs?: ValueObject): EvalScope {
    const base = this.run.planScope(this.matrix, needs, this.matrixTrusted);
    return { ...base, context: (name) => (name === 'strategy' ? (this.matrix ? this.strategy : undefined) : base.context(name)) };
  }

  private planValue(template: string, what: string): Value {
    try {
      return evaluateTemplate(template, this.planScope()).value;
    } catch (e) {
      throw new Error(`${this.run.wf.file}: job "${this.job.id}": ${what}: ${(e as Error).message}`);
    }
  }

  private displayName(combo: Combination | null, needs: ValueObject | undefined): string {
    const raw = this.job.name ?? this.job.id;
    let name = raw;
    try {
      name = toText(evaluateTemplate(raw, this.run.planScope(this.matrix, needs, this.matrixTrusted)).value);
    } catch {
      // Needs values known only at run time: show it as written.
    }
    if (combo && !readsMatrix(raw)) name = `${name} (${combo.label})`;
    return name;
  }

  /** Where this job (this matrix leg) runs, from its `runs-on` labels and the run's platform map. */
  private platform(): ({ host: true } & { labels: string[] }) | { image: string } | { unsupported: string } {
    if (this.job.uses !== null || this.job.runsOn === null || this.job.runsOn === undefined) return { host: true, labels: [] };
    const read = runsOnLabels(this.job.runsOn, (t) => evaluateTemplate(t, this.planScope()).value);
    if ('error' in read) return { unsupported: read.error };
    const p = platformOf(read.labels, this.run.request.platforms, this.run.ctx.host.arch);
    return 'host' in p ? { host: true, labels: read.labels } : p;
  }

  /** Where the job runs: its container (or its platform's image) with its services, or this machine. */
  placement(): JobPlacement {
    const job = this.job;
    const evaluate = (t: string) => {
      try {
        return toText(evaluateTemplate(t, this.planScope()).value);
      } catch (e) {
        throw new Error(`${this.run.wf.file}: job "${job.id}": ${(e as Error).message}`);
      }
    };
    const image = this.run.request.forceShellExecutor ? null : job.container ? evaluate(job.container) : this.platformImage;
    return jobPlacement(job, image, evaluate, this.facts.folder, this.run.ctx.host.tempDir ?? null);
  }

  private unsupportedReason(): string | null {
    const job = this.job;
    // A caller job becomes the called workflow's jobs (plan.ts: planCall), which say what cannot run.
    if (job.uses !== null) return null;
    const reasons: string[] = [];
    const background = backgroundStepsReason(job);
    if (background) reasons.push(background);
    // Jobs in containers (container:, or a runs-on label mapped to an image) and services run through the
    // container executor (executorSpec()); with --force-shell-executor a container job runs on this machine.
    return reasons.length ? reasons.join('; ') : null;
  }

  planned(deps: string[]): PlannedJob {
    return {
      id: this.id,
      name: this.name,
      stage: null,
      deps,
      after: [],
      when: 'on_success',
      allowFailure: this.allowFailure,
      retries: 0,
      timeoutMs: this.timeoutMs,
      steps: this.steps,
      unsupported: this.unsupported,
      ...(this.platformImage !== null ? { platformImage: this.platformImage } : {}),
      ...(this.unsupported ? {} : (({ executor, notes }) => ({ executor, notes }))(this.placement())),
      ...(this.workspace !== null && !this.unsupported ? { workspace: { source: this.run.ctx.folder, path: this.workspace } } : {}),
      gate: { kind: 'github' },
      junit: jobJunitReports(this.job.steps),
      artifacts: [],
      cwd: this.facts.folder,
    };
  }

  /** The job's `if:` (default `success()`) over the results of the jobs it needs; fail-fast for matrix jobs. */
  condition(deps: Record<string, DepState>): { run: true } | { run: false; reason: string } | { error: string } {
    const run = this.run;
    // A job of a called workflow runs only when its caller would (its if:, its needs), with the caller's inputs.
    const site = run.site;
    if (site) {
      const gate = site.caller.condition(deps);
      if (!('run' in gate) || !gate.run) return gate;
      site.resolve(deps);
    }
    const depIds = this.needIds.flatMap((n) => run.expansions.get(n) ?? [n]);
    const hard = (id: string) => {
      const d = deps[id];
      return !!d && (((d.status === 'failed' || d.status === 'unsupported') && !d.allowFailure) || run.failedUpstream.has(id));
    };
    const failed = depIds.some(hard);
    if (failed) run.failedUpstream.add(this.id);
    const cancelled = depIds.some((id) => deps[id]?.status === 'cancelled');
    const needs = run.needsContext(this.job.needs, deps);
    const blocking = this.needIds.find((n) => (needs[n] as ValueObject | undefined)?.result !== 'success');
    const status = { success: () => !failed && !cancelled && blocking === undefined, failure: () => failed, cancelled: () => cancelled };
    if (this.matrix && this.strategy['fail-fast'] === true) {
      const first = run.failFast.get(this.job.id);
      if (first && first !== this.id) return { run: false, reason: `not started: "${first}" failed and the matrix is fail-fast` };
    }
    const f = this.facts;
    const scope: EvalScope = {
      context: (name) => (name === 'github' ? f.github : name === 'needs' ? needs : name === 'vars' ? f.vars : name === 'inputs' ? f.inputs.values : undefined),
      status,
    };
    try {
      if (evalCondition(this.job.if, scope)) return { run: true };
    } catch (e) {
      return { error: `if: ${(e as Error).message}` };
    }
    if (this.job.if === null || !usesStatusFunction(parseCached(this.job.if.includes('${{') ? (soleExpression(this.job.if)?.expr ?? "''") : this.job.if))) {
      if (blocking !== undefined) return { run: false, reason: `needs "${blocking}", whose result is ${(needs[blocking] as ValueObject).result}` };
    }
    return { run: false, reason: `if: ${oneLine(this.job.if ?? 'success()')} is false` };
  }

  attempt(ctx: StepContext): Attempt {
    if (!this.state || this.state.attempt !== ctx.attempt) {
      this.state = { attempt: ctx.attempt, dir: null, seq: 0, env: {}, paths: [], top: newScope(null, null, null, null) };
    }
    return this.state;
  }

  /** The job's scratch folder (step files, event.json), made when its first step starts. */
  async dir(ctx: StepContext): Promise<string> {
    const st = this.attempt(ctx);
    if (st.dir) return st.dir;
    const io = this.run.ctx.io;
    if (!io) throw new Error('this run has no scratch folder for GITHUB_ENV and the other step files');
    const dir = await io.tempDir('delivery-github-');
    // A folder a job of this run had before holds the same payload, unless a step changed it.
    const event = path.join(dir, 'event.json');
    const payload = payloadText(this.facts.payload);
    if ((await io.readText(event)) !== payload) await io.writeText(event, payload);
    st.dir = dir;
    return dir;
  }

  /** The job attempt has ended (its processes too): its scratch folder may serve a later job of the run. */
  release(ctx: StepContext): void {
    const st = this.state;
    if (!st || st.attempt !== ctx.attempt || !st.dir) return;
    this.run.ctx.io?.releaseDir?.(st.dir, ['event.json']);
    st.dir = null;
  }

  /** Fresh GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, … files for one step. */
  async stepFiles(ctx: StepContext): Promise<Record<'env' | 'path' | 'output' | 'state' | 'summary', string>> {
    const dir = await this.dir(ctx);
    const n = ++this.attempt(ctx).seq;
    const files = {
      env: path.join(dir, `env_${n}`),
      path: path.join(dir, `path_${n}`),
      output: path.join(dir, `output_${n}`),
      state: path.join(dir, `state_${n}`),
      summary: path.join(dir, `summary_${n}`),
    };
    const io = this.run.ctx.io!;
    if (io.freshFiles) await io.freshFiles(Object.values(files));
    else for (const f of Object.values(files)) await io.writeText(f, '');
    return files;
  }

  /** The env context: workflow env < job env < GITHUB_ENV < composite `uses:` env < step env < run variables. */
  envContext(scope: Scope, ctx: StepContext, step: WorkflowStep | null): Trusted {
    const out: Trusted = { values: {}, trusted: new Set() };
    const put = (k: string, v: string, trusted: boolean) => {
      out.values[k] = v;
      if (trusted) out.trusted.add(k);
      else out.trusted.delete(k);
    };
    const f = this.facts;
    const wfScope: EvalScope = {
      context: (n) => (n === 'github' ? f.github : n === 'inputs' ? f.inputs.values : n === 'vars' ? f.vars : n === 'secrets' ? f.secrets : undefined),
      trusted: (n, k) => n === 'inputs' && isTrustedKey(f.inputs, k),
    };
    for (const [k, raw] of Object.entries(this.run.wf.env)) {
      const r = evaluateTemplate(raw, wfScope);
      put(k, toText(r.value), !r.tainted);
    }
    const jobScope = this.scope(scope, ctx, () => out, { env: false });
    for (const [k, raw] of Object.entries(this.job.env)) {
      const r = evaluateTemplate(raw, jobScope);
      put(k, toText(r.value), !r.tainted);
    }
    const st = this.attempt(ctx);
    for (const [k, v] of Object.entries(st.env)) put(k, v, false);
    for (const t of scope.actionEnv) for (const [k, v] of Object.entries(t.values)) put(k, toText(v), t.trusted.has(k));
    if (step) {
      const before = { values: { ...out.values }, trusted: new Set(out.trusted) };
      const stepScope = this.scope(scope, ctx, () => before);
      for (const [k, raw] of Object.entries(step.env)) {
        const r = evaluateTemplate(raw, stepScope);
        put(k, toText(r.value), !r.tainted);
      }
    }
    for (const [k, v] of Object.entries(f.variables)) put(k, v, false);
    return out;
  }

  /** Every context a step can read. `env` is computed on first use (it may fail: a secret, an unknown value). */
  scope(scope: Scope, ctx: StepContext, env: () => Trusted, opts: { env?: boolean } = {}): EvalScope {
    const f = this.facts;
    let envMemo: Trusted | null = null;
    const envOf = () => (envMemo ??= env());
    const inputs = scope.inputs ?? f.inputs;
    return {
      context: (name) => {
        switch (name) {
          case 'github':
            return { ...f.github, job: this.job.id, run_attempt: String(ctx.attempt), action_path: scope.actionPath ?? '' };
          case 'env':
            return opts.env === false ? undefined : envOf().values;
          case 'inputs':
            return inputs.values;
          case 'vars':
            return f.vars;
          case 'secrets':
            return f.secrets;
          case 'matrix':
            return this.matrix;
          case 'strategy':
            return this.strategy;
          case 'needs':
            return this.run.needsContext(this.job.needs, ctx.deps);
          case 'steps':
            return stepsContext(scope);
          case 'job':
            return { status: ctx.cancelled ? 'cancelled' : ctx.failed ? 'failure' : 'success', container: { id: null, network: null }, services: {} };
          case 'runner':
            return { os: f.runner.os, arch: f.runner.arch, name: 'delivery-local', environment: 'self-hosted', temp: this.state?.dir ?? '', tool_cache: this.state?.dir ? path.join(this.state.dir, 'tool-cache') : '', debug: '' };
        }
        return undefined;
      },
      trusted: (name, key) => {
        if (name === 'matrix') return this.matrixTrusted;
        if (name === 'strategy') return true;
        if (name === 'env') return isTrustedKey(envOf(), key);
        if (name === 'inputs') return isTrustedKey(inputs, key);
        return false;
      },
      status: { success: () => !ctx.failed && !ctx.cancelled, failure: () => ctx.failed, cancelled: () => ctx.cancelled },
      ...(f.hashFiles ? { hashFiles: f.hashFiles } : {}),
    };
  }

  /** Re-evaluates the job's `outputs:` (after each step), for the jobs that need this one. */
  updateOutputs(ctx: StepContext): void {
    const entries = Object.entries(this.job.outputs);
    if (entries.length === 0) return;
    const top = this.attempt(ctx).top;
    const scope = this.scope(top, ctx, () => this.envContext(top, ctx, null));
    const errors: Record<string, string> = {};
    for (const [name, raw] of entries) {
      try {
        ctx.outputs[name] = toText(evaluateTemplate(raw, scope).value);
      } catch (e) {
        delete ctx.outputs[name];
        errors[name] = (e as Error).message;
      }
    }
    this.run.outputErrors.set(this.id, errors);
  }

  /** A step failed the job: other jobs of a fail-fast matrix do not start. */
  stepFailed(): void {
    if (this.matrix && this.strategy['fail-fast'] === true && !this.allowFailure && !this.run.failFast.has(this.job.id)) {
      this.run.failFast.set(this.job.id, this.id);
    }
    // The caller of a called workflow fails with it (its own matrix may be fail-fast).
    this.run.site?.caller.stepFailed();
  }

  /** The step's process environment: the env context plus GITHUB_* / RUNNER_* and the step files. */
  processEnv(env: Trusted, scope: Scope, ctx: StepContext, actionId: string, files: Record<string, string>, dir: string): Record<string, string> {
    const f = this.facts;
    return {
      CI: 'true',
      ...(env.values as Record<string, string>),
      ...f.env,
      GITHUB_JOB: this.job.id,
      GITHUB_RUN_ATTEMPT: String(ctx.attempt),
      GITHUB_ACTION: actionId,
      ...(scope.actionPath ? { GITHUB_ACTION_PATH: scope.actionPath } : {}),
      GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
      GITHUB_ENV: files.env,
      GITHUB_PATH: files.path,
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_STEP_SUMMARY: files.summary,
      RUNNER_TEMP: dir,
      RUNNER_TOOL_CACHE: path.join(dir, 'tool-cache'),
      DELIVERY: 'true',
      DELIVERY_PIPELINE: this.run.root.wf.id,
      DELIVERY_JOB: this.id,
    };
  }

  /**
   * After a step that ran a process: applies its step files and workflow commands, records its outcome (for
   * `steps.<id>`), marks the job failed unless it may fail; the reason it failed for, else undefined.
   */
  async settleStep(
    ctx: StepContext,
    cur: { files: Record<string, string>; eff: CommandEffects },
    exitCode: number | null,
    continueOnError: boolean,
    record: (ctx: StepContext, r: StepResult) => void,
  ): Promise<string | undefined> {
    const applied = await this.applyStepFiles(ctx, cur.files, cur.eff);
    const outcome = ctx.cancelled ? 'cancelled' : exitCode === 0 && !applied.error ? 'success' : 'failure';
    record(ctx, { outputs: applied.outputs, outcome, conclusion: outcome === 'failure' && continueOnError ? 'success' : outcome });
    if (outcome === 'failure' && !continueOnError) this.stepFailed();
    this.updateOutputs(ctx);
    return applied.error ?? undefined;
  }

  /** Applies what a step wrote to its files and printed as commands; a string is why the step fails. */
  async applyStepFiles(ctx: StepContext, files: Record<string, string>, eff: CommandEffects): Promise<{ outputs: Record<string, string>; state: Record<string, string>; error: string | null }> {
    const io = this.run.ctx.io!;
    const st = this.attempt(ctx);
    const problems = [...eff.notes];
    Object.assign(st.env, eff.env);
    const outputs = { ...eff.outputs };
    const envFile = parseEnvFile((await io.readText(files.env)) ?? '');
    if ('error' in envFile) problems.push(`GITHUB_ENV: ${envFile.error}`);
    else Object.assign(st.env, envFile.values);
    const outFile = parseEnvFile((await io.readText(files.output)) ?? '');
    if ('error' in outFile) problems.push(`GITHUB_OUTPUT: ${outFile.error}`);
    else Object.assign(outputs, outFile.values);
    const added = [...eff.paths, ...parsePathFile((await io.readText(files.path)) ?? '')];
    st.paths = [...added.reverse(), ...st.paths];
    const state = { ...eff.state };
    const stateFile = parseEnvFile((await io.readText(files.state)) ?? '');
    if ('error' in stateFile) problems.push(`GITHUB_STATE: ${stateFile.error}`);
    else Object.assign(state, stateFile.values);
    io.recycleFiles?.(Object.values(files));
    return { outputs, state, error: problems.length ? problems.join('; ') : null };
  }

  withPath(spec: CommandSpec, ctx: StepContext): CommandSpec {
    const paths = this.attempt(ctx).paths;
    if (paths.length === 0) return spec;
    // A fixed wrapper: the added directories travel in a variable, never in the script text.
    return {
      ...spec,
      command: 'sh',
      args: ['-c', 'PATH="$DELIVERY_PATH_PREPEND${PATH:+:$PATH}"; export PATH; exec "$@"', 'sh', spec.command, ...spec.args],
      env: { ...spec.env, DELIVERY_PATH_PREPEND: paths.join(path.delimiter) },
    };
  }

  get shellDefault(): 'bash' | 'sh' | 'pwsh' {
    return this.defaultShell;
  }
}

/** event.json's text: the same payload object for every job of a run, written out once. */
const payloadTexts = new WeakMap<object, string>();
function payloadText(payload: object): string {
  let text = payloadTexts.get(payload);
  if (text === undefined) payloadTexts.set(payload, (text = JSON.stringify(payload, null, 2)));
  return text;
}

/** The run's facts for a job in a workspace of its own: that folder is the workspace everywhere. */
function inWorkspace(f: RunFacts, folder: string, ctx: PlanContext): RunFacts {
  const io = ctx.io;
  return {
    ...f,
    folder,
    github: { ...f.github, workspace: folder },
    env: { ...f.env, GITHUB_WORKSPACE: folder },
    hashFiles: io?.hashFiles ? (args) => io.hashFiles!(folder, args) : f.hashFiles,
  };
}
