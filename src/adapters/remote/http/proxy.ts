// HTTP(S)_PROXY / NO_PROXY: which proxy a URL goes through, if any. Only http:// proxies (absolute-URI forwarding
// for http:// targets, a CONNECT tunnel for https:// ones: see tunnel.ts).
import { RemoteApiError } from './errors';

export interface ProxySettings {
  /** Proxy for http:// URLs. */
  http?: string;
  /** Proxy for https:// URLs. */
  https?: string;
  /** Comma- or space-separated hosts (with optional :port), domain suffixes (.example.com), `*` for none. */
  noProxy?: string;
}

/** Loopback addresses: a proxy elsewhere cannot reach this machine's own servers. */
const LOOPBACK = 'localhost,127.0.0.1,::1';

/** HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case; lower case wins, as in curl). */
export function proxyFromEnv(env: Record<string, string | undefined>): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const out: ProxySettings = {};
  const h = pick('http_proxy');
  const s = pick('https_proxy');
  const n = pick('no_proxy');
  if (h) out.http = h;
  if (s) out.https = s;
  if (n) out.noProxy = n;
  return out;
}

/** The proxy settings of this process's environment, with loopback always direct. */
export function defaultProxy(env: Record<string, string | undefined>): ProxySettings {
  const settings = proxyFromEnv(env);
  return { ...settings, noProxy: settings.noProxy ? `${settings.noProxy},${LOOPBACK}` : LOOPBACK };
}

/** The proxy to use for `url`, or null for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings | undefined): URL | null {
  if (!settings) return null;
  const raw = url.protocol === 'https:' ? settings.https : settings.http;
  if (!raw) return null;
  if (bypassProxy(url, settings.noProxy ?? '')) return null;
  const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  if (proxy.protocol !== 'http:') throw new RemoteApiError('network', `proxy ${redactUrl(proxy)}: only http:// proxies are supported`, null);
  return proxy;
}

function bypassProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    // host, host:port, [v6]:port, or a bare IPv6 address (several colons, no port)
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (entry.split(':').length > 2 ? [entry, entry, undefined] : /^(.*?)(?::(\d+))?$/.exec(entry)!);
    const [name, entryPort] = [m[1]!.replace(/^\*?\./, '.'), m[2]];
    if (entryPort && entryPort !== port) continue;
    if (name.startsWith('.') ? host.endsWith(name) || host === name.slice(1) : host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The Proxy-Authorization header for a proxy URL with user:password. */
export function proxyAuthorization(proxy: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

/** A proxy as errors name it: no credentials, no path. */
export function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}`;
}
