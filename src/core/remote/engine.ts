// A remote engine as the core knows it: how delivery.yml names a pipeline on it, how a target is described, where
// its tokens come from and may go, and which git hosts are its own. One descriptor per engine (core/github/remote.ts,
// core/gitlab/remote.ts, core/remote/buildbotTarget.ts), registered in core/remote/engines.ts; the shared readers
// for `remote:` keys are here.
import type { MapReader } from '../config/reader';
import type { GitRemoteLocation } from './gitRemote';
import type { RemoteEngineKind, TargetOf } from './types';

export interface RemoteEngineSpec<E extends RemoteEngineKind> {
  readonly kind: E;
  /** The service in messages: "GitHub". */
  readonly label: string;
  /** Codicon of the engine's rows ("Remote runs"). */
  readonly icon: string;
  /** The keys of `remote: { <kind>: { … } }`. */
  readonly keys: readonly string[];
  /** Reads the map under `remote: { <kind>: … }`; null after reporting what is wrong. */
  read(r: MapReader, pipelineId: string): TargetOf<E> | null;
  /** Where a target is, for messages: "GitHub owner/name workflow ci.yml". */
  describe(t: TargetOf<E>): string;
  /** The host a token is asked for (TokenProvider's `host`). */
  tokenHost(t: TargetOf<E>): string;
  /** Where its tokens come from and may go: every engine whose targets name an API URL takes a token. */
  readonly token: TargetOf<E> extends { apiUrl: string } ? EngineTokens : null;
  /** Its git hosts, when a repository there runs the pipelines of its files; null: none. */
  readonly gitHosts: EngineGitHosts<E> | null;
}

export interface EngineTokens {
  /** Where the engine's tokens are issued (a token goes there unasked). */
  readonly defaultApiHost: string;
  /** Environment variables the CLI reads the token from; the first one set wins. */
  readonly envVars: readonly string[];
  /** What the CLI tells a person whose token is missing or refused. */
  readonly cliHint: string;
  /** The editor's secret (SecretStorage) that holds the token. */
  readonly secret: string;
  /** What the editor tells a person whose token is missing or refused. */
  readonly editorHint: string;
  /** The editor's authentication provider for a host, tried before the secret; absent: the secret only. */
  session?(host: string): { provider: string; scopes: readonly string[] };
}

/** The "origin" remote of a folder, on an engine's host. */
export interface OriginRepo {
  loc: GitRemoteLocation;
  /** The host, aliases resolved (ssh.github.com → github.com). */
  host: string;
  /** The web server: scheme, host and the port of an http(s) URL. */
  web: string;
  /** The remote URL without credentials, for messages. */
  url: string;
}

export interface EngineGitHosts<E extends RemoteEngineKind> {
  /** The engine's public host (github.com). */
  readonly home: string;
  /** Other names of the public host that git remotes use (ssh.github.com). */
  readonly aliases: readonly string[];
  /** True when a host belongs to the engine by its name. */
  owns(host: string): boolean;
  /** API hosts an "origin" on this host vouches for besides itself (api.github.com for github.com). */
  originApiHosts(host: string): string[];
  /** The remote pipeline of the source file `file` of the origin's repository. */
  fromOrigin(origin: OriginRepo, file: string): TargetOf<E> | { error: string };
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;

/** How a user trusts an API host a repository names (the warning and the refusal say it). */
export function trustApiHostHint(host: string): string {
  return `trust it with "delivery remote … --trust-api-host ${host}" (or DELIVERY_TRUSTED_API_HOSTS=${host}), or confirm it in the editor`;
}

/** `host` (default given), a host name with an optional port; null after reporting a bad one. */
export function readHost(r: MapReader, fallback: string): string | null {
  const host = r.string('host', { nonEmpty: true }) ?? fallback;
  if (!HOST.test(host)) {
    r.f.error(r.at('host'), `${r.what}: "host" must be a host name (with an optional :port), not "${host}"`);
    return null;
  }
  return host;
}

/** `apiUrl` when given (undefined: derive it from the host); null after reporting a bad one. */
export function readApiUrl(r: MapReader): string | null | undefined {
  if (!r.has('apiUrl')) return undefined;
  return readHttpUrl(r, 'apiUrl');
}

/** An http:// or https:// URL without credentials, query or fragment; null after reporting a bad one. */
export function readHttpUrl(r: MapReader, key: string): string | null {
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

/**
 * A repository that names another API host than the engine's own: its token is not sent there unless the host is
 * the "origin" remote's or the user trusts it (checked where engines are made); say so where the host is named.
 */
export function warnOtherApiHost(r: MapReader, label: string, tokens: EngineTokens, apiUrl: string): void {
  const host = new URL(apiUrl).host.toLowerCase();
  if (host === tokens.defaultApiHost) return;
  const key = r.has('apiUrl') ? 'apiUrl' : 'host';
  r.f.error(
    r.at(key),
    `${r.what}: "${key}" names the API host ${host}, not ${tokens.defaultApiHost}: the ${label} token is sent there only when it is ` +
      `the host of the "origin" remote or after you trust it: ${trustApiHostHint(host)}` +
      (apiUrl.startsWith('http://') ? '; over plain http:// a token goes to loopback hosts only' : ''),
    'warning',
  );
}
