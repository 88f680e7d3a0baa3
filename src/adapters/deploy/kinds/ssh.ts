// `ssh` deploys: create the upload folder, rsync the files, run the script on the host (values as environment
// variables of the remote session, never inside a command string of ours).
import * as path from 'node:path';
import { rsyncCommand, sshScriptCommand } from '../../ssh';
import type { KindExecutor } from './kind';

export const executeSsh: KindExecutor<'ssh'> = (m, ctx) => (step, io) => {
  // upload.to is expanded already (${DELIVERY_*}, ~/ for the remote home).
  const uploadTo = m.upload?.to ?? null;
  switch (step.id) {
    case 'ssh.prepare':
      if (!uploadTo) return null;
      return ctx.run(sshScriptCommand(m.ssh, 'mkdir -p -- "$DELIVERY_UPLOAD_TO"', { DELIVERY_UPLOAD_TO: uploadTo }, ctx.dir), io, { ssh: m.ssh });
    case 'ssh.upload': {
      if (!m.upload || !uploadTo) return null;
      const from = path.resolve(ctx.dir, m.upload.from);
      return ctx.run(rsyncCommand(m.ssh, from, uploadTo, { delete: m.upload.delete, exclude: m.upload.exclude, cwd: ctx.dir }), io, { ssh: m.ssh });
    }
    case 'ssh.run': {
      if (!m.run) return null;
      const env = { ...ctx.deployEnv, ...ctx.vars, ...(uploadTo ? { DELIVERY_UPLOAD_TO: uploadTo } : {}) };
      return ctx.run(sshScriptCommand(m.ssh, m.run, env, ctx.dir), io, { ssh: m.ssh });
    }
    default:
      return null;
  }
};
