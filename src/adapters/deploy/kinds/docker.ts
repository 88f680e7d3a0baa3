// `docker` deploys: build an image tagged (and labelled) with the commit, push it, replace the container.
import * as path from 'node:path';
import type { CommandSpec } from '../../../core/engine/ports';
import type { DeployMethodOf } from '../../../core/environments/deployKinds';
import type { KindExecutor } from './kind';

const LABEL = 'org.opencontainers.image.revision';

export const executeDocker: KindExecutor<'docker'> = (m, ctx) => {
  const docker = (args: string[]): CommandSpec => dockerCommand(m, args, ctx.dir);
  return async (step, io) => {
    switch (step.id) {
      case 'docker.build': {
        if (m.build === null) return null;
        const args = ['build', '--label', `${LABEL}=${ctx.sha}`, '-t', `${m.image}:${ctx.sha}`];
        if (m.dockerfile) args.push('-f', path.resolve(ctx.dir, m.dockerfile));
        for (const [k, v] of Object.entries(m.buildArgs)) args.push('--build-arg', `${k}=${v}`);
        args.push('--', path.resolve(ctx.dir, m.build));
        return ctx.run(docker(args), io);
      }
      case 'docker.push':
        return ctx.run(docker(['push', `${m.image}:${ctx.sha}`]), io);
      case 'docker.run': {
        if (!m.run) return null;
        const rm = await ctx.runner.run(docker(['rm', '-f', '--', m.run.name]), { signal: io.signal, onLine: io.line });
        if (rm.error) return { status: 'failed', reason: rm.error };
        const args = ['run', '-d', '--name', m.run.name, '--label', `${LABEL}=${ctx.sha}`, ...m.run.args, `${m.image}:${ctx.sha}`, ...m.run.command];
        return ctx.run(docker(args), io);
      }
      default:
        return null;
    }
  };
};

function dockerCommand(m: DeployMethodOf<'docker'>, args: string[], cwd: string): CommandSpec {
  return { command: 'docker', args, env: m.host ? { DOCKER_HOST: m.host } : {}, cwd };
}
