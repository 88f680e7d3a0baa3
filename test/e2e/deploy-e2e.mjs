#!/usr/bin/env node
// UI end-to-end test of environments: a real OpenSSH sshd on 127.0.0.1 and an HTTP app play "staging"; the
// packaged extension in code-server, driven in Chromium. It checks the Environments tree and the status-bar
// deploy indicator, opens the deployed-vs-local diff (and a file in the native diff editor), deploys from the
// tree over ssh + rsync, and checks that the indicator and the app follow.
//
//   node test/e2e/deploy-e2e.mjs [path/to/extension.vsix]     (needs `node esbuild.mjs --tests` for the targets)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, CODE_SERVER, copyFixture, initRepo, launchChromium, startCodeServer, xdgEnv } from '../harness/lib-codeserver.mjs';

const require = createRequire(import.meta.url);
const { startSshd, sshdAvailable } = require(path.join(ROOT, 'out/test/support/targets/sshd.js'));
const { stageApp, startApp } = require(path.join(ROOT, 'out/test/support/targets/app.js'));

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(ROOT, 'software-delivery.vsix'));
const artifacts = path.join(ROOT, 'test-artifacts', 'screenshots');
fs.mkdirSync(artifacts, { recursive: true });
const T0 = Date.now();
let checks = 0;
const step = (m) => console.log(`[deploy-e2e +${((Date.now() - T0) / 1000).toFixed(1)}s] ${m}`);
const check = (m) => { checks++; step(`✔ ${m}`); };
const EXT_ID = `${pkg.publisher}.${pkg.name}`;
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.invalid', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.invalid' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();

async function shot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'images'), { recursive: true });
    fs.copyFileSync(file, path.join(ROOT, 'docs', 'images', `${name}.png`));
  }
  step(`screenshot ${path.relative(ROOT, file)}`);
}

if (!sshdAvailable()) {
  console.error('[deploy-e2e] FAILED: /usr/sbin/sshd is missing (npm run test:setup installs openssh-server)');
  process.exit(1);
}
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-deploy-e2e-'));
let server, browser, sshd, app, failed = false;
try {
  // The "remote host": sshd + the app it serves from a folder; the app reports the VERSION file.
  sshd = await startSshd(path.join(root, 'sshd'));
  const appDir = path.join(root, 'remote', 'staging');
  const ws = initRepo(copyFixture('workspace', path.join(root, 'workspace')));
  const first = git(ws, 'rev-parse', 'HEAD');
  stageApp(appDir, first);
  app = await startApp(appDir, { env: 'staging' });
  fs.writeFileSync(path.join(ws, 'delivery.yml'), fs.readFileSync(path.join(ws, 'delivery.yml'), 'utf8').replace(/environments:[\s\S]*$/, () => `environments:
  staging:
    name: Staging
    url: ${app.url}
    version: { http: "${app.url}/version", json: sha, timeout: 3s }
    deploy:
      ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, identityFile: "${sshd.clientKey}", knownHostsFile: "${sshd.knownHosts}" }
      upload: { from: ".", to: "${root}/remote/releases/\${DELIVERY_SHA}", exclude: [.git] }
      run: 'echo "$DELIVERY_SHA" > "${appDir}/VERSION"; echo "released $DELIVERY_SHORT_SHA"'
    health: { http: "${app.url}/health", expect: 200, timeout: 10s }
  slowenv:
    name: Slow
    deploy: { command: 'echo $$ > "${root}/slow-deploy.pid"; sleep 300' }
`));
  fs.writeFileSync(path.join(ws, 'CHANGES.md'), '# Changes\n\n- staging is deployed over ssh\n');
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'Deploy staging over ssh');
  const head = git(ws, 'rev-parse', 'HEAD');
  step(`sshd on 127.0.0.1:${sshd.port}, app on ${app.url} runs ${first.slice(0, 7)}, HEAD ${head.slice(0, 7)}`);

  const extDir = path.join(root, 'extensions');
  execFileSync(CODE_SERVER, ['--extensions-dir', extDir, '--user-data-dir', path.join(root, 'user-data'), '--install-extension', vsix], {
    stdio: 'pipe', env: { ...process.env, ...xdgEnv(path.join(root, 'xdg')) },
  });
  server = await startCodeServer({ baseDir: root, extensionsDir: extDir, env: { DELIVERY_STATE_DIR: path.join(root, 'state') } });
  browser = await launchChromium({ userDataDir: path.join(root, 'chromium') });
  const page = browser.ctx.pages()[0] ?? await browser.ctx.newPage();
  await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });

  // 1. The indicator follows staging: deployed commit and one commit to deploy.
  const indicator = page.locator(`[id="${EXT_ID}.delivery.deployStatus"]`);
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.includes(want), [`[id="${EXT_ID}.delivery.deployStatus"]`, `staging ${first.slice(0, 7)} ↓1`], { timeout: 60000 });
  check(`status bar: "${(await indicator.innerText()).trim()}"`);

  // 2. The Environments tree shows the same.
  await page.locator('.activitybar .action-item a.action-label[aria-label^="Delivery"]').first().click();
  const envRow = page.locator('[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]').filter({ hasText: 'Staging' }).first();
  await envRow.waitFor({ timeout: 30000 });
  await page.waitForFunction((want) => [...document.querySelectorAll('[id="workbench.view.extension.delivery"] .monaco-list-row')].some((r) => r.textContent.includes('Staging') && r.textContent.includes(want)), `${first.slice(0, 7)} · ↓1 · up`, { timeout: 30000 });
  check('Environments tree: Staging with the deployed commit, ↓1 and health up');

  // 3. The diff: deployed vs local, in the panel; one file in the native diff editor.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 600 } }).catch(() => {});
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget .quick-input-box input').fill('>Delivery: Show Diff for Environment');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Show Diff for Environment' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Staging' }).first().click();
  const web = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await web.locator('#diff-title').waitFor({ timeout: 60000 });
  assert.match(await web.locator('#diff-title').innerText(), new RegExp(`Staging: deployed ${first.slice(0, 7)} → local HEAD ${head.slice(0, 7)}`));
  assert.match(await web.locator('#to-deploy').innerText(), /Deploy staging over ssh/);
  const files = await web.locator('#files .file .path').allInnerTexts();
  assert.ok(files.includes('CHANGES.md') && files.includes('delivery.yml'), `files: ${files.join(', ')}`);
  check(`diff view: 1 commit to deploy, files ${files.join(', ')}`);
  await shot(page, 'diff');
  await web.locator('#files .file[data-path="delivery.yml"] .path').click();
  await page.locator('.tabs-container .tab').filter({ hasText: 'delivery.yml' }).filter({ hasText: '↔' }).first().waitFor({ timeout: 30000 });
  const editors = await page.locator('.monaco-diff-editor').count();
  assert.ok(editors >= 1, 'a diff editor is open');
  check('a file opens in the native diff editor (deployed ↔ local)');

  // 4. Deploy from the tree's inline action; the app and the indicator follow.
  await envRow.hover();
  await envRow.locator('.action-label[aria-label^="Deploy to Environment"]').click();
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.trim().endsWith(want), [`[id="${EXT_ID}.delivery.deployStatus"]`, `staging ${head.slice(0, 7)}`], { timeout: 90000 });
  const version = await (await fetch(`${app.url}/version`)).json();
  assert.equal(version.sha, head);
  assert.ok(fs.existsSync(path.join(root, 'remote', 'releases', head, 'CHANGES.md')), 'rsync uploaded the release');
  check(`deployed over ssh: the app reports ${head.slice(0, 7)}; status bar "${(await indicator.innerText()).trim()}"`);
  await page.locator('.notifications-toasts .notification-list-item-message').filter({ hasText: /Deploy .* to Staging: done/ }).first().waitFor({ timeout: 30000 });
  check('a notification says the deploy is done');
  await shot(page, 'deploy');

  // 5. A deploy in progress when the window reloads: recorded as interrupted, its process gone, no lock left.
  const slowRow = page.locator('[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]').filter({ has: page.locator('.label-name', { hasText: /^Slow$/ }) }).first();
  await slowRow.hover();
  await slowRow.locator('.action-label[aria-label^="Deploy to Environment"]').click();
  const pidFile = path.join(root, 'slow-deploy.pid');
  const pidText = () => { try { return fs.readFileSync(pidFile, 'utf8').trim(); } catch { return ''; } };
  for (let i = 0; i < 300 && !pidText(); i++) await page.waitForTimeout(50);
  const slowPid = Number(pidText());
  const alive = (pid) => { try { return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'); } catch { return false; } };
  assert.ok(alive(slowPid), 'the slow deploy runs');
  await page.waitForFunction(() => [...document.querySelectorAll('[id="workbench.view.extension.delivery"] .monaco-list-row')].some((r) => /Slow/.test(r.textContent) && /deploying/.test(r.textContent)), null, { timeout: 30000 });
  await page.locator('.statusbar').click({ position: { x: 600, y: 10 } });
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget .quick-input-box input').fill('>Developer: Reload Window');
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Reload Window' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.waitForTimeout(1000);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  for (let i = 0; i < 100 && alive(slowPid); i++) await page.waitForTimeout(100);
  assert.ok(!alive(slowPid), 'the interrupted deploy was killed');
  const stateDeploys = path.join(root, 'state');
  const records = execFileSync('find', [stateDeploys, '-path', '*deploys/slowenv/*', '-name', 'record.json'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  assert.equal(records.length, 1);
  const rec = JSON.parse(fs.readFileSync(records[0], 'utf8'));
  assert.ok(['cancelled', 'interrupted', 'running'].includes(rec.status), rec.status);
  const locks = execFileSync('find', [stateDeploys, '-path', '*locks*', '-name', 'slowenv.lock'], { encoding: 'utf8' }).trim();
  if (locks) {
    // The extension host died before it could release it: the holder is gone, so the lock reads as stale.
    const holder = JSON.parse(fs.readFileSync(locks, 'utf8'));
    assert.ok(!alive(holder.pid), `the lock's holder (pid ${holder.pid}) is gone, so the lock is stale`);
  }
  // The history says so after the reload (a "running" record of a dead process reads as interrupted).
  if (!(await page.locator('[id="workbench.view.extension.delivery"]').isVisible())) await page.locator('.activitybar .action-item a.action-label[aria-label^="Delivery"]').first().click();
  const slowAfter = page.locator('[id="workbench.view.extension.delivery"] .monaco-list-row[role="treeitem"]').filter({ has: page.locator('.label-name', { hasText: /^Slow$/ }) }).first();
  await slowAfter.click();
  await page.waitForFunction(() => [...document.querySelectorAll('[id="workbench.view.extension.delivery"] .monaco-list-row')].some((r) => /Recent deploys/.test(r.textContent)), null, { timeout: 30000 });
  await page.locator('[id="workbench.view.extension.delivery"] .monaco-list-row').filter({ hasText: 'Recent deploys' }).first().click();
  await page.waitForFunction(() => [...document.querySelectorAll('[id="workbench.view.extension.delivery"] .monaco-list-row')].some((r) => /^deploy [0-9a-f]{7}/.test(r.querySelector('.label-name')?.textContent ?? '') && /(cancelled|interrupted)/.test(r.textContent)), null, { timeout: 30000 });
  check(`a deploy interrupted by a window reload reads "${rec.status === 'running' ? 'interrupted' : rec.status}" in the history and its process is gone`);
  step(`${checks} checks passed`);
} catch (e) {
  failed = true;
  console.error('[deploy-e2e] FAILED:', e);
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
  await app?.stop().catch(() => {});
  await sshd?.stop().catch(() => {});
  if (!failed) fs.rmSync(root, { recursive: true, force: true });
  step(`done (${failed ? `FAILED, logs in ${root}` : 'ok'})`);
  process.exit(failed ? 1 : 0);
}
