// A real Buildbot 3.7 master + worker on 127.0.0.1 for tests (real-targets.md §8), ported from the reference
// start/stop scripts: state in a fresh folder, ports picked by the kernel, stopped by their twistd.pid files.
// Debian has no buildbot-www, so PYTHONPATH gets buildbot/pyshim (a stand-in `base` www plugin: the REST API
// works, the web UI does not). The master's configuration is buildbot/master.cfg; what varies is in params.json.
// Start-up takes 5–8 s: share one master per test file (mocha `before`).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { alive, freePort, stopPid } from './common';

/** The source folder of this target's non-TypeScript files (tests run from out/, transpiled). */
const FILES = path.resolve(__dirname, '../../../../test/support/targets/buildbot');

export interface Buildbot {
  /** http://127.0.0.1:PORT (no trailing slash): what `remote: { buildbot: { url } }` names. */
  url: string;
  dir: string;
  /** Where the deploy builder writes APPS/<env>/VERSION. */
  apps: string;
  masterPid: number;
  workerPid: number;
  /** The master's log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export function buildbotAvailable(): boolean {
  return fs.existsSync('/usr/bin/buildbot') && fs.existsSync('/usr/bin/buildbot-worker');
}

/** Why a private Buildbot cannot run here, or null when it can (for requireTool). */
export function buildbotUnavailable(): string | null {
  return buildbotAvailable() ? null : 'Buildbot is not installed (/usr/bin/buildbot, /usr/bin/buildbot-worker: Debian packages buildbot, buildbot-worker)';
}

/** Creates and starts a master and one worker under `dir` (must be empty or absent); resolves once the worker is connected. */
export async function startBuildbot(dir: string, opts: { apps?: string } = {}): Promise<Buildbot> {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`);
  const [wwwPort, pbPort] = await distinctPorts(2);
  const apps = opts.apps ?? path.join(dir, 'apps');
  fs.mkdirSync(apps, { recursive: true });
  const env = { ...process.env, PYTHONPATH: path.join(FILES, 'pyshim'), PYTHONDONTWRITEBYTECODE: '1' };
  const master = path.join(dir, 'master');
  const workerDir = path.join(dir, 'worker');
  const password = `pw-${process.pid}-${Date.now()}`;
  execFileSync('buildbot', ['create-master', '-q', master], { env, stdio: 'ignore' });
  fs.copyFileSync(path.join(FILES, 'master.cfg'), path.join(master, 'master.cfg'));
  fs.writeFileSync(path.join(master, 'params.json'), JSON.stringify({ wwwPort, pbPort, apps, workerPassword: password }));
  const stopAll = () => stopByPidFiles([path.join(workerDir, 'twistd.pid'), path.join(master, 'twistd.pid')]);
  try {
    // Both daemonize (twistd): they leave our process group, so they are stopped by their PID files.
    execFileSync('buildbot', ['start', master], { env, stdio: 'ignore' });
    execFileSync('buildbot-worker', ['create-worker', '-q', workerDir, `127.0.0.1:${pbPort}`, 'local-worker', password], { env, stdio: 'ignore' });
    execFileSync('buildbot-worker', ['start', workerDir], { env, stdio: 'ignore' });
    const url = `http://127.0.0.1:${wwwPort}`;
    await waitForWorker(url, 30_000);
    return {
      url,
      dir,
      apps,
      masterPid: readPid(path.join(master, 'twistd.pid')),
      workerPid: readPid(path.join(workerDir, 'twistd.pid')),
      log: () => readText(path.join(master, 'twistd.log')),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw new Error(`buildbot did not start: ${(e as Error).message}\n--- master log (tail):\n${readText(path.join(master, 'twistd.log')).slice(-3000)}`);
  }
}

async function distinctPorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

async function waitForWorker(url: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let last = 'no answer';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const res = await fetch(`${url}/api/v2/workers`);
      const body = (await res.json()) as { workers?: { connected_to?: unknown[] }[] };
      if (body.workers?.some((w) => (w.connected_to ?? []).length > 0)) return;
      last = 'the worker is not connected yet';
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no connected worker after ${timeoutMs} ms (${last})`);
}

function readPid(file: string): number {
  return Number(fs.readFileSync(file, 'utf8').trim());
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Worker first, then master; by PID only, waiting until each is gone (a zombie counts as gone). */
async function stopByPidFiles(files: string[]): Promise<void> {
  for (const f of files) {
    let pid = 0;
    try {
      pid = readPid(f);
    } catch {
      continue;
    }
    if (pid > 1 && alive(pid)) await stopPid(pid, /twistd|buildbot/, 10_000);
  }
}
