// Log files for the editor. What a log is, in words: the place an editor shows for it (tab and breadcrumb) instead of
// the state folder's path — a job's log lives in its run's folder next to run.json, a deploy's next to record.json —
// and its end, read for a document.
import fs from 'node:fs';
import path from 'node:path';
import type { DeployRecord, RunRecord } from '../shared/model';

/** The segments of a log's readable place, e.g. ["CI", "run 2026-12-02 16:04", "build.log"]; the file's name when unknown. */
export async function logPlace(logFile: string): Promise<string[]> {
  const name = path.basename(logFile);
  const run = await readJson<RunRecord>(path.join(path.dirname(path.dirname(logFile)), 'run.json'));
  const job = run?.jobs?.find((j) => j.logFile === logFile);
  if (run && job && typeof run.pipelineName === 'string') {
    const attempt = run.attempt && run.attempt > 1 ? `, attempt ${run.attempt}` : '';
    return [run.pipelineName, `run ${when(run.startedAt)}${attempt}`, `${job.name}.log`].map(segment);
  }
  const deploy = await readJson<DeployRecord>(path.join(path.dirname(logFile), 'record.json'));
  if (deploy && typeof deploy.environment === 'string' && typeof deploy.sha === 'string') {
    return [deploy.environment, `${deploy.action} ${deploy.sha.slice(0, 7)} ${when(deploy.startedAt)}`, 'deploy.log'].map(segment);
  }
  return [segment(name)];
}

async function readJson<T>(file: string): Promise<Partial<T> | null> {
  try {
    const v = JSON.parse(await fs.promises.readFile(file, 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Partial<T>) : null;
  } catch {
    return null;
  }
}

function when(ms: number | undefined): string {
  if (typeof ms !== 'number') return '?';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** One path segment: no separators, no control characters, not empty. */
function segment(s: string): string {
  const clean = s.replace(/[\\/\u0000-\u001f\u007f]/g, '_').trim();
  return clean === '' || clean === '.' || clean === '..' ? '_' : clean;
}

/** The log's size and times, or null when it cannot be read. */
export async function logStat(logFile: string): Promise<{ size: number; mtimeMs: number; ctimeMs: number } | null> {
  return fs.promises.stat(logFile).then((s) => ({ size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs }), () => null);
}

/**
 * The log's text, at most its last `max` bytes (then from the first whole line, after a line saying what is left
 * out), and its size; an error's text when it cannot be read.
 */
export async function readLogTail(logFile: string, max: number): Promise<{ text: string; size: number }> {
  try {
    // Logs only: a regular `.log` file, opened without waiting (a FIFO named in an address would hang the read).
    if (!logFile.endsWith('.log')) throw new Error('not a log file');
    const handle = await fs.promises.open(logFile, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new Error('not a regular file');
      const { size } = st;
      const start = Math.max(0, size - max);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      const text = buf.toString('utf8');
      if (start === 0) return { text, size };
      return { text: `[the first ${start < 1 << 20 ? `${Math.ceil(start / 1024)} KB` : `${Math.round(start / (1 << 20))} MB`} are not shown here; the whole log is ${logFile}]\n${text.slice(text.indexOf('\n') + 1)}`, size };
    } finally {
      await handle.close();
    }
  } catch (e) {
    return { text: `Cannot read the log ${logFile}: ${(e as Error).message}\n`, size: 0 };
  }
}
