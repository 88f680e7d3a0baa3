#!/usr/bin/env node
// UI end-to-end test: the packaged .vsix in code-server, driven in Debian's Chromium by playwright-core. What a
// user sees: the Delivery container, tree rows, a command from the palette, the status bar, the stage board filling
// in live, a job log, a window reload in the middle of a run, and the webview's CSP.
//
//   node test/e2e/ui-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { copyFixture } from '../harness/lib-codeserver.mjs';
import { SEL, alive, e2e, waitForPidFile } from './lib.mjs';

await e2e('ui-e2e', async (s) => {
  const ws = copyFixture('workspace', path.join(s.root, 'workspace'));
  const page = await s.open(ws);

  // 1. The activity-bar container and its trees.
  await page.locator(SEL.activity).first().waitFor({ timeout: 60000 });
  await s.showDelivery();
  await page.locator(SEL.rows).filter({ hasText: 'build' }).first().waitFor({ timeout: 60000 });
  const labels = await page.locator(`${SEL.rows} .label-name`).allInnerTexts();
  for (const l of ['CI', 'build', 'lint', 'test', 'Staging', 'Production']) assert.ok(labels.includes(l), `tree shows "${l}" (rows: ${labels.join(', ')})`);
  s.check(`Delivery container shows the trees: ${labels.join(', ')}`);

  // 1b. A row's hover card shows file names as they are (escaped for Markdown, never with a stray backslash).
  await s.row('CI').hover();
  const hover = page.locator('.monaco-hover').filter({ hasText: 'delivery.yml' }).first();
  await hover.waitFor({ timeout: 15000 });
  const hoverText = await hover.innerText();
  assert.ok(!hoverText.includes('\\'), `no backslash in the hover card: ${hoverText}`);
  assert.match(hoverText, /CI — delivery\.yml/);
  s.check(`hover card of the pipeline: "${hoverText.split('\n')[0]}"`);
  await s.clearHover();
  await s.row('Production').hover();
  const envHover = page.locator('.monaco-hover').filter({ hasText: 'Protected' }).first();
  await envHover.waitFor({ timeout: 15000 });
  const envText = await envHover.innerText();
  assert.ok(!envText.includes('\\'), `no backslash in the hover card: ${envText}`);
  assert.match(envText, /delivery\.yml/);
  s.check(`hover card of a protected environment: "${envText.replace(/\s+/g, ' ').slice(0, 120)}"`);
  await s.clearHover();

  // 2. The run-status item before any run.
  const status = page.locator(SEL.status('delivery.runStatus'));
  await status.waitFor({ timeout: 30000 });
  assert.equal((await status.innerText()).trim(), 'Delivery');
  s.check(`status bar: "${(await status.innerText()).trim()}"`);

  // 3. The panel, then a run from the command palette; the board follows it live.
  await s.runCommand('Delivery: Open Delivery Panel');
  await page.locator(SEL.tabs).filter({ hasText: 'Delivery' }).waitFor({ timeout: 30000 });
  const web = s.webview();
  await web.locator('[data-action="run"]').first().waitFor({ timeout: 30000 });
  s.check('Delivery panel opened and lists the pipeline with a Run button');
  await s.runCommand('Delivery: Run Pipeline');
  await web.locator('article.job[data-job="build"].status-running').waitFor({ timeout: 30000 });
  s.check('stage board shows "build" running');
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('CI: passed 3/3'), SEL.status('delivery.runStatus'), { timeout: 60000 });
  s.check(`status bar after the run: "${(await status.innerText()).trim()}"`);

  // 4. The board's final state: stages as columns, each job succeeded with its log tail.
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 30000 });
  await web.locator('#rerun-failed, #cancel-run').first().waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await web.locator('#run-title').innerText(), 'CI');
  assert.deepEqual((await web.locator('.stage h3').allInnerTexts()).map((c) => c.toLowerCase()), ['stage 1', 'stage 2']);
  for (const id of ['build', 'lint', 'test']) assert.equal(await web.locator(`article.job[data-job="${id}"] .job-status`).innerText(), 'success', `${id} card`);
  assert.match(await web.locator('article.job[data-job="test"] .tail').innerText(), /unit test 3 ok/);
  s.check('stage board: build | lint, test — all success, with log tails');
  // The graph: `needs` as edges, and once the run ended its critical path (test outlasts lint) highlighted.
  const edgeList = () => web.locator('svg.edges path.edge').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}${e.classList.contains('critical') ? ' (critical)' : ''}`));
  await web.locator('svg.edges path.edge.critical').waitFor({ timeout: 15000 });
  assert.deepEqual((await edgeList()).sort(), ['build>lint', 'build>test (critical)']);
  // The edge leaves build's right side and ends on test's left side, at their middles (where the browser put them).
  const ends = await web.locator('svg.edges path.edge[data-to="test"]').evaluate((p) => {
    const svg = p.ownerSVGElement.getBoundingClientRect();
    const [a, b] = [p.getPointAtLength(0), p.getPointAtLength(p.getTotalLength())];
    const box = (id) => document.querySelector(`article.job[data-job="${id}"]`).getBoundingClientRect();
    const [build, test] = [box('build'), box('test')];
    return [svg.left + a.x - build.right, svg.top + a.y - (build.top + build.bottom) / 2, svg.left + b.x - test.left, svg.top + b.y - (test.top + test.bottom) / 2];
  });
  assert.ok(ends.every((d) => Math.abs(d) < 2), `the edge joins build's right side to test's left side: off by ${ends.join(', ')}`);
  assert.deepEqual(await web.locator('article.job.critical').evaluateAll((els) => els.map((e) => e.getAttribute('data-job'))), ['build', 'test']);
  assert.match(await web.locator('#critical-path').innerText(), /^Critical path: build → test · \d/);
  s.check(`graph: edges ${(await edgeList()).join(', ')}; ${await web.locator('#critical-path').innerText()}`);
  await s.shot('board-graph');

  // 5. Tree icons reflect the run.
  await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .codicon-pass-filled`).length >= 4, SEL.rows, { timeout: 15000 });
  s.check(`tree rows show passed icons (${await page.locator(`${SEL.rows} .codicon-pass-filled`).count()})`);
  await s.shot('board');

  // 5b. Keyboard only: the board is one tab stop; arrow keys move between cards, Enter opens a card's log.
  const stops = await web.locator('article.job').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-job')}:${e.tabIndex}`));
  assert.deepEqual(stops.filter((x) => x.endsWith(':0')), ['build:0'], `one tab stop: ${stops.join(', ')}`);
  await web.locator('article.job[data-job="build"]').focus();
  const focusedJob = () => web.locator('article.job:focus').getAttribute('data-job');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focusedJob(), 'lint', 'right: the next stage');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedJob(), 'test', 'down: the next card of the stage');
  await page.keyboard.press('Home');
  assert.equal(await focusedJob(), 'build', 'Home: the first card');
  await page.keyboard.press('End');
  assert.equal(await focusedJob(), 'test');
  await page.keyboard.press('Enter');
  await page.locator(SEL.tabs).filter({ hasText: 'test.log' }).waitFor({ timeout: 30000 });
  s.check('keyboard only: one tab stop, arrows move between cards (build → lint → test), Enter opens test.log');
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click();

  // 6. The full log of a job opens as an editor from the board.
  await web.locator('article.job[data-job="build"] .open-log').click();
  await page.locator(SEL.tabs).filter({ hasText: 'build.log' }).waitFor({ timeout: 30000 });
  // Its breadcrumb says pipeline › run › job, not the state folder's path.
  const crumbs = page.locator('.breadcrumbs-control .monaco-breadcrumb-item');
  await page.waitForFunction(() => [...document.querySelectorAll('.breadcrumbs-control .monaco-breadcrumb-item')].some((e) => e.textContent?.includes('build.log')), null, { timeout: 15000 });
  const crumbPath = (await crumbs.allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  assert.equal(crumbPath[0], 'CI', `breadcrumb: ${crumbPath.join(' › ')}`);
  assert.match(crumbPath[1] ?? '', /^run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, `breadcrumb: ${crumbPath.join(' › ')}`);
  assert.ok(!crumbPath.some((p) => /state|runs|software-delivery/.test(p)), `breadcrumb: ${crumbPath.join(' › ')}`);
  assert.match(await page.locator('.monaco-editor .view-lines').first().innerText(), /build/);
  s.check(`"Log" on a card opens the job log in an editor; breadcrumb: ${crumbPath.join(' › ')}`);

  // 6b. The timeline: CI again (a new attempt), each job's bar beside the previous run's as a ghost, by keyboard.
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click();
  await web.locator('#run-again').click();
  await web.locator('#run-attempt').filter({ hasText: 'attempt 2' }).waitFor({ timeout: 30000 });
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 60000 });
  await web.locator('#critical-path').waitFor({ timeout: 15000 });
  await web.locator('#board-mode-timeline').click();
  const rows = web.locator('#timeline .tl-row');
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-job'))), ['build', 'lint', 'test']);
  for (const id of ['build', 'lint', 'test']) {
    const row = web.locator(`.tl-row[data-job="${id}"]`);
    const [bar, ghost, track] = [await row.locator('.bar').boundingBox(), await row.locator('.ghost').boundingBox(), await row.locator('.track').boundingBox()];
    assert.ok(bar && ghost && bar.width > 1 && ghost.width > 1, `${id}: a bar and a ghost`);
    assert.ok(bar.x >= track.x - 1 && bar.x + bar.width <= track.x + track.width + 1, `${id}: its bar on the axis`);
  }
  // lint and test start when build ends: their bars begin right of build's end.
  const end = async (id) => { const b = await web.locator(`.tl-row[data-job="${id}"] .bar`).boundingBox(); return [b.x, b.x + b.width]; };
  assert.ok((await end('test'))[0] >= (await end('build'))[1] - 1, 'test starts after build ended');
  assert.equal(await web.locator('.tl-row.critical').count(), 2, 'build and test: the critical path');
  assert.match(await web.locator('.tl-row[data-job="test"]').getAttribute('aria-label'), /test: success, started at .*, previous run .*on the critical path/);
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.tabIndex)).then((t) => t.filter((x) => x === 0).length), 1, 'one tab stop');
  await rows.first().focus();
  const focusedRow = () => web.locator('.tl-row:focus').getAttribute('data-job');
  await page.keyboard.press('End');
  assert.equal(await focusedRow(), 'test', 'End: the last row');
  await page.keyboard.press('Home');
  assert.equal(await focusedRow(), 'build', 'Home: the first row');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focusedRow(), 'lint', 'down: the next row');
  await s.shot('board-timeline');
  assert.equal(await page.locator(SEL.tabs).filter({ hasText: 'lint.log' }).count(), 0);
  await page.keyboard.press('Enter');
  await page.locator(SEL.tabs).filter({ hasText: 'lint.log' }).waitFor({ timeout: 30000 });
  s.check(`timeline: build, lint, test each with a bar and the previous run's ghost; keyboard End/Home/down, Enter opens lint.log`);
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click();
  await web.locator('#board-mode-graph').click();
  await web.locator('article.job[data-job="build"]').waitFor({ timeout: 5000 });

  // 7. Rerun failed: a new attempt of the same run — the job that passed keeps its result, the board shows them all.
  const yml = path.join(ws, 'delivery.yml');
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace('environments:', () => "  flaky:\n    name: Flaky\n    jobs:\n      fetch: { run: 'test ! -f fail-fetch && echo fetched' }\n      report: { run: 'echo reported' }\n      upload: { needs: [fetch], run: 'echo uploaded' }\n\nenvironments:"));
  fs.writeFileSync(path.join(ws, 'fail-fetch'), '');
  await s.row('Flaky').waitFor({ timeout: 30000 });
  await s.runCommand('Delivery: Run Pipeline');
  await page.locator(SEL.quickPickRows).filter({ hasText: 'Flaky' }).first().click();
  await web.locator('#run-title').filter({ hasText: 'Flaky' }).waitFor({ timeout: 30000 });
  await web.locator('#rerun-failed').waitFor({ timeout: 60000 });
  fs.rmSync(path.join(ws, 'fail-fetch'));
  await web.locator('#rerun-failed').click();
  await web.locator('#run-attempt').filter({ hasText: 'attempt 2' }).waitFor({ timeout: 30000 });
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 60000 });
  const cards = await web.locator('article.job').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-job')}:${e.querySelector('.job-status')?.textContent}${e.querySelector('.carried') ? ' (kept)' : ''}`));
  assert.deepEqual(cards.sort(), ['fetch:success', 'report:success (kept)', 'upload:success'], 'the whole pipeline: fetch and the upload it gates ran again, report kept its result');
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('Flaky: passed 3/3'), SEL.status('delivery.runStatus'), { timeout: 30000 });
  s.check(`rerun failed: attempt 2 shows ${cards.join(', ')}; status bar "${(await status.innerText()).trim()}"`);
  await s.shot('rerun');
  await web.locator('#run-again').click();
  await web.locator('#run-attempt').filter({ hasText: 'attempt 3' }).waitFor({ timeout: 30000 });
  await web.locator('#run-status').filter({ hasText: 'success' }).waitFor({ timeout: 60000 });
  assert.equal(await web.locator('article.job .carried').count(), 0, 'Run again runs every job');
  s.check('"Run again" on the board: attempt 3, every job ran');
  // The pipeline's Runs: its history, newest first; an older run opens on the board.
  await s.showDelivery();
  const flakyRuns = page.locator(SEL.rows).filter({ hasText: /^Runs/ }).filter({ hasText: 'this machine' });
  if ((await s.row('Flaky').getAttribute('aria-expanded')) !== 'true') await s.row('Flaky').click();
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].filter((r) => /^Runs/.test(r.querySelector('.label-name')?.textContent ?? '')).length >= 2, SEL.rows, { timeout: 30000 });
  if ((await flakyRuns.last().getAttribute('aria-expanded')) !== 'true') await flakyRuns.last().click();
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].filter((r) => /attempt 3/.test(r.textContent)).length >= 1, SEL.rows, { timeout: 30000 });
  const history = await page.locator(SEL.rows).evaluateAll((rows) => rows.map((r) => r.querySelector('.label-description')?.textContent ?? '').filter((d) => / · (vscode|cli|task)/.test(d)));
  assert.ok(history.length >= 3, history.join(' | '));
  assert.match(history[0], /^success · .*attempt 3/, `newest first: ${history.join(' | ')}`);
  assert.match(history[1], /^success · .*attempt 2/);
  assert.match(history[2], /^1 of 3 failed/);
  s.check(`the Runs of Flaky, newest first: ${history.slice(0, 3).join(' | ')}`);
  await page.locator(SEL.rows).filter({ hasText: '1 of 3 failed' }).first().click();
  await web.locator('#run-status').filter({ hasText: 'failed' }).waitFor({ timeout: 30000 });
  assert.equal(await web.locator('#run-attempt').count(), 0, 'the first attempt');
  s.check('an older run opens on the board (the first attempt, failed)');
  await s.shot('runs');

  // 8. A run in progress when the window reloads: it does not stay "running" and its processes are gone.
  fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace('environments:', () => "  slow:\n    name: Slow\n    jobs:\n      wait: { run: 'echo $$ > slow.pid; sleep 300' }\n\nenvironments:"));
  await s.row('Slow').waitFor({ timeout: 30000 });
  // Run from the tree with the board closed: the board comes back; under the pointer, where Run was, the row now
  // offers the board (a double click does not cancel), with Cancel beside it.
  await s.runCommand('View: Close All Editors');
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().waitFor({ state: 'detached', timeout: 15000 });
  await s.rowAction('Slow', 'Run Pipeline', 'Slow');
  const slowPid = await waitForPidFile(page, path.join(ws, 'slow.pid'));
  assert.ok(alive(slowPid), 'the slow job runs');
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().waitFor({ timeout: 30000 });
  s.check('running from the tree reveals the board');
  await s.row('Slow').hover();
  await page.waitForFunction((rows) => [...document.querySelectorAll(rows)].some((r) => /Slow/.test(r.textContent) && r.querySelector('.action-label[aria-label^="Cancel"]')), SEL.rows, { timeout: 15000 });
  // Inline actions sit at the row's right end: Run was second from the right (before Open Definition).
  const inline = await s.row('Slow').locator('.action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  assert.match(inline[inline.length - 1], /^Open Definition/, inline.join(' | '));
  assert.match(inline[inline.length - 2], /^Open Delivery Panel/, `where Run was: ${inline.join(' | ')}`);
  assert.ok(inline.some((l) => l.startsWith('Cancel')), `Cancel is offered: ${inline.join(' | ')}`);
  s.check(`while it runs the row offers: ${inline.join(', ')} (Run's place is not Cancel)`);
  await s.runCommand('Developer: Reload Window');
  await page.waitForTimeout(1000);
  await page.waitForSelector(SEL.workbench, { timeout: 90000 });

  // 9. After the reload the history is still there and the panel restores itself.
  await page.locator(SEL.tabs).filter({ hasText: /^Delivery/ }).first().click({ timeout: 60000 });
  const restored = s.webview();
  await restored.locator('#run-title').filter({ hasText: 'Slow' }).waitFor({ timeout: 60000 });
  await restored.locator('#run-status').filter({ hasText: /cancelled|interrupted/ }).waitFor({ timeout: 60000 });
  await s.showDelivery();
  await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .codicon-pass-filled`).length >= 4, SEL.rows, { timeout: 30000 });
  s.check('after a reload: the panel is restored with the last run and the tree shows the history');
  for (let i = 0; i < 100 && alive(slowPid); i++) await page.waitForTimeout(100);
  assert.ok(!alive(slowPid), 'the job of the interrupted run was killed');
  await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((r) => /Slow/.test(r.textContent) && /(cancelled|interrupted)/.test(r.textContent)), SEL.rows, { timeout: 30000 });
  s.check(`the run in progress at the reload reads "${(await s.row('Slow').innerText()).replace(/\s+/g, ' ').trim()}" and its process is gone`);

  // 9. The webview's CSP: nothing but our nonce'd script and our own styles.
  const csp = await restored.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /^default-src 'none'; style-src [^;]+; font-src [^;]+; img-src [^;]+ data:; script-src 'nonce-[A-Za-z0-9+/=]{24}'$/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|(^|\s)\*(\s|;|$)/);
  s.check('the webview CSP is strict (default-src none, script by nonce only)');

  // 10. A long message is not cut off at the view's edge: the rest of it follows in rows under it.
  fs.mkdirSync(path.join(ws, '.github', 'workflows'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.github', 'workflows', 'broken.yml'), 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n        colour: blue\n');
  await s.runCommand('Delivery: Reload Pipeline Files');
  const problem = page.locator(SEL.rows).filter({ hasText: 'job "a", step 1: unknown key' }).first();
  await problem.waitFor({ timeout: 30000 });
  assert.equal(await problem.getAttribute('aria-expanded'), 'true', 'a message of two rows is open');
  const first = (await problem.locator('.label-name').innerText()).trim();
  assert.ok(first.length <= 30 && first.length < 'job "a", step 1: unknown key "colour"; it is ignored'.length, first);
  assert.equal(await s.rowMessage(problem), 'job "a", step 1: unknown key "colour"; it is ignored');
  s.check(`a long problem reads whole, over its rows: "${first}" …`);
});
