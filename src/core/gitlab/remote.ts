// GitLab CI as a remote engine: `remote: { gitlab: { project, host, apiUrl } }`, the project a .gitlab-ci.yml of a
// GitLab repository runs in, GitLab's hosts and where its tokens come from.
import { readApiUrl, readHost, warnOtherApiHost, type RemoteEngineSpec } from '../remote/engine';
import { isName } from '../remote/gitRemote';

function gitlabApiUrl(host: string): string {
  return `https://${host}/api/v4`;
}

function isProjectPath(p: string): boolean {
  const parts = p.split('/');
  return parts.length >= 2 && parts.every(isName);
}

export const gitlabRemote: RemoteEngineSpec<'gitlab'> = {
  kind: 'gitlab',
  label: 'GitLab',
  icon: 'git-merge',
  keys: ['project', 'host', 'apiUrl'],
  read(g) {
    const project = g.required('project') ? g.string('project', { nonEmpty: true }) : undefined;
    if (project !== undefined && !isProjectPath(project) && !/^\d+$/.test(project)) {
      g.f.error(g.at('project'), `${g.what}: "project" must be a path such as group/name (or a numeric id), not "${project}"`);
      return null;
    }
    const host = readHost(g, 'gitlab.com');
    const apiUrl = readApiUrl(g);
    if (project === undefined || host === null || apiUrl === null) return null;
    warnOtherApiHost(g, gitlabRemote.label, gitlabRemote.token, apiUrl ?? gitlabApiUrl(host));
    return { engine: 'gitlab', host, apiUrl: apiUrl ?? gitlabApiUrl(host), project };
  },
  describe: (t) => `GitLab ${t.host === 'gitlab.com' ? '' : `${t.host} `}${t.project}`,
  tokenHost: (t) => t.host,
  token: {
    defaultApiHost: 'gitlab.com',
    envVars: ['GITLAB_TOKEN'],
    cliHint: 'set GITLAB_TOKEN',
    secret: 'GITLAB_TOKEN',
    editorHint: 'set the GITLAB_TOKEN secret with "Delivery: Set Secret"',
  },
  gitHosts: {
    home: 'gitlab.com',
    aliases: ['altssh.gitlab.com', 'www.gitlab.com'],
    owns: (h) => ['gitlab.com', 'altssh.gitlab.com', 'www.gitlab.com'].includes(h) || /(^|[.-])gitlab([.-]|$)/.test(h),
    originApiHosts: () => [],
    fromOrigin(origin) {
      if (!isProjectPath(origin.loc.path)) return { error: `the "origin" remote ${origin.url} does not name a GitLab project as group/name` };
      return { engine: 'gitlab', host: origin.host, apiUrl: `${origin.web}/api/v4`, project: origin.loc.path };
    },
  },
};
