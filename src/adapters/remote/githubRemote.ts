// Where a repository lives, from its git remote URL (`headInfo(folder).remoteUrl` is origin's): the host, the
// owner/repo or project path, and the REST API root. Pure: no I/O. GitLab's side is in gitlabRemote.ts.
import type { RemoteEngineKind, RemoteTarget } from '../../core/remote/types';

export interface GitRemoteUrl {
  scheme: 'ssh' | 'https' | 'http' | 'git';
  /** Host name, lower case, without port. */
  hostname: string;
  /** The port written in the URL; null when none. */
  port: number | null;
  /** Path segments, without `.git` (owner/repo, group/sub/project). */
  segments: string[];
}

/**
 * Parses the URL forms git accepts for a remote: `git@host:o/r.git` (scp-like), `ssh://git@host:2222/g/p.git`,
 * `https://host/o/r`, `http://…`, `git://…`. Null for local paths and anything else.
 */
export function parseGitRemoteUrl(raw: string): GitRemoteUrl | null {
  const text = raw.trim();
  if (!text) return null;
  const scp = /^(?:[^@/\s]+@)?(\[[^\]]+\]|[^:/\s]+):(?!\/\/)(.+)$/.exec(text);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    // `C:\repo` is a Windows path, not host "C".
    if (/^[a-z]$/i.test(scp[1]!)) return null;
    return withPath({ scheme: 'ssh', hostname: scp[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port: null }, scp[2]!);
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  const proto = u.protocol.replace(/:$/, '').toLowerCase();
  const scheme = proto === 'https' ? 'https' : proto === 'http' ? 'http' : proto === 'git' ? 'git' : ['ssh', 'git+ssh', 'ssh+git'].includes(proto) ? 'ssh' : null;
  if (!scheme || !u.hostname) return null;
  return withPath({ scheme, hostname: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: u.port ? Number(u.port) : null }, decodeURIComponent(u.pathname));
}

function withPath(base: Omit<GitRemoteUrl, 'segments'>, path: string): GitRemoteUrl | null {
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter((s) => s !== '' && s !== '~');
  return segments.length > 0 ? { ...base, segments } : null;
}

/** The engine a well-known host runs; null when the host does not say (self-managed: configure it). */
export function engineOfHost(hostname: string): Extract<RemoteEngineKind, 'github' | 'gitlab'> | null {
  const h = hostname.toLowerCase();
  if (h === 'github.com' || h === 'ssh.github.com' || h === 'www.github.com' || h.endsWith('.ghe.com')) return 'github';
  if (h === 'gitlab.com' || h === 'altssh.gitlab.com' || h === 'www.gitlab.com') return 'gitlab';
  if (/(^|[.-])github([.-]|$)/.test(h)) return 'github';
  if (/(^|[.-])gitlab([.-]|$)/.test(h)) return 'gitlab';
  return null;
}

export type GithubTarget = Extract<RemoteTarget, { engine: 'github' }>;

/**
 * The GitHub target of a remote: github.com's API is api.github.com; GitHub Enterprise Server answers on
 * https://<host>/api/v3 (GHE.com "data residency" hosts on api.<host>).
 */
export function githubTarget(remoteUrl: string, workflow: string): { target: GithubTarget } | { error: string } {
  const parsed = parseGitRemoteUrl(remoteUrl);
  if (!parsed) return { error: `the git remote "${remoteUrl}" is not a URL of a hosted repository` };
  if (parsed.segments.length !== 2) return { error: `the git remote "${remoteUrl}" does not name a GitHub repository (owner/repo)` };
  const [owner, repo] = parsed.segments as [string, string];
  const host = parsed.hostname === 'ssh.github.com' || parsed.hostname === 'www.github.com' ? 'github.com' : parsed.hostname;
  return { target: { engine: 'github', host, apiUrl: githubApiUrl(host, parsed), owner, repo, workflow } };
}

export function githubApiUrl(host: string, parsed?: Pick<GitRemoteUrl, 'scheme' | 'port'>): string {
  if (host === 'github.com') return 'https://api.github.com';
  if (host.endsWith('.ghe.com')) return `https://api.${host}`;
  // An http(s) remote tells the web port; an ssh port says nothing about the web server.
  const web = parsed && (parsed.scheme === 'https' || parsed.scheme === 'http') ? parsed : null;
  const port = web?.port ? `:${web.port}` : '';
  return `${web?.scheme === 'http' ? 'http' : 'https'}://${host}${port}/api/v3`;
}
