#!/usr/bin/env node
// UI end-to-end test of the pipeline as part of the code (#15): CodeLens in a workflow file and in delivery.yml, a
// run started from a lens, the compile job's error in Problems (a problem matcher) and the unit job's failing test in
// Test Explorer (its JUnit report), as a user sees them in a real code-server driven by Chromium.
//
//   node test/e2e/editor-e2e.mjs [path/to/extension.vsix]
import assert from 'node:assert/strict';
import path from 'node:path';
import { copyFixture, initRepo } from '../harness/lib-codeserver.mjs';
import { SEL, e2e } from './lib.mjs';

const LENS = '.contentWidgets .codelens-decoration';

await e2e('editor-e2e', async (s) => {
  const ws = initRepo(copyFixture('editor', path.join(s.root, 'workspace')));
  const page = await s.open(ws);
  await s.showDelivery();
  await page.locator(SEL.rows).filter({ hasText: 'Checks' }).first().waitFor({ timeout: 60000 });

  /** Opens a file of the workspace through Quick Open, as a user types its name. */
  const openFile = async (name) => {
    await page.locator('.statusbar').click({ position: { x: 600, y: 10 } });
    await page.keyboard.press('F1');
    await page.locator(SEL.quickInputBox).waitFor({ state: 'visible' });
    await page.locator(SEL.quickInputBox).fill(name);
    await page.locator(SEL.quickPickRows).filter({ hasText: path.basename(name) }).first().waitFor({ timeout: 30000 });
    await page.keyboard.press('Enter');
    await page.locator(SEL.tabs).filter({ hasText: path.basename(name) }).first().waitFor({ timeout: 30000 });
  };
  /** The CodeLens texts of the open editor, once there are at least `min`. */
  const lensTexts = async (min) => {
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(`${sel} a`).length >= n, [LENS, min], { timeout: 30000 });
    return page.locator(`${LENS} a`).allInnerTexts();
  };

  // 1. A workflow file: Run pipeline above it, Run job above its jobs, with needs above the one that needs another.
  await openFile('.github/workflows/ci.yml');
  const workflowLenses = await lensTexts(4);
  for (const t of ['Run pipeline', 'Run job', 'with needs']) {
    assert.ok(workflowLenses.some((l) => l.includes(t)), `a lens "${t}" in ${JSON.stringify(workflowLenses)}`);
  }
  s.check(`CodeLens in the workflow: ${workflowLenses.join(' | ')}`);
  await s.shot('codelens');

  // 2. delivery.yml: run the pipeline from its lens.
  await openFile('delivery.yml');
  await lensTexts(3);
  await page.locator(`${LENS} a`).filter({ hasText: 'Run pipeline' }).first().click();
  await page.waitForFunction((sel) => /Checks: 2 of 2 jobs failed/.test(document.querySelector(sel)?.textContent ?? ''), SEL.status('delivery.runStatus'), { timeout: 60000 });
  s.check('the Run pipeline lens ran Checks: the status bar says "Checks: 2 of 2 jobs failed"');
  // On the board (it came up with the run), the compile job's error is a link to the place in src/main.c.
  const ref = s.webview().locator('article.job[data-job="compile"] .tail a.file-ref');
  await ref.waitFor({ timeout: 30000 });
  assert.deepEqual(await ref.allInnerTexts(), ['src/main.c:3:16']);
  await ref.click();
  await page.locator(SEL.tabs).filter({ hasText: 'main.c' }).first().waitFor({ timeout: 30000 });
  await page.locator('.statusbar').filter({ hasText: 'Ln 3, Col 16' }).first().waitFor({ timeout: 30000 });
  s.check('on the board, "src/main.c:3:16" in the compile card opens src/main.c at line 3, column 16');
  // The job lenses now say how each job ended (back to the file).
  await page.locator(SEL.tabs).filter({ hasText: 'delivery.yml' }).first().click();
  await page.waitForFunction((sel) => [...document.querySelectorAll(`${sel} a`)].filter((a) => /last:/.test(a.textContent)).length >= 2, LENS, { timeout: 30000 });
  s.check(`after the run the job lenses say how they ended: ${(await page.locator(`${LENS} a`).allInnerTexts()).filter((t) => /last:/.test(t)).join(' | ')}`);

  // 3. The compile job's error is in Problems, on src/main.c. (The end-of-run notification is read; clear it.)
  await s.runCommand('Notifications: Clear All Notifications');
  await s.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  const problem = page.locator('.markers-panel .monaco-list-row').filter({ hasText: "expected ';' before 'return'" }).first();
  await problem.waitFor({ timeout: 30000 });
  const problems = await page.locator('.markers-panel .monaco-list-row').allInnerTexts();
  assert.ok(problems.some((t) => t.includes('main.c')), `Problems lists main.c: ${JSON.stringify(problems)}`);
  s.check(`Problems has the job's compiler error: ${problems.map((t) => t.replace(/\s+/g, ' ')).join(' | ')}`);
  await problem.click();
  await page.locator(SEL.tabs).filter({ hasText: 'main.c' }).first().waitFor({ timeout: 30000 });
  s.check('clicking it opens src/main.c');
  await s.shot('problems-from-log');

  // 4. The unit job's failing test is in Test Explorer.
  await s.runCommand('Testing: Focus on Test Explorer View');
  const rows = '.test-explorer .monaco-list-row';
  await page.locator(rows).first().waitFor({ timeout: 30000 });
  // Open the tree down to the cases (pipeline → job → suite).
  for (const label of ['Checks', 'unit', 'calc']) {
    const row = page.locator(rows).filter({ hasText: label }).first();
    await row.waitFor({ timeout: 30000 });
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
  }
  const failedCase = page.locator(rows).filter({ hasText: 'divides by a power of two' }).first();
  await failedCase.waitFor({ timeout: 30000 });
  const label = (await failedCase.getAttribute('aria-label')) ?? '';
  assert.match(label, /fail/i, `the failing case's row says so: ${label}`);
  const passed = (await page.locator(rows).filter({ hasText: 'adds two numbers' }).first().getAttribute('aria-label')) ?? '';
  assert.match(passed, /pass/i, `a passing case's row says so: ${passed}`);
  s.check(`Test Explorer: "${label}", "${passed}"`);
  // Its failure opens where the report locates it, with the message.
  await failedCase.dblclick();
  await page.locator(SEL.tabs).filter({ hasText: 'calc.test.js' }).first().waitFor({ timeout: 30000 });
  await page.locator('.editor-instance .view-lines').filter({ hasText: 'divides by a power of two' }).first().waitFor({ timeout: 30000 });
  s.check('the failed test opens src/calc.test.js');
  await s.shot('test-explorer');
});
