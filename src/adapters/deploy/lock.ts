// One deploy per environment at a time: <stateDir>/locks/<env>.lock, created exclusively.
//
// The lock file is written complete under a temporary name and then hard-linked to its final name: link() fails
// when the name exists, so exactly one of several racing processes creates it, and nobody ever reads half a lock.
// A stale lock (its process is gone, or it is older than the deploy timeout) is taken over by renaming it away
// first: only one process can rename that file; the winner checks it moved the lock it judged stale and puts it
// back otherwise.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeLockHolder, lockStaleness, type DeployLockInfo } from '../../core/environments/deploy';
import { processStartTime } from '../runStore';
import { processAlive } from './history';

export type LockResult = { ok: true; release(): Promise<void> } | { ok: false; holder: DeployLockInfo; message: string };

export class DeployLocks {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'locks');
  }

  private file(environment: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(environment)) throw new Error(`invalid environment id: ${environment}`);
    return path.join(this.dir, `${environment}.lock`);
  }

  /** The current holder, or null when the environment is free (a stale lock counts as free). */
  async status(environment: string): Promise<(DeployLockInfo & { stale: string | null }) | null> {
    const held = await readLock(this.file(environment));
    if (!held) return null;
    return { ...held, stale: staleness(held) };
  }

  async acquire(environment: string, info: { deployId: string; timeoutMs: number; user?: string }): Promise<LockResult> {
    const file = this.file(environment);
    await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const mine: DeployLockInfo = {
      deployId: info.deployId,
      environment,
      user: info.user ?? whoAmI(),
      host: os.hostname(),
      pid: process.pid,
      pidStartTime: processStartTime(process.pid),
      startedAt: Date.now(),
      timeoutMs: info.timeoutMs,
    };
    const tmp = path.join(this.dir, `.${environment}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      // Inside the try: a full disk may leave a partial temporary file, which finally removes.
      await fs.promises.writeFile(tmp, JSON.stringify(mine), { flag: 'wx' });
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          await fs.promises.link(tmp, file);
          return { ok: true, release: () => release(file, mine.deployId) };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const held = await readLock(file);
        if (!held) continue; // released meanwhile: try again
        const stale = staleness(held);
        if (stale === null) return { ok: false, holder: held, message: describeLockHolder(held, Date.now()) };
        await takeOver(file, held);
      }
      const held = await readLock(file);
      if (held) return { ok: false, holder: held, message: describeLockHolder(held, Date.now()) };
      throw new Error(`could not take the deploy lock ${file}`);
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }
}

function whoAmI(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${os.hostname()}`;
}

function staleness(lock: DeployLockInfo): string | null {
  return lockStaleness(lock, { host: os.hostname(), now: Date.now(), holderAlive: processAlive });
}

async function readLock(file: string): Promise<DeployLockInfo | null> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as DeployLockInfo;
    if (typeof v.deployId === 'string' && typeof v.pid === 'number' && typeof v.startedAt === 'number') return v;
  } catch {
    // fall through
  }
  // Not written by us (locks are linked complete): treat as a stale lock of an unknown holder.
  return { deployId: 'unknown', environment: path.basename(file, '.lock'), user: 'unknown', host: '', pid: 0, pidStartTime: null, startedAt: 0, timeoutMs: 0 };
}

const BREAKER_STALE_MS = 10_000;

function sameLock(a: DeployLockInfo | null, b: DeployLockInfo): boolean {
  return a !== null && a.deployId === b.deployId && a.pid === b.pid && a.startedAt === b.startedAt;
}

/**
 * Removes a stale lock. Breaking is serialized by a second exclusive file (`<lock>.break`): its holder re-reads
 * the lock and removes it only if it is still the stale one, so a racing process never removes a fresh lock that
 * replaced it. (A breaker left by a process that died within this short section is cleared after 10 s.)
 */
async function takeOver(file: string, stale: DeployLockInfo): Promise<void> {
  const breaker = `${file}.break`;
  try {
    await fs.promises.writeFile(breaker, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = await fs.promises.stat(breaker).catch(() => null);
    if (st && Date.now() - st.mtimeMs > BREAKER_STALE_MS) await fs.promises.rm(breaker, { force: true });
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    return;
  }
  try {
    if (!sameLock(await readLock(file), stale)) return;
    const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
    await fs.promises.rename(file, aside).catch(() => undefined);
    // Its holder may have released it and someone locked afresh in between: put a fresh lock back.
    const moved = await readLock(aside);
    if (moved && !sameLock(moved, stale)) await fs.promises.link(aside, file).catch(() => undefined);
    await fs.promises.rm(aside, { force: true });
  } finally {
    await fs.promises.rm(breaker, { force: true });
  }
}

async function release(file: string, deployId: string): Promise<void> {
  const held = await readLock(file);
  if (held?.deployId === deployId) await fs.promises.rm(file, { force: true });
}
