// `deploy: { gitPush: { remote, branch, force, ssh } }`: push the commit to a branch of a remote (a PaaS, a bare
// repository with a hook).
import { MapReader } from '../../config/reader';
import { readSsh, type SshTarget } from '../specReader';
import type { DeployKindDef } from './kind';

export interface GitPushDeploy {
  kind: 'gitPush';
  remote: string;
  branch: string;
  force: boolean;
  ssh: SshTarget | null;
}

export const gitPushDeploy: DeployKindDef<'gitPush', GitPushDeploy> = {
  kind: 'gitPush',
  ownKeys: {},
  read({ f, r, what }) {
    const g = MapReader.from(f, r.value('gitPush'), `${what}: gitPush`, ['remote', 'branch', 'force', 'ssh']);
    const remote = g?.required('remote') ? g.string('remote', { nonEmpty: true }) : undefined;
    const branch = g?.string('branch', { nonEmpty: true }) ?? 'main';
    if (remote !== undefined && remote.startsWith('-')) f.error(g!.at('remote'), `${what}: gitPush remote must not start with "-"`);
    if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.startsWith('-') || branch.includes('..')) {
      f.error(g!.at('branch'), `${what}: gitPush branch "${branch}" is not a valid branch name`);
    }
    const ssh = g?.has('ssh') ? readSsh(f, g.value('ssh'), `${what}: gitPush ssh`) : null;
    return g && remote !== undefined ? { kind: 'gitPush', remote, branch, force: g.bool('force') ?? false, ssh } : null;
  },
  steps: (m) => [{ id: 'gitPush', name: `git push to ${m.branch}` }],
  expand: async (m) => m,
  needsFiles: () => false,
};
