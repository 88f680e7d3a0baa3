#!/usr/bin/env node
// UI end-to-end test of the three pipeline sources: a repository with delivery.yml, a GitHub Actions workflow and
// .gitlab-ci.yml. The user sees all its pipelines grouped by source, runs the workflow from the tree, watches the
// stage board fill in (a matrix job expanded, an unsupported step reported) and reads each job's log.
//
//   node test/e2e/sources-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import path from 'node:path';
import { copyFixture, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, e2e } from './lib.mjs';

await e2e('sources-e2e', async (s) => {
  const ws = initRepo(copyFixture('multi-source', path.join(s.root, 'workspace')));
  const page = await s.open(ws);
  await s.showDelivery();

  // 1. Every pipeline of the repository, grouped by source.
  await page.locator(SEL.rows).filter({ hasText: 'GitLab CI' }).first().waitFor({ timeout: 60000 });
  const labels = await page.locator(`${SEL.rows} .label-name`).allInnerTexts();
  for (const l of ['delivery.yml', 'Local checks', 'GitHub Actions', 'Build', 'lint', 'test', 'GitLab CI', 'build', 'compile', 'unit', 'image-job']) {
    assert.ok(labels.includes(l), `tree shows "${l}" (rows: ${labels.join(', ')})`);
  }
  s.check(`tree groups the three sources: ${labels.join(', ')}`);
  assert.match(await s.row('image-job').innerText(), /in node:20/);
  s.check('the GitLab job with an image says the image it runs in ("in node:20")');

  // 2. Run the GitHub workflow from its row's inline action; the stage board fills in.
  await s.runCommand('Delivery: Open Delivery Panel');
  const web = s.webview();
  await web.locator('[data-action="run"]').first().waitFor({ timeout: 60000 });
  const build = s.row('Build');
  await build.hover();
  await build.locator('.action-label[aria-label^="Run Pipeline"]').click();
  await web.locator('#run-title').filter({ hasText: 'Build' }).waitFor({ timeout: 30000 });
  await web.locator('article.job[data-job="test (18)"]').waitFor({ timeout: 30000 });
  // setup-node uses this machine's Node when the leg asks for its major; any other leg is unsupported locally (its
  // later steps would run on another Node than CI gives it), so the run is not a success.
  const major = Number(process.versions.node.split('.')[0]);
  const leg = (n) => (major === n ? 'success' : 'unsupported');
  await web.locator('#run-status').filter({ hasText: 'failed' }).waitFor({ timeout: 60000 });
  const cards = await web.locator('article.job').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-job')}:${e.querySelector('.job-status')?.textContent}`));
  assert.deepEqual(cards, ['lint:success', `test (18):${leg(18)}`, `test (20):${leg(20)}`]);
  const other = major === 18 ? 'test (20)' : 'test (18)';
  assert.match(await web.locator(`article.job[data-job="${other}"] .reason`).innerText(), /Run actions\/setup-node@v4: actions\/setup-node@v4 asks for Node \d+, this machine has/);
  if (major === 20) assert.match(await web.locator('article.job[data-job="test (20)"] .tail').innerText(), /all green on 20/);
  s.check(`stage board: ${cards.join(', ')} (matrix expanded; a leg asking for a Node this machine lacks is unsupported, the run failed)`);
  // The tree and the status bar have the run's end too (the screenshot shows all three).
  for (let i = 0; i < 150 && /running/.test(await build.innerText()); i++) await page.waitForTimeout(100);
  assert.doesNotMatch(await build.innerText(), /running/, 'the Build row still says running');
  await page.waitForFunction((sel) => /Build: [12] of 3 jobs unsupported locally/.test(document.querySelector(sel)?.textContent ?? ''), SEL.status('delivery.runStatus'), { timeout: 30000 });
  s.check('the status bar calls the run\'s unsupported leg unsupported, not failed ("Build: 1 of 3 jobs unsupported locally")');
  await s.shot('sources');

  // 3. Each job's full log opens as a document.
  for (const job of ['lint', 'test (18)', 'test (20)']) {
    await web.locator(`article.job[data-job="${job}"] .open-log`).click();
    await page.locator(SEL.tabs).filter({ hasText: `${job}.log` }).first().waitFor({ timeout: 30000 });
    await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click();
  }
  s.check('each job log opens in an editor');

  // 4. The GitLab pipeline from the palette: stages as columns, the unsupported job reported, the others pass.
  await s.runCommand('Delivery: Run Pipeline');
  await page.locator(SEL.quickPickRows).filter({ hasText: 'GitLab CI' }).first().click();
  await web.locator('#run-title').filter({ hasText: 'GitLab CI' }).waitFor({ timeout: 30000 });
  await web.locator('article.job[data-job="unit"] .job-status').filter({ hasText: 'success' }).waitFor({ timeout: 60000 });
  // No container engine answers on this machine: the job that runs in node:20 says so, naming the image.
  assert.equal(await web.locator('article.job[data-job="image-job"] .job-status').innerText(), 'unsupported');
  assert.match(await web.locator('article.job[data-job="image-job"] .reason').innerText(), /node:20/);
  assert.deepEqual((await web.locator('.stage h3').allInnerTexts()).map((t) => t.toLowerCase()), ['build', 'test']);
  s.check('GitLab CI: stages as columns, compile and unit pass, image-job unsupported');
});
