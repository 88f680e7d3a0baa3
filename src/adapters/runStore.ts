// Run history on disk: <stateDir>/runs/<run id>/run.json (written atomically) and logs/<job>-<hash of its id>.log per job.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRecord, TestReportRecord } from '../shared/model';
import type { JobLog, LongLine, OutputStream, RunStore } from '../core/engine/ports';
import { sha256Hex } from '../core/sha256';
import { writeFileAtomic } from './atomicFile';
import { killMarked, orphanMark } from './processRunner';
import { randomHex } from './random';

const LOG_FLUSH_BYTES = 64 * 1024;
const LOG_FLUSH_MS = 100;
/** Characters of a long log line encoded and written at a time. */
const LONG_LINE_PIECE = 1 << 20;

/** Sortable, unique run ids: 20261127-061207-123-ab12cd. */
export function newRunId(now = new Date()): string {
  const iso = now.toISOString(); // 2026-11-27T06:12:07.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${iso.slice(20, 23)}-${randomHex(3)}`;
}

/**
 * The log file of a job, relative to its run's folder: `<hash>/<name>.log`, where the folder is a hash of the exact
 * job id — so `a/b` and `a:b`, or two long names that share their first characters, never write into the same file
 * — and the file keeps the job's readable name (what the editor's tab shows). Neither part has a separator or a
 * leading dot: a job id cannot name a path outside the run's folder.
 */
export function logFileName(jobId: string): string {
  // One folder for the run's logs (made once), not one per job: a folder is a second file to create for each job.
  // Runs recorded before keep theirs (`<hash>/<job>.log`): a record names its logs' paths.
  return jobFileName('logs', jobId, 'log');
}

/** A job's test cases (JobRecord.testReport), relative to its run's folder: named as its log is. */
export function testsFileName(jobId: string): string {
  return jobFileName('tests', jobId, 'json');
}

function jobFileName(dir: string, jobId: string, ext: string): string {
  const readable = jobId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.]+/, '_').slice(0, 80);
  return `${dir}/${readable}-${sha256Hex(jobId).slice(0, 12)}.${ext}`;
}

/** The test cases a run kept for a job (FileRunStore.saveTests); null when unreadable or not such a file. */
export async function readTestReport(file: string): Promise<TestReportRecord | null> {
  try {
    const r = JSON.parse(await fs.promises.readFile(file, 'utf8')) as TestReportRecord;
    return r && Array.isArray(r.suites) ? r : null;
  } catch {
    return null;
  }
}

export class FileRunStore implements RunStore {
  readonly runsDir: string;
  /** Why the last save failed (a full disk...), or null once a save succeeds again: callers tell the user. */
  lastSaveError: Error | null = null;

  constructor(readonly stateDir: string) {
    this.runsDir = path.join(stateDir, 'runs');
  }

  /** The folder of a run's record, logs and kept job workspaces (removed with the run's history). */
  runDir(id: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(id)) throw new Error(`invalid run id: ${id}`);
    return path.join(this.runsDir, id);
  }

  async save(run: RunRecord): Promise<void> {
    try {
      const dir = this.runDir(run.id);
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const driver = path.join(dir, 'driver.json');
      // Both at once (the first save comes before any job starts): a reader finding run.json without driver.json
      // yet trusts the PID, which is alive.
      await Promise.all([
        run.status === 'running' && !fs.existsSync(driver) ? writeFileAtomic(driver, JSON.stringify({ pid: run.pid, startTime: processStartTime(run.pid) })) : undefined,
        writeFileAtomic(path.join(dir, 'run.json'), JSON.stringify(run, null, 1)),
      ]);
      this.lastSaveError = null;
    } catch (e) {
      this.lastSaveError = e as Error;
      throw e;
    }
  }

  openLog(run: RunRecord, jobId: string): JobLog {
    const file = path.join(this.runDir(run.id), logFileName(jobId));
    const dir = path.dirname(file);
    // Once per run's folder, not once per job (a run of 200 jobs asked 200 times); the log makes it again if it went.
    if (!this.madeDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.madeDirs.add(dir);
    }
    return new FileJobLog(file);
  }
  private readonly madeDirs = new Set<string>();

  async saveTests(run: RunRecord, jobId: string, report: TestReportRecord): Promise<string> {
    const file = path.join(this.runDir(run.id), testsFileName(jobId));
    await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, JSON.stringify(report));
    return file;
  }

  /** The most recent runs, newest first. Runs whose driving process is gone are marked interrupted. */
  async list(limit = 50, pipelineId?: string): Promise<RunRecord[]> {
    let ids: string[];
    try {
      ids = await fs.promises.readdir(this.runsDir);
    } catch {
      return [];
    }
    ids = ids.filter((d) => !d.startsWith('.')).sort().reverse();
    const out: RunRecord[] = [];
    for (const id of ids) {
      if (out.length >= limit) break;
      const run = await this.read(id);
      if (run && (!pipelineId || run.pipelineId === pipelineId)) out.push(run);
    }
    return out;
  }

  /** Removes the oldest runs (records and logs) beyond `keep`; runs still in progress are kept. */
  async prune(keep: number): Promise<number> {
    let ids: string[];
    try {
      ids = (await fs.promises.readdir(this.runsDir)).filter((d) => !d.startsWith('.')).sort().reverse();
    } catch {
      return 0;
    }
    let removed = 0;
    for (const id of ids.slice(keep)) {
      const run = await this.read(id);
      if (run?.status === 'running') continue;
      await fs.promises.rm(this.runDir(id), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  async read(id: string): Promise<RunRecord | null> {
    let run: RunRecord;
    try {
      run = JSON.parse(await fs.promises.readFile(path.join(this.runDir(id), 'run.json'), 'utf8')) as RunRecord;
    } catch {
      return null; // unreadable records are skipped, never fatal
    }
    if (run.status === 'running' && !(await this.driverAlive(id, run.pid))) {
      run.status = 'interrupted';
      run.finishedAt = run.finishedAt ?? Date.now();
      for (const j of run.jobs) {
        if (j.status === 'running' || j.status === 'queued') {
          j.status = 'cancelled';
          j.reason = 'interrupted: the process running it ended';
        }
      }
      // Its jobs' processes outlived the engine that could not kill them (SIGKILL, a crash): kill them now.
      killMarked(orphanMark('run', id));
      await this.save(run).catch(() => undefined);
    }
    return run;
  }

  private async driverAlive(id: string, pid: number): Promise<boolean> {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
    }
    try {
      const d = JSON.parse(await fs.promises.readFile(path.join(this.runDir(id), 'driver.json'), 'utf8')) as { startTime: number | null };
      const now = processStartTime(pid);
      if (d.startTime !== null && now !== null && d.startTime !== now) return false; // the PID was reused
    } catch {
      // No driver file: trust the PID.
    }
    return processState(pid) !== 'Z';
  }
}

/** Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

export function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/**
 * A job's full log, appended in batches (64 KB or 100 ms) with plain synchronous writes to a local file. Not a
 * WriteStream: its queue holds every batch the disk has not taken yet, so a job flooding its output grew the
 * process by tens of MB per million lines, and the stream machinery cost more CPU than the writes themselves.
 * Lines that came with their bytes (JobLog.write's `utf8`) are written as they came, never decoded again.
 */
const NEWLINE = Buffer.from('\n');
/** Pieces of a batch at most (a write takes at most 1024). */
const LOG_FLUSH_PIECES = 512;

/** Never through a link someone placed where the log goes. */
const LOG_OPEN_FLAGS = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;

export class FileJobLog implements JobLog {
  /** Lines (each written with a newline after it) and lines' bytes (with their newlines). */
  private buffer: (string | Uint8Array)[] = [];
  private size = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private fd: number | null = null;
  private failed: Error | null = null;
  /** Until the file is open: lines wait in the buffer (flush() keeps them). */
  private opening: Promise<void> | null;

  constructor(readonly path: string) {
    // Opened (created) by libuv's thread pool while the job starts: creating a file costs 0.3–0.6 ms of kernel time
    // on some file systems, which the job's start no longer waits for.
    this.opening = new Promise<void>((resolve) => {
      fs.open(path, LOG_OPEN_FLAGS, 0o600, (err, fd) => {
        this.opening = null;
        if (err) {
          if (this.fd !== null) {
            // Opened meanwhile, for a very long line.
          } else if (err.code === 'ENOENT') this.openNow(); // its folder went meanwhile
          else this.failed = err; // reported by close(); the run goes on without its log file
        } else if (this.fd !== null) fs.close(fd, () => undefined); // opened meanwhile, for a very long line
        else this.fd = fd;
        resolve();
        if (this.buffer.length > 0 && !this.timer) this.flush();
      });
    });
  }

  /** Opens it at once (its folder made again if it went). */
  private openNow(): void {
    try {
      fs.mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
      this.fd = fs.openSync(this.path, LOG_OPEN_FLAGS, 0o600);
    } catch (e) {
      this.failed = e as Error;
    }
  }

  write(_stream: OutputStream | 'system', text: string, long?: LongLine, utf8?: Uint8Array): void {
    if (long) {
      // A very long line as it came: its bytes, after what is buffered, never decoded or copied whole (so the file
      // is opened now if it is still being opened).
      if (this.fd === null && this.opening && !this.failed) this.openNow();
      this.flush();
      if (this.fd === null || this.failed) return;
      try {
        for (const piece of long.pieces) this.writeAll(piece);
        this.writeAll(NEWLINE);
      } catch (e) {
        this.failed = e as Error;
      }
      return;
    }
    this.buffer.push(utf8 ?? text);
    this.size += utf8 ? utf8.length : text.length + 1;
    if (this.size >= LOG_FLUSH_BYTES || this.buffer.length >= LOG_FLUSH_PIECES) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), LOG_FLUSH_MS);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    if (this.fd === null && this.opening && !this.failed) return; // written once it is open
    const pieces = this.buffer;
    this.buffer = [];
    this.size = 0;
    if (this.fd === null || this.failed) return;
    try {
      // Small lines go out joined, bytes as they are: one write per batch; a very long line on its own, never
      // copied into a batch.
      let out: Uint8Array[] = [];
      let lines: string[] = [];
      const endLines = () => {
        if (lines.length > 0) out.push(Buffer.from(`${lines.join('\n')}\n`));
        lines = [];
      };
      for (const p of pieces) {
        if (typeof p !== 'string') {
          endLines();
          out.push(p);
        } else if (p.length < LOG_FLUSH_BYTES) lines.push(p);
        else {
          endLines();
          this.writeAllOf(out);
          out = [];
          this.writeLong(p);
          this.writeAll(NEWLINE);
        }
      }
      endLines();
      this.writeAllOf(out);
    } catch (e) {
      this.failed = e as Error;
    }
  }

  /**
   * A long line in pieces of 1 M characters: its UTF-8 copy is never whole (a 40 MB line would cost 40 MB more,
   * outside the heap, and a full GC for it). A piece never ends between the two halves of a surrogate pair.
   */
  private writeLong(text: string): void {
    for (let at = 0; at < text.length; ) {
      let end = Math.min(at + LONG_LINE_PIECE, text.length);
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
      this.writeAll(Buffer.from(text.slice(at, end)));
      at = end;
    }
  }

  private writeAll(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(this.fd!, bytes, at);
  }

  /** Pieces in one write; what a short write left, piece by piece. */
  private writeAllOf(pieces: Uint8Array[]): void {
    if (pieces.length === 0) return;
    let done = pieces.length === 1 ? 0 : fs.writevSync(this.fd!, pieces);
    for (const p of pieces) {
      if (done >= p.length) done -= p.length;
      else {
        this.writeAll(done === 0 ? p : p.subarray(done));
        done = 0;
      }
    }
  }

  async close(): Promise<void> {
    if (this.opening) await this.opening;
    this.flush();
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch (e) {
        this.failed ??= e as Error;
      }
      this.fd = null;
    }
    return this.failed ? Promise.reject(this.failed) : Promise.resolve();
  }
}
