#!/usr/bin/env node
// UI end-to-end test of environments: a real OpenSSH sshd on 127.0.0.1 and an HTTP app play "staging". It checks
// the Environments tree and the status-bar deploy indicator, opens the deployed-vs-local diff (and a file in the
// native diff editor), deploys from the tree over ssh + rsync, waits for a lock a teammate holds on the host
// ("Deploy When Free"), and reloads the window in the middle of a deploy.
//
//   node test/e2e/deploy-e2e.mjs [path/to/extension.vsix]     (needs `node esbuild.mjs --tests` for the targets)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, copyFixture, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, alive, e2e, waitForPidFile } from './lib.mjs';

const require = createRequire(import.meta.url);
const { startSshd, sshdAvailable } = require(path.join(ROOT, 'out/test/support/targets/sshd.js'));
const { stageApp, startApp } = require(path.join(ROOT, 'out/test/support/targets/app.js'));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.invalid', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.invalid' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
const INDICATOR = SEL.status('delivery.deployStatus');
const CLI = path.join(ROOT, 'out/src/cli/main.js');

await e2e('deploy-e2e', async (s) => {
  if (!sshdAvailable()) throw new Error('/usr/sbin/sshd is missing (npm run test:setup installs openssh-server)');
  // The "remote host": sshd + the app it serves from a folder; the app reports the VERSION file.
  const sshd = await startSshd(path.join(s.root, 'sshd'));
  s.onCleanup(() => sshd.stop());
  const appDir = path.join(s.root, 'remote', 'staging');
  const ws = initRepo(copyFixture('workspace', path.join(s.root, 'workspace')));
  const first = git(ws, 'rev-parse', 'HEAD');
  stageApp(appDir, first);
  const app = await startApp(appDir, { env: 'staging' });
  s.onCleanup(() => app.stop());
  const yml = path.join(ws, 'delivery.yml');
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace(/environments:[\s\S]*$/, () => `environments:
  staging:
    name: Staging
    url: ${app.url}
    version: { http: "${app.url}/version", json: sha, timeout: 3s }
    deploy:
      ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, identityFile: "${sshd.clientKey}", knownHostsFile: "${sshd.knownHosts}" }
      upload: { from: ".", to: "${s.root}/remote/releases/\${DELIVERY_SHA}", exclude: [.git] }
      run: 'echo "$DELIVERY_SHA" > "${appDir}/VERSION"; echo "released $DELIVERY_SHORT_SHA"'
    health: { http: "${app.url}/health", expect: 200, timeout: 10s }
  slowenv:
    name: Slow
    deploy: { command: 'echo $$ > "${s.root}/slow-deploy.pid"; sleep 300' }
`));
  fs.writeFileSync(path.join(ws, 'CHANGES.md'), '# Changes\n\n- staging is deployed over ssh\n');
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'Deploy staging over ssh');
  const head = git(ws, 'rev-parse', 'HEAD');
  s.step(`sshd on 127.0.0.1:${sshd.port}, app on ${app.url} runs ${first.slice(0, 7)}, HEAD ${head.slice(0, 7)}`);
  const page = await s.open(ws);

  // 1. The indicator follows staging: deployed commit and one commit to deploy; the tree shows the same.
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.includes(want), [INDICATOR, `staging ${first.slice(0, 7)} ↓1`], { timeout: 60000 });
  s.check(`status bar: "${(await page.locator(INDICATOR).innerText()).trim()}"`);
  await s.showDelivery();
  await page.waitForFunction(([rows, want]) => [...document.querySelectorAll(rows)].some((r) => r.textContent.includes('Staging') && r.textContent.includes(want)), [SEL.rows, `${first.slice(0, 7)} · ↓1 · up`], { timeout: 30000 });
  s.check('Environments tree: Staging with the deployed commit, ↓1 and health up');

  // 2. The diff: deployed vs local, in the panel; one file in the native diff editor.
  await s.runCommand('Delivery: Show Diff for Environment');
  await page.locator(SEL.quickPickRows).filter({ hasText: 'Staging' }).first().click();
  const web = s.webview();
  await web.locator('#diff-title').waitFor({ timeout: 60000 });
  assert.match(await web.locator('#diff-title').innerText(), new RegExp(`Staging: deployed ${first.slice(0, 7)} → local HEAD ${head.slice(0, 7)}`));
  assert.match(await web.locator('#to-deploy').innerText(), /Deploy staging over ssh/);
  const files = await web.locator('#files .file .path').allInnerTexts();
  assert.ok(files.includes('CHANGES.md') && files.includes('delivery.yml'), `files: ${files.join(', ')}`);
  s.check(`diff view: 1 commit to deploy, files ${files.join(', ')}`);
  await s.shot('diff');
  await web.locator('#files .file[data-path="delivery.yml"] .path').click();
  await page.locator(SEL.tabs).filter({ hasText: 'delivery.yml' }).filter({ hasText: '↔' }).first().waitFor({ timeout: 30000 });
  assert.ok((await page.locator('.monaco-diff-editor').count()) >= 1, 'a diff editor is open');
  s.check('a file opens in the native diff editor (deployed ↔ local)');

  // 3. Deploy from the tree's inline action; the app and the indicator follow.
  await s.rowAction('Staging', 'Deploy to Environment', 'Staging');
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.trim().endsWith(want), [INDICATOR, `staging ${head.slice(0, 7)}`], { timeout: 90000 });
  assert.equal((await (await fetch(`${app.url}/version`)).json()).sha, head);
  assert.ok(fs.existsSync(path.join(s.root, 'remote', 'releases', head, 'CHANGES.md')), 'rsync uploaded the release');
  s.check(`deployed over ssh: the app reports ${head.slice(0, 7)}; status bar "${(await page.locator(INDICATOR).innerText()).trim()}"`);
  await page.locator(SEL.toasts).filter({ hasText: /Deploy .* to Staging: done/ }).first().waitFor({ timeout: 30000 });
  s.check('a notification says the deploy is done');
  // The Diff tab shown before the deploy is computed again: staging now runs HEAD, nothing left to deploy.
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click();
  await web.locator('#diff-title').filter({ hasText: `deployed ${head.slice(0, 7)}` }).waitFor({ timeout: 30000 });
  assert.match(await web.locator('#diff-summary').innerText(), /^0 to deploy/);
  s.check(`the Diff tab follows the deploy: "${(await web.locator('#diff-title').innerText()).trim()}", ${(await web.locator('#diff-summary').innerText()).trim()}`);
  await s.shot('deploy');

  // 4. A teammate holds the lock (bob, from his terminal): the tree shows it, Deploy says who holds it and offers
  //    "Deploy When Free"; once bob releases it, a notification says so and the deploy runs.
  const bob = (...args) =>
    execFileSync(process.execPath, [CLI, ...args], { cwd: ws, env: { ...process.env, DELIVERY_STATE_DIR: path.join(s.root, 'bob-state'), DELIVERY_USER: 'bob' }, encoding: 'utf8' });
  bob('lock', 'acquire', 'staging', '-m', 'release freeze');
  await s.runCommand('Delivery: Refresh Environments');
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /Staging/.test(r.textContent) && /locked by bob: release freeze/.test(r.textContent)), SEL.rows, { timeout: 60000 });
  s.check('Environments tree: "Staging · locked by bob: release freeze" (the lock lives on the ssh host)');
  await s.rowAction('Staging', 'Deploy to Environment', 'Staging');
  const lockedToast = page.locator('.notifications-toasts .notification-list-item').filter({ hasText: /Staging is locked: "staging" is locked by bob on .+: "release freeze"/ }).first();
  await lockedToast.waitFor({ timeout: 30000 });
  s.check('Deploy on a locked environment says who holds it, with their message');
  await s.shot('locked');
  await lockedToast.locator('.monaco-button', { hasText: 'Deploy When Free' }).click();
  await page.locator(SEL.toasts).filter({ hasText: "Waiting for Staging's deploy lock to be released" }).first().waitFor({ timeout: 30000 });
  bob('lock', 'release', 'staging');
  await page.locator(SEL.toasts).filter({ hasText: /Staging is free: the lock held by bob was released/ }).first().waitFor({ timeout: 60000 });
  s.check('"Deploy When Free": a notification once bob released the lock');
  let history = [];
  for (let i = 0; i < 90; i++) {
    history = JSON.parse(bob('history', 'staging', '--json')).records.map((r) => `${r.action}:${r.user}:${r.status}`);
    if (/^deploy:.+:success$/.test(history[0]) && history[1] === 'unlock:bob:done') break;
    await page.waitForTimeout(1000);
  }
  assert.match(history[0], /^deploy:.+:success$/, history.join(', '));
  assert.deepEqual(history.slice(1, 3), ['unlock:bob:done', 'lock:bob:done'], history.join(', '));
  s.check(`then the deploy ran; the team's history on the host: ${history.slice(0, 4).join(', ')}`);

  // 5. Roll Back from the palette: the deploy history's commits to pick from (bob deployed a newer one meanwhile),
  //    the diff opens, then the confirmation; the app runs the commit picked.
  fs.writeFileSync(path.join(ws, 'CHANGES.md'), '# Changes\n\n- staging is deployed over ssh\n- a change bob deploys\n');
  git(ws, 'commit', '-q', '-am', 'A change bob deploys');
  const newer = git(ws, 'rev-parse', 'HEAD');
  bob('deploy', 'staging', '--yes');
  assert.equal((await (await fetch(`${app.url}/version`)).json()).sha, newer, 'bob deployed the newer commit');
  await s.runCommand('Delivery: Roll Back Environment');
  await page.locator(SEL.quickPickRows).filter({ hasText: 'Staging' }).first().click();
  const choice = page.locator(SEL.quickPickRows).filter({ hasText: head.slice(0, 7) }).first();
  await choice.waitFor({ timeout: 60000 });
  const offered = await page.locator(SEL.quickPickRows).allInnerTexts();
  assert.ok(offered.length >= 1 && !offered.some((t) => t.includes(newer.slice(0, 7))), `the commit staging runs is not offered: ${offered.join(' | ')}`);
  assert.match(offered[0], /the deploy before the current one/);
  s.check(`Roll Back offers the history's commits: ${offered.map((t) => t.split('\n')[0]).join(', ')} (not ${newer.slice(0, 7)}, which runs)`);
  await s.shot('rollback-pick');
  await choice.click();
  await web.locator('#diff-title').filter({ hasText: head.slice(0, 7) }).waitFor({ timeout: 60000 });
  const anyway = page.locator('.monaco-dialog-box .monaco-button').filter({ hasText: 'Roll Back Anyway' });
  await anyway.waitFor({ timeout: 30000 });
  await anyway.click();
  for (let i = 0; i < 90 && (await (await fetch(`${app.url}/version`)).json()).sha !== head; i++) await page.waitForTimeout(1000);
  assert.equal((await (await fetch(`${app.url}/version`)).json()).sha, head);
  s.check(`rolled back from the palette: the diff showed ${head.slice(0, 7)}, the app runs it again`);

  // 6. A deploy in progress when the window reloads: recorded as interrupted, its process gone, no live lock left.
  // Let the tree settle after the deploy (it refreshes as the environment is probed again) before clicking in it.
  await s.runCommand('Delivery: Refresh Environments');
  await page.waitForFunction(([rows, want]) => [...document.querySelectorAll(rows)].some((r) => /Staging/.test(r.textContent) && r.textContent.includes(want)), [SEL.rows, head.slice(0, 7)], { timeout: 60000 });
  await page.waitForTimeout(500);
  await s.rowAction('Slow', 'Deploy to Environment', 'slowenv');
  const slowPid = await waitForPidFile(page, path.join(s.root, 'slow-deploy.pid'));
  assert.ok(alive(slowPid), 'the slow deploy runs');
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /Slow/.test(r.textContent) && /deploying/.test(r.textContent)), SEL.rows, { timeout: 30000 });
  await s.runCommand('Developer: Reload Window');
  await page.waitForTimeout(1000);
  await page.waitForSelector(SEL.workbench, { timeout: 90000 });
  for (let i = 0; i < 100 && alive(slowPid); i++) await page.waitForTimeout(100);
  assert.ok(!alive(slowPid), 'the interrupted deploy was killed');
  const find = (...args) => execFileSync('find', [path.join(s.root, 'state'), ...args], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  const records = find('-path', '*deploys/slowenv/*', '-name', 'record.json');
  assert.equal(records.length, 1);
  const rec = JSON.parse(fs.readFileSync(records[0], 'utf8'));
  assert.ok(['cancelled', 'interrupted', 'running'].includes(rec.status), rec.status);
  for (const lock of find('-path', '*team/slowenv/*', '-name', 'lock.json')) {
    // The extension host died before it could release it: the holder is gone, so the lock reads as stale.
    const holder = JSON.parse(fs.readFileSync(lock, 'utf8'));
    assert.ok(!alive(holder.pid), `the lock's holder (pid ${holder.pid}) is gone, so the lock is stale`);
  }
  await s.showDelivery();
  await s.row('Slow').click();
  await s.clearHover();
  await page.locator(SEL.rows).filter({ hasText: 'Recent deploys' }).first().click({ timeout: 30000 });
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /^deploy [0-9a-f]{7}/.test(r.querySelector('.label-name')?.textContent ?? '') && /(cancelled|interrupted)/.test(r.textContent)), SEL.rows, { timeout: 30000 });
  s.check(`a deploy interrupted by a window reload reads "${rec.status === 'running' ? 'interrupted' : rec.status}" in the history and its process is gone`);
});
