// The quick look that lets most `run:` scripts skip the bash arithmetic scan (src/core/github/script.ts): it may
// only skip a script where the scan finds nothing, and the located warnings stay where they were.
import * as assert from 'node:assert/strict';
import { importWorkflow } from '../../src/core/github/importer';
import { arithmeticReferences, mayHaveArithmetic } from '../../src/core/github/script';
import type { ImportContext } from '../../src/core/sources';

const noFiles: ImportContext = { readFile: async () => null, listFiles: async () => [] };

describe('GitHub run: scripts: the arithmetic scan is skipped only where it finds nothing', () => {
  it('never skips a script the scan finds an arithmetic place in', () => {
    const scanned = [
      'let n=${X}',
      'let "n = ${X} + 1"',
      'local -i n; n=${X}',
      'typeset -i n=${X}',
      'export -i n=${X}',
      'declare -i n=${X}',
      'echo $(( ${X} + 1 ))',
      '(( ${X} > 0 ))',
      'echo $[ ${X} ]',
      '[[ ${X} -gt 0 ]]',
      'a[${X}]=1',
      'echo ${s:${X}}',
    ];
    for (const script of scanned) {
      assert.ok(arithmeticReferences(script).has('X'), `the scan finds X in ${script}`);
      assert.ok(mayHaveArithmetic(script), `not skipped: ${script}`);
    }
  });

  it('skips plain scripts (most of them)', () => {
    for (const script of ['echo ${X}', 'make build LEVEL=${X}', './deploy.sh staging ${X}', 'echo "version=1.${X}" >> "$GITHUB_OUTPUT"', 'npm ci && npm test']) {
      assert.deepEqual([...arithmeticReferences(script)], [], script);
      assert.equal(mayHaveArithmetic(script), false, script);
    }
  });

  it('still warns, located, where an expression stands in arithmetic, and not in a plain script', async () => {
    const text = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: let n=${{ github.event.number }}+1', //                line 6
      '      - run: echo ${{ github.event.number }}',
      '',
    ].join('\n');
    const r = await importWorkflow({ path: '.github/workflows/w.yml', text }, noFiles);
    const warned = r.problems.filter((p) => /evaluates arithmetic/.test(p.message)).map((p) => `${p.line}:${p.column}`);
    assert.deepEqual(warned, ['6:20']);
  });
});
