#!/usr/bin/env node
// The same integration suites under @vscode/test-electron, for machines that can download VS Code (desktop CI,
// developers' laptops). Offline machines use run-integration-tests.mjs (code-server); `npm test` picks the one
// that works: DELIVERY_VSCODE_LAUNCHER=electron forces this one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT, copyFixture } from './lib-codeserver.mjs';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-it-electron-'));
const workspace = copyFixture('workspace', path.join(root, 'workspace'));
try {
  await runTests({
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(ROOT, 'out', 'test', 'integration', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { DELIVERY_STATE_DIR: path.join(root, 'state'), DELIVERY_TEST_HOOKS: '1', DELIVERY_ACTIONS_HOST: process.env.DELIVERY_ACTIONS_HOST ?? 'file:///nonexistent/delivery-test-actions-host' },
  });
  fs.rmSync(root, { recursive: true, force: true });
} catch (e) {
  console.error(`integration tests failed under @vscode/test-electron: ${e.message ?? e}`);
  process.exit(1);
}
