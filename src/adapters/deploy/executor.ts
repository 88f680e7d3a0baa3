// Executes the planned deploy steps for real: processes (bash, ssh, rsync, git, docker) through the ProcessRunner,
// HTTP with fetch. Values reach processes as argv elements or environment variables, never inside a shell string
// of ours; the user's own deploy command or remote script is handed to bash as ONE argument.
import * as path from 'node:path';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { DeployMethod } from '../../core/environments/config';
import { gitPushRejection, versionMatches, type DeployStepPlan } from '../../core/environments/deploy';
import type { DeployExecutor, DeployStepIO, DeployStepOutcome } from '../../core/environments/deployRun';
import type { CommandSpec, ProcessRunner } from '../../core/engine/ports';
import type { SecretResolver } from '../../core/secrets';
import { shellCommand } from '../../core/engine/shell';
import { rsyncCommand, sshScriptCommand, sshWrapper, sshWrapperEnv } from '../ssh';
import { describeSshFailure } from '../environments/probes';
import { callHook, pollStatus, sleep, waitHealthy } from './http';
import { WorkflowDeploy, type RemoteDeployPort } from '../remote/deployWorkflow';

/** What the environment runs now: `sha` when resolved to a local commit, `raw` what the probe said. */
export interface DeployedVersion {
  sha: string | null;
  raw: string | null;
  error: string | null;
}

export type VersionReader = (env: EnvironmentConfig, signal: AbortSignal) => Promise<DeployedVersion>;

/** Runs the environment's build pipeline in `dir`; lines go to the deploy log. */
export type PipelineRunner = (io: DeployStepIO) => Promise<{ ok: boolean; runId: string | null; reason: string | null }>;

export interface ExecutorContext {
  /** Where the deploy runs: the workspace folder, or a clean checkout of the commit. */
  dir: string;
  env: EnvironmentConfig;
  /** The method with secrets and ${DELIVERY_*} already expanded where they are allowed. */
  method: DeployMethod;
  sha: string;
  /** DELIVERY_* variables. */
  vars: Record<string, string>;
  /** deploy.env with secrets expanded. */
  deployEnv: Record<string, string>;
  /** upload.to with ${DELIVERY_*} expanded. */
  uploadTo: string | null;
  runner: ProcessRunner;
  readVersion: VersionReader;
  runPipeline: PipelineRunner | null;
  /** How long to wait for the new version to show up (the health check's timeout by default). */
  versionWaitMs: number;
  /** For `${secret:NAME}` in the health check URL. */
  secrets?: SecretResolver;
  /** For `workflow` deploys: the remote engines of the folder's pipelines. */
  remote?: RemoteDeployPort;
}

const LABEL = 'org.opencontainers.image.revision';

export class LocalDeployExecutor implements DeployExecutor {
  private readonly workflow: WorkflowDeploy;

  constructor(private readonly ctx: ExecutorContext) {
    this.workflow = new WorkflowDeploy(ctx.remote);
  }

  async execute(step: DeployStepPlan, io: DeployStepIO): Promise<DeployStepOutcome> {
    const { ctx } = this;
    const m = ctx.method;
    switch (step.id) {
      case 'pipeline': {
        if (!ctx.runPipeline) return { status: 'failed', reason: `pipeline "${ctx.env.deploy?.pipeline}" is not available` };
        const r = await ctx.runPipeline(io);
        return { status: r.ok ? 'success' : 'failed', reason: r.reason, buildRunId: r.runId ?? undefined };
      }
      case 'command': {
        if (m.kind !== 'command') break;
        const spec = shellCommand('bash', m.command, path.resolve(ctx.dir, m.cwd ?? '.'), { ...ctx.vars, ...ctx.deployEnv, ...m.env });
        return this.run({ ...spec, killLeftovers: false }, io);
      }
      case 'ssh.prepare':
        if (m.kind !== 'ssh' || !ctx.uploadTo) break;
        return this.run(sshScriptCommand(m.ssh, 'mkdir -p -- "$DELIVERY_UPLOAD_TO"', { DELIVERY_UPLOAD_TO: ctx.uploadTo }, ctx.dir), io);
      case 'ssh.upload': {
        if (m.kind !== 'ssh' || !m.upload || !ctx.uploadTo) break;
        const from = path.resolve(ctx.dir, m.upload.from);
        return this.run(rsyncCommand(m.ssh, from, ctx.uploadTo, { delete: m.upload.delete, exclude: m.upload.exclude, cwd: ctx.dir }), io);
      }
      case 'ssh.run': {
        if (m.kind !== 'ssh' || !m.run) break;
        const env = { ...ctx.deployEnv, ...ctx.vars, ...(ctx.uploadTo ? { DELIVERY_UPLOAD_TO: ctx.uploadTo } : {}) };
        return this.run(sshScriptCommand(m.ssh, m.run, env, ctx.dir), io);
      }
      case 'gitPush':
        if (m.kind !== 'gitPush') break;
        return this.gitPush(m, io);
      case 'http.hook':
        if (m.kind !== 'http') break;
        io.line('system', `${m.method} ${m.url}`);
        return callHook(m, io);
      case 'http.status':
        if (m.kind !== 'http' || !m.status) break;
        return pollStatus(m.status, io);
      case 'docker.build': {
        if (m.kind !== 'docker' || m.build === null) break;
        const args = ['build', '--label', `${LABEL}=${ctx.sha}`, '-t', `${m.image}:${ctx.sha}`];
        if (m.dockerfile) args.push('-f', path.resolve(ctx.dir, m.dockerfile));
        for (const [k, v] of Object.entries(m.buildArgs)) args.push('--build-arg', `${k}=${v}`);
        args.push('--', path.resolve(ctx.dir, m.build));
        return this.run(this.docker(m, args), io);
      }
      case 'docker.push':
        if (m.kind !== 'docker') break;
        return this.run(this.docker(m, ['push', `${m.image}:${ctx.sha}`]), io);
      case 'docker.run': {
        if (m.kind !== 'docker' || !m.run) break;
        const rm = await ctx.runner.run(this.docker(m, ['rm', '-f', '--', m.run.name]), { signal: io.signal, onLine: io.line });
        if (rm.error) return { status: 'failed', reason: rm.error };
        const args = ['run', '-d', '--name', m.run.name, '--label', `${LABEL}=${ctx.sha}`, ...m.run.args, `${m.image}:${ctx.sha}`, ...m.run.command];
        return this.run(this.docker(m, args), io);
      }
      case 'workflow.dispatch':
        if (m.kind !== 'workflow') break;
        return this.workflow.dispatch(m, io);
      case 'workflow.follow':
        if (m.kind !== 'workflow') break;
        return this.workflow.follow(io);
      case 'version':
        return this.verifyVersion(io);
      case 'health':
        if (!ctx.env.health) break;
        return waitHealthy(ctx.env.health, io, ctx.secrets);
    }
    return { status: 'failed', reason: `step "${step.name}" does not apply to a ${m.kind} deploy` };
  }

  private docker(m: DeployMethod & { kind: 'docker' }, args: string[]): CommandSpec {
    return { command: 'docker', args, env: m.host ? { DOCKER_HOST: m.host } : {}, cwd: this.ctx.dir };
  }

  private async run(spec: CommandSpec, io: DeployStepIO, seen?: string[]): Promise<DeployStepOutcome> {
    // ssh's own complaints (its last stderr lines) say why it failed with exit 255.
    const sshSaid: string[] = [];
    const r = await this.ctx.runner.run(spec, {
      signal: io.signal,
      onLine: (stream, text) => {
        seen?.push(text);
        if (spec.command === 'ssh' && stream === 'stderr' && sshSaid.push(text) > 50) sshSaid.shift();
        io.line(stream, text);
      },
    });
    if (r.error) return { status: 'failed', reason: r.error };
    if (r.exitCode === 0) return { status: 'success' };
    const what = spec.command === 'ssh' || spec.command === 'rsync' ? `${spec.command} ` : '';
    if (spec.command === 'ssh' && r.exitCode === 255) {
      // Which ssh failure (refused, key not accepted, host key changed, timed out) is what the user can act on.
      const m = this.ctx.method;
      return { status: 'failed', reason: m.kind === 'ssh' ? describeSshFailure(sshSaid.join('\n'), m.ssh) : 'ssh could not connect to the host (exit 255)' };
    }
    if (spec.command === 'rsync' && (r.exitCode === 12 || r.exitCode === 255)) {
      return { status: 'failed', reason: `rsync lost the connection to the host (exit ${r.exitCode}); the upload is incomplete` };
    }
    return { status: 'failed', reason: r.signal ? `${what}killed by ${r.signal}` : `${what}exited with code ${r.exitCode}` };
  }

  private async gitPush(m: DeployMethod & { kind: 'gitPush' }, io: DeployStepIO): Promise<DeployStepOutcome> {
    const args = ['push', '--porcelain', ...(m.force ? ['--force'] : []), m.remote, `${this.ctx.sha}:refs/heads/${m.branch}`];
    const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
    if (m.ssh) Object.assign(env, { GIT_SSH: sshWrapper(), GIT_SSH_VARIANT: 'ssh' }, sshWrapperEnv(m.ssh, { withPort: false }));
    const lines: string[] = [];
    // A local (file://) remote's hook runs as our child and may start the app on purpose: leave it running.
    const out = await this.run({ command: 'git', args, env, cwd: this.ctx.dir, killLeftovers: false }, io, lines);
    if (out.status === 'success') return out;
    const rejection = gitPushRejection(lines);
    if (rejection) return { status: 'failed', reason: rejection };
    // No rejection: git could not push at all (no such repository, no access); its fatal line says why.
    const fatal = lines.find((l) => l.startsWith('fatal: '));
    return fatal ? { status: 'failed', reason: `${out.reason}: ${fatal.slice('fatal: '.length)}` } : out;
  }

  /** Polls the version probe until it reports the deployed commit (a restart may take a moment). */
  private async verifyVersion(io: DeployStepIO): Promise<DeployStepOutcome> {
    const { ctx } = this;
    const t0 = Date.now();
    let last: DeployedVersion | null = null;
    while (!io.signal.aborted) {
      const v = await ctx.readVersion(ctx.env, io.signal);
      const reported = v.sha ?? v.raw;
      if (reported && (v.sha === ctx.sha || versionMatches(reported, ctx.sha))) return { status: 'success', reason: `the environment runs ${ctx.sha.slice(0, 7)}` };
      if (last?.raw !== v.raw || last?.error !== v.error) io.line('stdout', v.error ? `version probe: ${v.error}` : `the environment reports ${reported ?? 'nothing'}`);
      last = v;
      if (Date.now() - t0 >= ctx.versionWaitMs) break;
      await sleep(500, io.signal);
    }
    if (last?.error) return { status: 'failed', reason: `could not read the deployed version: ${last.error}` };
    return { status: 'failed', reason: `the environment reports ${last?.sha ?? last?.raw ?? 'nothing'}, not ${ctx.sha.slice(0, 12)}` };
  }
}
