// Runs a probe command (a version script, ssh, docker) to its end with a timeout, keeping its output in memory up to
// a cap. The timeout aborts the runner, which kills the command's whole process tree.
import type { CommandSpec } from '../../core/engine/ports';
import { LocalProcessRunner } from '../processRunner';

const MAX_LINES = 10_000;
const MAX_CHARS = 1024 * 1024;

export interface Captured {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not start (command not found...). */
  startError: string | null;
  timedOut: boolean;
  cancelled: boolean;
}

export async function capture(spec: CommandSpec, opts: { timeoutMs: number; signal: AbortSignal; baseEnv?: NodeJS.ProcessEnv }): Promise<Captured> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const out = { stdout: [] as string[], stderr: [] as string[] };
  let chars = 0;
  const result = await new LocalProcessRunner({ baseEnv: opts.baseEnv, killGraceMs: 500 }).run(spec, {
    signal,
    onLine: (stream, text) => {
      if (chars > MAX_CHARS || out[stream].length >= MAX_LINES) return;
      chars += text.length + 1;
      out[stream].push(text);
    },
  });
  return {
    exitCode: result.exitCode,
    stdout: out.stdout.join('\n'),
    stderr: out.stderr.join('\n'),
    startError: result.error,
    timedOut: timeout.aborted && !opts.signal.aborted,
    cancelled: opts.signal.aborted,
  };
}

/** The last non-empty line of a stream (where tools put the reason they failed). */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}
