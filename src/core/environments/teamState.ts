// The team's view of an environment: one deploy lock and one history per environment, kept where every deployer
// reaches it (on the ssh host, on the git remote, in the registry) so two engineers, or an engineer and a CI job,
// see each other's lock and deploys. This module holds every decision (who holds the lock, when a lock is
// abandoned, what a history record says); the stores behind the port only read and write atomically.
//
// The store is chosen from the deploy kind (`stateStoreFor`), or set by `environments.<id>.state:`:
//   ssh deploys       -> a folder on the host (default ~/.delivery/<environment>/ of the deploy user)
//   gitPush deploys   -> refs on the deploy remote (refs/delivery/<environment>/lock and …/history)
//   docker deploys    -> the history in the registry (<image>/delivery-history), the lock on the Docker engine
//                        that runs the container
//   anything else     -> this machine's state folder, "local only"
import type { Clock } from '../clock';
import type { DeployAction } from '../../shared/model';
import type { SshTarget } from './specReader';

export const STATE_STORE_KINDS = ['ssh', 'git', 'registry', 'local'] as const;
export type StateStoreKind = (typeof STATE_STORE_KINDS)[number];

/** Where an environment's shared state lives (derived from the deploy kind or set by `state:`). */
export type StateSpec =
  | { kind: 'ssh'; ssh: SshTarget; /** A folder on the host; relative: from the ssh user's home. */ dir: string }
  | { kind: 'git'; remote: string; ssh: SshTarget | null }
  | {
      kind: 'registry';
      /** Image repository (registry host and path, no tag): records are pushed as tags of `<image>` */
      image: string;
      /** DOCKER_HOST of the engine that holds the lock (null: the local engine). */
      dockerHost: string | null;
    }
  | { kind: 'local' };

/** The lock's settings: how long a deploy's lock lives without renewal. */
export const DEFAULT_LOCK_EXPIRY_MS = 5 * 60_000;
/** A deploy renews its lock this often (a third of the expiry, at most a minute). */
export const renewInterval = (expiryMs: number): number => Math.max(200, Math.min(60_000, Math.floor(expiryMs / 3)));

export interface LockHolder {
  /** Unique per acquisition: the key of every compare-and-swap on the lock. */
  token: string;
  /** Who: DELIVERY_USER, else git user.name, else the login name. */
  user: string;
  /** The machine. */
  host: string;
  pid: number;
  /** Start time of the holder process (clock ticks since boot), to tell a reused PID apart; null: unknown. */
  pidStartTime: number | null;
  /** The deploy holding it; null when taken by hand (`delivery lock acquire`). */
  deployId: string | null;
  /** The commit being deployed. */
  sha: string | null;
  message: string | null;
  /** When it was taken and last renewed (the holder's clock, ms since the epoch). */
  since: number;
  renewedAt: number;
  /** Abandoned this long after its last renewal; null: never expires (taken by hand, released by hand). */
  expiresAfterMs: number | null;
}

export interface StoredLock {
  holder: LockHolder;
  /** Time since the lock was last written, by the store's own clock, when it has one (ssh); else null. */
  ageMs: number | null;
}

export type HistoryAction = DeployAction | 'lock' | 'unlock';
export type HistoryStatus = 'running' | 'success' | 'failed' | 'cancelled' | 'interrupted' | 'unverified' | 'done';

/**
 * One line of a shared history. A deploy writes two (running, then its result) under one id; readers keep the
 * store's order of first appearance and the fields of the last line.
 */
export interface HistoryEvent {
  v: 1;
  id: string;
  action: HistoryAction;
  status: HistoryStatus;
  user: string;
  host: string;
  fromSha: string | null;
  toSha: string | null;
  /** The writer's clock; display only (order comes from the store). */
  startedAt: number;
  durationMs: number | null;
  message: string | null;
}

/** `delivery history --json` records (README contract), newest first. */
export interface HistoryRecord {
  id: string;
  action: HistoryAction;
  user: string;
  host: string;
  fromSha: string | null;
  toSha: string | null;
  status: HistoryStatus;
  startedAt: number;
  durationMs: number | null;
  message: string | null;
}

/** One environment's shared lock and history. Every write is atomic; a failed write throws and leaves nothing half-done. */
export interface TeamStateStore {
  readonly kind: StateStoreKind;
  /** Where the state lives, for messages ("deploy@127.0.0.1:.delivery/staging"). */
  readonly where: string;
  readLock(signal?: AbortSignal): Promise<StoredLock | null>;
  /** Creates the lock when there is none, atomically; otherwise returns the lock that is there. */
  createLock(holder: LockHolder, signal?: AbortSignal): Promise<{ ok: true } | { ok: false; current: StoredLock }>;
  /** Replaces the lock with `next` (or removes it: null) only if it still carries `token`; false when it does not. */
  swapLock(token: string, next: LockHolder | null, signal?: AbortSignal): Promise<boolean>;
  /** Appends one event to the history. */
  append(event: HistoryEvent, signal?: AbortSignal): Promise<void>;
  /** The history, oldest first, in the store's order. Lines it cannot read are skipped. */
  readHistory(signal?: AbortSignal): Promise<HistoryEvent[]>;
}

/** This process and how to tell whether a process of this machine is alive. */
export interface LockHere {
  user: string;
  host: string;
  pid: number;
  pidStartTime: number | null;
  clock: Clock;
  alive(pid: number, startTime: number | null): boolean;
  newToken(): string;
  /** Deploys this process is running now (one set per process): a lock of ours naming another deploy was left behind. */
  activeDeploys: Set<string>;
}

// ---- the store of an environment ----

/** The store an environment's state lives in when delivery.yml says nothing. */
export function defaultStateSpec(environment: string, deploy: { method: { kind: string } & Record<string, unknown> } | null): StateSpec {
  const m = deploy?.method as
    | { kind: 'ssh'; ssh: SshTarget }
    | { kind: 'gitPush'; remote: string; ssh: SshTarget | null }
    | { kind: 'docker'; image: string; push: boolean; host: string | null; run: unknown }
    | { kind: string }
    | undefined;
  if (!m) return { kind: 'local' };
  if (m.kind === 'ssh' && 'ssh' in m) return { kind: 'ssh', ssh: m.ssh as SshTarget, dir: `.delivery/${environment}` };
  if (m.kind === 'gitPush' && 'remote' in m) return { kind: 'git', remote: m.remote, ssh: (m as { ssh: SshTarget | null }).ssh };
  if (m.kind === 'docker' && 'image' in m && (m as { push: boolean }).push) {
    // A repository of its own beside the image's, so the image's tags stay the image's.
    return { kind: 'registry', image: `${(m as { image: string }).image}/delivery-history`, dockerHost: (m as { host: string | null }).host };
  }
  return { kind: 'local' };
}

export function describeStore(spec: StateSpec): string {
  switch (spec.kind) {
    case 'ssh':
      return `ssh ${spec.ssh.user ? `${spec.ssh.user}@` : ''}${spec.ssh.host}:${spec.dir}`;
    case 'git':
      return `git remote ${spec.remote}`;
    case 'registry':
      return `registry ${spec.image}`;
    case 'local':
      return 'local only (this machine)';
  }
}

// ---- the lock ----

/** Why a lock no longer counts (its process is gone on this machine, or it was not renewed in time), or null. */
export function lockStale(lock: StoredLock, here: Pick<LockHere, 'host' | 'alive' | 'clock' | 'pid' | 'activeDeploys'>): string | null {
  const h = lock.holder;
  // A lock taken by hand outlives the command that took it: only a deploy's lock dies with its process.
  if (h.deployId !== null && h.host === here.host && h.pid > 0 && !here.alive(h.pid, h.pidStartTime)) return `its process (${h.pid}) on ${h.host} is gone`;
  if (h.host === here.host && h.pid === here.pid && h.deployId !== null && !here.activeDeploys.has(h.deployId)) return `its deploy (${h.deployId}) has ended`;
  if (h.expiresAfterMs !== null) {
    const age = lock.ageMs ?? here.clock.now() - h.renewedAt;
    if (age > h.expiresAfterMs) return `it was not renewed for ${Math.round(age / 1000)} s (it expires after ${Math.round(h.expiresAfterMs / 1000)} s)`;
  }
  return null;
}

export function formatSince(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** One sentence naming the holder, their message and since when. */
export function describeHolder(environment: string, h: LockHolder): string {
  const what = h.deployId ? `is being deployed by ${h.user} on ${h.host} (deploy ${h.deployId}${h.sha ? ` of ${h.sha.slice(0, 12)}` : ''}, pid ${h.pid})` : `is locked by ${h.user} on ${h.host}`;
  const msg = h.message ? `: "${h.message}"` : '';
  return `"${environment}" ${what}${msg} since ${formatSince(h.since)}`;
}

export type LockAcquire =
  | { ok: true; holder: LockHolder; /** A stale lock that was taken over, and why. */ tookOver: { holder: LockHolder; why: string } | null }
  | { ok: false; holder: LockHolder; message: string };

export function newHolder(here: LockHere, opts: { deployId: string | null; sha: string | null; message: string | null; expiresAfterMs: number | null }): LockHolder {
  const now = here.clock.now();
  return {
    token: here.newToken(),
    user: here.user,
    host: here.host,
    pid: here.pid,
    pidStartTime: here.pidStartTime,
    deployId: opts.deployId,
    sha: opts.sha,
    message: opts.message,
    since: now,
    renewedAt: now,
    expiresAfterMs: opts.expiresAfterMs,
  };
}

/**
 * Takes the environment's lock: atomically when it is free; a stale lock (its process gone, or not renewed in time)
 * is swapped for ours only if it is still the stale one, and the deploy that held it is recorded "interrupted".
 */
export async function acquireLock(store: TeamStateStore, environment: string, mine: LockHolder, here: LockHere, signal?: AbortSignal): Promise<LockAcquire> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await store.createLock(mine, signal);
    if (r.ok) return { ok: true, holder: mine, tookOver: null };
    const why = lockStale(r.current, here);
    if (why === null) return { ok: false, holder: r.current.holder, message: `${describeHolder(environment, r.current.holder)}; wait for it to finish` };
    if (await store.swapLock(r.current.holder.token, mine, signal)) {
      const old = r.current.holder;
      if (old.deployId) {
        await store
          .append(
            {
              v: 1,
              id: old.deployId,
              action: 'deploy',
              status: 'interrupted',
              user: old.user,
              host: old.host,
              fromSha: null,
              toSha: old.sha,
              startedAt: old.since,
              durationMs: null,
              message: `interrupted: its lock was taken over by ${mine.user} on ${mine.host} because ${why}`,
            },
            signal,
          )
          .catch(() => undefined);
      }
      return { ok: true, holder: mine, tookOver: { holder: old, why } };
    }
    // Someone else changed it meanwhile: look again.
  }
  const now = await store.readLock(signal);
  if (now) return { ok: false, holder: now.holder, message: `${describeHolder(environment, now.holder)}; wait for it to finish` };
  throw new Error(`could not take the lock of "${environment}" at ${store.where}: it kept changing`);
}

export interface LockStatus {
  environment: string;
  locked: boolean;
  holder: LockHolder | null;
  /** Why the lock there no longer counts (then `locked` is false and `holder` says who left it). */
  stale: string | null;
  store: StateStoreKind;
  where: string;
}

export async function lockStatus(store: TeamStateStore, environment: string, here: Pick<LockHere, 'host' | 'alive' | 'clock' | 'pid' | 'activeDeploys'>, signal?: AbortSignal): Promise<LockStatus> {
  const l = await store.readLock(signal);
  const stale = l ? lockStale(l, here) : null;
  return { environment, locked: l !== null && stale === null, holder: l?.holder ?? null, stale, store: store.kind, where: store.where };
}

export type LockRelease = { ok: true; released: LockHolder | null } | { ok: false; message: string; holder: LockHolder };

/**
 * Releases the lock. Someone else's lock (another user, machine or deploy) needs `force`, and a forced release is
 * recorded in the history naming whose lock it was.
 */
export async function releaseLock(
  store: TeamStateStore,
  environment: string,
  here: LockHere,
  opts: { force?: boolean; message?: string | null; token?: string },
  signal?: AbortSignal,
): Promise<LockRelease> {
  const l = await store.readLock(signal);
  if (!l) return { ok: true, released: null };
  const h = l.holder;
  const own = opts.token !== undefined ? h.token === opts.token : h.user === here.user && h.host === here.host && h.deployId === null;
  const stale = lockStale(l, here);
  if (!own && !opts.force && stale === null) {
    return { ok: false, holder: h, message: `${describeHolder(environment, h)}; only they can release it (or use --force, which is recorded)` };
  }
  if (!(await store.swapLock(h.token, null, signal))) {
    const again = await store.readLock(signal);
    if (!again) return { ok: true, released: null };
    return { ok: false, holder: again.holder, message: `the lock of "${environment}" changed while releasing it: ${describeHolder(environment, again.holder)}` };
  }
  if (h.deployId === null || !own) {
    const forced = !own ? `released ${h.user}'s lock${h.message ? ` ("${h.message}")` : ''}${stale ? ` (stale: ${stale})` : ' (forced)'}` : null;
    const message = [forced, opts.message ?? null].filter((x) => x).join('; ') || h.message;
    await store.append(historyEvent(here, { id: here.newToken(), action: 'unlock', status: 'done', message, toSha: h.sha })).catch(() => undefined);
    if (!own && h.deployId) {
      await store
        .append({ ...historyEvent({ user: h.user, host: h.host, clock: here.clock }, { id: h.deployId, action: 'deploy', status: 'interrupted', toSha: h.sha, message: `interrupted: its lock was released by ${here.user} on ${here.host}` }), startedAt: h.since })
        .catch(() => undefined);
    }
  }
  return { ok: true, released: h };
}

/** Takes the lock by hand (`delivery lock acquire -m "db migration"`): it never expires, and it is recorded. */
export async function acquireManualLock(store: TeamStateStore, environment: string, here: LockHere, message: string | null, signal?: AbortSignal): Promise<LockAcquire> {
  const mine = newHolder(here, { deployId: null, sha: null, message, expiresAfterMs: null });
  const r = await acquireLock(store, environment, mine, here, signal);
  if (r.ok) await store.append(historyEvent(here, { id: mine.token, action: 'lock', status: 'done', message })).catch(() => undefined);
  return r;
}

/**
 * Keeps a deploy's lock alive: renews it every renewInterval until stop(). `lost` is called once if the lock is
 * no longer ours (taken over by someone who judged it abandoned).
 */
export function keepLock(store: TeamStateStore, holder: LockHolder, clock: Clock, lost: (why: string) => void): { stop(): void; current(): LockHolder } {
  let current = holder;
  let stopped = false;
  let timer: unknown = null;
  const every = renewInterval(holder.expiresAfterMs ?? DEFAULT_LOCK_EXPIRY_MS);
  const tick = async () => {
    if (stopped) return;
    const next = { ...current, renewedAt: clock.now() };
    try {
      if (await store.swapLock(current.token, next)) current = next;
      else {
        stopped = true;
        lost(`the lock is no longer this deploy's (someone took it over)`);
        return;
      }
    } catch (e) {
      // A network blip: try again at the next tick; the lock expires if we never get through.
      lost(`could not renew the lock: ${(e as Error).message}`);
    }
    if (!stopped) timer = clock.setTimer(every, () => void tick());
  };
  timer = clock.setTimer(every, () => void tick());
  return {
    stop: () => {
      stopped = true;
      if (timer !== null) clock.clearTimer(timer);
    },
    current: () => current,
  };
}

// ---- stored forms ----

/** A lock holder as a store keeps it (JSON), checked field by field; null when it is not one this tool wrote. */
export function parseLockHolder(text: string): LockHolder | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  const num = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
  const orNull = (k: string, is: (k: string) => boolean) => o[k] === null || is(k);
  if (!str('token') || !str('user') || !str('host') || !num('pid') || !num('since') || !num('renewedAt')) return null;
  if (!orNull('pidStartTime', num) || !orNull('deployId', str) || !orNull('sha', str) || !orNull('message', str) || !orNull('expiresAfterMs', num)) return null;
  return {
    token: o.token as string,
    user: o.user as string,
    host: o.host as string,
    pid: o.pid as number,
    pidStartTime: o.pidStartTime as number | null,
    deployId: o.deployId as string | null,
    sha: o.sha as string | null,
    message: o.message as string | null,
    since: o.since as number,
    renewedAt: o.renewedAt as number,
    expiresAfterMs: o.expiresAfterMs as number | null,
  };
}

/**
 * What a store reports for a lock it holds but cannot read (a half-written or foreign lock): an abandoned lock of an
 * unknown holder, expired at once, so the next deploy takes it over by its `token` (the store's own handle on it).
 */
export function unreadableLock(token: string, message = 'a lock this tool cannot read'): LockHolder {
  return { token, user: 'unknown', host: 'unknown', pid: 0, pidStartTime: null, deployId: null, sha: null, message, since: 0, renewedAt: 0, expiresAfterMs: 0 };
}

// ---- the history ----

export function historyEvent(
  who: { user: string; host: string; clock: Clock },
  e: { id: string; action: HistoryAction; status: HistoryStatus; fromSha?: string | null; toSha?: string | null; startedAt?: number; durationMs?: number | null; message?: string | null },
): HistoryEvent {
  return {
    v: 1,
    id: e.id,
    action: e.action,
    status: e.status,
    user: who.user,
    host: who.host,
    fromSha: e.fromSha ?? null,
    toSha: e.toSha ?? null,
    startedAt: e.startedAt ?? who.clock.now(),
    durationMs: e.durationMs ?? null,
    message: e.message ?? null,
  };
}

const ACTIONS: readonly string[] = ['deploy', 'rollback', 'promote', 'lock', 'unlock'];
const STATUSES: readonly string[] = ['running', 'success', 'failed', 'cancelled', 'interrupted', 'unverified', 'done'];

/** A history line as the store gave it, checked; null when it is not one of ours. */
export function parseHistoryEvent(line: string): HistoryEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : null);
  const num = (k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null);
  if (typeof o.id !== 'string' || !ACTIONS.includes(o.action as string) || !STATUSES.includes(o.status as string)) return null;
  return {
    v: 1,
    id: o.id,
    action: o.action as HistoryAction,
    status: o.status as HistoryStatus,
    user: str('user') ?? 'unknown',
    host: str('host') ?? 'unknown',
    fromSha: str('fromSha'),
    toSha: str('toSha'),
    startedAt: num('startedAt') ?? 0,
    durationMs: num('durationMs'),
    message: str('message'),
  };
}

/**
 * The records of a history (oldest-first events), newest first. A deploy still "running" that does not hold the
 * lock (or whose lock is stale) reads as interrupted: nothing will ever finish it.
 */
export function historyRecords(events: readonly HistoryEvent[], lock: { holder: LockHolder | null; stale: string | null } | null, limit = Infinity): HistoryRecord[] {
  const byId = new Map<string, HistoryRecord>();
  for (const e of events) {
    const prev = byId.get(e.id);
    const rec: HistoryRecord = {
      id: e.id,
      action: prev && e.status === 'interrupted' ? prev.action : e.action,
      user: prev?.user ?? e.user,
      host: prev?.host ?? e.host,
      fromSha: e.fromSha ?? prev?.fromSha ?? null,
      toSha: e.toSha ?? prev?.toSha ?? null,
      status: prev && isFinal(prev.status) && e.status === 'interrupted' ? prev.status : e.status,
      startedAt: prev?.startedAt ?? e.startedAt,
      durationMs: e.durationMs ?? prev?.durationMs ?? null,
      message: e.message ?? prev?.message ?? null,
    };
    byId.set(e.id, rec);
  }
  const out = [...byId.values()].reverse();
  for (const r of out) {
    if (r.status !== 'running') continue;
    const held = lock?.holder && lock.stale === null && lock.holder.deployId === r.id;
    if (!held) {
      r.status = 'interrupted';
      r.message = r.message ?? 'interrupted: the deploy ended without recording a result';
    }
  }
  return out.slice(0, limit);
}

function isFinal(s: HistoryStatus): boolean {
  return s === 'success' || s === 'failed' || s === 'cancelled' || s === 'unverified';
}
