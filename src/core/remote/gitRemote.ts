// The git remote "origin" as a location (host, port, repository path): where GitHub and GitLab files run, and
// which API hosts the user's clone vouches for.

export interface GitRemoteLocation {
  scheme: 'ssh' | 'https' | 'http' | 'git';
  /** Host name, lower case, without the port. */
  host: string;
  /** The port the URL names; null when none. */
  port: number | null;
  /** Repository path without a leading slash or trailing .git: owner/name, group/sub/name. */
  path: string;
}

/** A repository path segment (owner, name, group). */
export const NAME = /^[A-Za-z0-9_.-]+$/;

/** A path segment that names something: the NAME characters, and not `.` or `..`. */
export function isName(p: string): boolean {
  return NAME.test(p) && p !== '.' && p !== '..';
}

/**
 * The host and repository path of a git remote URL: https://host/o/r(.git), ssh://git@host[:port]/o/r.git,
 * git://…, and scp-like git@host:o/r.git. Credentials in the URL are dropped. Null for local paths and file://.
 */
export function parseGitRemoteUrl(url: string): GitRemoteLocation | null {
  const text = url.trim();
  let base: Omit<GitRemoteLocation, 'path'>;
  let path: string;
  const scp = /^(?:[^@/\s]+@)?(\[[^\]]+\]|[^:/\s]+):(?!\/\/)(.+)$/.exec(text);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    if (/^[A-Za-z]$/.test(scp[1])) return null; // C:\repo is a Windows path, not host "C"
    base = { scheme: 'ssh', host: scp[1].replace(/^\[|\]$/g, '').toLowerCase(), port: null };
    path = scp[2];
  } else {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      return null;
    }
    const proto = u.protocol.replace(/:$/, '').toLowerCase();
    const scheme = proto === 'https' || proto === 'http' || proto === 'git' ? proto : ['ssh', 'git+ssh', 'ssh+git'].includes(proto) ? 'ssh' : null;
    if (!scheme || !u.hostname) return null;
    base = { scheme, host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: u.port ? Number(u.port) : null };
    path = decodeURIComponent(u.pathname);
  }
  const segments = path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter((p) => p !== '' && p !== '~');
  if (segments.length === 0 || segments.some((p) => !isName(p))) return null;
  return { ...base, path: segments.join('/') };
}

/** Where the web server of a remote is: an http(s) URL names its port; an ssh or git port says nothing about it. */
export function webOrigin(loc: GitRemoteLocation, host: string): string {
  const web = loc.scheme === 'https' || loc.scheme === 'http';
  return `${web && loc.scheme === 'http' ? 'http' : 'https'}://${host}${web && loc.port ? `:${loc.port}` : ''}`;
}

/** A remote URL for messages: without credentials. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
