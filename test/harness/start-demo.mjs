#!/usr/bin/env node
// `npm start`: packages the extension, installs it into a code-server of its own and opens it on a demo workspace
// (a git repository with pipelines and environments) at http://127.0.0.1:PORT. Ctrl-C stops everything.
//
// env: DELIVERY_DEMO_PORT (default 8080; a free port if taken), DELIVERY_DEMO_DIR (default .vscode-test/demo)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, CODE_SERVER, freePort, startCodeServer, xdgEnv } from './lib-codeserver.mjs';
import { prepareDemo } from './demo-workspace.mjs';

const base = path.resolve(process.env.DELIVERY_DEMO_DIR ?? path.join(ROOT, '.vscode-test', 'demo'));
fs.rmSync(path.join(base, 'server'), { recursive: true, force: true });
fs.mkdirSync(base, { recursive: true });

async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

console.log('demo: packaging the extension');
execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', path.join(base, 'software-delivery.vsix')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const extDir = path.join(base, 'server', 'extensions');
execFileSync(CODE_SERVER, ['--extensions-dir', extDir, '--user-data-dir', path.join(base, 'server', 'user-data'), '--install-extension', path.join(base, 'software-delivery.vsix')], {
  stdio: 'ignore', env: { ...process.env, ...xdgEnv(path.join(base, 'server', 'xdg')) },
});
const demo = await prepareDemo(path.join(base, 'workspace'), path.join(base, 'targets'));
const wanted = Number(process.env.DELIVERY_DEMO_PORT ?? 8080);
const port = (await portFree(wanted)) ? wanted : await freePort();
const server = await startCodeServer({
  baseDir: path.join(base, 'server'),
  extensionsDir: extDir,
  port,
  env: { DELIVERY_STATE_DIR: path.join(base, 'state') },
  settings: { 'workbench.colorTheme': 'Default Dark Modern' },
});
const url = `${server.url}/?folder=${encodeURIComponent(demo.workspace)}`;
console.log(`\nSoftware Delivery demo is running. Open:\n\n  ${url}\n\nThe Delivery icon in the activity bar shows its pipelines and environments. Ctrl-C stops it.\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\ndemo: stopping');
  await server.stop();
  await demo.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.proc.on('exit', () => void stop());
