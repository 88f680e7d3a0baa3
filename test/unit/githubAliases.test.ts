// YAML anchors and aliases in GitHub workflows: read as GitHub reads them (since 2025), problems located in the
// anchored text, `<<` merge keys refused as GitHub refuses them, alias bombs bounded.
import * as assert from 'node:assert/strict';
import { importWorkflow } from '../../src/core/github/importer';
import { readWorkflow } from '../../src/core/github/workflow';
import type { ImportContext } from '../../src/core/sources';
import type { Problem } from '../../src/shared/model';

const noFiles: ImportContext = { readFile: async () => null, listFiles: async () => [] };
const brief = (p: Problem) => `${p.line}:${p.column} ${p.severity}: ${p.message}`;

describe('GitHub workflows: YAML anchors and aliases', () => {
  it('reads steps, env, runs-on and a matrix shared through aliases', () => {
    const { workflow, f } = readWorkflow('.github/workflows/w.yml', `on: push
jobs:
  unit:
    runs-on: &os ubuntu-latest
    env: &env
      NODE_ENV: test
    strategy:
      matrix: &matrix
        node: [18, 20]
    steps: &steps
      - uses: actions/checkout@v4
      - name: test
        run: npm test
  e2e:
    runs-on: *os
    env: *env
    strategy:
      matrix: *matrix
    steps: *steps
`);
    assert.deepEqual(f.problems.map(brief), []);
    const e2e = workflow!.jobs.find((j) => j.id === 'e2e')!;
    assert.equal(e2e.runsOn, 'ubuntu-latest');
    assert.deepEqual(e2e.env, { NODE_ENV: 'test' });
    assert.deepEqual(e2e.matrix, { node: [18, 20] });
    assert.deepEqual(e2e.steps.map((s) => [s.name, s.run, s.uses]), [[null, null, 'actions/checkout@v4'], ['test', 'npm test', null]]);
    // A step reached through the alias is where it is written.
    assert.deepEqual([e2e.steps[1].location.line, e2e.steps[1].location.column], [12, 9]);
  });

  it('lists the jobs of the alias with their steps (they were listed with none, and "steps" must be a list)', async () => {
    const r = await importWorkflow({ path: '.github/workflows/w.yml', text: `on: push
x-shared: &shared
  - run: echo one
  - run: echo two
jobs:
  a:
    runs-on: ubuntu-latest
    steps: *shared
  b:
    runs-on: ubuntu-latest
    needs: a
    steps: *shared
` }, noFiles);
    // GitHub rejects the unknown top-level key, as it would without the anchor.
    assert.deepEqual(r.problems.map(brief), ['2:1 warning: workflow: unknown key "x-shared"; it is ignored']);
    assert.deepEqual(r.pipelines[0].def.jobs.map((j) => [j.id, j.needs, j.steps.map((s) => s.name)]), [
      ['a', [], ['Run echo one', 'Run echo two']],
      ['b', ['a'], ['Run echo one', 'Run echo two']],
    ]);
  });

  it('locates a problem inside shared steps in the anchored text, once', () => {
    const { f } = readWorkflow('.github/workflows/w.yml', `on: push
jobs:
  a:
    runs-on: x
    steps: &steps
      - run: echo \${{ secrets.TOKEN }}
        shel: bash
  b:
    runs-on: x
    steps: *steps
`);
    assert.deepEqual(f.sortedProblems().map(brief), [
      '6:23 warning: secrets.TOKEN is not available to local runs unless given (--secret TOKEN; in VS Code: Delivery: Set Secret): a step that needs it fails without it',
      '7:9 warning: job "a", step 1: unknown key "shel" (did you mean "shell"?); it is ignored',
      '7:9 warning: job "b", step 1: unknown key "shel" (did you mean "shell"?); it is ignored',
    ]);
  });

  it('refuses "<<" merge keys as GitHub does, at the key, and reads the rest as merged', async () => {
    const r = await importWorkflow({ path: '.github/workflows/w.yml', text: `on: push
jobs:
  a: &base
    runs-on: ubuntu-latest
    steps:
      - run: echo a
  b:
    <<: *base
    needs: a
` }, noFiles);
    assert.deepEqual(r.problems.map(brief), [
      '8:5 error: "<<" (a YAML merge key) is not supported by GitHub Actions, which rejects the workflow; write the keys out, or alias the whole mapping',
    ]);
    assert.deepEqual(r.pipelines[0].def.jobs.map((j) => [j.id, j.needs, j.steps.length]), [['a', [], 1], ['b', ['a'], 1]]);
    assert.deepEqual(await r.pipelines[0].plan({}, { folder: '/tmp', now: 0, host: { platform: 'linux', arch: 'x64' } }), {
      error: '.github/workflows/w.yml has errors; fix them first (see Problems)',
    });
  });

  it('reports an alias to an anchor that is not defined, where it is written', () => {
    const { f } = readWorkflow('.github/workflows/w.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    steps: *nowhere\n');
    assert.deepEqual(f.problems.map(brief), [
      '5:12 error: unknown alias *nowhere: no anchor &nowhere is defined before it',
      '5:12 error: job "a": "steps" must be a list, not null',
    ]);
  });

  it('stops an alias bomb with one located error and reads nothing', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 7; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const text = `on: push\nenv:\n  ${levels.join('\n  ')}\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: echo }]\n`;
    const { workflow, f } = readWorkflow('.github/workflows/w.yml', text);
    assert.equal(workflow, null);
    assert.equal(f.problems.length, 1);
    assert.match(brief(f.problems[0]), /^\d+:\d+ error: too many values: the file expands its aliases into more than 200,000 values$/);
  });
});
