// An in-memory TeamStateStore for the unit tier: the same contract as the real stores (atomic create, token
// compare-and-swap, append-only history), with counters for the assertions and a switch to make it fail.
import type { Clock } from '../../src/core/clock';
import type { HistoryEvent, LockHere, LockHolder, StoredLock, TeamStateStore } from '../../src/core/environments/teamState';

export class MemoryStateStore implements TeamStateStore {
  readonly kind = 'local' as const;
  readonly where: string;
  lock: StoredLock | null = null;
  events: HistoryEvent[] = [];
  /** `<environment>:<deployId or "manual">:<user>` of each lock taken. */
  created: string[] = [];
  /** Locks removed (released). */
  removed = 0;
  /** Thrown by every call while set (an unreachable or full store). */
  fail: Error | null = null;

  constructor(readonly environment: string) {
    this.where = `memory:${environment}`;
  }

  private check(): void {
    if (this.fail) throw this.fail;
  }

  async readLock(): Promise<StoredLock | null> {
    this.check();
    return this.lock ? structuredClone(this.lock) : null;
  }

  async createLock(holder: LockHolder): Promise<{ ok: true } | { ok: false; current: StoredLock }> {
    this.check();
    if (this.lock) return { ok: false, current: structuredClone(this.lock) };
    this.lock = { holder: structuredClone(holder), ageMs: null };
    this.created.push(`${this.environment}:${holder.deployId ?? 'manual'}:${holder.user}`);
    return { ok: true };
  }

  async swapLock(token: string, next: LockHolder | null): Promise<boolean> {
    this.check();
    if (!this.lock || this.lock.holder.token !== token) return false;
    if (next === null) {
      this.lock = null;
      this.removed++;
    } else this.lock = { holder: structuredClone(next), ageMs: null };
    return true;
  }

  async append(event: HistoryEvent): Promise<void> {
    this.check();
    this.events.push(structuredClone(event));
  }

  async readHistory(): Promise<HistoryEvent[]> {
    this.check();
    return structuredClone(this.events);
  }
}

/** A process "here" for the lock logic: `alive` answers from a set of live PIDs. */
export function fakeHere(clock: Clock, over: Partial<LockHere> = {}): LockHere {
  let n = 0;
  return {
    user: 'ann',
    host: 'box',
    pid: 4242,
    pidStartTime: null,
    clock,
    alive: () => true,
    newToken: () => `t${++n}`,
    activeDeploys: new Set(),
    ...over,
  };
}
