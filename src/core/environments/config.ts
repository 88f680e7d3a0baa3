// Environments in delivery.yml: how to learn the deployed commit (`version`), how to deploy (`deploy`) and how to
// check the result (`health`). Parsed into typed specs with located problems; nothing here does I/O.
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { MapReader } from '../config/reader';
import { keyOf, type YamlFile } from '../config/yamlFile';
import { DEPLOY_KIND_REGISTRY, DEPLOY_KINDS, deployKind, type DeployKind, type DeployKindDef, type DeployMethod } from './deployKinds';
import { checkUrl, exactlyOne, headerMap, readSsh, SSH_KEYS, type SshTarget } from './specReader';
import { DEFAULT_LOCK_EXPIRY_MS, defaultStateSpec, type StateSpec } from './teamState';
import { readVerify, type VerifySpec } from './verifyConfig';

export { readSsh, type SshTarget } from './specReader';
export { DEPLOY_KINDS, type DeployKind, type DeployMethod, type DeployMethodOf } from './deployKinds';

export const VERSION_KINDS = ['http', 'command', 'git', 'ssh', 'docker'] as const;
export type VersionKind = (typeof VERSION_KINDS)[number];

export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
export const DEFAULT_DEPLOY_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

/** How the deployed commit is read. The result is a SHA (or a ref/tag the local repository resolves). */
export type VersionSource =
  | { kind: 'http'; url: string; headers: Record<string, string>; json: string | null; regex: string | null; timeoutMs: number }
  | { kind: 'command'; command: string; json: string | null; regex: string | null; timeoutMs: number }
  | { kind: 'git'; remote: string | null; ref: string; timeoutMs: number }
  | { kind: 'ssh'; ssh: SshTarget; command: string; json: string | null; regex: string | null; timeoutMs: number }
  | { kind: 'docker'; image: string; label: string; container: string | null; timeoutMs: number };

export interface DeploySpec {
  /** A delivery.yml pipeline to run first; the deploy goes on only if it succeeds. */
  pipeline: string | null;
  method: DeployMethod;
  timeoutMs: number;
  env: Record<string, string>;
}

export interface HealthSpec {
  url: string;
  expect: number;
  /** A text the body must contain, if given. */
  contains: string | null;
  timeoutMs: number;
  intervalMs: number;
}

/** Where the environment's lock and deploy history live (teamState.ts), and how long a deploy's lock lives unrenewed. */
export interface StateConfig {
  spec: StateSpec;
  /** Set by `state:` (else derived from the deploy kind). */
  explicit: boolean;
  lockExpiryMs: number;
}

export interface EnvironmentSpecs {
  version: VersionSource | null;
  deploy: DeploySpec | null;
  health: HealthSpec | null;
  state: StateConfig;
  /** Watch metrics after the deploy (verifyConfig.ts). */
  verify: VerifySpec | null;
}

const VERSION_KEYS = ['http', 'command', 'git', 'ssh', 'docker', 'json', 'regex', 'headers', 'timeout'] as const;
/** Keys of `deploy:` itself; deployKeys() adds each kind's name and the keys it owns (deployKinds/). */
const DEPLOY_KEYS = ['pipeline', 'env', 'timeout'] as const;
export const deployKeys = (): string[] => [...DEPLOY_KEYS, ...DEPLOY_KINDS.flatMap((k) => [k, ...Object.keys(DEPLOY_KIND_REGISTRY[k].ownKeys)])];
const HEALTH_KEYS = ['http', 'expect', 'contains', 'timeout', 'interval'] as const;

export function readEnvironmentSpecs(
  f: YamlFile,
  envId: string,
  raw: { version: Node | null; deploy: Node | null; health: Node | null; state?: Node | null; verify?: Node | null },
): EnvironmentSpecs {
  const deploy = raw.deploy ? readDeploy(f, envId, raw.deploy) : null;
  return {
    version: raw.version ? readVersion(f, envId, raw.version) : null,
    deploy,
    health: raw.health ? readHealth(f, envId, raw.health) : null,
    state: readState(f, envId, raw.state ?? null, deploy),
    verify: raw.verify ? readVerify(f, envId, raw.verify) : null,
  };
}

const STATE_KEYS = ['ssh', 'dir', 'git', 'registry', 'dockerHost', 'local', 'lockExpiry'] as const;

/**
 * `state:` — where the team's lock and history of the environment live: `{ ssh: {host…}, dir: … }`,
 * `{ git: <remote>, ssh: … }`, `{ registry: <image>, dockerHost: … }`, `local` (this machine only); `lockExpiry`
 * (default 5m) with any of them. Without it, the deploy kind decides (teamState.ts: defaultStateSpec).
 */
function readState(f: YamlFile, envId: string, node: Node | null, deploy: DeploySpec | null): StateConfig {
  const derived = (): StateSpec => defaultStateSpec(envId, deploy as { method: { kind: string } & Record<string, unknown> } | null);
  const fallback: StateConfig = { spec: derived(), explicit: false, lockExpiryMs: DEFAULT_LOCK_EXPIRY_MS };
  if (node === null) return fallback;
  const what = `environment "${envId}": state`;
  if (isScalar(node) && node.value === 'local') return { spec: { kind: 'local' }, explicit: true, lockExpiryMs: DEFAULT_LOCK_EXPIRY_MS };
  const r = MapReader.from(f, node, what, STATE_KEYS);
  if (!r) return fallback;
  const lockExpiryMs = r.duration('lockExpiry') ?? DEFAULT_LOCK_EXPIRY_MS;
  if (lockExpiryMs < 1000) f.error(r.pair('lockExpiry'), `${what}: lockExpiry must be at least 1s`);
  const kinds: StateSpec['kind'][] = (['git', 'registry', 'local'] as const).filter((k) => r.has(k));
  const hasSsh = r.has('ssh');
  if (kinds.length > 1) {
    f.error(r.node, `${what}: use one of "ssh" (with "dir"), "git", "registry" or "local"`);
    return fallback;
  }
  const kind: StateSpec['kind'] | null = kinds[0] ?? (hasSsh ? 'ssh' : null);
  for (const k of ['dir'] as const) if (r.has(k) && kind !== 'ssh') f.error(r.pair(k), `${what}: "${k}" goes with "ssh"`);
  if (r.has('dockerHost') && kind !== 'registry') f.error(r.pair('dockerHost'), `${what}: "dockerHost" goes with "registry"`);
  switch (kind) {
    case null:
      return { ...fallback, lockExpiryMs };
    case 'local':
      return { spec: { kind: 'local' }, explicit: true, lockExpiryMs };
    case 'ssh': {
      const ssh = readSsh(f, r.value('ssh'), `${what}: ssh`);
      const dir = r.string('dir', { nonEmpty: true }) ?? `.delivery/${envId}`;
      if (/[\n\r\u0000]/.test(dir)) f.error(r.at('dir'), `${what}: "dir" contains a line break`);
      return ssh ? { spec: { kind: 'ssh', ssh, dir }, explicit: true, lockExpiryMs } : fallback;
    }
    case 'git': {
      const remote = r.string('git', { nonEmpty: true });
      if (remote !== undefined && remote.startsWith('-')) f.error(r.at('git'), `${what}: git remote must not start with "-"`);
      const ssh = hasSsh ? readSsh(f, r.value('ssh'), `${what}: ssh`) : null;
      return remote !== undefined ? { spec: { kind: 'git', remote, ssh }, explicit: true, lockExpiryMs } : fallback;
    }
    case 'registry': {
      const image = r.string('registry', { nonEmpty: true });
      if (image !== undefined && !/^[a-z0-9][a-z0-9._\-/:]*$/.test(image)) f.error(r.at('registry'), `${what}: "${image}" is not a valid image repository (lower case, no tag)`);
      if (hasSsh) f.error(r.pair('ssh'), `${what}: "ssh" goes with "dir" (an ssh store), not with "registry"`);
      return image !== undefined ? { spec: { kind: 'registry', image, dockerHost: r.string('dockerHost', { nonEmpty: true }) ?? null }, explicit: true, lockExpiryMs } : fallback;
    }
  }
}

function checkRegex(r: MapReader): string | null {
  const re = r.string('regex', { nonEmpty: true });
  if (re === undefined) return null;
  try {
    const groups = new RegExp(`${re}|`).exec('')!.length - 1;
    if (groups < 1) {
      r.f.error(r.at('regex'), `${r.what}: "regex" needs one capture group around the commit, e.g. "rev=([0-9a-f]+)"`);
      return null;
    }
  } catch (e) {
    r.f.error(r.at('regex'), `${r.what}: "regex" is not a valid regular expression: ${(e as Error).message}`);
    return null;
  }
  return re;
}

function readVersion(f: YamlFile, envId: string, node: Node): VersionSource | null {
  const what = `environment "${envId}": version`;
  const r = MapReader.from(f, node, what, VERSION_KEYS);
  if (!r) return null;
  const kind = exactlyOne(r, VERSION_KINDS, what);
  const timeoutMs = r.duration('timeout') ?? DEFAULT_PROBE_TIMEOUT_MS;
  const json = r.string('json', { nonEmpty: true }) ?? null;
  const regex = checkRegex(r);
  if (json !== null && regex !== null) f.error(r.pair('regex'), `${what}: use "json" or "regex", not both`);
  const headers = headerMap(r, 'headers') ?? {};
  switch (kind) {
    case 'http': {
      const url = checkUrl(r, 'http', r.string('http', { nonEmpty: true }));
      return url === undefined ? null : { kind, url, headers, json, regex, timeoutMs };
    }
    case 'command': {
      const command = r.string('command', { nonEmpty: true });
      return command === undefined ? null : { kind, command, json, regex, timeoutMs };
    }
    case 'git': {
      const v = r.value('git');
      if (isScalar(v) && typeof v.value === 'string') return { kind, remote: null, ref: v.value, timeoutMs };
      const g = MapReader.from(f, v, `${what}: git`, ['remote', 'ref']);
      if (!g) return null;
      const ref = g.required('ref') ? g.string('ref', { nonEmpty: true }) : undefined;
      const remote = g.string('remote', { nonEmpty: true }) ?? null;
      if (remote !== null && remote.startsWith('-')) f.error(g.at('remote'), `${what}: git remote must not start with "-"`);
      if (ref !== undefined && ref.startsWith('-')) f.error(g.at('ref'), `${what}: git ref must not start with "-"`);
      return ref === undefined ? null : { kind, remote, ref, timeoutMs };
    }
    case 'ssh': {
      const v = r.value('ssh');
      const s = MapReader.from(f, v, `${what}: ssh`, [...SSH_KEYS, 'command']);
      if (!s) return null;
      const command = s.required('command') ? s.string('command', { nonEmpty: true }) : undefined;
      const copy = isMap(v) ? withoutKey(v as YAMLMap, 'command') : v;
      const ssh = readSsh(f, copy as Node, `${what}: ssh`);
      return ssh && command !== undefined ? { kind, ssh, command, json, regex, timeoutMs } : null;
    }
    case 'docker': {
      const d = MapReader.from(f, r.value('docker'), `${what}: docker`, ['image', 'label', 'container']);
      if (!d) return null;
      const image = d.string('image', { nonEmpty: true }) ?? null;
      const container = d.string('container', { nonEmpty: true }) ?? null;
      if (!image && !container) f.error(d.node, `${what}: docker needs "image" or "container"`);
      return { kind, image: image ?? '', container, label: d.string('label', { nonEmpty: true }) ?? 'org.opencontainers.image.revision', timeoutMs };
    }
    default:
      return null;
  }
}

/** A mapping without one key (the ssh target of a version probe carries its command next to the target keys). */
function withoutKey(map: YAMLMap, key: string): YAMLMap {
  const copy = map.clone() as YAMLMap;
  copy.items = (copy.items as Pair[]).filter((p) => keyOf(p) !== key);
  copy.range = map.range;
  return copy;
}

function readDeploy(f: YamlFile, envId: string, node: Node): DeploySpec | null {
  const what = `environment "${envId}": deploy`;
  const r = MapReader.from(f, node, what, deployKeys());
  if (!r) return null;
  const kind = exactlyOne(r, DEPLOY_KINDS, what);
  const pipeline = r.string('pipeline', { nonEmpty: true }) ?? null;
  const timeoutMs = r.duration('timeout') ?? DEFAULT_DEPLOY_TIMEOUT_MS;
  const env = r.stringMap('env') ?? {};
  // Keys another kind owns (`cwd` of command, `upload`/`run` of ssh) are errors here.
  for (const other of DEPLOY_KINDS) {
    if (other === kind) continue;
    for (const [k, why] of Object.entries(DEPLOY_KIND_REGISTRY[other].ownKeys)) if (r.has(k)) f.error(r.pair(k), `${what}: ${why}`);
  }
  const method = kind ? (deployKind(kind) as DeployKindDef<DeployKind, DeployMethod>).read({ f, r, what, env }) : null;
  return method ? { pipeline, method, timeoutMs, env } : null;
}

function readHealth(f: YamlFile, envId: string, node: Node): HealthSpec | null {
  const what = `environment "${envId}": health`;
  const r = MapReader.from(f, node, what, HEALTH_KEYS);
  if (!r) return null;
  const url = r.required('http') ? checkUrl(r, 'http', r.string('http', { nonEmpty: true })) : undefined;
  if (url === undefined) return null;
  return {
    url,
    expect: r.int('expect', 100, 599) ?? 200,
    contains: r.string('contains') ?? null,
    timeoutMs: r.duration('timeout') ?? DEFAULT_HEALTH_TIMEOUT_MS,
    intervalMs: r.duration('interval') ?? 500,
  };
}

/** Names of `${secret:NAME}` references in a text. */
export function secretNames(text: string): string[] {
  return [...text.matchAll(/\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}
