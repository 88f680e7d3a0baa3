// GitHub jobs write JUnit reports where their report step says so; that step does nothing locally.
import * as assert from 'node:assert/strict';
import { importWorkflow } from '../../src/core/github/importer';
import { parseUses, remoteActionPlan } from '../../src/core/github/actions';
import { stepJunitReports } from '../../src/core/github/testReports';
import type { ImportContext } from '../../src/core/sources';
import { planFacts } from '../../src/adapters/clock';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const noFiles: ImportContext = { readFile: async () => null, listFiles: async () => [] };

describe('GitHub workflows: JUnit reports', () => {
  after(cleanupTempDirs);

  it('reads the report files of the known report actions', () => {
    const table: [string, Record<string, string>, string[] | null][] = [
      ['mikepenz/action-junit-report@v4', { report_paths: 'build/test-results/**/TEST-*.xml' }, ['build/test-results/**/TEST-*.xml']],
      ['mikepenz/action-junit-report@v4', {}, ['**/junit-reports/TEST-*.xml']],
      ['dorny/test-reporter@v1', { name: 'Jest', path: 'reports/jest-*.xml, reports/other.xml', reporter: 'jest-junit' }, ['reports/jest-*.xml', 'reports/other.xml']],
      ['dorny/test-reporter@v1', { path: 'results.trx', reporter: 'dotnet-trx' }, null],
      ['dorny/test-reporter@v2.5.0', { path: 'test-results.xml', reporter: 'python-xunit' }, ['test-results.xml']],
      ['dorny/test-reporter@v2', { path: 'build/logs/junit.xml', reporter: 'phpunit-junit' }, ['build/logs/junit.xml']],
      ['dorny/test-reporter@v2', { path: 'results.xml', reporter: 'swift-xunit' }, ['results.xml']],
      ['dorny/test-reporter@v2', { path: 'results.xml', reporter: 'dotnet-nunit' }, null],
      // The format is known when the step runs (its inputs evaluated then): a report step, its plain paths now.
      ['dorny/test-reporter@v2', { path: '${{ inputs.files_pattern }}', reporter: '${{ inputs.reporter }}' }, []],
      ['pmeier/pytest-results-action@v0.7.2', { path: 'test-results.xml\nmore/*.xml' }, ['test-results.xml', 'more/*.xml']],
      ['pmeier/pytest-results-action@main', {}, []],
      ['EnricoMi/publish-unit-test-result-action/linux@v2', { files: 'a/*.xml\n!a/skip.xml\n${{ env.MORE }}\nb/*.xml' }, ['a/*.xml', 'b/*.xml']],
      ['EnricoMi/publish-unit-test-result-action@v2', { JUNIT_FILES: 'x.xml' }, ['x.xml']],
      ['test-summary/action@v2', { paths: 'junit.xml' }, ['junit.xml']],
      ['actions/upload-artifact@v4', { path: 'junit.xml' }, null],
      ['./local-action', { path: 'junit.xml' }, null],
    ];
    for (const [uses, inputs, expected] of table) assert.deepEqual(stepJunitReports(uses, inputs), expected, uses);
  });

  it('a report step is a no-op locally; other actions are still fetched', () => {
    assert.deepEqual(remoteActionPlan(parseUses('dorny/test-reporter@v1'), { path: 'junit.xml', reporter: 'java-junit' }), {
      noop: 'dorny/test-reporter publishes test reports on GitHub; locally the Test Explorer shows them',
    });
    assert.ok('fetch' in remoteActionPlan(parseUses('dorny/test-reporter@v1'), { path: 'r.json', reporter: 'mocha-json' }));
  });

  it('the job definition and its plan name the reports of its report steps', async () => {
    const r = await importWorkflow(
      {
        path: '.github/workflows/ci.yml',
        text: `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: npm test
      - uses: mikepenz/action-junit-report@v4
        if: always()
        with:
          report_paths: reports/junit.xml
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: npm run lint
`,
      },
      noFiles,
    );
    const p = r.pipelines[0];
    assert.deepEqual(p.def.jobs.map((j) => [j.id, j.reports.junit]), [['test', ['reports/junit.xml']], ['lint', []]]);
    const plan = await p.plan({}, { ...planFacts(), folder: tempDir() });
    assert.ok(!('error' in plan));
    assert.deepEqual(plan.jobs.map((j) => [j.id, j.junit]), [['test', ['reports/junit.xml']], ['lint', []]]);
  });
});
