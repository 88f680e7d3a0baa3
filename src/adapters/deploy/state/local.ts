// The "local only" store: an environment's lock and history in this machine's state folder
// (<stateDir>/team/<environment>/lock.json and history.jsonl), for deploys that have no shared place (a `command`
// deploy with no `state:`). The same semantics as the shared stores, for the processes of one machine:
//   - createLock: the holder is written complete under a temporary name, then hard-linked to lock.json; link()
//     fails when the name exists, so exactly one of several racing processes creates it;
//   - swapLock: compare the token and replace/remove under a small mutex (an exclusive mkdir), so two swaps never
//     interleave (a mutex left by a process that died inside that short section is cleared after 10 s);
//   - append: one write() of one line with O_APPEND: lines never interleave, a torn last line is skipped.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHistoryEvent, parseLockHolder, unreadableLock, type HistoryEvent, type LockHolder, type StoredLock, type TeamStateStore } from '../../../core/environments/teamState';

const SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MUTEX_STALE_MS = 10_000;

export function localStateStore(stateDir: string, environment: string): TeamStateStore {
  if (!SAFE.test(environment)) throw new Error(`invalid environment id: ${environment}`);
  const dir = path.join(stateDir, 'team', environment);
  const lockFile = path.join(dir, 'lock.json');
  const historyFile = path.join(dir, 'history.jsonl');
  const mutex = path.join(dir, '.mutex');

  const ensureDir = () => fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });

  const readLock = async (): Promise<StoredLock | null> => {
    let text: string;
    try {
      text = await fs.promises.readFile(lockFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`local store ${dir}: cannot read the lock: ${(e as Error).message}`);
    }
    return { holder: parseLockHolder(text) ?? unreadableLock('unreadable'), ageMs: null };
  };

  const withMutex = async <T>(fn: () => Promise<T>): Promise<T> => {
    await ensureDir();
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.promises.mkdir(mutex);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`local store ${dir}: ${(e as Error).message}`);
        const st = await fs.promises.stat(mutex).catch(() => null);
        if (st && Date.now() - st.mtimeMs > MUTEX_STALE_MS) await fs.promises.rm(mutex, { recursive: true, force: true });
        if (attempt > 2000) throw new Error(`local store ${dir}: the lock's mutex stayed busy`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
      }
    }
    try {
      return await fn();
    } finally {
      await fs.promises.rm(mutex, { recursive: true, force: true });
    }
  };

  const writeTemp = async (holder: LockHolder): Promise<string> => {
    const tmp = path.join(dir, `.lock.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.promises.writeFile(tmp, JSON.stringify(holder), { flag: 'wx', mode: 0o600 });
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw new Error(`local store ${dir}: cannot write the lock: ${(e as Error).message}`);
    }
    return tmp;
  };

  return {
    kind: 'local',
    where: dir,
    readLock,
    async createLock(holder) {
      await ensureDir();
      const tmp = await writeTemp(holder);
      try {
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await fs.promises.link(tmp, lockFile);
            return { ok: true };
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`local store ${dir}: cannot take the lock: ${(e as Error).message}`);
          }
          const current = await readLock();
          if (current) return { ok: false, current };
        }
        throw new Error(`local store ${dir}: the lock kept changing`);
      } finally {
        await fs.promises.rm(tmp, { force: true });
      }
    },
    swapLock: (token, next) =>
      withMutex(async () => {
        const current = await readLock();
        if (!current || current.holder.token !== token) return false;
        if (next === null) {
          await fs.promises.rm(lockFile, { force: true });
          return true;
        }
        const tmp = await writeTemp(next);
        try {
          await fs.promises.rename(tmp, lockFile);
        } catch (e) {
          await fs.promises.rm(tmp, { force: true });
          throw new Error(`local store ${dir}: cannot write the lock: ${(e as Error).message}`);
        }
        return true;
      }),
    async append(event: HistoryEvent) {
      const line = JSON.stringify(event) + '\n';
      await ensureDir();
      let fh: fs.promises.FileHandle | null = null;
      try {
        fh = await fs.promises.open(historyFile, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
        const { bytesWritten } = await fh.write(line);
        if (bytesWritten !== Buffer.byteLength(line)) throw new Error('short write');
      } catch (e) {
        throw new Error(`local store ${dir}: cannot append to the history: ${(e as Error).message}`);
      } finally {
        await fh?.close();
      }
    },
    async readHistory() {
      let text: string;
      try {
        text = await fs.promises.readFile(historyFile, 'utf8');
      } catch {
        return [];
      }
      const lines = text.split('\n');
      lines.pop(); // the part after the last newline: empty, or a torn line
      return lines.map(parseHistoryEvent).filter((e): e is HistoryEvent => e !== null);
    },
  };
}
