// Deploy history on disk, per environment: <stateDir>/deploys/<env>/<deploy id>/record.json (written atomically)
// and deploy.log next to it. Shared by the CLI and every VS Code window on the folder (see stateDir.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeployRecord } from '../../shared/model';
import { writeFileAtomic } from '../atomicFile';
import { killMarked, orphanMark } from '../processRunner';
import { FileJobLog, newRunId, processStartTime, processState } from '../runStore';

const SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Is `pid` the same live process that had `startTime` (null: trust the PID)? */
export function processAlive(pid: number, startTime: number | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTime(pid);
  if (startTime !== null && now !== null && startTime !== now) return false; // the PID was reused
  return processState(pid) !== 'Z';
}

export const newDeployId = newRunId;

export class FileDeployStore {
  readonly deploysDir: string;

  constructor(readonly stateDir: string) {
    this.deploysDir = path.join(stateDir, 'deploys');
  }

  dir(environment: string, id: string): string {
    if (!SAFE.test(environment)) throw new Error(`invalid environment id: ${environment}`);
    if (!SAFE.test(id)) throw new Error(`invalid deploy id: ${id}`);
    return path.join(this.deploysDir, environment, id);
  }

  logPath(environment: string, id: string): string {
    return path.join(this.dir(environment, id), 'deploy.log');
  }

  async save(record: DeployRecord): Promise<void> {
    const dir = this.dir(record.environment, record.id);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const driver = path.join(dir, 'driver.json');
    if (record.status === 'running' && !fs.existsSync(driver)) {
      await writeFileAtomic(driver, JSON.stringify({ pid: record.pid, startTime: processStartTime(record.pid) }));
    }
    await writeFileAtomic(path.join(dir, 'record.json'), JSON.stringify(record, null, 1));
  }

  openLog(environment: string, id: string): FileJobLog {
    fs.mkdirSync(this.dir(environment, id), { recursive: true, mode: 0o700 });
    return new FileJobLog(this.logPath(environment, id));
  }

  /** Deploys of an environment, newest first. A `running` record whose process is gone reads as interrupted. */
  async list(environment: string, limit = 50): Promise<DeployRecord[]> {
    let ids: string[];
    try {
      ids = await fs.promises.readdir(path.join(this.deploysDir, environment));
    } catch {
      return [];
    }
    const out: DeployRecord[] = [];
    for (const id of ids.filter((d) => SAFE.test(d)).sort().reverse()) {
      if (out.length >= limit) break;
      const r = await this.read(environment, id);
      if (r) out.push(r);
    }
    return out;
  }

  /** The newest successful deploy (the release the history says is live), or null. */
  async lastSuccess(environment: string): Promise<DeployRecord | null> {
    return (await this.list(environment, 1000)).find((d) => d.status === 'success') ?? null;
  }

  async read(environment: string, id: string): Promise<DeployRecord | null> {
    let record: DeployRecord;
    try {
      record = JSON.parse(await fs.promises.readFile(path.join(this.dir(environment, id), 'record.json'), 'utf8')) as DeployRecord;
    } catch {
      return null; // unreadable records are skipped, never fatal
    }
    if (record.status === 'running' && !(await this.driverAlive(environment, id, record.pid))) {
      record.status = 'interrupted';
      record.finishedAt = record.finishedAt ?? Date.now();
      record.reason = 'interrupted: the process running the deploy ended; check what the environment runs';
      for (const s of record.steps) {
        if (s.status === 'running' || s.status === 'pending') {
          s.status = 'cancelled';
          s.reason = 'interrupted';
        }
      }
      // Step processes the dead deploy could not stop (an upload, an ssh session). Servers a deploy starts on
      // purpose carry no such mark (killLeftovers: false) and keep serving.
      killMarked(orphanMark('deploy', id));
      await this.save(record).catch(() => undefined);
    }
    return record;
  }

  private async driverAlive(environment: string, id: string, pid: number): Promise<boolean> {
    let startTime: number | null = null;
    try {
      startTime = (JSON.parse(await fs.promises.readFile(path.join(this.dir(environment, id), 'driver.json'), 'utf8')) as { startTime: number | null }).startTime;
    } catch {
      // No driver file: trust the PID.
    }
    return processAlive(pid, startTime);
  }
}
