// The GitLab project of a git remote: gitlab.com or a self-managed host, the full project path (groups and
// subgroups), and the REST API root https://<host>/api/v4. Pure: no I/O.
import type { RemoteTarget } from '../../core/remote/types';
import { parseGitRemoteUrl } from './githubRemote';

export type GitlabTarget = Extract<RemoteTarget, { engine: 'gitlab' }>;

export function gitlabTarget(remoteUrl: string): { target: GitlabTarget } | { error: string } {
  const parsed = parseGitRemoteUrl(remoteUrl);
  if (!parsed) return { error: `the git remote "${remoteUrl}" is not a URL of a hosted repository` };
  if (parsed.segments.length < 2) return { error: `the git remote "${remoteUrl}" does not name a GitLab project (group/project)` };
  const host = parsed.hostname === 'altssh.gitlab.com' ? 'gitlab.com' : parsed.hostname;
  // An http(s) remote tells the web port; an ssh port (2222) says nothing about the web server.
  const web = parsed.scheme === 'https' || parsed.scheme === 'http' ? parsed : null;
  const origin = `${web?.scheme === 'http' ? 'http' : 'https'}://${host}${web?.port ? `:${web.port}` : ''}`;
  return { target: { engine: 'gitlab', host, apiUrl: `${origin}/api/v4`, project: parsed.segments.join('/') } };
}
