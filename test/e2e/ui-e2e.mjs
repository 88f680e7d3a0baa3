#!/usr/bin/env node
// UI end-to-end test: the packaged .vsix installed into code-server, driven in Debian's Chromium by playwright-core.
// Checks what a user sees: the Delivery container, tree rows, a command from the palette, the status bar, the
// webview's stage board. Screenshots go to test-artifacts/ (gitignored); with UPDATE_SCREENSHOTS=1 they are also
// copied to docs/images/ for the README.
//
//   node test/e2e/ui-e2e.mjs [path/to/extension.vsix]
// Exit code: 0 ok, 1 failed (the temp dir with logs and failure.png is kept and printed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, CODE_SERVER, copyFixture, launchChromium, startCodeServer, xdgEnv } from '../harness/lib-codeserver.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(ROOT, 'software-delivery.vsix'));
const artifacts = path.join(ROOT, 'test-artifacts', 'screenshots');
fs.mkdirSync(artifacts, { recursive: true });
const T0 = Date.now();
let checks = 0;
const step = (m) => console.log(`[e2e +${((Date.now() - T0) / 1000).toFixed(1)}s] ${m}`);
const check = (m) => { checks++; step(`✔ ${m}`); };

const EXT_ID = `${pkg.publisher}.${pkg.name}`;
const SEL = {
  workbench: '.monaco-workbench',
  activityItem: (title) => `.activitybar .action-item a.action-label[aria-label^="${title}"]`,
  treeRows: (viewId) => `[id="workbench.view.extension.delivery"] .pane:has([id="${viewId}"]) .monaco-list-row[role="treeitem"], [id="${viewId}"] .monaco-list-row[role="treeitem"]`,
  containerRows: '[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]',
  statusItem: (id) => `[id="${EXT_ID}.${id}"]`,
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickPickRows: '.quick-input-widget .monaco-list-row',
  editorTabs: '.tabs-container .tab',
  webviewOuter: 'iframe.webview.ready',
  webviewInner: 'iframe#active-frame',
};

async function shot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'images'), { recursive: true });
    fs.copyFileSync(file, path.join(ROOT, 'docs', 'images', `${name}.png`));
  }
  step(`screenshot ${path.relative(ROOT, file)}`);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-e2e-'));
const ws = copyFixture('workspace', path.join(root, 'workspace'));
let server, browser, failed = false;
try {
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} not found (npm run package)`);
  const extDir = path.join(root, 'extensions');
  execFileSync(CODE_SERVER, ['--extensions-dir', extDir, '--user-data-dir', path.join(root, 'user-data'), '--install-extension', vsix], {
    stdio: 'pipe', env: { ...process.env, ...xdgEnv(path.join(root, 'xdg')) },
  });
  check(`${path.basename(vsix)} installed into a fresh extensions folder`);

  server = await startCodeServer({ baseDir: root, extensionsDir: extDir, env: { DELIVERY_STATE_DIR: path.join(root, 'state') } });
  step(`code-server on ${server.url}`);
  browser = await launchChromium({ userDataDir: path.join(root, 'chromium') });
  const page = browser.ctx.pages()[0] ?? await browser.ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
  await page.waitForSelector(SEL.workbench, { timeout: 90000 });
  step('workbench loaded');

  // 1. The activity-bar container and its trees.
  const activity = page.locator(SEL.activityItem('Delivery')).first();
  await activity.waitFor({ timeout: 60000 });
  await activity.click();
  const rows = page.locator(SEL.containerRows);
  await rows.filter({ hasText: 'build' }).first().waitFor({ timeout: 60000 });
  const labels = await rows.locator('.label-name').allInnerTexts();
  for (const l of ['CI', 'build', 'lint', 'test', 'Staging', 'Production']) assert.ok(labels.includes(l), `tree shows "${l}" (rows: ${labels.join(', ')})`);
  check(`Delivery container shows the trees: ${labels.join(', ')}`);

  // 2. The run-status item before any run.
  const status = page.locator(SEL.statusItem('delivery.runStatus'));
  await status.waitFor({ timeout: 30000 });
  assert.equal((await status.innerText()).trim(), 'Delivery');
  check(`status bar: "${(await status.innerText()).trim()}"`);

  // 3. Run the pipeline from the command palette.
  const runCommand = async (title) => {
    await page.locator(SEL.workbench).click({ position: { x: 700, y: 600 } }).catch(() => {});
    await page.keyboard.press('F1');
    await page.locator(SEL.quickInputBox).waitFor({ state: 'visible' });
    await page.locator(SEL.quickInputBox).fill(`>${title}`);
    await page.locator(SEL.quickPickRows).filter({ hasText: title }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator(SEL.quickInput).waitFor({ state: 'hidden' });
  };
  await runCommand('Delivery: Open Delivery Panel');
  await page.locator(SEL.editorTabs).filter({ hasText: 'Delivery' }).waitFor({ timeout: 30000 });
  const web = page.frameLocator(SEL.webviewOuter).frameLocator(SEL.webviewInner);
  await web.locator('[data-action="run"]').first().waitFor({ timeout: 30000 });
  check('Delivery panel opened and lists the pipeline with a Run button');

  await runCommand('Delivery: Run Pipeline');
  // The board follows the run live: the first job shows as running before the run ends.
  await web.locator('article.job[data-job="build"].status-running').waitFor({ timeout: 30000 });
  check('stage board shows "build" running');
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('CI: passed 3/3'), SEL.statusItem('delivery.runStatus'), { timeout: 60000 });
  check(`status bar after the run: "${(await status.innerText()).trim()}"`);

  // 4. The board's final state: stages as columns, each job succeeded with its log tail.
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 30000 });
  await web.locator('#rerun-failed, #cancel-run').first().waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await web.locator('#run-title').innerText(), 'CI');
  const columns = await web.locator('.stage h3').allInnerTexts();
  assert.deepEqual(columns.map((c) => c.toLowerCase()), ['stage 1', 'stage 2']);
  for (const id of ['build', 'lint', 'test']) {
    assert.equal(await web.locator(`article.job[data-job="${id}"] .job-status`).innerText(), 'success', `${id} card`);
  }
  assert.match(await web.locator('article.job[data-job="test"] .tail').innerText(), /unit test 3 ok/);
  check('stage board: build | lint, test — all success, with log tails');

  // 5. Tree icons reflect the run.
  await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .codicon-pass-filled`).length >= 4, SEL.containerRows, { timeout: 15000 });
  const passIcons = await page.locator(`${SEL.containerRows} .codicon-pass-filled`).count();
  check(`tree rows show passed icons (${passIcons})`);
  await shot(page, 'board');

  // 6. The full log of a job opens as an editor from the board.
  await web.locator('article.job[data-job="build"] .open-log').click();
  await page.locator(SEL.editorTabs).filter({ hasText: 'build.log' }).waitFor({ timeout: 30000 });
  check('"Log" on a card opens the job log in an editor');

  // 7. A run in progress when the window reloads: it does not stay "running" and its processes are gone.
  const yml = path.join(ws, 'delivery.yml');
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace('environments:', () => "  slow:\n    name: Slow\n    jobs:\n      wait: { run: 'echo $$ > slow.pid; sleep 300' }\n\nenvironments:"));
  await page.locator(SEL.containerRows).filter({ hasText: 'Slow' }).first().waitFor({ timeout: 30000 });
  await page.locator('.statusbar').click({ position: { x: 600, y: 10 } });
  await page.keyboard.press('F1');
  await page.locator(SEL.quickInputBox).fill('>Delivery: Run Pipeline');
  await page.locator(SEL.quickPickRows).filter({ hasText: 'Run Pipeline' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator(SEL.quickPickRows).filter({ hasText: 'Slow' }).first().click();
  const pidFile = path.join(ws, 'slow.pid');
  const pidText = () => { try { return fs.readFileSync(pidFile, 'utf8').trim(); } catch { return ''; } };
  for (let i = 0; i < 200 && !pidText(); i++) await page.waitForTimeout(50);
  const slowPid = Number(fs.readFileSync(pidFile, 'utf8'));
  const alive = (pid) => { try { return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'); } catch { return false; } };
  assert.ok(alive(slowPid), 'the slow job runs');

  // 8. After a window reload the history is still there and the panel restores itself.
  await runCommand('Developer: Reload Window').catch(() => {});
  await page.waitForLoadState('domcontentloaded');
  await page.waitForTimeout(1000);
  await page.waitForSelector(SEL.workbench, { timeout: 90000 });
  await page.locator(SEL.editorTabs).filter({ hasText: /^Delivery/ }).first().click({ timeout: 60000 });
  const restored = page.frameLocator(SEL.webviewOuter).frameLocator(SEL.webviewInner);
  // The last run is the slow one the reload interrupted: restored, and not "running".
  await restored.locator('#run-title').filter({ hasText: 'Slow' }).waitFor({ timeout: 60000 });
  await restored.locator('#run-status').filter({ hasText: /cancelled|interrupted/ }).waitFor({ timeout: 60000 });
  if (!(await page.locator('[id="workbench.view.extension.delivery"]').isVisible())) await page.locator(SEL.activityItem('Delivery')).first().click();
  await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .codicon-pass-filled`).length >= 4, SEL.containerRows, { timeout: 30000 });
  check('after a reload: the panel is restored with the last run and the tree shows it from the history');
  for (let i = 0; i < 100 && alive(slowPid); i++) await page.waitForTimeout(100);
  assert.ok(!alive(slowPid), 'the job of the interrupted run was killed');
  const slowRow = page.locator(SEL.containerRows).filter({ has: page.locator('.label-name', { hasText: /^Slow$/ }) }).first();
  await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((r) => /Slow/.test(r.textContent) && /(cancelled|interrupted)/.test(r.textContent)), SEL.containerRows, { timeout: 30000 });
  check(`the run in progress at the reload reads "${(await slowRow.innerText()).replace(/\s+/g, ' ').trim()}" and its process is gone`);
  // The webview's CSP: nothing but our nonce'd script and our own styles.
  const csp = await page.frameLocator(SEL.webviewOuter).frameLocator(SEL.webviewInner).locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /^default-src 'none'; style-src [^;]+; font-src [^;]+; img-src [^;]+ data:; script-src 'nonce-[A-Za-z0-9+/=]{24}'$/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|(^|\s)\*(\s|;|$)/);
  check('the webview CSP is strict (default-src none, script by nonce only)');

  assert.deepEqual(pageErrors.filter((e) => !/vsda|service worker|open-vsx/i.test(e)), []);
  step(`${checks} checks passed`);
} catch (e) {
  failed = true;
  console.error('[e2e] FAILED:', e);
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
  if (!failed) fs.rmSync(root, { recursive: true, force: true });
  step(`done (${failed ? `FAILED, logs in ${root}` : 'ok'})`);
  process.exit(failed ? 1 : 0);
}
