#!/usr/bin/env node
// UI end-to-end test of inline row actions while the trees refresh under the pointer. The environments' version
// endpoint answers a different commit on every probe (probed every second) and delivery.yml is rewritten every few
// hundred milliseconds (each rewrite reloads the configuration), so rows are refreshed all the time. Clicking "Show
// Diff" on the Staging and Production rows, again and again, must reach the command with its row every time: a
// command that got no row falls back to a quick pick, and each such fallback fails the test.
//
//   node test/e2e/rows-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { copyFixture, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, e2e } from './lib.mjs';

const CLICKS = Number(process.env.ROWS_E2E_CLICKS ?? 24);
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

await e2e('rows-e2e', async (s) => {
  const ws = initRepo(copyFixture('workspace', path.join(s.root, 'workspace')));
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'Second', '--allow-empty'], { cwd: ws });
  const shas = [git(ws, 'rev-parse', 'HEAD~1'), git(ws, 'rev-parse', 'HEAD')];

  // The version endpoint: a different commit on every request, so every probe changes the rows.
  let probes = 0;
  const server = http.createServer((req, res) => {
    probes++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ sha: shas[probes % 2] }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  s.onCleanup(() => new Promise((r) => server.close(r)));
  const base = `http://127.0.0.1:${server.address().port}`;
  const yml = path.join(ws, 'delivery.yml');
  const config = (n) =>
    fs.readFileSync(yml, 'utf8').replace(/environments:[\s\S]*$/, () => `environments:
  staging:
    name: Staging
    version: { http: "${base}/version?env=staging", json: sha, timeout: 3s }
  production:
    name: Production
    version: { http: "${base}/version?env=production", json: sha, timeout: 3s }
# rewrite ${n}
`);
  fs.writeFileSync(yml, config(0));
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'delivery.environments.refreshInterval': 1 }));
  git(ws, 'add', '-A');
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'Environments'], { cwd: ws });

  const page = await s.open(ws);
  await s.showDelivery();
  for (const name of ['Staging', 'Production']) await s.row(name).waitFor({ timeout: 60000 });
  const probed = () => page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /Staging/.test(r.textContent) && /[0-9a-f]{7}/.test(r.textContent)), SEL.rows, { timeout: 60000 });
  await probed().catch(async (e) => {
    await s.row('Staging').click(); // shows why the probe failed
    await page.waitForTimeout(1000);
    throw new Error(`Staging was not probed: ${(await page.locator(SEL.rows).allInnerTexts()).join(' | ')}`, { cause: e });
  });
  s.check('the Environments tree shows Staging and Production with their probed commits');

  // Keep the configuration changing: each rewrite makes the extension reload delivery.yml. Written whole (a rename,
  // as editors save), so a reload never reads half a file, which would legitimately remove the rows for a moment.
  let rewrites = 0;
  const rewriter = setInterval(() => {
    fs.writeFileSync(`${yml}.tmp`, config(++rewrites));
    fs.renameSync(`${yml}.tmp`, yml);
  }, 300);
  s.onCleanup(() => clearInterval(rewriter));

  const web = s.webview();
  const fallbacks = [];
  const probesBefore = probes;
  // A click the browser loses (the row's action bar re-rendered between mouse down and up) reaches no command at
  // all: it is clicked again and counted apart. A click that reaches its command without its row asks: a failure.
  let lost = 0;
  for (let i = 0; i < CLICKS; i++) {
    const name = i % 2 === 0 ? 'Staging' : 'Production';
    for (let attempt = 1; ; attempt++) {
      await s.clearHover();
      if (await s.rowAction(name, 'Show Diff for Environment', name)) fallbacks.push(`click ${i + 1} (${name})`);
      const shown = await web.locator('#diff-title').filter({ hasText: `${name}:` }).waitFor({ timeout: 10000 }).then(() => true, () => false);
      if (shown) break;
      assert.ok(attempt < 3, `click ${i + 1} on ${name}: no diff after ${attempt} clicks`);
      lost++;
      s.step(`click ${i + 1} on ${name}: nothing happened, clicking again`);
    }
  }
  clearInterval(rewriter);
  s.step(`${CLICKS} clicks (${lost} lost by the browser) while ${rewrites} configuration rewrites and ${probes - probesBefore} probes refreshed the rows`);
  assert.ok(rewrites >= 10 && probes - probesBefore >= 10, `the rows were refreshed while clicking (${rewrites} rewrites, ${probes - probesBefore} probes)`);
  assert.deepEqual(fallbacks, [], `every click reached its command with its row; these fell back to the quick pick: ${fallbacks.join(', ')}`);
  s.check(`${CLICKS} inline "Show Diff" clicks during refreshes: each reached its command with its row (no quick-pick fallback)`);
});
