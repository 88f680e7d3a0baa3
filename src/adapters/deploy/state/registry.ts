// The team state of a docker deploy: the LOCK on the Docker engine that runs the deploy's container, the HISTORY in
// the registry the image is pushed to.
//
// Why split: a registry (OCI distribution API) has no compare-and-swap on tags, but an engine has one atomic
// operation we can use: a container name is unique per engine, and creating a container either takes the name or
// fails with "Conflict". So the lock is a created, never started container named after the image and environment,
// whose label holds the holder (labels cannot change: a renewal replaces the container). Removing it by its ID,
// which no later container reuses, is the compare-and-swap: when someone replaced it meanwhile the ID is gone.
// Note: `docker container prune` / `docker system prune` remove created containers, which releases every lock.
//
// The history is a list of tiny OCI artifacts in the repository the spec names (for a docker deploy:
// `<image>/delivery-history`, beside the image, so the image's own tags stay clean), one per event, tagged
// `delivery-<env>-<seq>-<8 hex of the event's digest>`; readers order them by (seq, tag).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseLockHolder, describeStore, parseHistoryEvent, type HistoryEvent, type LockHolder, type StateSpec, type StoredLock, type TeamStateStore } from '../../../core/environments/teamState';

type RegistrySpec = Extract<StateSpec, { kind: 'registry' }>;

export interface RegistryStoreContext {
  environment: string;
  /** Working directory of the docker commands. */
  cwd: string;
  /** Variables added to the docker commands' environment (DOCKER_CONFIG, DOCKER_CONTEXT, …). */
  env?: Record<string, string>;
}

export const LOCK_LABEL = 'org.softwaredelivery.lock';
export const LOCK_IMAGE = 'delivery/lock:1';
export const EVENT_MEDIA_TYPE = 'application/vnd.softwaredelivery.deploy-event.v1+json';
export const EVENT_ANNOTATION = 'org.softwaredelivery.event';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** The OCI "empty" config of artifacts: `{}`. */
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };
/** An empty tar (two zero blocks): the lock image's only layer, so it is made offline, without a pull. */
const EMPTY_TAR = '\0'.repeat(1024);
const HTTP_TIMEOUT_MS = 30_000;
const DOCKER_TIMEOUT_MS = 60_000;
const PARALLEL_READS = 8;

export function registryStateStore(spec: RegistrySpec, ctx: RegistryStoreContext): TeamStateStore {
  const where = describeStore(spec);
  const engine = new EngineLock(spec, ctx, where);
  const history = new RegistryHistory(spec.image, ctx.environment, where);
  return {
    kind: 'registry',
    where,
    readLock: (signal) => engine.read(signal),
    createLock: (holder, signal) => engine.create(holder, signal),
    swapLock: (token, next, signal) => engine.swap(token, next, signal),
    append: (event, signal) => history.append(event, signal),
    readHistory: (signal) => history.read(signal),
  };
}

// ---- the lock: a container on the engine ----

interface DockerResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

interface LockContainer {
  id: string;
  lock: StoredLock;
}

class EngineLock {
  private readonly name: string;
  private readonly env: Record<string, string>;
  /** The engine, for messages. */
  private readonly engine: string;

  constructor(
    spec: RegistrySpec,
    private readonly ctx: RegistryStoreContext,
    private readonly where: string,
  ) {
    this.name = lockContainerName(spec.image, ctx.environment);
    this.env = { ...ctx.env, DOCKER_CLI_HINTS: 'false', ...(spec.dockerHost ? { DOCKER_HOST: spec.dockerHost } : {}) };
    const host = this.env.DOCKER_HOST ?? process.env.DOCKER_HOST;
    this.engine = host ? `the Docker engine ${host}` : 'the local Docker engine';
  }

  async read(signal?: AbortSignal): Promise<StoredLock | null> {
    return (await this.inspect(signal, true))?.lock ?? null;
  }

  async create(holder: LockHolder, signal?: AbortSignal): Promise<{ ok: true } | { ok: false; current: StoredLock }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await this.createContainer(holder, signal)) return { ok: true };
      const current = await this.inspect(signal, true);
      if (current) return { ok: false, current: current.lock };
      // Removed between our create and our look: try again.
    }
    throw new Error(`could not take the lock of "${this.ctx.environment}" on ${this.engine} (${this.where}): it kept changing`);
  }

  async swap(token: string, next: LockHolder | null, signal?: AbortSignal): Promise<boolean> {
    const current = await this.inspect(signal, false);
    if (!current || current.lock.holder.token !== token) return false;
    // By ID: if someone replaced the lock since we looked, this ID is gone and the swap fails.
    const rm = await this.docker(['rm', '--', current.id], signal);
    if (!rm.ok) {
      if (/no such container|already in progress/i.test(rm.stderr)) return false;
      throw this.error('release the lock', rm);
    }
    // Labels are immutable, so a replacement is a new container; between the rm and this create the name is free for
    // a moment, and a create of someone else there wins (we report false, as for any lost swap).
    return next === null ? true : this.createContainer(next, signal);
  }

  /** true: created; false: the name is taken. Creates the lock image when the engine lacks it. */
  private async createContainer(holder: LockHolder, signal?: AbortSignal): Promise<boolean> {
    const args = ['create', '--pull', 'never', '--name', this.name, '--network', 'none', '--log-driver', 'none', '--label', `${LOCK_LABEL}=${JSON.stringify(holder)}`, LOCK_IMAGE, '/nonexistent'];
    let r = await this.docker(args, signal);
    if (!r.ok && /no such image/i.test(r.stderr)) {
      const made = await this.docker(['import', '--message', 'the lock of delivery deploys (never started)', '-', LOCK_IMAGE], signal, EMPTY_TAR);
      if (!made.ok) throw this.error(`create the lock image ${LOCK_IMAGE}`, made);
      r = await this.docker(args, signal);
    }
    if (r.ok) return true;
    if (/conflict|is already in use/i.test(r.stderr)) return false;
    throw this.error('create the lock', r);
  }

  /** The lock container; `withAge`: also ask the engine's clock for the lock's age. */
  private async inspect(signal: AbortSignal | undefined, withAge: boolean): Promise<LockContainer | null> {
    const [r, now] = await Promise.all([this.docker(['container', 'inspect', '--format', '{{json .}}', '--', this.name], signal), withAge ? this.engineNow(signal) : null]);
    if (!r.ok) {
      if (/no such (container|object)/i.test(r.stderr)) return null;
      throw this.error('read the lock', r);
    }
    let c: { Id?: unknown; Created?: unknown; Config?: { Labels?: Record<string, string> | null } };
    try {
      c = JSON.parse(r.stdout) as typeof c;
    } catch {
      throw new Error(`could not read the lock of "${this.ctx.environment}" on ${this.engine} (${this.where}): docker inspect printed no JSON`);
    }
    const id = typeof c.Id === 'string' ? c.Id : this.name;
    const created = typeof c.Created === 'string' ? Date.parse(c.Created) : NaN;
    const label = c.Config?.Labels?.[LOCK_LABEL];
    const holder = (label !== undefined && parseLockHolder(label)) || foreignHolder(id, created);
    const ageMs = now !== null && Number.isFinite(created) ? Math.max(0, now - created) : null;
    return { id, lock: { holder, ageMs } };
  }

  /** The engine's clock (its containers' `Created` is by that clock); null when it does not say. */
  private async engineNow(signal?: AbortSignal): Promise<number | null> {
    const r = await this.docker(['system', 'info', '--format', '{{json .SystemTime}}'], signal).catch(() => null);
    if (!r?.ok) return null;
    try {
      const t = Date.parse(JSON.parse(r.stdout) as string);
      return Number.isFinite(t) ? t : null;
    } catch {
      return null;
    }
  }

  private async docker(args: string[], signal?: AbortSignal, stdin?: string): Promise<DockerResult> {
    try {
      return await runDocker(args, { cwd: this.ctx.cwd, env: { ...process.env, ...this.env }, signal, stdin });
    } catch (e) {
      if (signal?.aborted) throw new Error(`cancelled: docker ${args[0]} on ${this.engine}`);
      throw new Error(`could not run docker for the lock of "${this.ctx.environment}" on ${this.engine} (${this.where}): ${(e as Error).message}`);
    }
  }

  private error(what: string, r: DockerResult): Error {
    return new Error(`could not ${what} of "${this.ctx.environment}" on ${this.engine} (${this.where}): ${r.stderr || r.stdout || 'docker failed'}`);
  }
}

/**
 * Runs the docker CLI to its end and keeps all its output. Not LocalProcessRunner: these are short commands whose
 * whole stdout we parse, and that runner drops output still in the pipe when its event loop is busy at exit
 * (PIPE_GRACE_MS). Aborting kills the process; an engine that never answers is given up on after DOCKER_TIMEOUT_MS.
 */
function runDocker(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal; stdin?: string }): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { cwd: opts.cwd, env: opts.env, signal: opts.signal, timeout: DOCKER_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined); // it may exit without reading
    child.stdin.end(opts.stdin ?? '');
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error('the docker CLI is not installed (command not found: docker)') : e));
    child.on('close', (code, sig) => {
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (sig) return reject(new Error(`docker ${args[0]} was killed (${sig}${sig === 'SIGKILL' ? `; no answer in ${DOCKER_TIMEOUT_MS / 1000} s?` : ''})${stderr ? `: ${stderr}` : ''}`));
      resolve({ ok: code === 0, stdout: Buffer.concat(out).toString('utf8').trim(), stderr });
    });
  });
}

/** `delivery-lock.<image>.<environment>.<hash>`: readable, and the hash keeps two images that sanitise alike apart. */
export function lockContainerName(image: string, environment: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return `delivery-lock.${clean(image)}.${clean(environment)}.${sha256(`${image}\n${environment}`).slice(0, 8)}`;
}

/** A container of the lock's name whose label is not a holder: it holds the lock until released by hand (its ID is the token). */
function foreignHolder(id: string, created: number): LockHolder {
  const at = Number.isFinite(created) ? created : 0;
  return { token: `container:${id}`, user: 'unknown', host: 'unknown', pid: 0, pidStartTime: null, deployId: null, sha: null, message: `container ${id.slice(0, 12)} is not a delivery lock`, since: at, renewedAt: at, expiresAfterMs: null };
}

// ---- the history: OCI artifacts in the registry ----

interface EventTag {
  tag: string;
  seq: number;
}

interface Manifest {
  artifactType?: unknown;
  layers?: { mediaType?: unknown; digest?: unknown }[];
  annotations?: Record<string, unknown>;
}

/**
 * Plain HTTP for loopback registries (as docker's insecure default), HTTPS otherwise. No authentication yet: a
 * registry that asks for it fails with a clear message. Redirects (blob storage elsewhere) are followed; we send
 * nothing sensitive.
 */
class RegistryHistory {
  private readonly base: string;
  private readonly repo: string;
  private readonly tagPattern: RegExp;
  private readonly tagPrefix: string;

  constructor(
    image: string,
    environment: string,
    private readonly where: string,
  ) {
    const ref = parseImage(image);
    this.base = `${ref.scheme}://${ref.host}`;
    this.repo = ref.repo;
    this.tagPrefix = `delivery-${tagEnvironment(environment)}-`;
    this.tagPattern = new RegExp(`^${this.tagPrefix.replace(/[.]/g, '\\.')}(\\d{10})-[0-9a-f]{8}$`);
  }

  /**
   * Uploads the event (a blob, and the manifest that refers to it) under the next sequence number. Two writers
   * that race can pick the same number; the digest in the tag keeps both, and every reader orders them the same
   * way. Appends normally happen under the lock anyway. The tag is written last: until then readers see nothing.
   */
  async append(event: HistoryEvent, signal?: AbortSignal): Promise<void> {
    const body = JSON.stringify(event);
    const blob = Buffer.from(body, 'utf8');
    const digest = `sha256:${sha256(blob)}`;
    if ((await this.request('HEAD', `/blobs/${EMPTY_CONFIG.digest}`, 'write the history', signal, { okStatuses: [404] })).status === 404) {
      await this.uploadBlob(Buffer.from('{}'), EMPTY_CONFIG.digest, signal);
    }
    await this.uploadBlob(blob, digest, signal);
    const manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      artifactType: EVENT_MEDIA_TYPE,
      config: EMPTY_CONFIG,
      layers: [{ mediaType: EVENT_MEDIA_TYPE, digest, size: blob.length }],
      // The event again, so a reader needs one request per event instead of two.
      annotations: { [EVENT_ANNOTATION]: body },
    };
    const tags = await this.eventTags('write the history', signal);
    const seq = (tags.length ? tags[tags.length - 1].seq : 0) + 1;
    const tag = `${this.tagPrefix}${String(seq).padStart(10, '0')}-${digest.slice('sha256:'.length, 'sha256:'.length + 8)}`;
    await this.request('PUT', `/manifests/${tag}`, 'write the history', signal, { body: JSON.stringify(manifest), headers: { 'content-type': MANIFEST_MEDIA_TYPE } });
  }

  async read(signal?: AbortSignal): Promise<HistoryEvent[]> {
    const tags = await this.eventTags('read the history', signal);
    const events = await mapBounded(tags, PARALLEL_READS, (t) => this.readEvent(t.tag, signal));
    return events.filter((e): e is HistoryEvent => e !== null);
  }

  private async readEvent(tag: string, signal?: AbortSignal): Promise<HistoryEvent | null> {
    const res = await this.request('GET', `/manifests/${tag}`, 'read the history', signal, { headers: { accept: MANIFEST_MEDIA_TYPE }, okStatuses: [404] });
    if (res.status === 404) return null; // deleted since the listing
    let m: Manifest;
    try {
      m = JSON.parse(await res.text()) as Manifest;
    } catch {
      return null;
    }
    const inline = m.annotations?.[EVENT_ANNOTATION];
    if (typeof inline === 'string') return parseHistoryEvent(inline);
    const layer = m.layers?.find((l) => l.mediaType === EVENT_MEDIA_TYPE);
    if (typeof layer?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) return null;
    const blob = await this.request('GET', `/blobs/${layer.digest}`, 'read the history', signal, { okStatuses: [404] });
    if (blob.status === 404) return null;
    const bytes = Buffer.from(await blob.arrayBuffer());
    if (`sha256:${sha256(bytes)}` !== layer.digest) return null;
    return parseHistoryEvent(bytes.toString('utf8'));
  }

  /** This environment's event tags in the store's order: by sequence number, then by tag. */
  private async eventTags(what: string, signal?: AbortSignal): Promise<EventTag[]> {
    const out: EventTag[] = [];
    let next: string | null = `${this.base}/v2/${this.repo}/tags/list?n=1000`;
    for (let page = 0; next !== null && page < 10_000; page++) {
      const res = await this.request('GET', next, what, signal, { okStatuses: [404] });
      if (res.status === 404) return []; // no such repository yet: no history
      let body: { tags?: unknown };
      try {
        body = (await res.json()) as typeof body;
      } catch {
        throw new Error(`could not ${what} at ${this.where}: the tag list of ${this.base}/v2/${this.repo} is not JSON`);
      }
      for (const tag of Array.isArray(body.tags) ? body.tags : []) {
        const m = typeof tag === 'string' ? this.tagPattern.exec(tag) : null;
        if (m) out.push({ tag: tag as string, seq: Number(m[1]) });
      }
      next = nextPage(res.headers.get('link'), next, this.base);
    }
    return out.sort((a, b) => a.seq - b.seq || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  private async uploadBlob(data: Buffer, digest: string, signal?: AbortSignal): Promise<void> {
    const start = await this.request('POST', '/blobs/uploads/', 'write the history', signal);
    const location = start.headers.get('location');
    if (!location) throw new Error(`could not write the history at ${this.where}: ${this.base} started an upload without a Location`);
    const url = new URL(location, `${this.base}/v2/${this.repo}/blobs/uploads/`);
    url.searchParams.set('digest', digest);
    await this.request('PUT', url.toString(), 'write the history', signal, { body: data, headers: { 'content-type': 'application/octet-stream' } });
  }

  /** One request; a path is under /v2/<repo>. Throws a message naming the registry unless the status is 2xx or in `okStatuses`. */
  private async request(
    method: string,
    pathOrUrl: string,
    what: string,
    signal: AbortSignal | undefined,
    opts: { body?: string | Buffer; headers?: Record<string, string>; okStatuses?: number[] } = {},
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('/') ? `${this.base}/v2/${this.repo}${pathOrUrl}` : pathOrUrl;
    const timeout = AbortSignal.timeout(HTTP_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(url, { method, body: opts.body, headers: opts.headers, redirect: 'follow', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (e) {
      if (signal?.aborted) throw new Error(`cancelled: ${what} at ${this.where}`);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = timeout.aborted ? `no answer in ${HTTP_TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new Error(`could not ${what} at ${this.where}: the registry ${this.base} cannot be reached (${why})`);
    }
    if (res.ok || opts.okStatuses?.includes(res.status)) return res;
    const detail = await registryErrors(res);
    const hint =
      res.status === 401 ? ' (it asks for a login; registries that need one are not supported yet)' : res.status === 405 && method !== 'GET' && method !== 'HEAD' ? ' (is the registry read-only?)' : '';
    throw new Error(`could not ${what} at ${this.where}: ${method} ${new URL(url).pathname} answered ${res.status} ${res.statusText}${hint}${detail ? `: ${detail}` : ''}`);
  }
}

/** The messages of a registry's error body ({"errors":[{"code","message"}]}), or its first line of text. */
async function registryErrors(res: Response): Promise<string> {
  const text = (await res.text().catch(() => '')).slice(0, 2000);
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors)) return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ');
  } catch {
    // not JSON
  }
  return text.split('\n')[0].trim().slice(0, 200);
}

/** The `Link: <…>; rel="next"` of a tag list page, on the same registry; null when it is the last page. */
function nextPage(link: string | null, current: string, base: string): string | null {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!m) return null;
  const url = new URL(m[1], current);
  return url.origin === new URL(base).origin ? url.toString() : null;
}

/** `host[:port]/path` → where to talk HTTP to; an image without a registry host is on Docker Hub. */
export function parseImage(image: string): { scheme: 'http' | 'https'; host: string; repo: string } {
  let name = image.replace(/@.*$/, '');
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon); // a tag
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = !hasHost || first === 'docker.io' || first === 'index.docker.io' ? 'registry-1.docker.io' : first;
  const path = hasHost ? name.slice(slash + 1) : name;
  const repo = host === 'registry-1.docker.io' && !path.includes('/') ? `library/${path}` : path;
  const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = hostname === 'localhost' || hostname === '::1' || /^127\./.test(hostname);
  return { scheme: loopback ? 'http' : 'https', host, repo };
}

/** The environment as it goes into a tag ([A-Za-z0-9_.-], at most 60); names that change get a hash to stay apart. */
function tagEnvironment(environment: string): string {
  const clean = environment.replace(/[^A-Za-z0-9_.-]+/g, '_');
  if (clean === environment && clean.length <= 60 && /^[A-Za-z0-9]/.test(clean)) return clean;
  return `${clean.slice(0, 40)}_${sha256(environment).slice(0, 8)}`;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
