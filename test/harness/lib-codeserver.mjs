// Starting code-server (VS Code 1.100.3 server + web workbench) offline with isolated state, and Debian's
// Chromium through playwright-core. Adapted from the reference harness (docs/testing.md).
//
// env: CODE_SERVER_BIN      code-server binary (default: .vscode-test/code-server-<version>/node_modules/.bin/code-server)
//      CODE_SERVER_VERSION  default 4.100.3
//      CHROMIUM_BIN         default /usr/bin/chromium
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CODE_SERVER_VERSION = process.env.CODE_SERVER_VERSION ?? '4.100.3';
export const CODE_SERVER_DIR = path.resolve(process.env.CODE_SERVER_DIR ?? path.join(ROOT, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`));
export const CODE_SERVER = process.env.CODE_SERVER_BIN ?? path.join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export function assertInstalled() {
  if (!fs.existsSync(CODE_SERVER)) throw new Error(`code-server not found at ${CODE_SERVER}: run npm run test:setup`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run npm run test:setup (apt-get install chromium)`);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

export function xdgEnv(xdgRoot) {
  return {
    XDG_CONFIG_HOME: path.join(xdgRoot, 'config'), XDG_DATA_HOME: path.join(xdgRoot, 'data'),
    XDG_CACHE_HOME: path.join(xdgRoot, 'cache'), XDG_RUNTIME_DIR: path.join(xdgRoot, 'runtime'),
    XDG_STATE_HOME: path.join(xdgRoot, 'state'),
  };
}

/** Copies a fixture folder to `dest` (tests run in a copy, so they never change the repository). */
export function copyFixture(name, dest) {
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', name), dest, { recursive: true });
  return dest;
}

/** Makes a folder a git repository with everything committed on `main` (the tests deploy commits). */
export function initRepo(dir) {
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.invalid' };
  const git = (...args) => execFileSync('git', args, { cwd: dir, env, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'Test workspace');
  return dir;
}

/** Starts code-server with all its state in `baseDir`. Returns { port, url, proc, dirs, stop(), startMs }. */
export async function startCodeServer({ extensionsDir, settings = {}, env = {}, baseDir, host = '127.0.0.1', port: wantedPort } = {}) {
  assertInstalled();
  const root = baseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cs-run-'));
  const dirs = { root, userData: path.join(root, 'user-data'), extensions: extensionsDir ?? path.join(root, 'extensions'), xdg: path.join(root, 'xdg') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(dirs.xdg, 'runtime'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    ...settings,
  }, null, 2));
  const port = wantedPort ?? await freePort();
  const args = [
    '--auth', 'none', '--bind-addr', `${host}:${port}`,
    '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions,
    '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--ignore-last-opened',
  ];
  if (settings['security.workspace.trust.enabled'] !== true) args.push('--disable-workspace-trust');
  const log = path.join(root, 'code-server.log');
  const out = fs.openSync(log, 'a');
  const proc = spawn(CODE_SERVER, args, {
    stdio: ['ignore', out, out],
    // Remote actions (uses: owner/repo@ref) are never fetched from GitHub by what this harness starts (tests, the
    // bench, the demo): a host that does not exist, unless the caller names one.
    env: { DELIVERY_ACTIONS_HOST: 'file:///nonexistent/delivery-test-actions-host', ...process.env, ...xdgEnv(dirs.xdg), ...env },
    detached: true, // own process group: stop() ends the server and its extension hosts together
  });
  const url = `http://${host}:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited early with ${proc.exitCode}; see ${log}`);
    try { const r = await fetch(`${url}/healthz`); if (r.ok) break; } catch { /* not yet */ }
    if (Date.now() - t0 > 60000) throw new Error('code-server did not start within 60s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (proc.exitCode !== null) return;
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
    for (let i = 0; i < 50 && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    if (proc.exitCode === null) { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } }
  };
  return { port, url, proc, dirs, stop, startMs: Date.now() - t0, log };
}

/** Headless Debian Chromium with a fresh profile. close() also deletes the profile dir. */
export async function launchChromium({ userDataDir, headless = true, viewport = { width: 1400, height: 900 } } = {}) {
  const udd = userDataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: CHROMIUM,
    headless,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(udd, '.xdg-config'), XDG_CACHE_HOME: path.join(udd, '.xdg-cache') },
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return { ctx, udd, close: async () => { await ctx.close(); fs.rmSync(udd, { recursive: true, force: true }); } };
}

/** vscode-remote URI for a server-side path, as the web client expects in ?payload= */
export function remoteUri(port, p) {
  return `vscode-remote://127.0.0.1:${port}${encodeURI(path.resolve(p))}`;
}
