// The test app (test/fixtures/targets/app.js) deployed into a folder and started on a free port, the way the
// "remote" side starts it (restart.sh). Its /version reports the VERSION file of its folder.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, stopPidFile, waitForPort } from './common';

export const TARGET_FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/targets');

export interface App {
  dir: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Copies app.js + restart.sh into `dir` (what a deploy would upload) and optionally writes VERSION. */
export function stageApp(dir: string, version?: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['app.js', 'restart.sh']) fs.copyFileSync(path.join(TARGET_FIXTURES, f), path.join(dir, f));
  fs.chmodSync(path.join(dir, 'restart.sh'), 0o755);
  if (version !== undefined) fs.writeFileSync(path.join(dir, 'VERSION'), `${version}\n`);
}

/** Starts (or restarts) the app in `dir` with restart.sh; stop() kills it by app.pid. */
export async function startApp(dir: string, opts: { port?: number; env?: string; versionDelayMs?: number } = {}): Promise<App> {
  const port = opts.port ?? (await freePort());
  execFileSync('bash', [path.join(dir, 'restart.sh'), dir, String(port), opts.env ?? 'test'], {
    env: { ...process.env, VERSION_DELAY_MS: String(opts.versionDelayMs ?? 0) },
    stdio: 'ignore',
  });
  await waitForPort(port);
  return { dir, port, url: `http://127.0.0.1:${port}`, stop: () => stopPidFile(path.join(dir, 'app.pid')) };
}
