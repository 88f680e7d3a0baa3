#!/usr/bin/env node
// Chooses the integration launcher: code-server (offline, the default here) or @vscode/test-electron
// (DELIVERY_VSCODE_LAUNCHER=electron, needs to download VS Code).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const launcher = process.env.DELIVERY_VSCODE_LAUNCHER === 'electron' ? 'run-electron-tests.mjs' : 'run-integration-tests.mjs';
const r = spawnSync(process.execPath, [path.join(here, launcher), ...process.argv.slice(2)], { stdio: 'inherit' });
if (r.status !== 0 || launcher !== 'run-integration-tests.mjs') process.exit(r.status ?? 2);
// The same extension in an untrusted workspace (Workspace Trust), where nothing may execute.
const u = spawnSync(process.execPath, [path.join(here, launcher), '--suite', 'integration-untrusted', '--untrusted', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(u.status ?? 2);
