// Where the credentials of remote engines come from. One function type shared by every engine adapter, the CLI
// (environment variables) and the VS Code layer (its authentication sessions and SecretStorage), so no adapter
// reads the environment or a secret store by itself.
import { trustApiHostHint } from './engine';
import { engineSpec, engineTokens, REMOTE_ENGINE_SPECS, REMOTE_ENGINES, tokenSpec, type ApiTarget } from './engines';
import { parseGitRemoteUrl } from './gitRemote';
import type { RemoteEngineKind } from './types';

/**
 * The token for an engine on a host (github.com, gitlab.example.com, 127.0.0.1:8010), or undefined when there is
 * none (requests then go unauthenticated). Asked before each request: a provider may refresh or prompt.
 */
export type TokenProvider = (engine: RemoteEngineKind, host: string) => Promise<string | undefined>;

/** What the CLI tells a person whose token is missing or refused ("set GITHUB_TOKEN"). */
export function cliTokenHint(engine: RemoteEngineKind): string {
  return engineTokens(engine)?.cliHint ?? 'no token is used';
}

/** Tokens from environment variables (the CLI): each engine names its own (GITHUB_TOKEN or GH_TOKEN, GITLAB_TOKEN); Buildbot uses none. */
export function envTokenProvider(env: Readonly<Record<string, string | undefined>>): TokenProvider {
  return async (engine) => {
    const names = engineTokens(engine)?.envVars ?? [];
    return names.map((n) => env[n]?.trim()).find((v) => !!v) || undefined;
  };
}

/** No credentials at all. */
export const noTokens: TokenProvider = async () => undefined;

// ---- where a token may go ----
// A repository's delivery.yml may name the API of its pipelines (`host:`, `apiUrl:`); it must not choose where
// the user's token goes. A token is sent to an API host only when that host is the engine's own (api.github.com,
// gitlab.com), the host of the "origin" remote (the user's clone), or one the user has trusted (a CLI flag,
// DELIVERY_TRUSTED_API_HOSTS, a confirmation in the editor). Plain http:// carries a token to loopback only.

/** A host as compared: lower case, no default port (`ghe.corp`, `127.0.0.1:8080`); a URL gives its host. */
export function normalizeApiHost(text: string): string {
  const t = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    try {
      return new URL(t).host.toLowerCase();
    } catch {
      return t.toLowerCase();
    }
  }
  return t.toLowerCase().replace(/\/+$/, '').replace(/:(443|80)$/, '');
}

/** Hosts trusted by a list (DELIVERY_TRUSTED_API_HOSTS, repeated --trust-api-host): comma- or space-separated. */
export function parseTrustedApiHosts(...texts: (string | undefined)[]): string[] {
  return texts.flatMap((t) => (t ?? '').split(/[\s,]+/)).filter((h) => h !== '').map(normalizeApiHost);
}

/** 127.0.0.0/8, ::1, localhost: the only hosts a token may reach over plain http://. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** True when a request to `url` may carry credentials at all: https://, or http:// to loopback. */
export function mayCarryToken(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/** The API hosts the "origin" remote vouches for: its web host (with the port of an http(s) URL), GitHub's api. host. */
export function originApiHosts(originUrl: string | null | undefined): string[] {
  if (!originUrl) return [];
  const loc = parseGitRemoteUrl(originUrl);
  if (!loc) return [];
  const hosts = REMOTE_ENGINES.flatMap((k) => REMOTE_ENGINE_SPECS[k].gitHosts ?? []);
  // ssh., www. and altssh. in front of an engine's public host name that host.
  const bare = loc.host.replace(/^(ssh|www|altssh)\./, '');
  const host = bare !== loc.host && hosts.some((h) => h.home === bare) ? bare : loc.host;
  const web = (loc.scheme === 'https' || loc.scheme === 'http') && loc.port ? `${host}:${loc.port}` : host;
  return [normalizeApiHost(web), ...hosts.flatMap((h) => h.originApiHosts(host))];
}

export interface ApiHostCheck {
  /** The host of the target's API, as compared (lower case, no default port). */
  host: string;
  /** Sent a token without asking: the engine's default host or the origin remote's. */
  trusted: boolean;
}

/** Where a target's API is (an engine that takes tokens), and whether it is trusted without asking the user. */
export function checkApiHost(target: ApiTarget, originUrl: string | null | undefined, userTrusted: readonly string[] = []): ApiHostCheck {
  const host = normalizeApiHost(target.apiUrl);
  const known = new Set([tokenSpec(target).defaultApiHost, ...originApiHosts(originUrl), ...userTrusted.map(normalizeApiHost)]);
  return { host, trusted: known.has(host) };
}

/** Why a token was kept back from a host, and how to send it there. */
export function untrustedApiHostMessage(engine: ApiTarget['engine'], host: string, how = trustApiHostHint(host)): string {
  const spec = engineSpec(engine);
  return (
    `the ${spec.label} token was not sent to ${host}: the repository's delivery.yml names that API host, which is neither ` +
    `${spec.token.defaultApiHost} nor the host of the "origin" remote; ${how}`
  );
}
