// Reading pieces of environment specs that version probes and deploy kinds share: exactly one kind per mapping,
// http(s) URLs, ssh targets and header maps, each problem located at its node. Nothing here does I/O.
import { isMap, isScalar, type Node, type Pair } from 'yaml';
import { MapReader } from '../config/reader';
import { describe, keyOf, type YamlFile } from '../config/yamlFile';

/** An ssh destination. `${secret:NAME}` is not allowed here (keys are files). */
export interface SshTarget {
  host: string;
  port: number;
  user: string | null;
  identityFile: string | null;
  /** A known_hosts file to check the host key against; null: the user's own (~/.ssh/known_hosts). */
  knownHostsFile: string | null;
  /** `yes` (default: refuse unknown hosts), `accept-new`, or `no` (tests and throwaway hosts only). */
  strictHostKeyChecking: 'yes' | 'accept-new' | 'no';
  connectTimeoutSec: number;
  /**
   * Set at run time, never from delivery.yml: the control socket of an ssh connection this deploy shares
   * (adapters/deploy/sshMux.ts). Sessions go through it while it is up, and connect on their own otherwise.
   */
  controlPath?: string;
}

export const SSH_KEYS = ['host', 'port', 'user', 'identityFile', 'knownHostsFile', 'strictHostKeyChecking', 'connectTimeout'] as const;

export function exactlyOne<T extends string>(r: MapReader, kinds: readonly T[], what: string): T | null {
  const present = kinds.filter((k) => r.has(k));
  if (present.length === 1) return present[0];
  if (present.length === 0) r.f.error(r.node, `${what}: say how, with exactly one of ${kinds.join(', ')}`);
  else r.f.error(r.pair(present[1]), `${what}: use exactly one of ${kinds.join(', ')}, not ${present.join(' and ')}`);
  return null;
}

export function checkUrl(r: MapReader, key: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const probe = value.replace(/\$\{secret:[A-Za-z_][A-Za-z0-9_]*\}/g, 'x').replace(/\$\{DELIVERY_[A-Z_]+\}/g, 'x');
  try {
    const u = new URL(probe);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
  } catch {
    r.f.error(r.at(key), `${r.what}: "${key}" must be an http:// or https:// URL, not "${value}"`);
    return undefined;
  }
  return value;
}

export function readSsh(f: YamlFile, node: Node | undefined, what: string): SshTarget | null {
  const r = MapReader.from(f, node, what, SSH_KEYS);
  if (!r) return null;
  const host = r.required('host') ? r.string('host', { nonEmpty: true }) : undefined;
  if (host !== undefined && /[\s'"`$;|&<>\\]/.test(host)) {
    f.error(r.at('host'), `${what}: "host" is not a valid host name: "${host}"`);
    return null;
  }
  const user = r.string('user', { nonEmpty: true }) ?? null;
  if (user !== null && !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(user)) {
    f.error(r.at('user'), `${what}: "user" is not a valid user name: "${user}"`);
  }
  const strict = r.oneOf('strictHostKeyChecking', ['yes', 'accept-new', 'no'] as const) ?? 'yes';
  const connect = r.duration('connectTimeout');
  if (host === undefined) return null;
  return {
    host,
    port: r.int('port', 1, 65535) ?? 22,
    user,
    identityFile: r.string('identityFile', { nonEmpty: true }) ?? null,
    knownHostsFile: r.string('knownHostsFile', { nonEmpty: true }) ?? null,
    strictHostKeyChecking: strict,
    connectTimeoutSec: Math.max(1, Math.round((connect ?? 10_000) / 1000)),
  };
}

/** An HTTP field name (RFC 9110 token): X-Api-Key, PRIVATE-TOKEN. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `headers:` of an HTTP probe or hook: names are RFC 9110 tokens, values one line (no CR, LF or NUL). */
export function headerMap(r: MapReader, key: string): Record<string, string> | undefined {
  const n = r.value(key);
  if (n === undefined) return undefined;
  if (!isMap(n)) {
    r.f.error(n ?? r.pair(key), `${r.what}: "${key}" must be a mapping of header names to values, not ${describe(n)}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const pair of n.items as Pair[]) {
    const name = keyOf(pair);
    const v = pair.value as Node | null;
    if (!HEADER_NAME.test(name)) {
      r.f.error(pair.key as Node, `${r.what}: "${name}" is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
      continue;
    }
    if (!(isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean' || v.value === null))) {
      r.f.error(v ?? pair, `${r.what}: "${key}.${name}" must be a string, number or boolean, not ${describe(v)}`);
      continue;
    }
    const value = v.value === null ? '' : String(v.value);
    if (/[\r\n\0]/.test(value)) {
      r.f.error(v, `${r.what}: "${key}.${name}" must be one line: a header value cannot hold a line break or NUL`);
      continue;
    }
    out[name] = value;
  }
  return out;
}
