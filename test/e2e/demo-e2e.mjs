#!/usr/bin/env node
// UI end-to-end test of the `npm start` demo: the same demo workspace and targets (in a temp folder), the packaged
// extension in code-server, Chromium. A user sees two environments with their deployed commits, deploys staging
// (its build pipeline runs first; the uncommitted change is confirmed in the dialog), watches the status bar
// change, and opens the production diff.
//
//   node test/e2e/demo-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, CODE_SERVER, launchChromium, startCodeServer, xdgEnv } from '../harness/lib-codeserver.mjs';
import { prepareDemo } from '../harness/demo-workspace.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(ROOT, 'software-delivery.vsix'));
const T0 = Date.now();
let checks = 0;
const step = (m) => console.log(`[demo-e2e +${((Date.now() - T0) / 1000).toFixed(1)}s] ${m}`);
const check = (m) => { checks++; step(`✔ ${m}`); };
const EXT_ID = `${pkg.publisher}.${pkg.name}`;
const INDICATOR = `[id="${EXT_ID}.delivery.deployStatus"]`;
const ROWS = '[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]';
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-demo-e2e-'));
let server, browser, demo, failed = false;
try {
  demo = await prepareDemo(path.join(root, 'workspace'), path.join(root, 'targets'));
  const ws = demo.workspace;
  const head = git(ws, 'rev-parse', 'HEAD');
  const stagingSha = git(ws, 'rev-parse', 'HEAD~1');
  const prodSha = git(ws, 'rev-parse', 'HEAD~2');
  const extDir = path.join(root, 'extensions');
  execFileSync(CODE_SERVER, ['--extensions-dir', extDir, '--user-data-dir', path.join(root, 'user-data'), '--install-extension', vsix], {
    stdio: 'pipe', env: { ...process.env, ...xdgEnv(path.join(root, 'xdg')) },
  });
  server = await startCodeServer({ baseDir: root, extensionsDir: extDir, env: { DELIVERY_STATE_DIR: path.join(root, 'state') } });
  browser = await launchChromium({ userDataDir: path.join(root, 'chromium') });
  const page = browser.ctx.pages()[0] ?? await browser.ctx.newPage();
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  await page.locator('.activitybar .action-item a.action-label[aria-label^="Delivery"]').first().click();

  // 1. Two environments with their deployed commits.
  const envRow = (name) => page.locator(ROWS).filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) }).first();
  await page.waitForFunction(([rows, a, b]) => {
    const text = [...document.querySelectorAll(rows)].map((r) => r.textContent).join('\n');
    return text.includes(a) && text.includes(b);
  }, [ROWS, `${stagingSha.slice(0, 7)} · ↓1`, `${prodSha.slice(0, 7)} · ↓2`], { timeout: 60000 });
  check(`Environments: Staging runs ${stagingSha.slice(0, 7)} (↓1), Production runs ${prodSha.slice(0, 7)} (↓2)`);
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.includes(want), [INDICATOR, `staging ${stagingSha.slice(0, 7)} ↓1`], { timeout: 30000 });
  check(`status bar: "${(await page.locator(INDICATOR).innerText()).trim()}"`);

  // 2. Deploy staging from the tree; the working tree is dirty, so a dialog asks first.
  const staging = envRow('Staging');
  await staging.hover();
  await staging.locator('.action-label[aria-label^="Deploy to Environment"]').click();
  const anyway = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: 'Deploy Anyway' });
  await anyway.waitFor({ timeout: 30000 });
  assert.match(await page.locator('.monaco-dialog-box').innerText(), /uncommitted changes/);
  await anyway.click();
  check('the dialog names the uncommitted changes; "Deploy Anyway"');
  await page.waitForFunction(([sel]) => document.querySelector(sel)?.textContent?.includes('staging:'), [INDICATOR], { timeout: 30000 }).catch(() => {});
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.trim().endsWith(want), [INDICATOR, `staging ${head.slice(0, 7)}`], { timeout: 90000 });
  const version = await (await fetch(`http://127.0.0.1:${demo.ports.staging}/version`)).json();
  assert.equal(version.sha, head);
  check(`deployed: staging serves ${head.slice(0, 7)}; status bar "${(await page.locator(INDICATOR).innerText()).trim()}"`);

  // 3. The production diff (no deploy needed to look).
  const production = envRow('Production');
  await production.hover();
  await production.locator('.action-label[aria-label^="Show Diff for Environment"]').click();
  const web = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await web.locator('#diff-title').filter({ hasText: 'Production' }).waitFor({ timeout: 60000 });
  assert.match(await web.locator('#diff-summary').innerText(), /^2 to deploy, 0 to revert, 3 files/);
  assert.match(await web.locator('#uncommitted').innerText(), /README\.md/);
  check(`production diff: ${await web.locator('#diff-summary').innerText()}, uncommitted README.md listed apart`);
  step(`${checks} checks passed`);
} catch (e) {
  failed = true;
  console.error('[demo-e2e] FAILED:', e);
  const page = browser?.ctx.pages()[0];
  if (page) {
    try {
      await page.screenshot({ path: path.join(root, 'failure.png') });
      console.error(`failure screenshot: ${path.join(root, 'failure.png')}`);
    } catch { /* ignore */ }
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
  await demo?.stop();
  if (!failed) fs.rmSync(root, { recursive: true, force: true });
  step(`done (${failed ? `FAILED, logs in ${root}` : 'ok'})`);
  process.exit(failed ? 1 : 0);
}
