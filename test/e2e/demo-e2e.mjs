#!/usr/bin/env node
// UI end-to-end test of the `npm start` demo: the same demo workspace and targets (in a temp folder). A user sees
// two environments with their deployed commits, runs CI with an uncommitted edit that breaks it, deploys staging
// (the dialog names the failed run and the uncommitted change; the build pipeline runs on the commit and passes,
// and the status bar follows it), opens the production diff, and deploys production through its one-step
// typed confirmation.
//
//   node test/e2e/demo-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { prepareDemo } from '../harness/demo-workspace.mjs';
import { SEL, e2e } from './lib.mjs';

const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const INDICATOR = SEL.status('delivery.deployStatus');

await e2e('demo-e2e', async (s) => {
  const demo = await prepareDemo(path.join(s.root, 'workspace'), path.join(s.root, 'targets'));
  s.onCleanup(() => demo.stop());
  const ws = demo.workspace;
  const head = git(ws, 'rev-parse', 'HEAD');
  const stagingSha = git(ws, 'rev-parse', 'HEAD~1');
  const prodSha = git(ws, 'rev-parse', 'HEAD~2');
  const page = await s.open(ws);
  await s.showDelivery();

  // 1. Two environments with their deployed commits.
  await page.waitForFunction(([rows, a, b]) => {
    const text = [...document.querySelectorAll(rows)].map((r) => r.textContent).join('\n');
    return text.includes(a) && text.includes(b);
  }, [SEL.rows, `${stagingSha.slice(0, 7)} · ↓1`, `${prodSha.slice(0, 7)} · ↓2`], { timeout: 60000 });
  s.check(`Environments: Staging runs ${stagingSha.slice(0, 7)} (↓1), Production runs ${prodSha.slice(0, 7)} (↓2)`);
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.includes(want), [INDICATOR, `staging ${stagingSha.slice(0, 7)} ↓1`], { timeout: 30000 });
  s.check(`status bar: "${(await page.locator(INDICATOR).innerText()).trim()}"`);

  // 2. CI fails locally at HEAD (an uncommitted edit breaks app.js); deploying staging then asks first, naming
  //    that run and the uncommitted changes. The deploy builds the commit (clean), so it passes.
  const appJs = path.join(ws, 'app.js');
  const good = fs.readFileSync(appJs, 'utf8');
  fs.writeFileSync(appJs, `${good}\nthis is not javascript (\n`);
  await s.runCommand('Delivery: Run Pipeline');
  await page.waitForFunction((sel) => /CI: 1 of 3 jobs failed/.test(document.querySelector(sel)?.textContent ?? ''), SEL.status('delivery.runStatus'), { timeout: 60000 });
  fs.writeFileSync(appJs, good);
  // An uncommitted edit of delivery.yml that would break the build: the deploy must build with the commit's.
  const ymlFile = path.join(ws, 'delivery.yml');
  const committedYml = fs.readFileSync(ymlFile, 'utf8');
  fs.writeFileSync(ymlFile, committedYml.replace('node --check app.js', 'echo "the edited build, not committed"; exit 1'));
  await page.waitForTimeout(1500); // the model reads the edited file (a valid one)
  await s.rowAction('Staging', 'Deploy to Environment', 'Staging');
  const anyway = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: 'Deploy Anyway' });
  await anyway.waitFor({ timeout: 30000 });
  const dialog = await page.locator('.monaco-dialog-box').innerText();
  assert.match(dialog, /uncommitted changes/);
  assert.match(dialog, new RegExp(`the last run of CI at ${head.slice(0, 7)} failed: 1 of 3 jobs failed \\(run \\S+\\)`));
  s.check('the dialog names the failed CI run at the commit and the uncommitted changes; "Deploy Anyway"');
  await anyway.click();
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.trim().endsWith(want), [INDICATOR, `staging ${head.slice(0, 7)}`], { timeout: 90000 });
  assert.equal((await (await fetch(`http://127.0.0.1:${demo.ports.staging}/version`)).json()).sha, head);
  s.check(`deployed: staging serves ${head.slice(0, 7)}; status bar "${(await page.locator(INDICATOR).innerText()).trim()}"`);
  const deployLogs = execFileSync('find', [s.root, '-path', '*deploys/staging/*', '-name', '*.log'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  const deployLog = deployLogs.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  assert.match(deployLog, new RegExp(`build pipeline "ci" from delivery\\.yml at ${head.slice(0, 12)} \\(the commit deployed\\), in its checkout`));
  assert.ok(!deployLog.includes('the edited build, not committed'), 'the uncommitted pipeline did not run');
  s.check('the deploy built with the committed delivery.yml, not the uncommitted edit of it');
  fs.writeFileSync(ymlFile, committedYml);
  // The deploy's own build run (the CI pipeline, in the commit's checkout) shows in the run-status item.
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('CI: passed 3/3'), SEL.status('delivery.runStatus'), { timeout: 30000 });
  s.check(`the deploy's build run shows in the status bar: "${(await page.locator(SEL.status('delivery.runStatus')).innerText()).trim()}"`);

  // 3. The production diff (no deploy needed to look).
  await s.rowAction('Production', 'Show Diff for Environment', 'Production');
  const web = s.webview();
  await web.locator('#diff-title').filter({ hasText: 'Production' }).waitFor({ timeout: 60000 });
  assert.match(await web.locator('#diff-summary').innerText(), /^2 to deploy, 0 to revert, 3 files/);
  assert.match(await web.locator('#uncommitted').innerText(), /README\.md/);
  s.check(`production diff: ${await web.locator('#diff-summary').innerText()}, uncommitted README.md listed apart`);

  // 4. Deploy production (protected): one step — what it will receive and what CI said, then the name typed. No
  //    dialog first; the placeholder is not the name; a wrong entry keeps the commit in view.
  await s.rowAction('Production', 'Deploy to Environment', 'Production');
  const box = page.locator(SEL.quickInput);
  await box.locator('.quick-input-title').filter({ hasText: `Deploy Production (protected): deploy ${head.slice(0, 7)} to Production` }).waitFor({ timeout: 60000 });
  assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no dialog before the box');
  const prompt = await box.locator('.quick-input-message').innerText();
  assert.match(prompt, /uncommitted changes/);
  assert.match(prompt, new RegExp(`2 commits over ${prodSha.slice(0, 7)}: ${head.slice(0, 7)} Explain how to deploy`));
  assert.match(prompt, new RegExp(`CI: CI passed at ${head.slice(0, 7)}`), 'the build run of the staging deploy');
  assert.match(prompt, /type "production" to confirm/);
  assert.equal(await page.locator(SEL.quickInputBox).getAttribute('placeholder'), 'the environment id, to confirm');
  s.check(`one step for production: "${(await box.locator('.quick-input-title').innerText()).trim()}" — ${prompt.trim()}`);
  await s.shot('confirm-production');
  await page.locator(SEL.quickInputBox).fill('prod');
  await box.locator('.quick-input-message').filter({ hasText: `Type exactly "production" to deploy ${head.slice(0, 7)} to Production` }).waitFor({ timeout: 10000 });
  assert.match(await box.locator('.quick-input-title').innerText(), new RegExp(head.slice(0, 7)), 'the title still names the commit');
  s.check('a wrong entry says what to type, and the commit stays in view');
  await page.locator(SEL.quickInputBox).fill('production');
  await page.keyboard.press('Enter');
  // The app restarts while it is deployed: a refused connection means "not yet".
  const served = (port) => fetch(`http://127.0.0.1:${port}/version`).then((r) => r.json()).then((j) => j.sha, () => null);
  for (let i = 0; i < 90 && (await served(demo.ports.production)) !== head; i++) await page.waitForTimeout(1000);
  assert.equal((await (await fetch(`http://127.0.0.1:${demo.ports.production}/version`)).json()).sha, head);
  s.check(`typed "production": production serves ${head.slice(0, 7)}`);

  // 5. A run's commit opens as a document (git show): the board's header names it.
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click();
  await web.getByText('Stage board', { exact: true }).click();
  await web.locator('#run-commit').filter({ hasText: head.slice(0, 7) }).click({ timeout: 30000 });
  await page.locator(SEL.tabs).filter({ hasText: `commit-${head.slice(0, 7)}.diff` }).first().waitFor({ timeout: 30000 });
  await page.locator('.monaco-editor .view-lines').filter({ hasText: 'Explain how to deploy' }).first().waitFor({ timeout: 30000 });
  s.check(`the board's commit ${head.slice(0, 7)} opens as a document (its message, stat and patch)`);

  // 6. A commit whose build fails: the deploy stops, its notification says what failed in words (no run id) and
  //    "Show Build Run" opens that run on the board.
  fs.writeFileSync(appJs, `${good}\nthis is not javascript (\n`);
  git(ws, 'commit', '-q', '-am', 'Break the build');
  const broken = git(ws, 'rev-parse', 'HEAD');
  await s.runCommand('Delivery: Refresh Environments');
  await s.rowAction('Staging', 'Deploy to Environment', 'Staging');
  const confirm = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: /^Deploy/ }).first();
  if (await confirm.waitFor({ timeout: 5000 }).then(() => true, () => false)) await confirm.click();
  const failedToast = page.locator('.notifications-toasts .notification-list-item').filter({ hasText: `to Staging failed` }).first();
  await failedToast.waitFor({ timeout: 90000 });
  const failedText = (await failedToast.locator('.notification-list-item-message').innerText()).trim();
  assert.match(failedText, new RegExp(`^Deploy ${broken.slice(0, 7)} to Staging failed: build pipeline ci failed: \\S+: .+; nothing was deployed$`));
  assert.doesNotMatch(failedText, /run \d{8}|\d{8}-\d{6}/, 'no run id in the message');
  s.check(`a failed build: "${failedText}"`);
  await failedToast.hover();
  await failedToast.locator('.monaco-button').filter({ hasText: 'Show Build Run' }).click();
  await web.locator('#run-commit').filter({ hasText: broken.slice(0, 7) }).waitFor({ timeout: 30000 });
  await web.locator('#run-status').filter({ hasText: 'failed' }).waitFor({ timeout: 30000 });
  s.check('"Show Build Run" opens the failed build run on the board');
  assert.equal((await (await fetch(`http://127.0.0.1:${demo.ports.staging}/version`)).json()).sha, head, 'staging still serves the last good commit');
});
