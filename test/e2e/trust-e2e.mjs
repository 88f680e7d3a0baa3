#!/usr/bin/env node
// UI end-to-end test of "a repository does not choose where your token goes", the editor's side: a delivery.yml
// pipeline names a GitHub API host (a local server replaying recorded GitHub responses) that is neither
// api.github.com nor the "origin" remote's host. With the GITHUB_TOKEN secret set through the palette, expanding
// the pipeline's "Remote runs" asks first, in a modal naming the host, and nothing reaches that host before the
// answer. "Cancel" keeps the token (and a refresh does not ask again); a changed delivery.yml asks again; "Send
// Token to HOST" sends it and the runs appear; after a window reload the answer is remembered (no second modal).
//
//   node test/e2e/trust-e2e.mjs [path/to/extension.vsix]     (needs `node esbuild.mjs --tests` for the replay server)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, e2e } from './lib.mjs';

const require = createRequire(import.meta.url);
const { ReplayServer } = require(path.join(ROOT, 'out/test/support/replay.js'));

const TOKEN = `ghp_trustE2eToken${Date.now().toString(36)}`;
const RUNS = '/repos/octo-org/hello-world/actions/workflows/ci.yml/runs';
const DIALOG = '.monaco-dialog-box';

await e2e('trust-e2e', async (s) => {
  // The "GitHub API" the repository names: recorded workflow runs, every request kept.
  const api = await ReplayServer.start();
  s.onCleanup(() => api.close());
  api.route({ method: 'GET', path: RUNS, responses: [{ status: 200, file: 'github/runs-page1.json' }] });
  const host = new URL(api.url).host; // 127.0.0.1:PORT
  const withToken = () => api.requests.filter((r) => String(r.headers.authorization ?? '').includes(TOKEN));
  const tokenSeen = () => api.requests.filter((r) => JSON.stringify(r.headers).includes(TOKEN) || r.body.includes(TOKEN) || JSON.stringify(r.query).includes(TOKEN));

  // A real git repository whose origin is on github.com: the origin does not vouch for the host delivery.yml names.
  const ws = path.join(s.root, 'workspace');
  fs.mkdirSync(ws, { recursive: true });
  const yml = path.join(ws, 'delivery.yml');
  fs.writeFileSync(
    yml,
    [
      'version: 1',
      'pipelines:',
      '  octo:',
      '    name: Octo CI',
      `    remote: { github: { repo: octo-org/hello-world, workflow: ci.yml, apiUrl: "${api.url}" } }`,
      '',
    ].join('\n'),
  );
  initRepo(ws);
  execFileSync('git', ['remote', 'add', 'origin', 'https://github.com/octo-org/hello-world.git'], { cwd: ws, stdio: 'pipe' });
  s.step(`replayed GitHub API on ${api.url}; origin https://github.com/octo-org/hello-world.git`);

  const page = await s.open(ws);
  await s.showDelivery();
  await s.row('Octo CI').waitFor({ timeout: 60000 });
  // delivery.yml's own warning, where the host is named.
  const warning = page.locator(SEL.rows).filter({ hasText: 'pipeline "octo"' }).first();
  await warning.waitFor({ timeout: 30000 });
  // A long message reads whole in the tree: the rest of it in rows under its first part.
  const message = await s.rowMessage(warning);
  assert.ok(message.includes(`"apiUrl" names the API host ${host}, not api.github.com`), message);
  s.check(`the tree warns that delivery.yml's "apiUrl" names ${host} (read over the rows of the message)`);

  // 1. The token, typed into the password box of "Delivery: Set Secret".
  await s.runCommand('Delivery: Set Secret');
  const box = page.locator(SEL.quickInputBox);
  const title = page.locator('.quick-input-widget .quick-input-title');
  await title.filter({ hasText: /^Set Secret$/ }).waitFor({ timeout: 30000 });
  await box.fill('GITHUB_TOKEN');
  await page.keyboard.press('Enter');
  await title.filter({ hasText: 'Set Secret GITHUB_TOKEN' }).waitFor({ timeout: 30000 });
  assert.equal(await box.getAttribute('type'), 'password', 'the value is asked in a password box');
  await box.fill(TOKEN);
  await page.keyboard.press('Enter');
  await page.locator(SEL.toasts).filter({ hasText: 'Secret GITHUB_TOKEN stored.' }).first().waitFor({ timeout: 30000 });
  s.check('GITHUB_TOKEN set through "Delivery: Set Secret" (name, then a password box)');
  await s.runCommand('Notifications: Clear All Notifications');
  await page.locator(SEL.toasts).first().waitFor({ state: 'hidden', timeout: 10000 }).catch(() => {});

  // 2. Expanding "Remote runs" asks before anything reaches the host.
  const remoteRow = () => s.row('Remote runs');
  const expandRemote = async () => {
    await s.clearHover();
    if ((await remoteRow().getAttribute('aria-expanded')) !== 'true') await remoteRow().click();
  };
  assert.equal(await page.locator(DIALOG).count(), 0, 'no dialog before the runs are looked at');
  assert.equal(api.requests.length, 0, 'nothing is contacted before the runs are looked at');
  const dialog = page.locator(DIALOG);
  /** Waits for the question; fails at once should the token reach the host without it. */
  const asked = async (what) => {
    for (let i = 0; i < 600 && !(await dialog.isVisible()); i++) {
      assert.deepEqual(tokenSeen().map((r) => `${r.method} ${r.path}`), [], `the token was sent to ${host} without asking (${what})`);
      await page.waitForTimeout(100);
    }
    await dialog.waitFor({ timeout: 1000 });
  };
  await expandRemote();
  await asked('expanding "Remote runs"');
  const text = await dialog.innerText();
  assert.match(text, new RegExp(`delivery\\.yml sends GitHub API requests to ${host.replace(/\./g, '\\.')}\\. Send your GitHub token there\\?`));
  assert.match(text, /neither api\.github\.com nor the host of the "origin" remote/);
  const send = dialog.locator('.monaco-button').filter({ hasText: `Send Token to ${host}` });
  assert.equal(await send.count(), 1, `a "Send Token to ${host}" button`);
  await page.waitForTimeout(1000); // anything sent while the question is open would have arrived by now
  assert.deepEqual(tokenSeen(), [], 'no request carried the token while the question is open');
  assert.equal(api.requests.length, 0, 'nothing at all was sent to the host before the answer');
  s.check(`a modal names ${host} and offers "Send Token to ${host}"; the host has received nothing`);
  await s.shot('trust');

  // 3. "Cancel": the token stays; the tree says why; a refresh does not ask again.
  await dialog.locator('.monaco-button').filter({ hasText: /^Cancel$/ }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 10000 });
  // Under "Remote runs": why nothing was fetched (a long message: its first part, the rest in rows under it).
  const refusal = page.locator(SEL.rows).filter({ has: page.locator('.codicon-warning') }).filter({ hasText: 'GitHub octo-org/hello-world' }).first();
  await refusal.waitFor({ timeout: 30000 });
  const refusalText = await s.rowMessage(refusal);
  assert.ok(refusalText.includes(`token was not sent to ${host}`), refusalText);
  assert.deepEqual(tokenSeen(), [], 'a refusal sends no token');
  assert.equal(api.requests.length, 0, 'a refusal sends nothing at all to the host');
  s.check(`after "Cancel" the tree reads "${refusalText.slice(0, 120)}…" and no token was sent`);
  await s.rowAction('Remote runs', 'Refresh Remote Runs');
  await page.waitForTimeout(3000);
  assert.equal(await page.locator(DIALOG).count(), 0, 'a refresh after a refusal does not ask again');
  await refusal.waitFor({ timeout: 30000 });
  assert.deepEqual(tokenSeen(), [], 'a refresh after a refusal sends no token');
  s.check('"Refresh Remote Runs" after the refusal: no second question, still no token sent');

  // 4. A changed delivery.yml asks again; "Send Token to HOST" sends it and the runs appear.
  fs.appendFileSync(yml, '# changed\n');
  await asked('after delivery.yml changed').catch(async () => {
    // The tree came back with "Remote runs" collapsed: look at the runs again.
    await expandRemote();
    await asked('after delivery.yml changed');
  });
  assert.deepEqual(tokenSeen(), [], 'asked again before anything is sent');
  s.check('a changed delivery.yml asks again');
  await dialog.locator('.monaco-button').filter({ hasText: `Send Token to ${host}` }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 10000 });
  await s.row('#42 Ship the login page').waitFor({ timeout: 60000 });
  await s.row('#41 Fix flaky test').waitFor({ timeout: 10000 });
  const sent = withToken();
  assert.ok(sent.length >= 1, 'the runs were fetched with the token');
  for (const r of sent) {
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(r.path, RUNS);
  }
  assert.equal(api.requests.filter((r) => !r.headers.authorization).length, 0, 'no request went without the token either');
  const labels = await page.locator(SEL.rows).locator('.label-name').allInnerTexts();
  const runs = labels.filter((l) => /^#\d+/.test(l));
  assert.deepEqual(runs, ['#42 Ship the login page', '#41 Fix flaky test'], `the recorded runs in the tree: ${labels.join(' | ')}`);
  s.check(`after "Send Token to ${host}": ${sent.length} request(s) with "authorization: Bearer <token>"; the tree lists ${runs.join(', ')}`);

  // 5. After a window reload the answer is remembered for this workspace: no second modal, the token is sent.
  const before = withToken().length;
  await s.runCommand('Developer: Reload Window');
  await page.waitForTimeout(1000);
  await page.waitForSelector(SEL.workbench, { timeout: 90000 });
  await s.showDelivery();
  await s.row('Octo CI').waitFor({ timeout: 60000 });
  await remoteRow().waitFor({ timeout: 30000 });
  await expandRemote();
  for (let i = 0; i < 600 && withToken().length === before; i++) {
    assert.equal(await page.locator(DIALOG).count(), 0, 'no second question after the reload');
    await page.waitForTimeout(100);
  }
  assert.ok(withToken().length > before, 'the runs were fetched with the token after the reload');
  await s.row('#42 Ship the login page').waitFor({ timeout: 60000 });
  await page.waitForTimeout(1000);
  assert.equal(await page.locator(DIALOG).count(), 0, 'no second question after the reload');
  s.check(`after a reload: no question, ${withToken().length - before} more request(s) with the token, the runs are listed`);
});
