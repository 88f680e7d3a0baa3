#!/usr/bin/env node
// UI end-to-end test of deploy verification (verify: in delivery.yml) against a real Prometheus: a metrics app plays
// "staging" (its good release answers 200; the bad one — the commit with an ERROR_RATE file — answers 500 to a
// quarter of the requests), a bounded load generator sends it requests, Prometheus scrapes it every second. Deploying
// the bad release with `onFailure: rollback` shows "verifying … left" in the status bar, ends with a notification
// that it was rolled back, and the environments overview charts the error rate with both deploys on the time axis.
//
//   node test/e2e/verify-e2e.mjs [path/to/extension.vsix]     (needs `node esbuild.mjs --tests` for the targets)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, copyFixture, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, e2e } from './lib.mjs';

const require = createRequire(import.meta.url);
const { startPrometheus, prometheusUnavailable } = require(path.join(ROOT, 'out/test/support/targets/prometheus.js'));
const { stageMetricsApp, startMetricsApp, startLoad } = require(path.join(ROOT, 'out/test/support/targets/metricsApp.js'));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.invalid', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.invalid' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
const INDICATOR = SEL.status('delivery.deployStatus');
const CLI = path.join(ROOT, 'out/src/cli/main.js');

await e2e('verify-e2e', async (s) => {
  const missing = prometheusUnavailable();
  if (missing) throw new Error(`${missing} (npm run test:setup installs it)`);
  // The target: the metrics app serving the workspace's first commit, under load, scraped by Prometheus.
  const ws = initRepo(copyFixture('workspace', path.join(s.root, 'workspace')));
  const first = git(ws, 'rev-parse', 'HEAD');
  const appDir = path.join(s.root, 'remote', 'staging');
  stageMetricsApp(appDir, { version: first });
  const app = await startMetricsApp(appDir, { env: 'staging' });
  s.onCleanup(() => app.stop());
  const load = startLoad(`${app.url}/`, { everyMs: 25, max: 20_000 });
  s.onCleanup(() => load.stop());
  const prom = await startPrometheus(path.join(s.root, 'prometheus'), { targets: [app.target], scrapeIntervalMs: 1000 });
  s.onCleanup(() => prom.stop());

  // The release is the commit: the deploy writes its sha where the app reads its version, and its ERROR_RATE (the
  // bad release has one) next to it. The app reads both on every request.
  const yml = path.join(ws, 'delivery.yml');
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace(/environments:[\s\S]*$/, () => `environments:
  staging:
    name: Staging
    url: ${app.url}
    version: { http: "${app.url}/version", json: sha, timeout: 3s }
    deploy:
      command: 'echo "$DELIVERY_SHA" > "${appDir}/VERSION"; if [ -f ERROR_RATE ]; then cp ERROR_RATE "${appDir}/ERROR_RATE"; else rm -f "${appDir}/ERROR_RATE"; fi; echo "released $DELIVERY_SHORT_SHA"'
    verify:
      prometheus: ${prom.url}
      window: 8s
      interval: 1s
      checks:
        - name: error rate
          query: 'sum(rate(http_requests_total{code="500"}[5s])) / sum(rate(http_requests_total[5s]))'
          max: 0.01
          failureLimit: 2
      onFailure: rollback
`));
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'delivery.environments.healthRange': '1m' }));
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'Verify staging against Prometheus');
  fs.writeFileSync(path.join(ws, 'ERROR_RATE'), '0.25\n');
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'A release that fails a quarter of its requests');
  const bad = git(ws, 'rev-parse', 'HEAD');
  s.step(`app on ${app.url} runs ${first.slice(0, 7)}; Prometheus on ${prom.url}; HEAD ${bad.slice(0, 7)} is the bad release`);
  const page = await s.open(ws);

  // 1. Before: the indicator follows staging; the tree row shows the error rate now (0: the good release).
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.includes(want), [INDICATOR, `staging ${first.slice(0, 7)} ↓2`], { timeout: 60000 });
  await s.showDelivery();
  // A wider sidebar, so that the screenshots show the whole row (drag the sash between the sidebar and the editor).
  const side = await page.locator('.part.sidebar').boundingBox();
  if (side) {
    await page.mouse.move(side.x + side.width + 1, side.y + side.height / 2);
    await page.mouse.down();
    await page.mouse.move(side.x + 560, side.y + side.height / 2, { steps: 5 });
    await page.mouse.up();
  }
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /Staging/.test(r.textContent) && /error rate 0\b/.test(r.textContent)), SEL.rows, { timeout: 60000 });
  s.check('Environments tree: Staging shows its first check now, "error rate 0"');

  // 2. Deploy the bad release: while its metrics are watched the status bar counts the bake time down.
  await s.rowAction('Staging', 'Deploy to Environment', 'Staging');
  await page.waitForFunction(
    ([sel, rows]) =>
      /verifying staging \d+s left/.test(document.querySelector(sel)?.textContent ?? '') &&
      [...document.querySelectorAll(rows)].some((r) => /Staging/.test(r.textContent) && /verifying · \d+s left/.test(r.textContent)),
    [INDICATOR, SEL.rows],
    { timeout: 60000, polling: 100 },
  );
  const verifying = (await page.locator(INDICATOR).innerText()).trim();
  await s.shot('verifying');
  s.check(`status bar while verifying: "${verifying}"; the tree row says "verifying · …s left"`);
  // The countdown moves while the checks run (every status-bar text seen until the verification ends).
  const toast = page.locator(SEL.toasts).filter({ hasText: /failed verification/ }).first();
  const seen = new Set([verifying]);
  while (!(await toast.isVisible())) {
    const t = (await page.locator(INDICATOR).innerText()).trim();
    if (/verifying|rolling back/.test(t)) seen.add(t);
    await page.waitForTimeout(100);
  }
  const counted = [...seen].filter((t) => /verifying staging \d+s left/.test(t));
  assert.ok(counted.length >= 2, `the time left counts down: ${[...seen].join(' | ')}`);
  s.check(`the status bar counted down: ${[...seen].join(' → ')}`);

  // 3. The error rate passes its bound: the release is rolled back on its own, and a notification says so.
  await toast.waitFor({ timeout: 90000 });
  const said = (await toast.innerText()).trim();
  assert.match(said, new RegExp(`^Deploy of ${bad.slice(0, 7)} to Staging failed verification \\(error rate [0-9.e-]+ > 0\\.01\\); rolled back to ${first.slice(0, 7)}$`), said);
  await page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent?.trim().includes(want), [INDICATOR, `staging ${first.slice(0, 7)}`], { timeout: 60000 });
  await page.locator('.notifications-toasts .notification-list-item').filter({ hasText: /failed verification/ }).locator('.monaco-button', { hasText: 'Show Log' }).waitFor({ timeout: 10000 });
  await page.waitForTimeout(500);
  await s.shot('rolled-back');
  s.check(`notification: "${said}"`);
  assert.equal((await (await fetch(`${app.url}/version`)).json()).sha, first);
  assert.ok(!fs.existsSync(path.join(appDir, 'ERROR_RATE')), 'the good release has no ERROR_RATE');
  const history = JSON.parse(execFileSync(process.execPath, [CLI, 'history', 'staging', '--json'], { cwd: ws, env: { ...process.env, DELIVERY_STATE_DIR: path.join(s.root, 'state') }, encoding: 'utf8' })).records;
  const deploys = history.map((r) => `${r.action}:${(r.toSha ?? '?').slice(0, 7)}:${r.status}`);
  assert.ok(deploys.includes(`deploy:${bad.slice(0, 7)}:failed`) && deploys.includes(`rollback:${first.slice(0, 7)}:success`), deploys.join(', '));
  s.check(`the app serves ${first.slice(0, 7)} again; the history has both: ${deploys.join(', ')}`);

  // 4. The overview charts the error rate over the last minute, with its bound and both deploys as markers. First
  //    the good release's error rate back to 0 (Prometheus's rate over 5 s), so that the chart shows it recover.
  const ERRORS = 'sum(rate(http_requests_total{code="500"}[5s])) / sum(rate(http_requests_total[5s]))';
  for (let i = 0; i < 60; i++) {
    const r = await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(ERRORS)}`)).json();
    if (Number(r.data?.result?.[0]?.value?.[1]) === 0) break;
    await page.waitForTimeout(500);
  }
  await page.waitForTimeout(2000);
  await s.runCommand('Delivery: Open Delivery Panel');
  const web = s.webview();
  await web.locator('#tab-environments').click({ timeout: 60000 });
  const chart = web.locator('#health section.env-health[data-env="staging"] figure.chart[data-check="error rate"] svg.health-chart');
  await chart.waitFor({ timeout: 60000 });
  await chart.locator('g.marker').nth(1).waitFor({ state: 'attached', timeout: 30000 });
  const titles = await chart.locator('g.marker > title').allTextContents();
  assert.ok(titles.some((t) => t.startsWith(`deploy ${bad.slice(0, 7)} failed`)), titles.join(' | '));
  assert.ok(titles.some((t) => t.startsWith(`rollback ${first.slice(0, 7)} success`)), titles.join(' | '));
  assert.equal(await chart.locator('line.bound').count(), 1, 'the bound is drawn');
  assert.equal(await chart.locator('line.bound').getAttribute('stroke-dasharray'), '4 3');
  const d = (await chart.locator('path.series').getAttribute('d')) ?? '';
  assert.ok((d.match(/[ML]/g) ?? []).length >= 10, `the series has points: ${d.slice(0, 80)}`);
  s.check(`overview: the error-rate chart with its dashed bound and ${titles.length} deploy markers (${titles.map((t) => t.split(' · ')[0]).join(', ')})`);
  await page.mouse.move(2, 2);
  await s.shot('health-chart');
});
