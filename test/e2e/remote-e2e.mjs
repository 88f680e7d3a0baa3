#!/usr/bin/env node
// UI end-to-end test of remote runs: a real Buildbot master + worker on 127.0.0.1; the user triggers a build from
// the Pipelines tree (answering the typed inputs the force scheduler declares) and watches it finish on the stage
// board; the run then shows under the pipeline's "Remote runs".
//
//   node test/e2e/remote-e2e.mjs [path/to/extension.vsix]     (needs `node esbuild.mjs --tests` for the target)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, copyFixture, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, e2e } from './lib.mjs';

const require = createRequire(import.meta.url);
const { startBuildbot, buildbotAvailable } = require(path.join(ROOT, 'out/test/support/targets/buildbot.js'));

await e2e('remote-e2e', async (s) => {
  if (!buildbotAvailable()) throw new Error('buildbot is missing (npm run test:setup installs buildbot and buildbot-worker)');
  const bb = await startBuildbot(path.join(s.root, 'buildbot'));
  s.onCleanup(() => bb.stop());
  const ws = copyFixture('workspace', path.join(s.root, 'workspace'));
  const yml = path.join(ws, 'delivery.yml');
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace('environments:', () => `  app:\n    name: App on Buildbot\n    remote: { buildbot: { url: "${bb.url}", builder: app } }\n\nenvironments:`));
  initRepo(ws);
  s.step(`buildbot on ${bb.url}`);
  const page = await s.open(ws);
  await s.showDelivery();

  // 1. The pipeline's "Remote runs" row; trigger from its inline action.
  await s.row('App on Buildbot').waitFor({ timeout: 60000 });
  const remoteRow = page.locator(SEL.rows).filter({ has: page.locator('.label-name', { hasText: /^Remote runs$/ }) }).last();
  await remoteRow.waitFor({ timeout: 30000 });
  await remoteRow.hover();
  await remoteRow.locator('.action-label[aria-label^="Trigger Remote Run"]').click();
  // The ref (prefilled with the current branch), then each input the force scheduler declares.
  const box = page.locator(SEL.quickInputBox);
  await box.waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(await box.inputValue(), 'main');
  await page.keyboard.press('Enter');
  const answered = [];
  for (let i = 0; i < 12; i++) {
    await page.waitForTimeout(300);
    if (!(await page.locator(SEL.quickInput).isVisible())) break;
    const title = (await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '')).trim();
    const rows = await page.locator(SEL.quickPickRows).count();
    if (title.startsWith('env')) {
      await page.locator(SEL.quickPickRows).filter({ hasText: 'staging' }).first().click(); // a choice
      answered.push('env=staging (choice)');
    } else if (rows > 0) {
      await page.locator(SEL.quickPickRows).filter({ hasText: 'false' }).first().click(); // a boolean
      answered.push(`${title}=false (boolean)`);
    } else {
      // a string: keep the default (Buildbot's "username" wants "Name <email>" when given)
      await box.fill(title.startsWith('username') ? 'E2E Test <e2e@example.invalid>' : await box.inputValue());
      await page.keyboard.press('Enter');
      answered.push(`${title} (string)`);
    }
  }
  assert.ok(answered.some((a) => a.startsWith('env=staging')), answered.join(', '));
  s.check(`triggered from the tree with typed inputs: ref main, ${answered.join(', ')}`);

  // 2. The board follows the build to its end.
  const web = s.webview();
  await web.locator('#run-title').filter({ hasText: /App on Buildbot #\d+/ }).waitFor({ timeout: 60000 });
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 90000 });
  const card = web.locator('article.job').first();
  assert.equal(await card.locator('.job-status').innerText(), 'success');
  assert.match(await card.locator('.tail').innerText(), /compile/);
  s.check(`stage board: ${await web.locator('#run-title').innerText()} success, steps ${(await card.locator('.tail').innerText()).replace(/\n/g, ', ')}`);
  await page.locator(SEL.toasts).filter({ hasText: /App on Buildbot #\d+ succeeded/ }).first().waitFor({ timeout: 30000 });
  s.check('a notification says the watched build succeeded');
  await s.shot('remote');

  // 3. The run under "Remote runs".
  await remoteRow.click();
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /^#\d+/.test(r.querySelector('.label-name')?.textContent ?? '') && /success/.test(r.textContent)), SEL.rows, { timeout: 30000 });
  s.check('the build is listed under "Remote runs" as success');
});
