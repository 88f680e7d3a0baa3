import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { api, testHooks, waitFor, workspaceFolder } from './helpers';
import type { TestTreeRow } from '../../src/vscode/testing/testExplorer';

/** A pipeline whose jobs write JUnit reports: a few cases of every outcome, then 5,000 passing ones. */
const PIPELINE = `  reports:
    name: Reports
    jobs:
      unit:
        run: |
          mkdir -p reports
          cat > reports/unit.xml <<'XML'
          <testsuites><testsuite name="calc" file="src/calc.test.js" time="0.5">
          <testcase classname="calc" name="adds" time="0.012"/>
          <testcase classname="calc" name="divides" time="0.030"><failure message="expected 2, got 3">AssertionError: expected 2, got 3
              at Context.divides (src/calc.test.js:14:7)
              at process.processImmediate (node:internal/timers:476:21)</failure></testcase>
          <testcase classname="calc" name="rounds" time="0"><skipped message="later"/></testcase>
          <testcase classname="calc" name="parses" file="src/parse.test.js" line="3" time="0.004"><error message="TypeError: x is undefined"/></testcase>
          </testsuite></testsuites>
          XML
        reports: { junit: "reports/unit.xml" }
      big:
        needs: [unit]
        run: |
          mkdir -p reports
          { echo '<testsuite name="big">'; seq 5000 | sed 's|.*|<testcase classname="big" name="case &" time="0.001"/>|'; echo '</testsuite>'; } > reports/big.xml
        reports: { junit: "reports/big.xml" }

environments:`;

function find(rows: TestTreeRow[], label: string): TestTreeRow {
  const row = rows.find((r) => r.label === label);
  assert.ok(row, `an item "${label}" among ${rows.map((r) => r.label).join(', ')}`);
  return row;
}

suite('Test Explorer', () => {
  test('the JUnit reports of a run become items with results, failures located; running an item runs its job', async () => {
    const a = await api();
    const hooks = await testHooks();
    const folder = workspaceFolder().uri.fsPath;
    const file = `${folder}/delivery.yml`;
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.writeFileSync(file, original.replace('environments:', PIPELINE));
      await waitFor(() => a.pipelines().some((p) => p.id === 'reports'), 'the new pipeline to be read');
      const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'reports' })) as string;
      const run = await a.waitForRun(runId);
      assert.deepEqual(run?.jobs.map((j) => [j.id, j.status, j.tests]), [
        ['unit', 'success', { total: 4, failed: 1, errors: 1, skipped: 1 }],
        ['big', 'success', { total: 5000, failed: 0, errors: 0, skipped: 0 }],
      ]);

      const shown = await hooks.testExplorer();
      const pipeline = find(shown.rows, 'Reports');
      assert.equal(pipeline.location, 'delivery.yml');
      assert.deepEqual(pipeline.children.map((j) => j.label), ['unit', 'big']);
      const unit = find(pipeline.children, 'unit');
      assert.match(unit.location ?? '', /^delivery\.yml:\d+$/, 'the job item is at the job in the pipeline file');
      const calc = find(unit.children, 'calc');
      assert.equal(calc.description, 'src/calc.test.js');
      assert.deepEqual(calc.children.map((c) => [c.label, c.location]), [
        ['adds', 'src/calc.test.js'],
        ['divides', 'src/calc.test.js:14'],
        ['rounds', 'src/calc.test.js'],
        ['parses', 'src/parse.test.js:3'],
      ]);
      const result = (label: string) => shown.results[find(calc.children, label).id];
      assert.deepEqual(result('adds'), { state: 'passed', durationMs: 12, message: null, location: null });
      assert.deepEqual(result('divides'), {
        state: 'failed',
        durationMs: 30,
        message: 'expected 2, got 3\n\nAssertionError: expected 2, got 3\n    at Context.divides (src/calc.test.js:14:7)\n    at process.processImmediate (node:internal/timers:476:21)',
        location: 'src/calc.test.js:14',
      });
      assert.deepEqual(result('rounds'), { state: 'skipped', durationMs: 0, message: 'later', location: null });
      assert.deepEqual(result('parses'), { state: 'errored', durationMs: 4, message: 'TypeError: x is undefined', location: 'src/parse.test.js:3' });

      // 5,000 cases: one suite, every case an item with its result, built in one pass.
      const big = find(find(pipeline.children, 'big').children, 'big');
      assert.equal(big.children.length, 5000);
      assert.equal(big.children.filter((c) => shown.results[c.id]?.state === 'passed').length, 5000);
      assert.equal(shown.lastBuild.cases, 5000);
      const b = shown.lastBuild;
      console.log(`    5,000 cases read, built and reported in ${b.ms.toFixed(1)} ms, at most ${b.longestSliceMs.toFixed(1)} ms without a turn of the event loop`);

      // Running a case runs its job (only it), and its report is shown again.
      const before = shown.results[find(calc.children, 'divides').id];
      const started = await hooks.runTests([find(calc.children, 'divides').id]);
      assert.equal(started.length, 1);
      const again = await a.waitForRun(started[0]);
      assert.deepEqual(again?.jobs.map((j) => [j.id, j.status]), [['unit', 'success']]);
      const after = await hooks.testExplorer();
      assert.notEqual(after.results[find(calc.children, 'divides').id], before, 'reported again');
      assert.deepEqual(after.results[find(calc.children, 'divides').id], before);
    } finally {
      fs.writeFileSync(file, original);
      fs.rmSync(`${folder}/reports`, { recursive: true, force: true });
      await waitFor(() => !a.pipelines().some((p) => p.id === 'reports'), 'the file to be restored');
    }
  });
});
