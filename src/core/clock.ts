// Time and the machine come in through ports: core never reads the wall clock, real timers or the platform itself,
// so its logic is tested with fake clocks. The real ones live in src/adapters/clock.ts.

/** An opaque handle of a timer set with Clock.setTimer. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; clearTimer stops it. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Resolves after `ms`, or as soon as `signal` aborts (it never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** Facts about the machine a local run happens on (GitHub's runner.os / runner.arch). */
export interface HostFacts {
  /** As Node names it: linux, darwin, win32, … */
  platform: string;
  /** As Node names it: x64, arm64, … */
  arch: string;
  /** The temp folder scratch files are made in (mounted into containers of GitHub jobs); absent: unknown. */
  tempDir?: string;
}
