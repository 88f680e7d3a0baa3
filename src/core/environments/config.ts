// Environments in delivery.yml: how to learn the deployed commit (`version`), how to deploy (`deploy`) and how to
// check the result (`health`). Parsed into typed specs with located problems; nothing here does I/O.
import { isMap, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { MapReader } from '../config/reader';
import { describe, keyOf, type YamlFile } from '../config/yamlFile';

export const VERSION_KINDS = ['http', 'command', 'git', 'ssh', 'docker'] as const;
export const DEPLOY_KINDS = ['command', 'ssh', 'gitPush', 'http', 'docker', 'workflow'] as const;
export type VersionKind = (typeof VERSION_KINDS)[number];
export type DeployKind = (typeof DEPLOY_KINDS)[number];

export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
export const DEFAULT_DEPLOY_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

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
}

/** How the deployed commit is read. The result is a SHA (or a ref/tag the local repository resolves). */
export type VersionSource =
  | { kind: 'http'; url: string; headers: Record<string, string>; json: string | null; regex: string | null; timeoutMs: number }
  | { kind: 'command'; command: string; json: string | null; regex: string | null; timeoutMs: number }
  | { kind: 'git'; remote: string | null; ref: string; timeoutMs: number }
  | { kind: 'ssh'; ssh: SshTarget; command: string; json: string | null; regex: string | null; timeoutMs: number }
  | { kind: 'docker'; image: string; label: string; container: string | null; timeoutMs: number };

export type DeployMethod =
  | { kind: 'command'; command: string; cwd: string | null; env: Record<string, string> }
  | {
      kind: 'ssh';
      ssh: SshTarget;
      /** rsync over ssh; `to` may use ${DELIVERY_*} variables, expanded by us (never by a shell). */
      upload: { from: string; to: string; delete: boolean; exclude: string[] } | null;
      /** Script run on the host with the DELIVERY_* variables in its environment. */
      run: string | null;
    }
  | { kind: 'gitPush'; remote: string; branch: string; force: boolean; ssh: SshTarget | null }
  | {
      kind: 'http';
      url: string;
      method: 'POST' | 'PUT' | 'GET';
      headers: Record<string, string>;
      body: string | null;
      /** Poll a status endpoint until it reports success or failure. */
      status: { url: string; json: string; success: string[]; failure: string[]; intervalMs: number; timeoutMs: number } | null;
    }
  | {
      kind: 'docker';
      /** Build context (relative to the folder); null: push/run an existing image. */
      build: string | null;
      dockerfile: string | null;
      /** Image name without tag; the tag is the commit SHA. */
      image: string;
      push: boolean;
      /** Run the image as a container (replacing the previous one of that name). */
      run: { name: string; args: string[]; command: string[] } | null;
      buildArgs: Record<string, string>;
      host: string | null;
    }
  | {
      /** Dispatch a run of a remote pipeline (GitHub workflow, GitLab pipeline, Buildbot build) and follow it. */
      kind: 'workflow';
      /** A pipeline of the folder by id or <source>:<id>: delivery.yml with `remote:`, a GitHub workflow, .gitlab-ci.yml. */
      pipeline: string;
      /** The branch or tag the run uses; null: the deploy's ref when it names one, else the folder's branch. */
      ref: string | null;
      /** Trigger inputs; `${DELIVERY_*}` and `${secret:NAME}` are expanded as data, never by a shell. */
      inputs: Record<string, string>;
    };

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

export interface EnvironmentSpecs {
  version: VersionSource | null;
  deploy: DeploySpec | null;
  health: HealthSpec | null;
}

const SSH_KEYS = ['host', 'port', 'user', 'identityFile', 'knownHostsFile', 'strictHostKeyChecking', 'connectTimeout'] as const;
const VERSION_KEYS = ['http', 'command', 'git', 'ssh', 'docker', 'json', 'regex', 'headers', 'timeout'] as const;
const DEPLOY_KEYS = ['pipeline', 'command', 'cwd', 'env', 'ssh', 'upload', 'run', 'gitPush', 'http', 'docker', 'workflow', 'timeout'] as const;
const WORKFLOW_KEYS = ['pipeline', 'ref', 'inputs'] as const;
const HEALTH_KEYS = ['http', 'expect', 'contains', 'timeout', 'interval'] as const;

export function readEnvironmentSpecs(
  f: YamlFile,
  envId: string,
  raw: { version: Node | null; deploy: Node | null; health: Node | null },
): EnvironmentSpecs {
  return {
    version: raw.version ? readVersion(f, envId, raw.version) : null,
    deploy: raw.deploy ? readDeploy(f, envId, raw.deploy) : null,
    health: raw.health ? readHealth(f, envId, raw.health) : null,
  };
}

function exactlyOne<T extends string>(r: MapReader, kinds: readonly T[], what: string): T | null {
  const present = kinds.filter((k) => r.has(k));
  if (present.length === 1) return present[0];
  if (present.length === 0) r.f.error(r.node, `${what}: say how, with exactly one of ${kinds.join(', ')}`);
  else r.f.error(r.pair(present[1]), `${what}: use exactly one of ${kinds.join(', ')}, not ${present.join(' and ')}`);
  return null;
}

function checkUrl(r: MapReader, key: string, value: string | undefined): string | undefined {
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
  const r = MapReader.from(f, node, what, DEPLOY_KEYS);
  if (!r) return null;
  const kind = exactlyOne(r, DEPLOY_KINDS, what);
  const pipeline = r.string('pipeline', { nonEmpty: true }) ?? null;
  const timeoutMs = r.duration('timeout') ?? DEFAULT_DEPLOY_TIMEOUT_MS;
  const env = r.stringMap('env') ?? {};
  const cwd = r.string('cwd', { nonEmpty: true }) ?? null;
  if (kind !== 'command' && cwd !== null) f.error(r.pair('cwd'), `${what}: "cwd" applies to "command" deploys only`);
  if (kind !== 'ssh') {
    for (const k of ['upload', 'run'] as const) if (r.has(k)) f.error(r.pair(k), `${what}: "${k}" goes with "ssh" deploys`);
  }
  let method: DeployMethod | null = null;
  switch (kind) {
    case 'command': {
      const command = r.string('command', { nonEmpty: true });
      if (command !== undefined) method = { kind, command, cwd, env };
      break;
    }
    case 'ssh': {
      const ssh = readSsh(f, r.value('ssh'), `${what}: ssh`);
      let upload: (DeployMethod & { kind: 'ssh' })['upload'] = null;
      if (r.has('upload')) {
        const u = MapReader.from(f, r.value('upload'), `${what}: upload`, ['from', 'to', 'delete', 'exclude']);
        const from = u?.required('from') ? u.string('from', { nonEmpty: true }) : undefined;
        const to = u?.required('to') ? u.string('to', { nonEmpty: true }) : undefined;
        if (to !== undefined && !to.startsWith('/') && !to.startsWith('~')) f.error(u!.at('to'), `${what}: upload "to" must be an absolute path on the host`);
        if (from !== undefined && (from.startsWith('/') || from.split('/').includes('..'))) {
          f.error(u!.at('from'), `${what}: upload "from" must be a path inside the workspace folder`);
        }
        if (u && from !== undefined && to !== undefined) {
          upload = { from, to, delete: u.bool('delete') ?? true, exclude: u.stringList('exclude') ?? [] };
        }
      }
      const run = r.string('run', { nonEmpty: true }) ?? null;
      if (!upload && run === null && ssh) f.error(r.pair('ssh'), `${what}: an ssh deploy needs "upload", "run" or both`);
      if (ssh) method = { kind, ssh, upload, run };
      break;
    }
    case 'gitPush': {
      const g = MapReader.from(f, r.value('gitPush'), `${what}: gitPush`, ['remote', 'branch', 'force', 'ssh']);
      const remote = g?.required('remote') ? g.string('remote', { nonEmpty: true }) : undefined;
      const branch = g?.string('branch', { nonEmpty: true }) ?? 'main';
      if (remote !== undefined && remote.startsWith('-')) f.error(g!.at('remote'), `${what}: gitPush remote must not start with "-"`);
      if (!/^[A-Za-z0-9._/-]+$/.test(branch) || branch.startsWith('-') || branch.includes('..')) {
        f.error(g!.at('branch'), `${what}: gitPush branch "${branch}" is not a valid branch name`);
      }
      const ssh = g?.has('ssh') ? readSsh(f, g.value('ssh'), `${what}: gitPush ssh`) : null;
      if (g && remote !== undefined) method = { kind, remote, branch, force: g.bool('force') ?? false, ssh };
      break;
    }
    case 'http': {
      const h = MapReader.from(f, r.value('http'), `${what}: http`, ['url', 'method', 'headers', 'body', 'status']);
      const url = h?.required('url') ? checkUrl(h, 'url', h.string('url', { nonEmpty: true })) : undefined;
      let status: (DeployMethod & { kind: 'http' })['status'] = null;
      if (h?.has('status')) {
        const s = MapReader.from(f, h.value('status'), `${what}: http status`, ['url', 'json', 'success', 'failure', 'interval', 'timeout']);
        const surl = s?.required('url') ? checkUrl(s, 'url', s.string('url', { nonEmpty: true })) : undefined;
        const json = s?.required('json') ? s.string('json', { nonEmpty: true }) : undefined;
        const success = s?.stringList('success') ?? [];
        if (s && success.length === 0) f.error(s.node, `${what}: http status needs "success" values (e.g. [live])`);
        if (s && surl !== undefined && json !== undefined) {
          status = { url: surl, json, success, failure: s.stringList('failure') ?? [], intervalMs: s.duration('interval') ?? 1000, timeoutMs: s.duration('timeout') ?? 10 * 60_000 };
        }
      }
      if (h && url !== undefined) {
        method = { kind, url, method: h.oneOf('method', ['POST', 'PUT', 'GET'] as const) ?? 'POST', headers: headerMap(h, 'headers') ?? {}, body: h.string('body') ?? null, status };
      }
      break;
    }
    case 'docker': {
      const d = MapReader.from(f, r.value('docker'), `${what}: docker`, ['build', 'dockerfile', 'image', 'push', 'run', 'buildArgs', 'host']);
      const image = d?.required('image') ? d.string('image', { nonEmpty: true }) : undefined;
      if (image !== undefined && !/^[a-z0-9][a-z0-9._\-/:]*$/.test(image)) f.error(d!.at('image'), `${what}: "${image}" is not a valid image name (lower case, no tag: the tag is the commit)`);
      let run: (DeployMethod & { kind: 'docker' })['run'] = null;
      if (d?.has('run')) {
        const rr = MapReader.from(f, d.value('run'), `${what}: docker run`, ['name', 'args', 'command']);
        const name = rr?.required('name') ? rr.string('name', { nonEmpty: true }) : undefined;
        if (rr && name !== undefined) run = { name, args: rr.stringList('args', { single: false }) ?? [], command: rr.stringList('command', { single: false }) ?? [] };
      }
      if (d && image !== undefined) {
        method = {
          kind,
          build: d.string('build', { nonEmpty: true }) ?? null,
          dockerfile: d.string('dockerfile', { nonEmpty: true }) ?? null,
          image,
          push: d.bool('push') ?? false,
          run,
          buildArgs: d.stringMap('buildArgs') ?? {},
          host: d.string('host', { nonEmpty: true }) ?? null,
        };
      }
      break;
    }
    case 'workflow':
      method = readWorkflow(f, r.value('workflow'), what);
      break;
  }
  return method ? { pipeline, method, timeoutMs, env } : null;
}

function readWorkflow(f: YamlFile, node: Node | undefined, what: string): DeployMethod | null {
  const w = MapReader.from(f, node, `${what}: workflow`, WORKFLOW_KEYS);
  if (!w) return null;
  const pipeline = w.required('pipeline') ? w.string('pipeline', { nonEmpty: true }) : undefined;
  if (pipeline !== undefined && !/^([a-z]+:)?[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(pipeline)) {
    f.error(w.at('pipeline'), `${what}: workflow "pipeline" must be a pipeline id (or <source>:<id>), not "${pipeline}"`);
    return null;
  }
  const ref = w.string('ref', { nonEmpty: true }) ?? null;
  if (ref !== null && (ref.startsWith('-') || !/^[A-Za-z0-9._/${}-]+$/.test(ref) || ref.includes('..'))) {
    f.error(w.at('ref'), `${what}: workflow "ref" must be a branch or tag name, not "${ref}"`);
  }
  const inputs: Record<string, string> = {};
  if (w.has('inputs')) {
    const m = MapReader.from(f, w.value('inputs'), `${what}: workflow inputs`, null);
    for (const key of m?.keys() ?? []) {
      const v = m!.value(key);
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) f.error(m!.pair(key)?.key as Node, `${what}: workflow input name "${key}" may contain only letters, digits, "_", "." and "-"`);
      else if (isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean')) inputs[key] = String(v.value);
      else f.error(v ?? m!.pair(key), `${what}: workflow input "${key}" must be a string, number or boolean`);
    }
  }
  return pipeline === undefined ? null : { kind: 'workflow', pipeline, ref, inputs };
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

/** An HTTP field name (RFC 9110 token): X-Api-Key, PRIVATE-TOKEN. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `headers:` of an HTTP probe or hook: names are RFC 9110 tokens, values one line (no CR, LF or NUL). */
function headerMap(r: MapReader, key: string): Record<string, string> | undefined {
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
