// `command` deploys: the user's script, handed to bash as ONE argument, with the DELIVERY_* variables and
// deploy.env in its environment.
import * as path from 'node:path';
import { shellCommand } from '../../../core/engine/shell';
import type { KindExecutor } from './kind';

export const executeCommand: KindExecutor<'command'> = (m, ctx) => (step, io) => {
  if (step.id !== 'command') return null;
  const spec = shellCommand('bash', m.command, path.resolve(ctx.dir, m.cwd ?? '.'), { ...ctx.vars, ...ctx.deployEnv, ...m.env });
  return ctx.run({ ...spec, killLeftovers: false }, io);
};
