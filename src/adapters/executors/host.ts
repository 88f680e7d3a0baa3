// The host executor: a job's steps are processes on this machine. What a step leaves running in the background (a
// server started in one step and used in the next) lives until the job ends, as on a CI runner; then everything
// the job started is killed, found by a mark in its environment that all its processes inherit.
import type { HostExecutorSpec, JobSession, OpenJob } from '../../core/engine/ports';
import type { Masker } from '../../core/secrets';
import { LocalProcessRunner, MARK_VARIABLE, killMarkedSince } from '../processRunner';
import { randomHex } from '../random';

export interface HostExecutorOptions {
  /** The run's mark (orphanMark()): processes an engine that died left behind are found by it at the next start. */
  ownerMark?: string;
  masker?: Masker;
  /** Base environment (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
}

export function openHostJob(_spec: HostExecutorSpec, _job: OpenJob, opts: HostExecutorOptions): { session: JobSession } {
  const jobMark = `dlvjob${randomHex(9)}`;
  // Everything the job starts has a PID above its first process's, until the counter goes round (processesWithMark).
  let since: { pid: number; startedAt: number } | null = null;
  const base = opts.baseEnv ?? process.env;
  const runner = new LocalProcessRunner({
    baseEnv: { ...base, [MARK_VARIABLE]: base[MARK_VARIABLE] ? `${base[MARK_VARIABLE]}:${jobMark}` : jobMark },
    ownerMark: opts.ownerMark,
    masker: opts.masker,
    keepLeftovers: true,
    onSpawn: (pid, startedAt) => {
      since ??= { pid: pid - 1, startedAt };
    },
  });
  return {
    session: {
      run: (spec, io) => runner.run(spec, io),
      close: async () => ({ leftovers: since ? killMarkedSince(jobMark, since) : 0, notes: [] }),
    },
  };
}
