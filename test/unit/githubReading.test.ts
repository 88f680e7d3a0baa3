// What GitHub accepts in a workflow that the reader refused: `uses: $/path` (GitHub's self-repository reference)
// and `${{ insert }}` in a matrix; and the job fields the CLI lists (if, allowFailure, unsupported).
import * as assert from 'node:assert/strict';
import { parseUses } from '../../src/core/github/actions';
import { importWorkflow } from '../../src/core/github/importer';
import type { ImportContext } from '../../src/core/sources';
import type { Problem } from '../../src/shared/model';

const noFiles: ImportContext = { readFile: async () => null, listFiles: async () => [] };
const brief = (p: Problem) => `${p.line}:${p.column} ${p.severity}: ${p.message}`;

describe('GitHub workflows: what GitHub accepts', () => {
  it('reads `uses: $/path` (self-repository) as the local action ./path, without @ref', async () => {
    assert.deepEqual(parseUses('$/.github/actions/helper'), { kind: 'local', path: '.github/actions/helper' });
    assert.equal(parseUses('$/.github/actions/helper@v1').kind, 'invalid');
    assert.equal(parseUses('$/../outside').kind, 'invalid');
    const r = await importWorkflow(
      { path: '.github/workflows/w.yml', text: 'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: $/.github/actions/helper\n  b:\n    uses: $/.github/workflows/lib.yml\n' },
      noFiles,
    );
    assert.deepEqual(r.problems.map(brief), []);
    const [a, b] = r.pipelines[0].def.jobs;
    assert.deepEqual([a.steps[0].kind, a.steps[0].uses, a.steps[0].unsupported], ['uses', '$/.github/actions/helper', null]);
    assert.equal(b.unsupported, null, 'a reusable workflow of this repository is not "in another repository"');
  });

  it('accepts `${{ insert }}` in a matrix with a mapping or an expression, and says what else is wrong', async () => {
    const ok = await importWorkflow(
      { path: '.github/workflows/w.yml', text: "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        ${{ insert }}: ${{ fromJSON('{\"os\":[1]}') }}\n    steps: [{ run: echo }]\n" },
      noFiles,
    );
    assert.deepEqual(ok.problems.map(brief), []);
    const bad = await importWorkflow(
      { path: '.github/workflows/w.yml', text: 'on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        ${{ insert }}: [1]\n    steps: [{ run: echo }]\n' },
      noFiles,
    );
    assert.deepEqual(bad.problems.map(brief), ['7:24 error: job "a": "strategy": "${{ insert }}" needs a mapping or an expression, not a list']);
  });

  it('keeps each job\'s if as written and continue-on-error: true as an allowed failure', async () => {
    const r = await importWorkflow(
      { path: '.github/workflows/w.yml', text: "on: push\njobs:\n  a:\n    if: github.ref == 'refs/heads/main'\n    continue-on-error: true\n    runs-on: x\n    steps: [{ run: echo }]\n" },
      noFiles,
    );
    const [a] = r.pipelines[0].def.jobs;
    assert.deepEqual([a.if, a.allowFailure, a.unsupported], ["github.ref == 'refs/heads/main'", true, null]);
  });

  it('reads parallel step groups (GitHub, 2026) as their steps, saying they run one after another here', async () => {
    const r = await importWorkflow(
      {
        path: '.github/workflows/w.yml',
        text: `on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: echo before
      - parallel:
          - name: Lint
            run: echo lint
          - id: types
            run: echo types
      - run: echo after
      - parallel: []
      - parallel:
          - parallel: [{ run: echo nested }]
`,
      },
      noFiles,
    );
    assert.deepEqual(r.problems.map(brief), [
      '7:9 info: job "a", step 2: the 2 steps of this parallel group run one after another locally (at the same time on GitHub); when one fails, the group\'s later steps do not run here',
      '13:19 error: job "a", step 4: "parallel" is empty',
      '15:13 error: job "a", step 5, parallel step 1: a parallel group cannot hold another one',
    ]);
    assert.deepEqual(r.pipelines[0].def.jobs[0].steps.map((s) => s.name), ['Run echo before', 'Lint', 'Run echo types', 'Run echo after']);
    assert.equal(r.pipelines[0].def.jobs[0].unsupported, null);
  });

  it('reads background, wait, wait-all and cancel steps; the job is unsupported locally with a located warning', async () => {
    const r = await importWorkflow(
      {
        path: '.github/workflows/w.yml',
        text: `on: push
jobs:
  a:
    runs-on: x
    steps:
      - id: server
        run: npm start
        background: true
      - run: npm test
      - wait: server
      - wait-all:
      - cancel: server
      - wait: [server, nope]
      - cancel: server
        if: failure()
  b:
    runs-on: x
    steps:
      - run: echo plain
`,
      },
      noFiles,
    );
    assert.deepEqual(r.problems.map(brief), [
      '6:9 warning: job "a": background steps (background, wait, wait-all, cancel) do not run locally yet: the job is unsupported locally',
      '13:9 error: job "a": "nope" is not the id of an earlier background step (background: true)',
      '15:9 warning: job "a", step 7: a "cancel" step always runs: GitHub does not take "if" on it; it is ignored',
    ]);
    const [a, b] = r.pipelines[0].def.jobs;
    assert.equal(a.unsupported, 'has background steps (background, wait, wait-all, cancel), which local runs do not run yet');
    assert.deepEqual(a.steps.map((s) => s.name), ['Run npm start', 'Run npm test', 'Wait for server', 'Wait for all background steps', 'Cancel server', 'Wait for server, nope', 'Cancel server']);
    assert.equal(b.unsupported, null);
  });
});
