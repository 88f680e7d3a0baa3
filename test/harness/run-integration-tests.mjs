#!/usr/bin/env node
// Runs the integration suites (mocha, the @vscode/test-electron `run()` contract) inside code-server's extension
// host: code-server on a free loopback port, a headless Chromium page that loads the extension under development
// and the tests through ?payload=, and window.codeAutomationExit for the result.
// Exit code: 0 passed, 1 failed, 2 runner error, 124 timeout.
//
//   node test/harness/run-integration-tests.mjs [--fixture NAME] [--timeout SECONDS] [--verbose] [--grep TEXT]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, format } from 'node:util';
import { ROOT, copyFixture, initRepo, launchChromium, remoteUri, startCodeServer } from './lib-codeserver.mjs';

const { values: opt } = parseArgs({ options: {
  fixture: { type: 'string', default: 'workspace' },
  timeout: { type: 'string', default: '600' },
  verbose: { type: 'boolean', default: false },
  grep: { type: 'string' },
  suite: { type: 'string', default: 'integration' },
  untrusted: { type: 'boolean', default: false },
} });
const testsFile = path.join(ROOT, 'out', 'test', opt.suite, 'index.js');
const T0 = Date.now();
const stamp = (msg) => console.log(`[integration +${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}`);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-it-'));
const workspace = copyFixture(opt.fixture, path.join(root, 'workspace'));
initRepo(workspace);
const resultsFile = path.join(root, 'results.json');

let server, browser, exitCode = 1;
try {
  if (!fs.existsSync(testsFile)) throw new Error(`${testsFile} not found (run node esbuild.mjs --tests first)`);
  server = await startCodeServer({
    baseDir: path.join(root, 'cs'),
    env: {
      HARNESS_RESULTS_FILE: resultsFile,
      DELIVERY_TEST_HOOKS: '1', // the extension's `testing` counters (src/vscode/api.ts)
      DELIVERY_STATE_DIR: path.join(root, 'state'),
      DELIVERY_TEST_WORKSPACE: workspace,
      ...(opt.grep ? { DELIVERY_TEST_GREP: opt.grep } : {}),
    },
    // Untrusted: Workspace Trust on, and the folder has never been trusted.
    settings: opt.untrusted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {},
  });
  stamp(`code-server up on ${server.url} (${server.startMs} ms)`);
  browser = await launchChromium({ userDataDir: path.join(root, 'chromium') });
  const page = browser.ctx.pages()[0] ?? await browser.ctx.newPage();
  let resolveExit;
  const exited = new Promise((r) => { resolveExit = r; });
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = format(...(Array.isArray(args) ? args : [args]));
    if (!opt.verbose && /ENOTFOUND open-vsx\.org|vsda|service worker/i.test(text)) return;
    console.log(opt.verbose ? `[${type}] ${text}` : text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  page.on('pageerror', (e) => { if (opt.verbose) console.log('[pageerror]', e.message); });
  const payload = [
    ['extensionDevelopmentPath', remoteUri(server.port, ROOT)],
    ['extensionTestsPath', remoteUri(server.port, testsFile)],
  ];
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  stamp('workbench ready, tests running in the extension host');
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), Number(opt.timeout) * 1000));
  const code = await Promise.race([exited, timeout]);
  if (code === 'timeout') { stamp(`TIMEOUT after ${opt.timeout}s`); exitCode = 124; }
  else exitCode = Number(code) === 0 ? 0 : 1;
  if (fs.existsSync(resultsFile)) {
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    stamp(`${r.stats.passes} passing, ${r.stats.failures} failing, ${r.stats.pending} pending`);
    if (exitCode === 0 && r.stats.passes === 0) { stamp('no test ran: failing the tier'); exitCode = 1; }
  } else if (exitCode === 0) { stamp('no results file: failing the tier'); exitCode = 1; }
} catch (e) {
  console.error('[integration] runner error:', e);
  exitCode = 2;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
  if (exitCode !== 0) stamp(`logs kept in ${root}`);
  else fs.rmSync(root, { recursive: true, force: true });
  stamp(`done, exit ${exitCode}`);
  process.exit(exitCode);
}
