// `deploy: { ssh: {host…}, upload: {from, to}, run: "…" }`: rsync over ssh, then a script on the host.
import { MapReader } from '../../config/reader';
import type { DeployStepPlan } from '../deploy';
import { readSsh, type SshTarget } from '../specReader';
import type { DeployKindDef } from './kind';

export interface SshDeploy {
  kind: 'ssh';
  ssh: SshTarget;
  /** rsync over ssh; `to` may use ${DELIVERY_*} variables, expanded by us (never by a shell). */
  upload: { from: string; to: string; delete: boolean; exclude: string[] } | null;
  /** Script run on the host with the DELIVERY_* variables in its environment. */
  run: string | null;
}

export const sshDeploy: DeployKindDef<'ssh', SshDeploy> = {
  kind: 'ssh',
  ownKeys: { upload: '"upload" goes with "ssh" deploys', run: '"run" goes with "ssh" deploys' },
  read({ f, r, what }) {
    const ssh = readSsh(f, r.value('ssh'), `${what}: ssh`);
    let upload: SshDeploy['upload'] = null;
    if (r.has('upload')) {
      const u = MapReader.from(f, r.value('upload'), `${what}: upload`, ['from', 'to', 'delete', 'exclude']);
      const from = u?.required('from') ? u.string('from', { nonEmpty: true }) : undefined;
      const to = u?.required('to') ? u.string('to', { nonEmpty: true }) : undefined;
      if (to !== undefined && !to.startsWith('/') && !to.startsWith('~')) f.error(u!.at('to'), `${what}: upload "to" must be an absolute path on the host`);
      if (from !== undefined && (from.startsWith('/') || from.split('/').includes('..'))) {
        f.error(u!.at('from'), `${what}: upload "from" must be a path inside the workspace folder`);
      }
      if (u && from !== undefined && to !== undefined) {
        upload = { from, to, delete: u.bool('delete') ?? true, exclude: u.stringList('exclude') ?? [] };
      }
    }
    const run = r.string('run', { nonEmpty: true }) ?? null;
    if (!upload && run === null && ssh) f.error(r.pair('ssh'), `${what}: an ssh deploy needs "upload", "run" or both`);
    return ssh ? { kind: 'ssh', ssh, upload, run } : null;
  },
  steps: (m) => [
    ...(m.upload
      ? [
          { id: 'ssh.prepare', name: `create ${m.upload.to} on ${m.ssh.host}` } as DeployStepPlan,
          { id: 'ssh.upload', name: `upload ${m.upload.from} to ${m.ssh.host}` } as DeployStepPlan,
        ]
      : []),
    ...(m.run ? [{ id: 'ssh.run', name: `run on ${m.ssh.host}` } as DeployStepPlan] : []),
  ],
  async expand(m, x) {
    if (!m.upload) return m;
    const r = x.path(m.upload.to);
    if ('error' in r) throw new Error(`upload "to": ${r.error}`);
    // ~/x means x in the remote home: ssh sessions and rsync's remote paths start there, and no remote shell is
    // asked to expand the tilde.
    const to = r.value.startsWith('~') ? r.value.replace(/^~\/*/, '') || '.' : r.value;
    return { ...m, upload: { ...m.upload, to } };
  },
  needsFiles: () => true,
};
