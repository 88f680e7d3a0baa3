// `npm run bench:smoke`: every benchmark of bench/ still runs (tiny sizes, one run, no gitlab-ci-local, no
// code-server) and produces its rows with numbers. Speed itself is measured by `npm run bench`, never here.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, tempDir } from '../support/tmp';

const ROOT = path.resolve(__dirname, '../../..');

interface Row {
  scenario: string;
  measured: string;
  unit: string;
  value: { n: number; median: number; min: number; max: number };
  reference: { name: string; value: { median: number } } | null;
  target: string;
  met: boolean | null;
}

describe('benchmarks (smoke mode)', function () {
  this.timeout(180_000);
  after(cleanupTempDirs);

  it('runs every scenario and reports a row with numbers for each measurement', async () => {
    const work = tempDir('delivery-bench-');
    const json = path.join(work, 'results.json');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.join(ROOT, 'bench', 'run.mjs'), '--smoke', '--work', work, '--json', json, '--markdown', path.join(work, 'results.md')], { cwd: ROOT, maxBuffer: 16 << 20 }, (e, out, err) =>
        e ? reject(new Error(`bench --smoke failed: ${e.message}\n${err.slice(-3000)}`)) : resolve(out),
      ),
    );
    const result = JSON.parse(fs.readFileSync(json, 'utf8')) as { smoke: boolean; machine: string; rows: Row[]; notes: string[] };
    assert.equal(result.smoke, true);
    assert.match(result.machine, /Node v\d+/);
    const measured = (scenario: RegExp, what: RegExp) => {
      const row = result.rows.find((r) => scenario.test(r.scenario) && what.test(r.measured));
      assert.ok(row, `no row for ${scenario} / ${what} in ${result.rows.map((r) => `${r.scenario} / ${r.measured}`).join('; ')}`);
      assert.ok(Number.isFinite(row.value.median) && row.value.n >= 1, `${row.scenario} / ${row.measured}: no number (${JSON.stringify(row.value)})`);
      return row;
    };
    const cli = measured(/^CLI run/, /`delivery run` wall/);
    assert.equal(cli.reference?.name, 'bash script');
    assert.ok(Number.isFinite(cli.reference.value.median));
    assert.ok(result.notes.some((n) => /gitlab-ci-local not measured in smoke mode/.test(n)));
    measured(/^engine, \d+ trivial jobs in a DAG/, /cost a job adds over bash/);
    measured(/^engine, \d+ trivial jobs in a DAG/, /average per job/);
    measured(/^engine, \d+ trivial GitHub jobs/, /cost a job adds with isolation/);
    measured(/^engine, \d+ trivial GitHub jobs/, /average per job with isolation/);
    measured(/^one line of/, /in-process, as the editor runs it/);
    measured(/^job workspace/, /first workspace/);
    measured(/^job workspace/, /later workspace of the same run/);
    const flood = measured(/^flood/, /`delivery run` wall/);
    assert.ok(flood.value.median > 0 && Number.isFinite(flood.reference!.value.median));
    assert.ok(measured(/^flood/, /peak RSS/).value.median > 1, 'peak RSS in MB');
    measured(/^diff/, /deployDiff/);
    const deploy = measured(/^ssh \+ rsync deploy/, /`delivery deploy` wall/);
    assert.ok(Number.isFinite(deploy.reference!.value.median), 'the rsync script was measured too');
    measured(/^discovery/, /loadAll.*first session/);
    measured(/^discovery/, /loadAll.*a later session/);
    measured(/^discovery/, /one changed workflow/);
    measured(/^probes/, /environmentStatuses/);
    assert.ok(measured(/^bundles/, /extension\.js/).value.median > 10, 'bundle size in KB');
    measured(/^bundles/, /webview\.js/);
    // Smoke mode judges no target (the sizes are not the benchmark's), and says so.
    assert.match(stdout, /smoke mode/);
    assert.doesNotMatch(stdout, /\| (yes|\*\*no\*\*) \|$/m);
    assert.match(stdout, /\| scenario \| measured \| median \|/);
  });
});
