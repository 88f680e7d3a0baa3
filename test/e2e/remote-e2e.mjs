#!/usr/bin/env node
// UI end-to-end test of remote runs: a real Buildbot master + worker on 127.0.0.1; the user triggers a build from
// the Pipelines tree (filling the trigger form: the typed inputs the force scheduler declares, an error for an empty
// ref, a preset; the screenshot trigger-form) and watches it finish on the stage board; the run then shows under the
// pipeline's "Remote runs".
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
  // The trigger form in the Delivery panel: the ref (prefilled with the current branch), then a typed control for
  // each input the force scheduler declares.
  const web = s.webview();
  const form = web.locator('#trigger-form');
  await form.waitFor({ timeout: 30000 });
  assert.equal(await web.locator('#trigger-ref').inputValue(), 'main');
  const fields = await form.locator('.field[data-field]').evaluateAll((els) =>
    els.map((el) => ({ name: el.getAttribute('data-field'), kind: [...el.classList].find((c) => c.startsWith('kind-'))?.slice(5) })),
  );
  const kindOf = (name) => fields.find((f) => f.name === name)?.kind;
  assert.equal(kindOf('env'), 'dropdown', JSON.stringify(fields));
  assert.equal(kindOf('verbose'), 'checkbox', JSON.stringify(fields));
  assert.equal(kindOf('sha'), 'text', JSON.stringify(fields));
  await web.locator('select[data-name="env"]').selectOption('staging');
  const verbose = web.locator('input[data-name="verbose"]');
  assert.equal(await verbose.isChecked(), false, 'the boolean shows its default');
  if (kindOf('username')) await web.locator('input[data-name="username"]').fill('E2E Test <e2e@example.invalid>');
  s.check(`a typed form: ${fields.map((f) => `${f.name} (${f.kind})`).join(', ')}`);

  // Nothing is sent while a value is wrong: an empty ref is refused next to its field.
  await web.locator('#trigger-ref').fill('');
  await web.locator('#trigger-run').click();
  await web.locator('#err-trigger-ref').filter({ hasText: 'a branch, tag or commit to run' }).waitFor({ timeout: 10000 });
  assert.equal(await web.locator('#trigger-ref').getAttribute('aria-invalid'), 'true');
  assert.ok(await form.isVisible(), 'the form stays');
  await web.locator('#trigger-ref').fill('main');
  await web.locator('#err-trigger-ref').filter({ hasText: /^$/ }).waitFor({ state: 'attached', timeout: 10000 });
  s.check('an empty ref is shown as an error next to it, and nothing is triggered');

  // A preset: the values saved under a name, offered in the preset list.
  await web.locator('#trigger-preset-name').fill('staging build');
  await web.locator('#trigger-save').click();
  await web.locator('#trigger-preset option', { hasText: 'staging build' }).waitFor({ state: 'attached', timeout: 10000 });
  assert.equal(await web.locator('select[data-name="env"]').inputValue(), 'staging', 'the values stay after saving');
  s.check('the values saved as the preset "staging build"');
  await s.shot('trigger-form');

  // Enter in a field triggers.
  await web.locator('#trigger-ref').press('Enter');
  await form.waitFor({ state: 'detached', timeout: 30000 });
  s.check('Enter in the form triggered the build: ref main, env=staging');

  // 2. The board follows the build to its end.
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
