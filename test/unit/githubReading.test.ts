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
});
