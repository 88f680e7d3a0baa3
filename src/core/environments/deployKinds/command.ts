// `deploy: { command: "…", cwd, env }`: a script run by bash in the folder (or a clean checkout of the commit).
import type { DeployKindDef } from './kind';

export interface CommandDeploy {
  kind: 'command';
  command: string;
  cwd: string | null;
  env: Record<string, string>;
}

export const commandDeploy: DeployKindDef<'command', CommandDeploy> = {
  kind: 'command',
  ownKeys: { cwd: '"cwd" applies to "command" deploys only' },
  read({ r, env }) {
    const cwd = r.string('cwd', { nonEmpty: true }) ?? null;
    const command = r.string('command', { nonEmpty: true });
    return command === undefined ? null : { kind: 'command', command, cwd, env };
  },
  steps: () => [{ id: 'command', name: 'deploy command' }],
  expand: async (m, x) => ({ ...m, env: await x.secretsIn(m.env) }),
  needsFiles: () => true,
};
