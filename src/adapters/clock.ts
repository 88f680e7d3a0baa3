// The real Clock and HostFacts behind core's ports (src/core/clock.ts).
import * as os from 'node:os';
import type { Clock, HostFacts, TimerHandle } from '../core/clock';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => setTimeout(fn, ms),
  clearTimer: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

export const hostFacts: HostFacts = { platform: process.platform, arch: process.arch, tempDir: os.tmpdir() };

/** The machine facts a PlanContext carries: the run's start time and the host. */
export function planFacts(clock: Clock = systemClock): { now: number; host: HostFacts } {
  return { now: clock.now(), host: hostFacts };
}
