// Which remote pipeline a local pipeline definition corresponds to: `remote:` on a delivery.yml pipeline (read here
// with located problems), or, for GitHub workflows and .gitlab-ci.yml, inferred from the URL of the git remote.
import type { Node } from 'yaml';
import type { PipelineDef, RemotePipelineTarget } from '../../shared/model';
import { MapReader } from '../config/reader';
import type { YamlFile } from '../config/yamlFile';
import type { RemoteEngineKind, RemoteTarget } from './types';

// RemoteTarget (core) and RemotePipelineTarget (the JSON field on PipelineDef) must stay one shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<RemoteTarget, RemotePipelineTarget> = true;
void sameShape;

export const REMOTE_ENGINES = ['github', 'gitlab', 'buildbot'] as const satisfies readonly RemoteEngineKind[];
export const GITHUB_KEYS = ['repo', 'workflow', 'host', 'apiUrl'] as const;
export const GITLAB_KEYS = ['project', 'host', 'apiUrl'] as const;
export const BUILDBOT_KEYS = ['url', 'builder', 'scheduler'] as const;

export const DEFAULT_BUILDBOT_SCHEDULER = 'force';

/** The default API host of an engine, where its tokens are issued. */
export const DEFAULT_API_HOSTS: Readonly<Record<'github' | 'gitlab', string>> = { github: 'api.github.com', gitlab: 'gitlab.com' };

/** How a user trusts an API host a repository names (the warning and the refusal say it). */
export function trustApiHostHint(host: string): string {
  return `trust it with "delivery remote … --trust-api-host ${host}" (or DELIVERY_TRUSTED_API_HOSTS=${host}), or confirm it in the editor`;
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;
const NAME = /^[A-Za-z0-9_.-]+$/;

/** The API root of a GitHub host: api.github.com for github.com, /api/v3 on GitHub Enterprise Server. */
export function githubApiUrl(host: string): string {
  const h = host.toLowerCase();
  if (h === 'github.com') return 'https://api.github.com';
  return h.endsWith('.ghe.com') ? `https://api.${h}` : `https://${host}/api/v3`;
}

export function gitlabApiUrl(host: string): string {
  return `https://${host}/api/v4`;
}

/** `remote:` of a delivery.yml pipeline: exactly one of github, gitlab, buildbot. */
export function readRemoteTarget(f: YamlFile, node: Node | undefined, pipelineId: string): RemoteTarget | null {
  const what = `pipeline "${pipelineId}": remote`;
  const r = MapReader.from(f, node, what, REMOTE_ENGINES);
  if (!r) return null;
  const present = REMOTE_ENGINES.filter((k) => r.has(k));
  if (present.length === 0) {
    f.error(r.node, `${what}: name the engine, with exactly one of ${REMOTE_ENGINES.join(', ')}`);
    return null;
  }
  if (present.length > 1) {
    f.error(r.pair(present[1]), `${what}: use exactly one of ${REMOTE_ENGINES.join(', ')}, not ${present.join(' and ')}`);
    return null;
  }
  const engine = present[0];
  switch (engine) {
    case 'github': {
      const g = MapReader.from(f, r.value('github'), `${what}: github`, GITHUB_KEYS);
      if (!g) return null;
      const repo = g.required('repo') ? g.string('repo', { nonEmpty: true }) : undefined;
      const parts = repo?.split('/') ?? [];
      if (repo !== undefined && !(parts.length === 2 && parts.every((p) => NAME.test(p) && p !== '.' && p !== '..'))) {
        f.error(g.at('repo'), `${g.what}: "repo" must be owner/name, not "${repo}"`);
        return null;
      }
      const workflow = g.string('workflow', { nonEmpty: true }) ?? `${pipelineId}.yml`;
      if (!/^[A-Za-z0-9_.-]+$/.test(workflow) && !/^\d+$/.test(workflow)) {
        f.error(g.at('workflow'), `${g.what}: "workflow" must be a workflow file name (ci.yml) or id, not "${workflow}"`);
        return null;
      }
      const host = readHost(g, 'github.com');
      const apiUrl = readApiUrl(g);
      if (repo === undefined || host === null || apiUrl === null) return null;
      warnOtherApiHost(g, engine, apiUrl ?? githubApiUrl(host));
      return { engine, host, apiUrl: apiUrl ?? githubApiUrl(host), owner: parts[0], repo: parts[1], workflow };
    }
    case 'gitlab': {
      const g = MapReader.from(f, r.value('gitlab'), `${what}: gitlab`, GITLAB_KEYS);
      if (!g) return null;
      const project = g.required('project') ? g.string('project', { nonEmpty: true }) : undefined;
      if (project !== undefined && !isProjectPath(project) && !/^\d+$/.test(project)) {
        f.error(g.at('project'), `${g.what}: "project" must be a path such as group/name (or a numeric id), not "${project}"`);
        return null;
      }
      const host = readHost(g, 'gitlab.com');
      const apiUrl = readApiUrl(g);
      if (project === undefined || host === null || apiUrl === null) return null;
      warnOtherApiHost(g, engine, apiUrl ?? gitlabApiUrl(host));
      return { engine, host, apiUrl: apiUrl ?? gitlabApiUrl(host), project };
    }
    case 'buildbot': {
      const b = MapReader.from(f, r.value('buildbot'), `${what}: buildbot`, BUILDBOT_KEYS);
      if (!b) return null;
      const url = b.required('url') ? httpUrl(b, 'url') : null;
      const builder = b.required('builder') ? b.string('builder', { nonEmpty: true }) : undefined;
      const scheduler = b.string('scheduler', { nonEmpty: true }) ?? DEFAULT_BUILDBOT_SCHEDULER;
      for (const [key, v] of [['builder', builder], ['scheduler', scheduler]] as const) {
        if (v !== undefined && (/[\s/?#%\\]/.test(v) || v === '.' || v === '..')) {
          f.error(b.at(key), `${b.what}: "${key}" must be a name without spaces, "/", "?", "#" or "%", not "${v}"`);
          return null;
        }
      }
      if (!url || builder === undefined) return null;
      return { engine, url, builder, scheduler };
    }
  }
}

/**
 * A repository that names another API host than the engine's own: its token is not sent there unless the host is
 * the "origin" remote's or the user trusts it (checked where engines are made); say so where the host is named.
 */
function warnOtherApiHost(r: MapReader, engine: 'github' | 'gitlab', apiUrl: string): void {
  const host = new URL(apiUrl).host.toLowerCase();
  if (host === DEFAULT_API_HOSTS[engine]) return;
  const key = r.has('apiUrl') ? 'apiUrl' : 'host';
  const token = engine === 'github' ? 'GitHub' : 'GitLab';
  r.f.error(
    r.at(key),
    `${r.what}: "${key}" names the API host ${host}, not ${DEFAULT_API_HOSTS[engine]}: the ${token} token is sent there only when it is ` +
      `the host of the "origin" remote or after you trust it: ${trustApiHostHint(host)}` +
      (apiUrl.startsWith('http://') ? '; over plain http:// a token goes to loopback hosts only' : ''),
    'warning',
  );
}

function isProjectPath(p: string): boolean {
  const parts = p.split('/');
  return parts.length >= 2 && parts.every((x) => NAME.test(x) && x !== '.' && x !== '..');
}

/** `host` (default given), a host name with an optional port; null after reporting a bad one. */
function readHost(r: MapReader, fallback: string): string | null {
  const host = r.string('host', { nonEmpty: true }) ?? fallback;
  if (!HOST.test(host)) {
    r.f.error(r.at('host'), `${r.what}: "host" must be a host name (with an optional :port), not "${host}"`);
    return null;
  }
  return host;
}

/** `apiUrl` when given (undefined: derive it from the host); null after reporting a bad one. */
function readApiUrl(r: MapReader): string | null | undefined {
  if (!r.has('apiUrl')) return undefined;
  return httpUrl(r, 'apiUrl');
}

function httpUrl(r: MapReader, key: string): string | null {
  const v = r.string(key, { nonEmpty: true });
  if (v === undefined) return null;
  try {
    const u = new URL(v);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash) throw new Error('bad');
    return u.href.replace(/\/+$/, '');
  } catch {
    r.f.error(r.at(key), `${r.what}: "${key}" must be an http:// or https:// URL without credentials or query, not "${v}"`);
    return null;
  }
}

// ---- inference from the git remote ----

export interface GitRemoteLocation {
  scheme: 'ssh' | 'https' | 'http' | 'git';
  /** Host name, lower case, without the port. */
  host: string;
  /** The port the URL names; null when none. */
  port: number | null;
  /** Repository path without a leading slash or trailing .git: owner/name, group/sub/name. */
  path: string;
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
  if (segments.length === 0 || segments.some((p) => !NAME.test(p) || p === '.' || p === '..')) return null;
  return { ...base, path: segments.join('/') };
}

/** The engine a host belongs to, by name: github.com, *.ghe.com, gitlab.com, hosts whose name says github or gitlab. */
export function engineOfHost(host: string): 'github' | 'gitlab' | null {
  const h = host.toLowerCase().replace(/:\d+$/, '');
  if (['github.com', 'ssh.github.com', 'www.github.com'].includes(h) || h.endsWith('.ghe.com') || /(^|[.-])github([.-]|$)/.test(h)) return 'github';
  if (['gitlab.com', 'altssh.gitlab.com', 'www.gitlab.com'].includes(h) || /(^|[.-])gitlab([.-]|$)/.test(h)) return 'gitlab';
  return null;
}

/** Where the web server of a remote is: an http(s) URL names its port; an ssh or git port says nothing about it. */
function webOrigin(loc: GitRemoteLocation, host: string): string {
  const web = loc.scheme === 'https' || loc.scheme === 'http';
  return `${web && loc.scheme === 'http' ? 'http' : 'https'}://${host}${web && loc.port ? `:${loc.port}` : ''}`;
}

/**
 * The remote pipeline of a pipeline definition: its `remote:` when delivery.yml names one; for a GitHub workflow
 * the workflow file in the repository of the git remote; for .gitlab-ci.yml the project of the git remote.
 */
export function remoteTargetFor(def: PipelineDef, remoteUrl: string | null): RemoteTarget | { error: string } {
  if (def.remote) return def.remote;
  const kind = def.source.kind;
  if (kind === 'delivery') {
    return {
      error:
        `pipeline "${def.id}" in ${def.source.file} has no "remote:"; name where it runs, e.g. ` +
        `remote: { buildbot: { url: http://127.0.0.1:8010, builder: ${def.id} } } or remote: { github: { repo: owner/name, workflow: ${def.id}.yml } }`,
    };
  }
  const service = kind === 'github' ? 'GitHub' : 'GitLab';
  if (!remoteUrl) return { error: `cannot tell which ${service} repository "${def.id}" belongs to: the git repository has no "origin" remote` };
  const loc = parseGitRemoteUrl(remoteUrl);
  if (!loc) return { error: `cannot tell which ${service} repository "${def.id}" belongs to: the "origin" remote ${redactUrl(remoteUrl)} is not a repository URL` };
  const engine = engineOfHost(loc.host);
  if (engine !== kind) {
    return { error: `the "origin" remote is on ${loc.host}, which is not a ${service} host${engine ? ` (it looks like ${engine === 'github' ? 'GitHub' : 'GitLab'})` : ''}; ${def.source.file} cannot be run there` };
  }
  const host = ['ssh.github.com', 'www.github.com', 'altssh.gitlab.com', 'www.gitlab.com'].includes(loc.host) ? loc.host.replace(/^(ssh|www|altssh)\./, '') : loc.host;
  if (kind === 'github') {
    const parts = loc.path.split('/');
    if (parts.length !== 2) return { error: `the "origin" remote ${redactUrl(remoteUrl)} does not name a GitHub repository as owner/name` };
    const apiUrl = host === 'github.com' || host.endsWith('.ghe.com') ? githubApiUrl(host) : `${webOrigin(loc, host)}/api/v3`;
    return { engine: 'github', host, apiUrl, owner: parts[0], repo: parts[1], workflow: baseName(def.source.file) };
  }
  if (!isProjectPath(loc.path)) return { error: `the "origin" remote ${redactUrl(remoteUrl)} does not name a GitLab project as group/name` };
  return { engine: 'gitlab', host, apiUrl: `${webOrigin(loc, host)}/api/v4`, project: loc.path };
}

/** Where a target is, for messages: "buildbot http://127.0.0.1:8010 builder app", "github owner/name ci.yml". */
export function describeTarget(t: RemoteTarget): string {
  switch (t.engine) {
    case 'github':
      return `GitHub ${t.host === 'github.com' ? '' : `${t.host} `}${t.owner}/${t.repo} workflow ${t.workflow}`;
    case 'gitlab':
      return `GitLab ${t.host === 'gitlab.com' ? '' : `${t.host} `}${t.project}`;
    case 'buildbot':
      return `Buildbot ${t.url} builder ${t.builder}`;
  }
}

/** The host a token is asked for (TokenProvider's `host`). */
export function targetHost(t: RemoteTarget): string {
  return t.engine === 'buildbot' ? new URL(t.url).host : t.host;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
