import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { handleCommandLine, newEffects, parseEnvFile } from '../../src/core/github/commands';
import {
  ExpressionError,
  LazyObject,
  Unknown,
  evaluate,
  evaluateTemplate,
  parseExpression,
  type EvalScope,
  type Value,
  type ValueObject,
} from '../../src/core/github/expressions';
import { expandMatrix } from '../../src/core/github/matrix';
import { chooseShell, substituteScript } from '../../src/core/github/script';

const contexts: Record<string, Value> = {
  github: { ref: 'refs/heads/main', event_name: 'push', event: { issue: { labels: [{ name: 'bug' }, { name: 'UI' }, { other: 1 }] } } },
  env: { NAME: 'World', EMPTY: '' },
  matrix: { node: 18, os: 'Linux', list: [1, 2, 3] },
  secrets: new LazyObject('secrets', (k) => (k === 'KNOWN' ? 's3cret' : new Unknown(`secrets.${k} is not available to local runs`))),
  steps: { build: { outputs: { version: '1.2.3' }, outcome: 'success' } },
};

function scope(status = { success: true, failure: false, cancelled: false }, trusted: string[] = ['matrix']): EvalScope {
  return {
    context: (name) => contexts[name],
    trusted: (name) => trusted.includes(name),
    status: { success: () => status.success, failure: () => status.failure, cancelled: () => status.cancelled },
  };
}

const ev = (text: string, s: EvalScope = scope()) => evaluate(parseExpression(text), s).value;

describe('GitHub expressions', () => {

  it('evaluates literals, property access and indexes case-insensitively', () => {
    assert.equal(ev("'it''s'"), "it's");
    assert.equal(ev('0xff'), 255);
    assert.equal(ev('-9.5'), -9.5);
    assert.equal(ev('2.99e-2'), 0.0299);
    assert.equal(ev('null'), null);
    assert.equal(ev('TRUE'), true);
    assert.equal(ev('GitHub.REF'), 'refs/heads/main');
    assert.equal(ev("github['event_name']"), 'push');
    assert.equal(ev('matrix.list[1]'), 2);
    assert.equal(ev('matrix.list[7]'), null);
    assert.equal(ev('matrix.missing.deeper'), null);
    assert.equal(ev('steps.build.outputs.version'), '1.2.3');
  });

  it('follows GitHub loose equality and ordering', () => {
    assert.equal(ev("'abc' == 'ABC'"), true, 'strings compare without case');
    assert.equal(ev("null == ''"), true, 'null and empty string are both 0');
    assert.equal(ev("'1' == 1"), true);
    assert.equal(ev("'true' == true"), false, "'true' is NaN as a number; true is 1");
    assert.equal(ev('true == 1'), true);
    assert.equal(ev("'' == 0"), true);
    assert.equal(ev("' 2 ' == 2"), true, 'whitespace around a number is allowed');
    assert.equal(ev("'0x10' == 16"), true);
    assert.equal(ev("'abc' != 'abd'"), true);
    assert.equal(ev('matrix.list == matrix.list'), true, 'the same array');
    assert.equal(ev("fromJSON('[1]') == fromJSON('[1]')"), false, 'arrays equal only to themselves');
    assert.equal(ev("fromJSON('{}') == 'Object'"), false);
    assert.equal(ev("'b' > 'A'"), true, 'ordering ignores case too');
    assert.equal(ev('1 < 2 && 2 <= 2 && 3 >= 2 && !(2 > 3)'), true);
    assert.equal(ev("'10' < 9"), false, "'10' is coerced to a number");
    assert.equal(ev('NaN == NaN'), false);
  });

  it('returns operands from && and ||, with GitHub truthiness', () => {
    assert.equal(ev("env.EMPTY || 'fallback'"), 'fallback');
    assert.equal(ev("env.NAME && 'yes'"), 'yes');
    assert.equal(ev("0 || null || ''"), '');
    assert.equal(ev("!''"), true);
    assert.equal(ev('!matrix.list'), false, 'arrays are truthy');
    assert.equal(ev("(matrix.node == 18 || false) && '0' || '1'"), '0');
    assert.equal(ev("matrix.node == 16 && '0' || '1'"), '1');
  });

  it('has the built-in functions', () => {
    assert.equal(ev("contains('Hello world', 'WORLD')"), true);
    assert.equal(ev("contains(fromJSON('[\"push\", \"pull_request\"]'), github.event_name)"), true);
    assert.equal(ev("contains(fromJSON('[1, 2]'), '2')"), true, 'array items compare loosely');
    assert.equal(ev("startsWith(github.ref, 'REFS/heads')"), true);
    assert.equal(ev("endsWith('Hello world', 'o1')"), false);
    assert.equal(ev("format('{0} {{literal}} {1}{0}', 'a', 'b')"), 'a {literal} ba');
    assert.throws(() => ev("format('{1}', 'a')"), /no argument/);
    assert.equal(ev("join(matrix.list, '-')"), '1-2-3');
    assert.equal(ev('join(matrix.list)'), '1,2,3');
    assert.equal(ev("join('one')"), 'one');
    assert.equal(ev("toJSON(fromJSON('{\"a\":[1,true,null]}'))"), '{\n  "a": [\n    1,\n    true,\n    null\n  ]\n}');
    assert.throws(() => ev("fromJSON('{nope')"), /not valid JSON/);
    assert.deepEqual(ev('github.event.issue.labels.*.name'), ['bug', 'UI']);
    assert.equal(ev("contains(github.event.issue.labels.*.name, 'ui')"), true);
  });

  it('evaluates status functions from the scope', () => {
    assert.equal(ev('success()'), true);
    assert.equal(ev('failure()', scope({ success: false, failure: true, cancelled: false })), true);
    assert.equal(ev('always() && !cancelled()'), true);
    assert.throws(() => evaluate(parseExpression('success()'), { context: () => undefined }), /not available here/);
  });

  it('rejects bad syntax, unknown functions and unknown contexts with a position', () => {
    const err = (text: string) => {
      try {
        parseExpression(text);
      } catch (e) {
        assert.ok(e instanceof ExpressionError);
        return `${e.pos}: ${e.message}`;
      }
      assert.fail(`${text} parsed`);
    };
    assert.match(err('github.ref =='), /unexpected end/);
    assert.match(err("contains('a')"), /takes 2 arguments, not 1/);
    assert.match(err('frobnicate(1)'), /^0: unknown function frobnicate/);
    assert.match(err('1 == foo.bar'), /^5: unrecognized named-value "foo"/);
    assert.match(err("'open"), /unterminated string/);
    assert.match(err('a.b c'), /unrecognized|unexpected/);
  });

  it('fails with the reason when a value is not known locally', () => {
    assert.throws(() => ev('secrets.NPM_TOKEN'), /secrets.NPM_TOKEN is not available to local runs/);
    assert.throws(() => ev("secrets.NPM_TOKEN || 'default'"), /not available/, 'never silently the fallback');
    assert.equal(ev('secrets.KNOWN'), 's3cret');
    assert.throws(() => ev('toJSON(secrets)'), /cannot be listed/);
    assert.throws(() => ev("hashFiles('**/package-lock.json')"), /hashFiles\(\) is not available here/);
  });

  it('keeps the type of a sole ${{ }} and joins mixed templates as text', () => {
    assert.deepEqual(evaluateTemplate('${{ matrix.list }}', scope()).value, [1, 2, 3]);
    assert.equal(evaluateTemplate('  ${{ matrix.node }}  ', scope()).value, 18);
    assert.equal(evaluateTemplate('node-${{ matrix.node }}-${{ matrix.list }}', scope()).value, 'node-18-Array');
    assert.equal(evaluateTemplate("${{ '}}' }}", scope()).value, '}}', 'a }} inside a string does not end the expression');
    assert.equal(evaluateTemplate('no expressions', scope()).value, 'no expressions');
    assert.throws(() => evaluateTemplate('${{ github.ref', scope()), /not closed/);
  });

  it('marks values from outside the workflow file as tainted', () => {
    const t = (text: string) => evaluateTemplate(text, scope()).tainted;
    assert.equal(t('${{ matrix.os }}'), false, 'matrix values from the file');
    assert.equal(t('${{ github.ref }}'), true);
    assert.equal(t("${{ format('{0}-{1}', matrix.os, github.ref) }}"), true);
    assert.equal(t("${{ github.ref == 'x' }}"), false, 'a boolean cannot carry text');
    assert.equal(t("${{ 'literal' }}"), false);
  });
});

describe('GitHub matrices', () => {
  const literal = (s: string) => ({ value: s, tainted: false });

  it('expands include and exclude as GitHub documents it', () => {
    const m = expandMatrix(
      {
        fruit: ['apple', 'pear'],
        animal: ['cat', 'dog'],
        include: [{ color: 'green' }, { color: 'pink', animal: 'cat' }, { fruit: 'apple', shape: 'circle' }, { fruit: 'banana' }, { fruit: 'banana', animal: 'cat' }],
      },
      literal,
    );
    assert.ok('combinations' in m);
    assert.deepEqual(
      m.combinations.map((c) => c.values),
      [
        { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
        { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
        { fruit: 'pear', animal: 'cat', color: 'pink' },
        { fruit: 'pear', animal: 'dog', color: 'green' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    );
    const ex = expandMatrix({ os: ['linux', 'mac'], node: [4, 6], exclude: [{ os: 'mac', node: 4 }] }, literal);
    assert.ok('combinations' in ex);
    assert.deepEqual(ex.combinations.map((c) => c.label), ['linux, 4', 'linux, 6', 'mac, 6']);
  });

  it('evaluates expressions, splicing a list into a list', () => {
    const s: EvalScope = { context: () => undefined };
    const m = expandMatrix({ a: [{ env: { key: "${{ 'val' }}1" } }, "${{ fromJSON('[2, 3]') }}"] }, (x) => evaluateTemplate(x, s));
    assert.ok('combinations' in m);
    assert.deepEqual(m.combinations.map((c) => c.values.a), [{ env: { key: 'val1' } }, 2, 3]);
    const whole = expandMatrix("${{ fromJSON('{\"p\": [\"x\", \"y\"]}') }}", (x) => evaluateTemplate(x, s));
    assert.ok('combinations' in whole);
    assert.equal(whole.combinations.length, 2);
  });

  it('inserts the keys of a mapping where "${{ insert }}" stands (GitHub\'s insert directive), in matrices and include entries', () => {
    const s: EvalScope = { context: (n) => (n === 'needs' ? { setup: { outputs: { axes: '{"os":["linux","mac"],"node":[20]}', extra: '{"flag":true}' } } } : undefined) };
    const m = expandMatrix(
      { '${{ insert }}': '${{ fromJSON(needs.setup.outputs.axes) }}', arch: ['x64'], include: [{ os: 'mac', '${{insert}}': '${{ fromJSON(needs.setup.outputs.extra) }}' }] },
      (x) => evaluateTemplate(x, s),
    );
    assert.ok('combinations' in m, JSON.stringify(m));
    assert.deepEqual(m.combinations.map((c) => c.values), [
      { os: 'linux', node: 20, arch: 'x64' },
      { os: 'mac', node: 20, arch: 'x64', flag: true },
    ]);
    assert.deepEqual(m.combinations.map((c) => c.label), ['linux, 20, x64', 'mac, 20, x64, true']);
    assert.deepEqual(expandMatrix({ '${{ insert }}': "${{ fromJSON('[1]') }}" }, (x) => evaluateTemplate(x, s)), { error: 'matrix: "${{ insert }}" needs a mapping, not a list' });
    assert.deepEqual(expandMatrix({ os: ['a'], '${{ insert }}': { OS: ['b'] } }, literal), { error: 'matrix: "OS" is already defined (inserted by "${{ insert }}")' });
  });

  it('reports empty and malformed matrices', () => {
    assert.deepEqual(expandMatrix({ os: 'linux' }, literal), { error: 'matrix "os" must be a list, not the string "linux"' });
    assert.match((expandMatrix({ os: ['a'], exclude: [{ os: 'a' }] }, literal) as { error: string }).error, /no combinations/);
    assert.match((expandMatrix({ n: Array.from({ length: 300 }, (_, i) => i) }, literal) as { error: string }).error, /at most 256/);
  });
});

describe('GitHub workflow commands and step files', () => {
  it('reads ::set-output, ::set-env (only when allowed), ::add-path and ::stop-commands', () => {
    const eff = newEffects();
    for (const line of ['::set-output name=v::a%0Ab%25', '::set-env name=FOO::bar', '::add-path::/opt/bin', '::stop-commands::tok', '::set-output name=ignored::x', '::tok::', '  ::set-output name=w::2']) {
      handleCommandLine(line, eff, true);
    }
    assert.deepEqual(eff.outputs, { v: 'a\nb%', w: '2' });
    assert.deepEqual(eff.env, { FOO: 'bar' });
    assert.deepEqual(eff.paths, ['/opt/bin']);
    const refused = newEffects();
    handleCommandLine('::set-env name=FOO::bar', refused, false);
    assert.deepEqual(refused.env, {});
    assert.match(refused.notes[0], /set-env is disabled/);
  });

  it('parses GITHUB_ENV lines and heredoc blocks', () => {
    assert.deepEqual(parseEnvFile('A=1\nB=x=y\nC<<EOF\nline 1\nline 2\nEOF\n\nD<<ghadelimiter_1\n\nghadelimiter_1\n'), { values: { A: '1', B: 'x=y', C: 'line 1\nline 2', D: '' } });
    assert.match((parseEnvFile('X<<EOF\nnever closed') as { error: string }).error, /not closed/);
    assert.match((parseEnvFile('just text') as { error: string }).error, /neither NAME=value/);
  });
});

describe('GitHub run scripts: values from outside the workflow', () => {
  const scopeWith = (value: string): EvalScope => ({
    context: (n) => (n === 'github' ? { ref_name: value } : n === 'matrix' ? ({ os: "lin'ux" } as ValueObject) : undefined),
    trusted: (n) => n === 'matrix',
  });

  it('pastes values from the workflow file as text, as GitHub does', () => {
    const shell = chooseShell('bash', 'bash') as Exclude<ReturnType<typeof chooseShell>, { error: string }>;
    const sub = substituteScript("echo '${{ matrix.os }}'", shell, (e) => evaluate(parseExpression(e), scopeWith('x')));
    assert.deepEqual(sub, { script: "echo 'lin'ux'", env: {} });
  });

  it('refuses outside values in shells where a variable cannot be placed safely', () => {
    const py = chooseShell('python', 'bash') as Exclude<ReturnType<typeof chooseShell>, { error: string }>;
    const sub = substituteScript('print("${{ github.ref_name }}")', py, (e) => evaluate(parseExpression(e), scopeWith('x')));
    assert.ok('error' in sub && /not pasted into a python script/.test(sub.error), JSON.stringify(sub));
    const bash = chooseShell(null, 'bash') as Exclude<ReturnType<typeof chooseShell>, { error: string }>;
    const quoted = substituteScript("cat <<'EOF'\n${{ github.ref_name }}\nEOF", bash, (e) => evaluate(parseExpression(e), scopeWith('x')));
    assert.ok('error' in quoted && /quoted here-document/.test(quoted.error));
  });

  it('knows GitHub shells', () => {
    assert.deepEqual(chooseShell(null, 'bash'), { argv: ['bash', '-e', '{0}'], extension: '.sh', kind: 'posix', label: 'bash' });
    assert.deepEqual((chooseShell('bash', 'sh') as { argv: string[] }).argv, ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '{0}']);
    assert.deepEqual((chooseShell(null, 'sh') as { argv: string[] }).argv, ['sh', '-e', '{0}']);
    assert.deepEqual((chooseShell("pwsh -v '. {0}'", 'bash') as { argv: string[] }).argv, ['pwsh', '-v', '. {0}']);
    assert.deepEqual(chooseShell('perl', 'bash'), { error: 'custom shell "perl" must contain {0} (where the script file goes)' });
    assert.match((chooseShell('cmd', 'bash') as { error: string }).error, /only on Windows/);
    assert.equal(path.basename((chooseShell('python', 'bash') as { argv: string[] }).argv[0]), 'python3');
  });
});
