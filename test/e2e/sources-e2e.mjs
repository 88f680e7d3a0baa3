#!/usr/bin/env node
// UI end-to-end test of the three pipeline sources: a repository with delivery.yml, a GitHub Actions workflow and
// .gitlab-ci.yml. The user sees all its pipelines grouped by source, runs the workflow from the tree, watches the
// stage board fill in (a matrix job expanded, an unsupported step reported) and reads each job's log.
//
//   node test/e2e/sources-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, CODE_SERVER, copyFixture, initRepo, launchChromium, startCodeServer, xdgEnv } from '../harness/lib-codeserver.mjs';

const vsix = path.resolve(process.argv[2] ?? path.join(ROOT, 'software-delivery.vsix'));
const artifacts = path.join(ROOT, 'test-artifacts', 'screenshots');
fs.mkdirSync(artifacts, { recursive: true });
const T0 = Date.now();
let checks = 0;
const step = (m) => console.log(`[sources-e2e +${((Date.now() - T0) / 1000).toFixed(1)}s] ${m}`);
const check = (m) => { checks++; step(`✔ ${m}`); };
const ROWS = '[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-sources-e2e-'));
let server, browser, failed = false;
try {
  const ws = initRepo(copyFixture('multi-source', path.join(root, 'workspace')));
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

  // 1. Every pipeline of the repository, grouped by source.
  await page.locator(ROWS).filter({ hasText: 'GitLab CI' }).first().waitFor({ timeout: 60000 });
  const labels = await page.locator(`${ROWS} .label-name`).allInnerTexts();
  for (const l of ['delivery.yml', 'Local checks', 'GitHub Actions', 'Build', 'lint', 'test', 'GitLab CI', 'build', 'compile', 'unit', 'image-job']) {
    assert.ok(labels.includes(l), `tree shows "${l}" (rows: ${labels.join(', ')})`);
  }
  check(`tree groups the three sources: ${labels.join(', ')}`);
  const imageRow = page.locator(ROWS).filter({ hasText: 'image-job' }).first();
  assert.match(await imageRow.innerText(), /unsupported locally/);
  check('the GitLab job with an image is marked "unsupported locally"');

  // 2. Run the GitHub workflow from its row's inline action; the stage board opens and fills in.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 600 } }).catch(() => {});
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget .quick-input-box input').fill('>Delivery: Open Delivery Panel');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Open Delivery Panel' }).first().waitFor();
  await page.keyboard.press('Enter');
  const web = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await web.locator('[data-action="run"]').first().waitFor({ timeout: 60000 });
  const buildRow = page.locator(ROWS).filter({ has: page.locator('.label-name', { hasText: /^Build$/ }) }).first();
  await buildRow.hover();
  await buildRow.locator('.action-label[aria-label^="Run Pipeline"]').click();
  await web.locator('#run-title').filter({ hasText: 'Build' }).waitFor({ timeout: 30000 });
  await web.locator('article.job[data-job="test (18)"]').waitFor({ timeout: 30000 });
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 60000 });
  const cards = await web.locator('article.job').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-job')}:${e.querySelector('.job-status')?.textContent}`));
  assert.deepEqual(cards, ['lint:success', 'test (18):success', 'test (20):success']);
  assert.match(await web.locator('article.job[data-job="test (20)"] .reason').innerText(), /unsupported locally: Run actions\/setup-node@v4/);
  assert.match(await web.locator('article.job[data-job="test (20)"] .tail').innerText(), /all green on 20/);
  check(`stage board: ${cards.join(', ')} (matrix expanded; setup-node reported unsupported)`);
  await page.screenshot({ path: path.join(artifacts, 'sources.png') });
  if (process.env.UPDATE_SCREENSHOTS === '1') fs.copyFileSync(path.join(artifacts, 'sources.png'), path.join(ROOT, 'docs', 'images', 'sources.png'));

  // 3. Each job's full log opens as a document.
  for (const job of ['lint', 'test (18)', 'test (20)']) {
    await web.locator(`article.job[data-job="${job}"] .open-log`).click();
    const file = `${job.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`;
    await page.locator('.tabs-container .tab').filter({ hasText: file }).first().waitFor({ timeout: 30000 });
    await page.locator('.tabs-container .tab').filter({ hasText: /^Delivery/ }).first().click();
  }
  check('each job log opens in an editor');

  // 4. The GitLab pipeline runs from the palette; its unsupported job is reported, the others pass.
  await page.locator('.statusbar').click({ position: { x: 600, y: 10 } }); // focus the workbench, not the webview
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget .quick-input-box input').fill('>Delivery: Run Pipeline');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Run Pipeline' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'GitLab CI' }).first().click();
  await web.locator('#run-title').filter({ hasText: 'GitLab CI' }).waitFor({ timeout: 30000 });
  await web.locator('article.job[data-job="unit"] .job-status').filter({ hasText: 'success' }).waitFor({ timeout: 60000 });
  assert.equal(await web.locator('article.job[data-job="image-job"] .job-status').innerText(), 'unsupported');
  assert.deepEqual((await web.locator('.stage h3').allInnerTexts()).map((s) => s.toLowerCase()), ['build', 'test']);
  check('GitLab CI: stages as columns, compile and unit pass, image-job unsupported');
  step(`${checks} checks passed`);
} catch (e) {
  failed = true;
  console.error('[sources-e2e] FAILED:', e);
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
