// Executes the planned deploy steps for real: the build pipeline and each kind's steps (its executor in kinds/:
// processes through the ProcessRunner, HTTP with fetch); the version and health checks are the core's
// (core/environments/verify.ts), through ports the runner builds. Values reach
// processes as argv elements or environment variables, never inside a shell string of ours; the user's own deploy
// command or remote script is handed to bash as ONE argument.
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { DeployMethod, SshTarget } from '../../core/environments/config';
import type { DeployStepPlan } from '../../core/environments/deploy';
import type { DeployKind, DeployMethodOf } from '../../core/environments/deployKinds';
import type { DeployExecutor, DeployStepIO, DeployStepOutcome } from '../../core/environments/deployRun';
import type { CommandSpec } from '../../core/engine/ports';
import { describeSshFailure } from '../environments/probes';
import { DEPLOY_EXECUTORS, type KindContext, type KindExecutor, type KindSteps } from './kinds';

export type { DeployedVersion, VersionReader } from '../../core/environments/deployService';

/** Runs the environment's build pipeline in `dir`; lines go to the deploy log. */
export type PipelineRunner = (io: DeployStepIO) => Promise<{ ok: boolean; runId: string | null; reason: string | null }>;

/** What the steps of one deploy run with: what its kind's executor gets (but `run`), and the build pipeline. */
export interface ExecutorContext extends Omit<KindContext, 'run'> {
  env: EnvironmentConfig;
  /** The method with secrets and ${DELIVERY_*} already expanded where they are allowed. */
  method: DeployMethod;
  runPipeline: PipelineRunner | null;
}

export class LocalDeployExecutor implements DeployExecutor {
  private readonly kindSteps: KindSteps;

  constructor(private readonly ctx: ExecutorContext) {
    const m = ctx.method;
    const kind: KindContext = { dir: ctx.dir, sha: ctx.sha, vars: ctx.vars, deployEnv: ctx.deployEnv, runner: ctx.runner, remote: ctx.remote, run: (spec, io, opts) => this.run(spec, io, opts) };
    this.kindSteps = (DEPLOY_EXECUTORS[m.kind] as KindExecutor<DeployKind>)(m as DeployMethodOf<DeployKind>, kind);
  }

  async execute(step: DeployStepPlan, io: DeployStepIO): Promise<DeployStepOutcome> {
    const { ctx } = this;
    switch (step.id) {
      case 'pipeline': {
        if (!ctx.runPipeline) return { status: 'failed', reason: `pipeline "${ctx.env.deploy?.pipeline}" is not available` };
        const r = await ctx.runPipeline(io);
        return { status: r.ok ? 'success' : 'failed', reason: r.reason, buildRunId: r.runId ?? undefined };
      }
      default: {
        const outcome = await this.kindSteps(step, io);
        if (outcome) return outcome;
      }
    }
    return { status: 'failed', reason: `step "${step.name}" does not apply to a ${ctx.method.kind} deploy` };
  }

  private async run(spec: CommandSpec, io: DeployStepIO, opts: { seen?: string[]; ssh?: SshTarget } = {}): Promise<DeployStepOutcome> {
    // ssh's own complaints (its last stderr lines) say why it failed with exit 255.
    const sshSaid: string[] = [];
    const r = await this.ctx.runner.run(spec, {
      signal: io.signal,
      onLine: (stream, text) => {
        opts.seen?.push(text);
        if (spec.command === 'ssh' && stream === 'stderr' && sshSaid.push(text) > 50) sshSaid.shift();
        io.line(stream, text);
      },
    });
    if (r.error) return { status: 'failed', reason: r.error };
    if (r.exitCode === 0) return { status: 'success' };
    const what = spec.command === 'ssh' || spec.command === 'rsync' ? `${spec.command} ` : '';
    if (spec.command === 'ssh' && r.exitCode === 255) {
      // Which ssh failure (refused, key not accepted, host key changed, timed out) is what the user can act on.
      return { status: 'failed', reason: opts.ssh ? describeSshFailure(sshSaid.join('\n'), opts.ssh) : 'ssh could not connect to the host (exit 255)' };
    }
    if (spec.command === 'rsync' && (r.exitCode === 12 || r.exitCode === 255)) {
      return { status: 'failed', reason: `rsync lost the connection to the host (exit ${r.exitCode}); the upload is incomplete` };
    }
    return { status: 'failed', reason: r.signal ? `${what}killed by ${r.signal}` : `${what}exited with code ${r.exitCode}` };
  }
}
