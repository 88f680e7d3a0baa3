// What is deployed where: every environment's deployed commit, its distance to the local HEAD and its health.
// The orchestration is here (concurrency, caching, how a reported version becomes a commit); the probes, git and
// HTTP are ports implemented in src/adapters/environments.
import type { EnvironmentStatus, Health } from '../../shared/model';
import type { EnvironmentConfig } from '../config/delivery';
import type { HealthSpec } from './config';
import { isSafeRevision } from './diff';

/** What one version probe found. */
export interface ProbeResult {
  /** The version the target reports (a SHA, short SHA or tag), already checked to be a safe revision; else null. */
  sha: string | null;
  /** What the target answered (an excerpt, secrets masked), for the user to see when something is off. */
  raw: string | null;
  /** Why no version was found; null when `sha` is set. */
  error: string | null;
}

export interface LocalHead {
  sha: string | null;
  branch: string | null;
  dirty: boolean;
}

export type Resolution = { sha: string } | { error: string };

/** The I/O environmentStatuses needs. Every call honours its signal; none throws for an expected failure. */
export interface StatusPorts {
  now(): number;
  /** The folder's HEAD; null when the folder is not in a git repository. */
  head(signal: AbortSignal): Promise<LocalHead | null>;
  probe(env: EnvironmentConfig, signal: AbortSignal): Promise<ProbeResult>;
  /** A reported version -> a local commit, fetching it once if the clone lacks it. `remote`: who reported it. */
  resolve(version: string, hint: { remote: string | null }, signal: AbortSignal): Promise<Resolution>;
  /** Commits in `local` not in `deployed` (ahead) and the other way round (behind). */
  distance(deployed: string, local: string, signal: AbortSignal): Promise<{ ahead: number; behind: number } | null>;
  health(spec: HealthSpec, signal: AbortSignal): Promise<{ health: Health; detail: string | null }>;
}

export const DEFAULT_STATUS_TTL_MS = 30_000;

// ---- reading a version out of a probe's answer ----

export type Extracted = { value: string } | { error: string };

/** A dot path into parsed JSON: `data.sha`, `builds.0.rev`. */
export function jsonPath(root: unknown, dotted: string): { found: true; value: unknown } | { found: false; missing: string } {
  let cur: unknown = root;
  const parts = dotted.split('.');
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i];
    const here = parts.slice(0, i + 1).join('.');
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key) || Number(key) >= cur.length) return { found: false, missing: here };
      cur = cur[Number(key)];
    } else if (cur !== null && typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, key)) {
      cur = (cur as Record<string, unknown>)[key];
    } else return { found: false, missing: here };
  }
  return { found: true, value: cur };
}

/** The version in a probe's answer: the whole (trimmed) text, a JSON path, or a regex's first group. */
export function extractVersion(text: string, how: { json: string | null; regex: string | null }): Extracted {
  let value: string;
  if (how.json !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { error: `the answer is not JSON: ${excerpt(text, 80)}` };
    }
    const hit = jsonPath(parsed, how.json);
    if (!hit.found) return { error: `the JSON answer has no "${hit.missing}"${hit.missing !== how.json ? ` (looking for "${how.json}")` : ''}` };
    if (typeof hit.value !== 'string' && typeof hit.value !== 'number') {
      return { error: `"${how.json}" in the JSON answer is ${hit.value === null ? 'null' : `a${Array.isArray(hit.value) ? 'n array' : 'n object'}`}, not a commit` };
    }
    value = String(hit.value);
  } else if (how.regex !== null) {
    let m: RegExpExecArray | null;
    try {
      m = new RegExp(how.regex).exec(text);
    } catch (e) {
      return { error: `"regex" is not a valid regular expression: ${(e as Error).message}` };
    }
    if (!m) return { error: `regex "${how.regex}" does not match the answer: ${excerpt(text, 80)}` };
    if (m[1] === undefined) return { error: `regex "${how.regex}" matched, but its first group did not` };
    value = m[1];
  } else {
    value = text;
  }
  return checkVersion(value.trim());
}

/** A reported version is used as a git revision only when it looks like one; otherwise it is data to show. */
export function checkVersion(value: string): Extracted {
  if (value === '') return { error: 'the answer is empty' };
  if (!isSafeRevision(value)) return { error: `"${excerpt(value, 60)}" is not a commit SHA or tag` };
  return { value };
}

/** One line, at most `max` characters, for messages. */
export function excerpt(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one === '') return '(empty)';
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** `2s`, `1.5s`, `250ms`: how long a probe waited. */
export function waitedFor(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

// ---- cache ----

/**
 * Results per key for `ttlMs`, so the tree, the status bar and the CLI do not hammer endpoints. A computation in
 * flight is shared; `force` starts a new one. Results the caller marks as not worth keeping (cancelled) are dropped.
 */
export class StatusCache<T> {
  private readonly entries = new Map<string, { at: number; done: boolean; value: Promise<T> }>();

  constructor(
    readonly ttlMs: number,
    /** The time (adapters: systemClock.now). */
    private readonly now: () => number,
  ) {}

  async get(key: string, force: boolean, compute: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && !force && (!hit.done || this.now() - hit.at < this.ttlMs)) {
      const value = await hit.value;
      if (keep(value)) return value;
    }
    const entry = { at: this.now(), done: false, value: compute() };
    this.entries.set(key, entry);
    try {
      const value = await entry.value;
      entry.done = true;
      entry.at = this.now();
      if (!keep(value) && this.entries.get(key) === entry) this.entries.delete(key);
      return value;
    } catch (e) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw e;
    }
  }

  /** Forgets every key starting with `prefix` (all of them without one). */
  invalidate(prefix = ''): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}

// ---- statuses ----

/** What is learnt from the environment itself (the part worth caching): the deployed commit and health. */
export interface RemoteFacts {
  deployed: EnvironmentStatus['deployed'];
  health: Health;
  healthDetail: string | null;
}

export interface StatusRequest {
  signal: AbortSignal;
  /** Bypass the cache (an explicit refresh). */
  force?: boolean;
  cache?: StatusCache<RemoteFacts>;
  /** Cache key prefix, e.g. the folder (keys are `<prefix>\0<env id>\0<specs>`). */
  cacheScope?: string;
  /** Called as each environment's status is known (fast ones first), before the whole list resolves. */
  onStatus?: (status: EnvironmentStatus) => void;
}

export const CANCELLED = 'cancelled';

/**
 * The status of every environment, all at once: each probe runs with its own timeout, so the whole takes about
 * as long as the slowest one. The local HEAD is read once.
 */
export async function environmentStatuses(envs: readonly EnvironmentConfig[], ports: StatusPorts, req: StatusRequest): Promise<EnvironmentStatus[]> {
  const head = ports.head(req.signal).catch(() => null);
  return Promise.all(
    envs.map(async (env) => {
      const key = `${req.cacheScope ?? ''}\0${env.id}\0${JSON.stringify([env.version, env.health])}`;
      const compute = () => remoteFacts(env, ports, req.signal);
      const keep = (f: RemoteFacts) => f.deployed.error !== CANCELLED;
      const facts = req.cache ? await req.cache.get(key, req.force === true, compute, keep) : await compute();
      const status = await withLocal(env, facts, await head, ports, req.signal);
      req.onStatus?.(status);
      return status;
    }),
  );
}

async function remoteFacts(env: EnvironmentConfig, ports: StatusPorts, signal: AbortSignal): Promise<RemoteFacts> {
  const [deployed, health] = await Promise.all([
    deployedCommit(env, ports, signal),
    env.health
      ? ports.health(env.health, signal).catch((e: unknown) => ({ health: 'unknown' as Health, detail: (e as Error)?.message ?? String(e) }))
      : Promise.resolve({ health: 'unknown' as Health, detail: null }),
  ]);
  return { deployed, health: health.health, healthDetail: health.detail };
}

async function deployedCommit(env: EnvironmentConfig, ports: StatusPorts, signal: AbortSignal): Promise<EnvironmentStatus['deployed']> {
  const at = () => ports.now();
  if (!env.version) return { sha: null, error: null, raw: null, checkedAt: at() };
  const probe = await ports.probe(env, signal).catch((e: unknown): ProbeResult => ({ sha: null, raw: null, error: (e as Error)?.message ?? String(e) }));
  if (signal.aborted) return { sha: null, error: CANCELLED, raw: probe.raw, checkedAt: at() };
  if (probe.sha === null) return { sha: null, error: probe.error ?? 'the probe found no version', raw: probe.raw, checkedAt: at() };
  const remote = env.version.kind === 'git' ? env.version.remote : null;
  const resolved = await ports.resolve(probe.sha, { remote }, signal).catch((e: unknown): Resolution => ({ error: (e as Error)?.message ?? String(e) }));
  if (signal.aborted) return { sha: null, error: CANCELLED, raw: probe.sha, checkedAt: at() };
  if ('error' in resolved) return { sha: null, error: resolved.error, raw: probe.sha, checkedAt: at() };
  return { sha: resolved.sha, error: null, raw: resolved.sha === probe.sha ? null : probe.sha, checkedAt: at() };
}

async function withLocal(env: EnvironmentConfig, facts: RemoteFacts, head: LocalHead | null, ports: StatusPorts, signal: AbortSignal): Promise<EnvironmentStatus> {
  let distance: { ahead: number; behind: number } | null = null;
  if (facts.deployed.sha && head?.sha) {
    distance = facts.deployed.sha === head.sha ? { ahead: 0, behind: 0 } : await ports.distance(facts.deployed.sha, head.sha, signal).catch(() => null);
  }
  return {
    id: env.id,
    name: env.name,
    url: env.url,
    deployed: { ...facts.deployed },
    local: { sha: head?.sha ?? null, branch: head?.branch ?? null, dirty: head?.dirty ?? false },
    ahead: distance?.ahead ?? null,
    behind: distance?.behind ?? null,
    health: facts.health,
    healthDetail: facts.healthDetail,
  };
}

// ---- how a status reads ----

/** `up to date`, `3 to deploy`, `1 to revert, 2 to deploy`, or null when the distance is unknown. */
export function distanceText(s: Pick<EnvironmentStatus, 'ahead' | 'behind'>): string | null {
  if (s.ahead === null || s.behind === null) return null;
  if (s.ahead === 0 && s.behind === 0) return 'up to date';
  const parts: string[] = [];
  if (s.behind > 0) parts.push(`${s.behind} to revert`);
  if (s.ahead > 0) parts.push(`${s.ahead} to deploy`);
  return parts.join(', ');
}

/** The warning for deployed commits that HEAD lacks (a deploy of HEAD would take them away). */
export function revertWarning(s: Pick<EnvironmentStatus, 'behind' | 'name'>): string | null {
  if (!s.behind) return null;
  return `${s.name} runs ${s.behind} commit${s.behind === 1 ? '' : 's'} that your HEAD does not have: deploying HEAD would revert ${s.behind === 1 ? 'it' : 'them'}`;
}
