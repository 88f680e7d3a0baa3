// The files problems from job output need: GitHub matcher files (`::add-matcher::`), where the job of a log ran
// (its run's record beside it), and which of the files a log names exist.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobPlace } from '../core/problems/scanner';
import type { RunRecord } from '../shared/model';

/** Matcher files and run records are small: larger ones are refused, not read. */
const MAX_JSON_BYTES = 1024 * 1024;

async function readJsonFile(file: string): Promise<unknown> {
  // A regular file, opened without waiting (a FIFO named in a job's output would hang the read).
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_JSON_BYTES) throw new Error(`larger than ${MAX_JSON_BYTES} bytes`);
    return JSON.parse((await handle.readFile()).toString('utf8')) as unknown;
  } finally {
    await handle.close();
  }
}

/** A GitHub problem matcher file (`::add-matcher::<file>`, relative to the job's working directory): its JSON. */
export async function readMatcherFile(file: string, cwd: string): Promise<{ json: unknown } | { error: string }> {
  try {
    return { json: await readJsonFile(path.resolve(cwd, file)) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Where the job whose log this is ran, from its run's record (a log is `<run>/logs/<job>.log` beside `<run>/run.json`):
 * the run's folder, or the job's own workspace when the record kept it. Null: not a job's log.
 */
export async function logJobPlace(logFile: string): Promise<JobPlace | null> {
  const run = (await readJsonFile(path.join(path.dirname(path.dirname(logFile)), 'run.json')).catch(() => null)) as RunRecord | null;
  const job = Array.isArray(run?.jobs) ? run.jobs.find((j) => j.logFile === logFile) : undefined;
  if (!run || !job || typeof run.folder !== 'string') return null;
  const root = typeof job.workspace === 'string' && job.workspace ? job.workspace : run.folder;
  return { cwd: root, root, folder: run.folder };
}

/** The paths of `files` that are regular files (looked at concurrently, at most `limit` of them). */
export async function existingFiles(files: Iterable<string>, limit = 500): Promise<Set<string>> {
  const list = [...new Set(files)].slice(0, limit);
  const found = await Promise.all(list.map((f) => fs.promises.stat(f).then((s) => s.isFile(), () => false)));
  return new Set(list.filter((_, i) => found[i]));
}
