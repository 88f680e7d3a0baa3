import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_MATCHERS, compileMatcher, MATCHER_KEYS, PATTERN_KEYS, readMatcherRefs, type CompiledMatcher } from '../../src/core/problems/matchers';
import { MAX_PROBLEMS, ProblemScanner, resolveProblemFile, type JobPlace, type LogProblem } from '../../src/core/problems/scanner';
import { fileReferences, githubMatcherFile, workflowProblemCommand } from '../../src/core/problems/logText';
import { parseDeliveryConfig } from '../../src/core/config/delivery';

const PLACE: JobPlace = { cwd: '/repo/web', root: '/repo', folder: '/repo' };

function matcher(ref: unknown): CompiledMatcher {
  const r = compileMatcher(ref);
  if ('issues' in r) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.matcher;
}

function scan(ref: unknown, output: string, place = PLACE): LogProblem[] {
  const s = new ProblemScanner([matcher(ref)], place);
  for (const line of output.split('\n')) s.line(line);
  return s.problems;
}

/** file:line:col severity code message, for tables a reader can scan. */
function brief(p: LogProblem): string {
  return `${p.file}:${p.line}:${p.column ?? '-'}${p.endLine ? `-${p.endLine}:${p.endColumn}` : ''} ${p.severity}${p.code ? ` ${p.code}` : ''} ${p.message} [${p.source}]`;
}

// Output as the tools print it (tsc 5, eslint 10 stylish, gcc 13, rustc 1.8x: run on small broken files; go build's
// and MSBuild's as they document it).
const TSC = `bad.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.
bad.ts(2,12): error TS7006: Parameter 'a' implicitly has an 'any' type.
src/util.ts:3:9 - warning TS2304: Cannot find name 'z'.`;
const TSC_PRETTY = "\x1b[96mbad.ts\x1b[0m:\x1b[93m1\x1b[0m:\x1b[93m7\x1b[0m - \x1b[91merror\x1b[0m\x1b[90m TS2322: \x1b[0mType 'string' is not assignable to type 'number'.";
const ESLINT_STYLISH = `
/tmp/m-out/bad.js
  1:5   error    'unused' is assigned a value but never used  no-unused-vars
  1:15  warning  Missing semicolon                            semi
  2:13  error    'undefinedThing' is not defined              no-undef

/tmp/m-out/other.js
  7:1  warning  Unexpected console statement  no-console

✖ 4 problems (2 errors, 2 warnings)
  0 errors and 1 warning potentially fixable with the \`--fix\` option.`;
const GCC = `bad.c: In function ‘main’:
bad.c:1:21: warning: initialization of ‘int’ from ‘char *’ makes integer from pointer without a cast [-Wint-conversion]
    1 | int main(){ int x = "a"; return y; }
      |                     ^~~
bad.c:1:33: error: ‘y’ undeclared (first use in this function)
bad.c:1:33: note: each undeclared identifier is reported only once for each function it appears in
/usr/include/stdio.h:12:1: fatal error: missing.h: No such file or directory`;
const GO = `# example.com/app
./main.go:9:2: undefined: fmt.Printn
internal/store/db.go:31:14: cannot use n (variable of type int) as string value in argument to open`;
const RUSTC = `error[E0308]: mismatched types
 --> src/main.rs:1:26
  |
1 | fn main() { let x: i32 = "a"; }
  |                    ---   ^^^ expected \`i32\`, found \`&str\`

warning: unused variable: \`y\`
 --> src/lib.rs:4:9`;
const MSBUILD = `  1>C:\\src\\app\\Program.cs(10,17,10,22): error CS0103: The name 'foo' does not exist in the current context
Program.cs(3): warning CS0168: The variable 'e' is declared but never used`;

describe('problem matchers', () => {
  it('$tsc: tsc output, plain and pretty (colours), relative to the job\'s working directory', () => {
    assert.deepEqual(scan('$tsc', `${TSC}\n${TSC_PRETTY}`).map(brief), [
      "/repo/web/bad.ts:1:7 error 2322 Type 'string' is not assignable to type 'number'. [ts]",
      "/repo/web/bad.ts:2:12 error 7006 Parameter 'a' implicitly has an 'any' type. [ts]",
      "/repo/web/src/util.ts:3:9 warning 2304 Cannot find name 'z'. [ts]",
      "/repo/web/bad.ts:1:7 error 2322 Type 'string' is not assignable to type 'number'. [ts]",
    ]);
  });

  it('$eslint-stylish: a file line, then a problem per line (a loop), file after file', () => {
    assert.deepEqual(scan('$eslint-stylish', ESLINT_STYLISH).map(brief), [
      "/tmp/m-out/bad.js:1:5 error no-unused-vars 'unused' is assigned a value but never used [eslint]",
      '/tmp/m-out/bad.js:1:15 warning semi Missing semicolon [eslint]',
      "/tmp/m-out/bad.js:2:13 error no-undef 'undefinedThing' is not defined [eslint]",
      '/tmp/m-out/other.js:7:1 warning no-console Unexpected console statement [eslint]',
    ]);
  });

  it('$eslint-compact, $gcc (notes are info, a line without column), $go, $rustc (two lines), $msCompile (a location group)', () => {
    assert.deepEqual(scan('$eslint-compact', "src/a.js: line 50, col 11, Error - 'myVar' is defined but never used. (no-unused-vars)").map(brief), [
      "/repo/src/a.js:50:11 error no-unused-vars 'myVar' is defined but never used. [eslint]",
    ]);
    assert.deepEqual(scan('$gcc', GCC).map(brief), [
      '/repo/web/bad.c:1:21 warning initialization of ‘int’ from ‘char *’ makes integer from pointer without a cast [-Wint-conversion] [gcc]',
      '/repo/web/bad.c:1:33 error ‘y’ undeclared (first use in this function) [gcc]',
      '/repo/web/bad.c:1:33 info each undeclared identifier is reported only once for each function it appears in [gcc]',
      '/usr/include/stdio.h:12:1 error missing.h: No such file or directory [gcc]',
    ]);
    assert.deepEqual(scan('$go', GO).map(brief), [
      '/repo/web/main.go:9:2 error undefined: fmt.Printn [go]',
      '/repo/web/internal/store/db.go:31:14 error cannot use n (variable of type int) as string value in argument to open [go]',
    ]);
    assert.deepEqual(scan('$rustc', RUSTC).map(brief), [
      '/repo/web/src/main.rs:1:26 error E0308 mismatched types [rustc]',
      '/repo/web/src/lib.rs:4:9 warning unused variable: `y` [rustc]',
    ]);
    assert.deepEqual(scan('$msCompile', MSBUILD, { cwd: 'C:/src', root: 'C:/src', folder: 'C:/src' }).map((p) => [p.line, p.column, p.endLine, p.endColumn, p.severity, p.code]), [
      [10, 17, 10, 22, 'error', 'CS0103'],
      [3, null, null, null, 'warning', 'CS0168'],
    ]);
  });

  it('inline matchers: VS Code\'s defaults for one pattern, base, file problems, a loop that ends on a line that starts the next problem', () => {
    // One pattern with no groups named: file 1, line 2, column 3, message 0 (the whole match).
    assert.deepEqual(scan({ owner: 'x', pattern: { regexp: '^(\\S+):(\\d+):(\\d+) oops$' } }, 'a.txt:3:4 oops').map(brief), ['/repo/a.txt:3:4 error a.txt:3:4 oops [x]']);
    assert.deepEqual(scan({ base: '$tsc', owner: 'mine', severity: 'warning' }, 'b.ts(4,2): error TS1: no').map(brief), ['/repo/web/b.ts:4:2 error 1 no [ts]']);
    assert.deepEqual(
      scan({ owner: 'f', severity: 'warning', fileLocation: 'absolute', pattern: { regexp: '^MISSING (.+): (.*)$', kind: 'file', file: 1, message: 2 } }, 'MISSING /etc/x.conf: licence header').map(brief),
      ['/etc/x.conf:1:- warning licence header [f]'],
    );
    const twoFiles = scan(
      { owner: 'lint', pattern: [{ regexp: '^FILE (.+)$', file: 1 }, { regexp: '^  (\\d+): (.+)$', line: 1, message: 2, loop: true }] },
      'FILE a.py\n  1: one\n  2: two\nFILE b.py\n  9: nine\nnoise\n  5: orphan',
    );
    assert.deepEqual(twoFiles.map(brief), ['/repo/a.py:1:- error one [lint]', '/repo/a.py:2:- error two [lint]', '/repo/b.py:9:- error nine [lint]']);
    // Without a loop a multi-line pattern gives one problem per run of lines, and a broken run starts again.
    const pairs = scan({ owner: 'p', fileLocation: ['relative', '${cwd}/lib'], pattern: [{ regexp: '^E: (.+)$', message: 1 }, { regexp: '^at (.+):(\\d+)$', file: 1, line: 2 }] }, 'E: one\nat x.js:1\nE: lost\nE: two\nat y.js:2\nat z.js:3');
    assert.deepEqual(pairs.map(brief), ['/repo/web/lib/x.js:1:- error one [p]', '/repo/web/lib/y.js:2:- error two [p]']);
  });

  it('paths of a job in a workspace of its own are the same paths in the user\'s folder', () => {
    const place = { cwd: '/state/runs/r1/workspaces/build/web', root: '/state/runs/r1/workspaces/build', folder: '/home/me/repo' };
    const abs = { kind: 'absolute' } as const;
    assert.equal(resolveProblemFile('src/a.ts', { kind: 'relative', base: '${cwd}' }, place), '/home/me/repo/web/src/a.ts');
    assert.equal(resolveProblemFile('/state/runs/r1/workspaces/build/lib/b.c', abs, place), '/home/me/repo/lib/b.c');
    assert.equal(resolveProblemFile('/usr/include/c.h', { kind: 'autoDetect', base: '${cwd}' }, place), '/usr/include/c.h');
    assert.equal(resolveProblemFile('../d.go', { kind: 'relative', base: '${workspaceFolder}/cmd' }, place), '/home/me/repo/d.go');
  });

  it('bad matchers are reported with where in the matcher they are', () => {
    const issues = (v: unknown) => readMatcherRefs(v).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(issues('$tcs'), [`: unknown problem matcher "$tcs"; built-in: ${Object.keys(BUILTIN_MATCHERS).join(', ')}`]);
    assert.match(issues(['$tsc', 'eslint-stylish'])[0], /^1: unknown problem matcher "eslint-stylish" \(did you mean "\$eslint-stylish"\?\)/);
    assert.deepEqual(issues({ owner: 'x', pattern: { regexp: '^(a' } }), ['pattern.regexp: problem matcher pattern: "regexp" is not a valid regular expression: Invalid regular expression: /^(a/: Unterminated group']);
    assert.deepEqual(issues({ owner: 'x', pattern: { regexp: '^(a)$', file: 1, line: 2, message: 1 } }), ['pattern.line: problem matcher pattern: "line" names group 2, but the expression has 1 group']);
    assert.deepEqual(issues({ pattern: [{ regexp: 'a', loop: true }, { regexp: '(b)', file: 1, line: 1, message: 0 }] }), [
      'owner: problem matcher: "owner" must be a non-empty string',
      'pattern.0.loop: problem matcher pattern: only the last pattern may "loop"',
    ]);
    assert.deepEqual(issues({ owner: 'x', pattern: [{ regexp: '(a)', line: 1 }], fileLocation: 'nearby', colour: 1 }), [
      'colour: problem matcher: unknown key "colour" (known: base, owner, source, severity, fileLocation, pattern)',
      'fileLocation: problem matcher: "fileLocation" must be absolute, relative, autoDetect or search, or [relative|autoDetect, "<folder>"], not "nearby"',
      'pattern: problem matcher: no pattern says which group holds the file ("file")',
      'pattern: problem matcher: no pattern says which group holds the message ("message")',
    ]);
    assert.deepEqual(issues({ owner: 'x', pattern: '$tsc' }), ['pattern: problem matcher: named patterns ("$tsc") are not supported; use "base": "$…" to start from a built-in matcher']);
  });

  it('delivery.yml problemMatcher: names and inline matchers reach the job, mistakes are located', () => {
    const cfg = parseDeliveryConfig(`version: 1
pipelines:
  ci:
    jobs:
      build:
        run: npm run build
        problemMatcher: [$tsc, { owner: lint, pattern: { regexp: "^(.+):(\\\\d+) (.*)$", file: 1, line: 2, message: 3 } }]
      lint:
        run: npm run lint
        problemMatcher: $eslint-stylish
      bad:
        run: make
        problemMatcher:
          - $gcc
          - $tsx
          - owner: x
            pattern:
              regexp: "^(a"
`);
    assert.deepEqual(cfg.pipelines[0].jobs.map((j) => j.problemMatchers), [
      ['$tsc', { owner: 'lint', pattern: { regexp: '^(.+):(\\d+) (.*)$', file: 1, line: 2, message: 3 } }],
      ['$eslint-stylish'],
      ['$gcc'],
    ]);
    assert.deepEqual(
      cfg.problems.map((p) => `${p.line}:${p.column} ${p.message.replace(/; built-in: .*/, '')}`),
      ['15:13 job "bad": unknown problem matcher "$tsx" (did you mean "$tsc"?)', '18:23 job "bad": problem matcher pattern: "regexp" is not a valid regular expression: Invalid regular expression: /^(a/: Unterminated group'],
    );
  });

  it('the JSON schema names the same built-in matchers and keys as the reader', () => {
    const schema = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../media/schema/delivery.schema.json'), 'utf8'));
    assert.deepEqual([...schema.definitions.problemMatcherName.enum].sort(), Object.keys(BUILTIN_MATCHERS).sort());
    assert.deepEqual(Object.keys(schema.definitions.problemPattern.properties).sort(), [...PATTERN_KEYS].sort());
    assert.deepEqual(Object.keys(schema.definitions.problemMatcher.oneOf[1].properties).sort(), [...MATCHER_KEYS].sort());
    // Every built-in compiles.
    for (const name of Object.keys(BUILTIN_MATCHERS)) assert.ok('matcher' in compileMatcher(name), name);
  });

  it('a job keeps at most MAX_PROBLEMS problems and counts the rest, a retry starts over; a long line is matched on its head', () => {
    const s = new ProblemScanner([matcher('$tsc')], PLACE);
    for (let i = 0; i < MAX_PROBLEMS + 10; i++) s.line(`a.ts(${i + 1},1): error TS1: x`);
    assert.equal(s.problems.length, MAX_PROBLEMS);
    assert.equal(s.dropped, 10);
    // A retry starts over, a multi-line pattern half-way too.
    const lint = new ProblemScanner([matcher('$eslint-stylish')], PLACE);
    lint.line('/r/a.js');
    lint.line('  1:1  error  x  rule');
    lint.restart();
    lint.line('  2:2  error  y  rule');
    assert.deepEqual([lint.problems.length, lint.dropped], [0, 0]);
    const t = new ProblemScanner([matcher('$tsc')], PLACE);
    t.line(`a.ts(1,1): error TS1: ${'y'.repeat(100_000)}`);
    assert.equal(t.problems.length, 1);
    assert.ok(t.problems[0].message.length <= 2001);
  });
});

describe('log text', () => {
  it('file references: path:line:col and path(line,col), not URLs or times', () => {
    const refs = (s: string) => fileReferences(s).map((r) => `${s.slice(r.start, r.end)} → ${r.file} ${r.line}:${r.column ?? '-'}`);
    assert.deepEqual(refs('src/app.ts(3,7): error TS2322: no'), ['src/app.ts(3,7) → src/app.ts 3:7']);
    assert.deepEqual(refs('  at run (/home/me/repo/lib/run.js:12:5)'), ['/home/me/repo/lib/run.js:12:5 → /home/me/repo/lib/run.js 12:5']);
    assert.deepEqual(refs('./main.go:9:2: undefined: x and pkg/db.go:31'), ['./main.go:9:2 → ./main.go 9:2', 'pkg/db.go:31 → pkg/db.go 31:-']);
    assert.deepEqual(refs('GET http://localhost:8080/x.js:3 at 12:30:01, version 1.2:3'), []);
  });

  it('GitHub workflow commands about problems', () => {
    assert.deepEqual(workflowProblemCommand('::error file=src/a.ts,line=3,col=7,endColumn=9,title=Type%3A bad::Type mismatch%0Ahere'), {
      kind: 'annotation', severity: 'error', file: 'src/a.ts', line: 3, column: 7, endLine: null, endColumn: 9, title: 'Type: bad', message: 'Type mismatch\nhere',
    });
    assert.equal(workflowProblemCommand('::warning::no file, no place'), null);
    assert.deepEqual(workflowProblemCommand('::add-matcher::/actions/setup-node/.github/tsc.json'), { kind: 'add-matcher', file: '/actions/setup-node/.github/tsc.json' });
    assert.deepEqual(workflowProblemCommand('::remove-matcher owner=tsc::'), { kind: 'remove-matcher', owner: 'tsc' });
    assert.equal(workflowProblemCommand('::set-output name=a::b'), null);
    // A matcher file as actions/setup-node ships them.
    const file = githubMatcherFile({ problemMatcher: [{ owner: 'tsc', pattern: [{ regexp: '^(?:\\s+\\d+>)?([^\\s].*)\\((\\d+|\\d+,\\d+|\\d+,\\d+,\\d+,\\d+)\\)\\s*:\\s+(error|warning|info)\\s+(\\w{1,2}\\d+)\\s*:\\s*(.*)$', file: 1, location: 2, severity: 3, code: 4, message: 5 }] }] });
    assert.deepEqual(file.errors, []);
    const s = new ProblemScanner(file.matchers, PLACE);
    s.line('web/src/a.ts(4,2): error TS2304: Cannot find name');
    assert.deepEqual(s.problems.map(brief), ['/repo/web/src/a.ts:4:2 error TS2304 Cannot find name [tsc]']);
    assert.deepEqual(githubMatcherFile({ problemMatcher: [{ owner: 'x', pattern: [{ regexp: '(' }] }] }).errors.length, 1);
  });
});
