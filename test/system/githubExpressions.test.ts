// The bash half of "GitHub run scripts: values from outside the workflow" (test/unit/githubExpressions.test.ts):
// substituted scripts run by a real bash, to show outside values arrive intact and inert.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { evaluate, parseExpression, type EvalScope, type ValueObject } from '../../src/core/github/expressions';
import { chooseShell, substituteScript } from '../../src/core/github/script';
import { cleanupTempDirs, tempDir } from '../support/tmp';

describe('GitHub run scripts: values from outside the workflow', () => {
  after(cleanupTempDirs);
  const nasty = `it's "$(touch pwned)" \`touch pwned2\` $HOME \\ ; done`;
  const scopeWith = (value: string): EvalScope => ({
    context: (n) => (n === 'github' ? { ref_name: value } : n === 'matrix' ? ({ os: "lin'ux" } as ValueObject) : undefined),
    trusted: (n) => n === 'matrix',
  });

  /** Runs the substituted script with bash for real and returns what it printed. */
  function run(script: string, value: string): { out: string; dir: string } {
    const shell = chooseShell('bash', 'bash');
    assert.ok(!('error' in shell));
    const sub = substituteScript(script, shell, (e) => evaluate(parseExpression(e), scopeWith(value)));
    assert.ok(!('error' in sub), 'error' in sub ? sub.error : '');
    const dir = tempDir();
    const out = execFileSync('bash', ['-e', '-c', sub.script], { cwd: dir, env: { ...process.env, ...sub.env }, encoding: 'utf8' });
    return { out, dir };
  }

  for (const [where, script] of [
    ['double quotes', 'echo "[${{ github.ref_name }}]"'],
    ['single quotes', "echo '[${{ github.ref_name }}]'"],
    ['a here-document', 'cat <<EOF\n[${{ github.ref_name }}]\nEOF'],
    ['$( ) inside double quotes', 'echo "$(echo \'[${{ github.ref_name }}]\')"'],
  ] as const) {
    it(`passes the value intact and inert in ${where}`, () => {
      const { out, dir } = run(script, nasty);
      assert.equal(out.trim(), `[${nasty}]`);
      assert.deepEqual(fs.readdirSync(dir), [], 'nothing ran');
    });
  }

  it('passes it as words outside quotes, like the text would be', () => {
    const { out, dir } = run('printf "<%s>" ${{ github.ref_name }}', 'a b');
    assert.equal(out, '<a><b>');
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal(run('printf "<%s>" ${{ github.ref_name }}', '$(touch pwned)').out, '<$(touch><pwned)>');
  });
});
