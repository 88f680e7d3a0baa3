// The metrics app (test/fixtures/targets/metrics-app.js) staged as a release in a folder and (re)started on a fixed
// port with metrics-restart.sh, the way a `command` deploy would; and a bounded load generator for its `/`.
// A good release answers 200; a bad one (ERROR_RATE) answers 500 to that share of requests; LATENCY_MS slows it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TARGET_FIXTURES } from './app';
import { freePort, stopPidFile, waitForPort } from './common';

export const METRICS_APP_FILES = ['metrics-app.js', 'metrics-restart.sh'] as const;

export interface MetricsRelease {
  version: string;
  /** Share of GET / answered 500 (0..1); 0 or undefined: a good release. */
  errorRate?: number;
  /** GET / waits this long before answering. */
  latencyMs?: number;
}

export interface MetricsApp {
  dir: string;
  port: number;
  url: string;
  /** host:port, what Prometheus scrapes. */
  target: string;
  stop(): Promise<void>;
}

/** Writes a release of the metrics app into `dir` (what a deploy would upload): the app, its restart script, VERSION, ERROR_RATE, LATENCY_MS. */
export function stageMetricsApp(dir: string, release: MetricsRelease): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of METRICS_APP_FILES) fs.copyFileSync(path.join(TARGET_FIXTURES, f), path.join(dir, f));
  fs.chmodSync(path.join(dir, 'metrics-restart.sh'), 0o755);
  fs.writeFileSync(path.join(dir, 'VERSION'), `${release.version}\n`);
  const optional = (file: string, value: number | undefined) => {
    if (value) fs.writeFileSync(path.join(dir, file), `${value}\n`);
    else fs.rmSync(path.join(dir, file), { force: true });
  };
  optional('ERROR_RATE', release.errorRate);
  optional('LATENCY_MS', release.latencyMs);
}

/** Starts (or restarts: same `port`) the app staged in `dir`; stop() kills it by app.pid. */
export async function startMetricsApp(dir: string, opts: { port?: number; env?: string } = {}): Promise<MetricsApp> {
  const port = opts.port ?? (await freePort());
  execFileSync('bash', [path.join(dir, 'metrics-restart.sh'), dir, String(port), opts.env ?? 'test'], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    stop: () => stopPidFile(path.join(dir, 'app.pid'), /metrics-app/),
  };
}

export interface Load {
  /** Requests answered so far, by status (0: no answer). */
  readonly answered: Readonly<Record<number, number>>;
  /** Stops sending and waits for the request in flight. */
  stop(): Promise<void>;
}

/**
 * GETs `url` every `everyMs`, one request at a time (a tick is skipped while one is in flight, so a slow app is
 * not piled on), at most `max` requests (default 100000).
 */
export function startLoad(url: string, opts: { everyMs: number; max?: number }): Load {
  const answered: Record<number, number> = {};
  const max = opts.max ?? 100_000;
  let sent = 0;
  let inFlight: Promise<void> | null = null;
  // fetch with a deadline: a request cut off by a restarting app (or one that never answers) ends in error
  // within 5 s instead of holding the one request in flight forever.
  const count = (code: number) => (answered[code] = (answered[code] ?? 0) + 1);
  const one = async (): Promise<void> => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      count(res.status);
    } catch {
      count(0);
    }
  };
  const timer = setInterval(() => {
    if (inFlight || sent >= max) return;
    sent++;
    inFlight = one().finally(() => {
      inFlight = null;
    });
  }, opts.everyMs);
  return {
    answered,
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
