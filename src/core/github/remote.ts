// GitHub Actions as a remote engine: `remote: { github: { repo, workflow, host, apiUrl } }`, the workflow a file of
// a GitHub repository runs as, GitHub's hosts and where its tokens come from.
import { readApiUrl, readHost, warnOtherApiHost, type RemoteEngineSpec } from '../remote/engine';
import { isName } from '../remote/gitRemote';

/** The API root of a GitHub host: api.github.com for github.com, /api/v3 on GitHub Enterprise Server. */
function githubApiUrl(host: string): string {
  const h = host.toLowerCase();
  if (h === 'github.com') return 'https://api.github.com';
  return h.endsWith('.ghe.com') ? `https://api.${h}` : `https://${host}/api/v3`;
}

const isCloud = (host: string) => host === 'github.com' || host.endsWith('.ghe.com');

export const githubRemote: RemoteEngineSpec<'github'> = {
  kind: 'github',
  label: 'GitHub',
  icon: 'github',
  keys: ['repo', 'workflow', 'host', 'apiUrl'],
  read(g, pipelineId) {
    const repo = g.required('repo') ? g.string('repo', { nonEmpty: true }) : undefined;
    const parts = repo?.split('/') ?? [];
    if (repo !== undefined && !(parts.length === 2 && parts.every(isName))) {
      g.f.error(g.at('repo'), `${g.what}: "repo" must be owner/name, not "${repo}"`);
      return null;
    }
    const workflow = g.string('workflow', { nonEmpty: true }) ?? `${pipelineId}.yml`;
    if (!/^[A-Za-z0-9_.-]+$/.test(workflow) && !/^\d+$/.test(workflow)) {
      g.f.error(g.at('workflow'), `${g.what}: "workflow" must be a workflow file name (ci.yml) or id, not "${workflow}"`);
      return null;
    }
    const host = readHost(g, 'github.com');
    const apiUrl = readApiUrl(g);
    if (repo === undefined || host === null || apiUrl === null) return null;
    warnOtherApiHost(g, githubRemote.label, githubRemote.token, apiUrl ?? githubApiUrl(host));
    return { engine: 'github', host, apiUrl: apiUrl ?? githubApiUrl(host), owner: parts[0], repo: parts[1], workflow };
  },
  describe: (t) => `GitHub ${t.host === 'github.com' ? '' : `${t.host} `}${t.owner}/${t.repo} workflow ${t.workflow}`,
  tokenHost: (t) => t.host,
  token: {
    defaultApiHost: 'api.github.com',
    envVars: ['GITHUB_TOKEN', 'GH_TOKEN'],
    cliHint: 'set GITHUB_TOKEN',
    secret: 'GITHUB_TOKEN',
    editorHint: 'sign in to GitHub (Accounts menu) or set the GITHUB_TOKEN secret with "Delivery: Set Secret"',
    // VS Code's GitHub sign-in; GitHub Enterprise hosts have their own provider.
    session: (host) => ({ provider: host === 'github.com' ? 'github' : 'github-enterprise', scopes: ['repo', 'workflow'] }),
  },
  gitHosts: {
    home: 'github.com',
    aliases: ['ssh.github.com', 'www.github.com'],
    owns: (h) => ['github.com', 'ssh.github.com', 'www.github.com'].includes(h) || h.endsWith('.ghe.com') || /(^|[.-])github([.-]|$)/.test(h),
    originApiHosts: (host) => (isCloud(host) ? [`api.${host}`] : []),
    fromOrigin(origin, file) {
      const parts = origin.loc.path.split('/');
      if (parts.length !== 2) return { error: `the "origin" remote ${origin.url} does not name a GitHub repository as owner/name` };
      const apiUrl = isCloud(origin.host) ? githubApiUrl(origin.host) : `${origin.web}/api/v3`;
      return { engine: 'github', host: origin.host, apiUrl, owner: parts[0], repo: parts[1], workflow: file.slice(file.lastIndexOf('/') + 1) };
    },
  },
};
