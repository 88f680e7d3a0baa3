// `gitPush` deploys: push the commit to a branch of a remote; a refusal is turned into one clear reason.
import { gitPushRejection } from '../../../core/environments/deploy';
import { sshWrapper, sshWrapperEnv } from '../../ssh';
import type { KindExecutor } from './kind';

export const executeGitPush: KindExecutor<'gitPush'> = (m, ctx) => async (step, io) => {
  if (step.id !== 'gitPush') return null;
  const args = ['push', '--porcelain', ...(m.force ? ['--force'] : []), m.remote, `${ctx.sha}:refs/heads/${m.branch}`];
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  if (m.ssh) Object.assign(env, { GIT_SSH: sshWrapper(), GIT_SSH_VARIANT: 'ssh' }, sshWrapperEnv(m.ssh, { withPort: false }));
  const lines: string[] = [];
  // A local (file://) remote's hook runs as our child and may start the app on purpose: leave it running.
  const out = await ctx.run({ command: 'git', args, env, cwd: ctx.dir, killLeftovers: false }, io, { seen: lines });
  if (out.status === 'success') return out;
  const rejection = gitPushRejection(lines);
  if (rejection) return { status: 'failed', reason: rejection };
  // No rejection: git could not push at all (no such repository, no access); its fatal line says why.
  const fatal = lines.find((l) => l.startsWith('fatal: '));
  return fatal ? { status: 'failed', reason: `${out.reason}: ${fatal.slice('fatal: '.length)}` } : out;
};
