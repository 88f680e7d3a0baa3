// A JavaScript action (`runs.using: node12|node16|node20|node24`) run with this machine's `node`, as the runner
// runs it: inputs as INPUT_<NAME>, the step files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE), state
// saved by `pre` and `main` handed to the later scripts as STATE_<name>, and `post` run when the job's steps are
// done (newest first, by default after a failure too: post-if defaults to always()). `pre` runs when the job
// starts (steps.ts: setUpJob) — just before `main` for an action a composite action uses — and not at all for a
// local action, as on GitHub.
import * as path from 'node:path';
import type { LiveStep, StepContext } from '../engine/plan';
import type { CommandSpec } from '../engine/ports';
import { inputVariable } from './actions';
import { handleCommandLine, newEffects, type CommandEffects } from './commands';
import type { JobRun } from './job';
import { evalCondition, message, oneLine, type Scope, type StepResult } from './scope';
import type { ActionDef, WorkflowStep } from './workflow';

export interface NodeActionSpec {
  /** The workflow step that uses the action. */
  step: WorkflowStep;
  /** The step's name as shown. */
  name: string;
  action: ActionDef;
  /** Absolute folder of the action (where action.yml is). */
  actionDir: string;
  /** Absolute folder of the repository the action comes from (the workspace, or the fetched copy). */
  root: string;
  /** The steps context the step belongs to (the job's, or a composite action's). */
  scope: Scope;
  /** Its inputs as text: `with:` and the declared defaults. */
  inputs: Record<string, string>;
  remote: { repository: string; ref: string; commit: string } | null;
  continueOnError: boolean;
  timeoutMs: number | null;
  /** Records the step's result in its steps context. */
  record: (ctx: StepContext, r: StepResult) => void;
}

type Stage = 'pre' | 'main' | 'post';

/** What an action's pre, main and post share in a job attempt: the state they save, whether pre failed. */
export interface NodeActionShared {
  state: Record<string, string>;
  preFailed: boolean;
}

export class NodeActionRun {
  /** The main script was started (its result is recorded). */
  mainRan = false;

  constructor(
    private readonly jr: JobRun,
    private readonly s: NodeActionSpec,
    /** Shared with the pre run when the job was set up; else its own. */
    private readonly shared: NodeActionShared = { state: {}, preFailed: false },
  ) {}

  private get state(): Record<string, string> {
    return this.shared.state;
  }

  /** The pre script as a step named `name`, when the action has one. */
  preStep(name: string): LiveStep | null {
    const a = this.s.action;
    if (!a.pre) return null;
    return this.scriptStep({
      name,
      stage: 'pre',
      script: a.pre,
      continueOnError: false,
      condition: (ctx) => this.condition(ctx, a.preIf, 'pre-if'),
      failed: () => (this.shared.preFailed = true),
      after: (result, _ctx, applied) => {
        Object.assign(this.state, applied.state);
        if (result.exitCode !== 0 || applied.error) this.shared.preFailed = true;
      },
    });
  }

  /** The main script as a step named `name` (registers the post script when it starts). */
  mainStep(name: string): LiveStep {
    const a = this.s.action;
    return this.scriptStep({
      name,
      stage: 'main',
      script: a.main ?? '',
      continueOnError: this.s.continueOnError,
      condition: () => (this.shared.preFailed ? 'its pre script failed' : true),
      starting: () => (this.mainRan = true),
      failed: (ctx) => this.fail(ctx),
      started: (ctx) => {
        if (a.post) ctx.post?.push(this.postStep());
      },
      after: (result, ctx, applied) => {
        Object.assign(this.state, applied.state);
        const outcome = ctx.cancelled ? 'cancelled' : result.exitCode === 0 && !applied.error ? 'success' : 'failure';
        this.s.record(ctx, { outputs: applied.outputs, outcome, conclusion: outcome === 'failure' && this.s.continueOnError ? 'success' : outcome });
        if (outcome === 'failure' && !this.s.continueOnError) this.jr.stepFailed();
        this.jr.updateOutputs(ctx);
      },
    });
  }

  private postStep(): LiveStep {
    const a = this.s.action;
    return this.scriptStep({
      name: `Post ${this.s.name}`,
      stage: 'post',
      script: a.post!,
      continueOnError: false,
      condition: (ctx) => this.condition(ctx, a.postIf, 'post-if'),
    });
  }

  /**
   * One script of the action as a step: its workflow commands read from its output, its step files applied after
   * it; `after` sees what they gave (an error in them is the step's error).
   */
  private scriptStep(o: {
    name: string;
    stage: Stage;
    script: string;
    continueOnError: boolean;
    condition: LiveStep['condition'];
    /** Before the command is built. */
    starting?: () => void;
    /** The command could not be built (the step fails with that error). */
    failed?: (ctx: StepContext) => void;
    /** The command was built and is about to run. */
    started?: (ctx: StepContext) => void;
    after?: (result: Parameters<NonNullable<LiveStep['after']>>[0], ctx: StepContext, applied: Awaited<ReturnType<JobRun['applyStepFiles']>>) => void;
  }): LiveStep {
    let current: { eff: CommandEffects; files: Record<string, string> } | null = null;
    return {
      name: o.name,
      when: 'always',
      command: async (ctx) => {
        current = null;
        o.starting?.();
        const built = await this.command(ctx, o.stage, o.script);
        if ('error' in built) {
          o.failed?.(ctx);
          return built;
        }
        current = built.current;
        o.started?.(ctx);
        return built.spec;
      },
      unsupported: null,
      noop: null,
      continueOnError: o.continueOnError,
      timeoutMs: this.s.timeoutMs,
      condition: o.condition,
      onLine: (_stream, text) => {
        if (current) handleCommandLine(text, current.eff, false);
      },
      after: async (result, ctx) => {
        const cur = current;
        current = null;
        if (!cur) return;
        const applied = await this.jr.applyStepFiles(ctx, cur.files, cur.eff);
        o.after?.(result, ctx, applied);
        return applied.error ?? undefined;
      },
    };
  }

  /** pre-if / post-if: default always(); without a status function it means success() && (…). */
  private condition(ctx: StepContext, raw: string | null, what: string): boolean | string {
    const scope = this.s.scope;
    try {
      if (evalCondition(raw ?? 'always()', this.jr.scope(scope, ctx, () => this.jr.envContext(scope, ctx, null)))) return true;
      return `${what}: ${oneLine(raw ?? 'always()')} is false`;
    } catch (e) {
      return `${what}: ${message(e)}`;
    }
  }

  private fail(ctx: StepContext): void {
    this.s.record(ctx, { outputs: {}, outcome: 'failure', conclusion: this.s.continueOnError ? 'success' : 'failure' });
    if (!this.s.continueOnError) this.jr.stepFailed();
    this.jr.updateOutputs(ctx);
  }

  /** `node <script>` in the workspace, with the step's env, INPUT_*, STATE_* and fresh step files. */
  private async command(
    ctx: StepContext,
    stage: Stage,
    rel: string,
  ): Promise<{ spec: CommandSpec; current: { eff: CommandEffects; files: Record<string, string> } } | { error: string }> {
    const script = scriptPath(this.s.root, this.s.actionDir, rel);
    if ('error' in script) return { error: `action ${this.s.step.uses}: runs.${stage}: ${script.error}` };
    const jr = this.jr;
    const scope = this.s.scope;
    try {
      const dir = await jr.dir(ctx);
      const env = jr.envContext(scope, ctx, this.s.step);
      const files = await jr.stepFiles(ctx);
      const remote = this.s.remote;
      const actionId = this.s.step.id ?? (remote ? `__${remote.repository.replace(/[^A-Za-z0-9_]/g, '_')}` : '__self');
      const procEnv: Record<string, string> = {
        ...jr.processEnv(env, scope, ctx, actionId, files, dir),
        GITHUB_ACTION_PATH: this.s.actionDir,
        ...(remote ? { GITHUB_ACTION_REPOSITORY: remote.repository, GITHUB_ACTION_REF: remote.ref } : {}),
      };
      for (const [k, v] of Object.entries(this.s.inputs)) procEnv[inputVariable(k)] = v;
      for (const [k, v] of Object.entries(this.state)) procEnv[`STATE_${k}`] = v;
      const spec: CommandSpec = { command: 'node', args: [script.file], cwd: jr.facts.folder, env: procEnv };
      return { spec: jr.withPath(spec, ctx), current: { eff: newEffects(), files } };
    } catch (e) {
      return { error: message(e) };
    }
  }
}

/** The script's absolute path: relative to the action's folder, and inside the repository it comes from. */
export function scriptPath(root: string, actionDir: string, rel: string): { file: string } | { error: string } {
  const r = rel.trim();
  if (r === '') return { error: 'no script is named' };
  if (path.isAbsolute(r) || r.includes('\0')) return { error: `"${r}" must be a path relative to the action's folder` };
  const file = path.resolve(actionDir, r);
  const back = path.relative(path.resolve(root), file);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) return { error: `"${r}" is outside the action's repository; not run` };
  return { file };
}
