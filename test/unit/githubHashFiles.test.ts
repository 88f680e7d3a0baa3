// hashFiles() patterns as the runner's @actions/glob reads them, and hashFiles() in expressions through the port.
import * as assert from 'node:assert/strict';
import { hashFilesRequest, matchKind, MatchKind, partialMatch } from '../../src/core/github/hashFiles';
import { evaluateTemplate, type EvalScope } from '../../src/core/github/expressions';

const WS = '/home/runner/work/app';
const req = (...args: string[]) => hashFilesRequest(args, WS, '/home/runner');
const kind = (r: ReturnType<typeof req>, rel: string) => matchKind(r.patterns, rel.startsWith('/') ? rel : `${WS}/${rel}`);

describe('GitHub hashFiles(): patterns', () => {
  it('roots relative patterns at the workspace and matches at any depth with **, dot files included', () => {
    const r = req('**/package-lock.json');
    assert.deepEqual(r.searchPaths, [WS]);
    assert.equal(kind(r, 'package-lock.json'), MatchKind.All);
    assert.equal(kind(r, 'a/b/package-lock.json'), MatchKind.All);
    assert.equal(kind(r, '.hidden/package-lock.json'), MatchKind.All);
    assert.equal(kind(r, 'a/package.json'), MatchKind.None);
    assert.equal(partialMatch(r.patterns, `${WS}/a`), true);
  });

  it('takes one pattern a line, skips comments, applies negations in order, and a folder pattern covers what is below it', () => {
    const r = req('src\n# a comment\n!src/gen/**', 'docs/*.md');
    assert.equal(kind(r, 'src/a.ts'), MatchKind.All);
    assert.equal(kind(r, 'src/gen/x.ts'), MatchKind.None);
    assert.equal(kind(r, 'docs/a.md'), MatchKind.All);
    assert.equal(kind(r, 'docs/sub/a.md'), MatchKind.None);
    assert.deepEqual(r.searchPaths, [`${WS}/src`, `${WS}/docs`]);
    // A later positive pattern takes back an earlier negation.
    assert.equal(kind(req('!a.txt', '*.txt'), 'a.txt'), MatchKind.All);
    assert.equal(kind(req('*.txt', '!a.txt'), 'a.txt'), MatchKind.None);
  });

  it('walks a search path once when another one is below it, and starts at the literal part of each pattern', () => {
    assert.deepEqual(req('a/*', 'a/b/*', 'c/d.txt').searchPaths, [`${WS}/a`, `${WS}/c/d.txt`]);
    assert.deepEqual(req('a/b/*', 'a/*').searchPaths, [`${WS}/a`]);
    assert.deepEqual(req(`${WS}/x/*.lock`).searchPaths, [`${WS}/x`]);
  });

  it('reads ?, [sets], escapes, ./ and ~ as the runner does; no braces', () => {
    assert.equal(kind(req('file?.txt'), 'file1.txt'), MatchKind.All);
    assert.equal(kind(req('file[0-9].txt'), 'file7.txt'), MatchKind.All);
    assert.equal(kind(req('file[!0-9].txt'), 'file7.txt'), MatchKind.None);
    assert.equal(kind(req('a\\*b'), 'a*b'), MatchKind.All);
    assert.equal(kind(req('a\\*b'), 'axb'), MatchKind.None);
    assert.equal(kind(req('{a,b}.txt'), 'a.txt'), MatchKind.None);
    assert.equal(kind(req('{a,b}.txt'), '{a,b}.txt'), MatchKind.All);
    assert.equal(kind(req('./x.txt'), 'x.txt'), MatchKind.All);
    assert.deepEqual(req('~/.npmrc').searchPaths, ['/home/runner/.npmrc']);
    // A trailing slash: the folder and what is below it (the runner adds `build/**`, which matches `build` too).
    const dirs = req('build/');
    assert.equal(dirs.patterns[0].match(`${WS}/build`), MatchKind.Directory);
    assert.equal(kind(dirs, 'build/out.js'), MatchKind.All);
  });

  it('refuses . and .. segments and empty patterns with the reason', () => {
    assert.throws(() => req('../x'), /relative pathing '\.' and '\.\.' is not allowed/);
    assert.throws(() => req('a/./b'), /relative pathing/);
    assert.throws(() => req('!'), /is empty/);
    assert.equal(req('--follow-symbolic-links', 'x').followSymbolicLinks, true);
    assert.equal(req('x').followSymbolicLinks, false);
  });
});

describe('GitHub hashFiles(): in expressions', () => {
  const calls: string[][] = [];
  const scope: EvalScope = {
    context: (n) => (n === 'matrix' ? { dir: 'pkg' } : undefined),
    hashFiles: (args) => {
      calls.push(args);
      return args[0] === 'none' ? '' : 'ab'.repeat(32);
    },
  };

  it('passes the evaluated arguments to the port and returns its digest, untainted', () => {
    const r = evaluateTemplate("key-${{ hashFiles(format('{0}/package-lock.json', matrix.dir), 'x') }}", scope);
    assert.deepEqual(calls.at(-1), ['pkg/package-lock.json', 'x']);
    assert.deepEqual(r, { value: `key-${'ab'.repeat(32)}`, tainted: false });
    assert.equal(evaluateTemplate("${{ hashFiles('none') != '' }}", scope).value, false);
  });

  it('fails with the pattern and the reason when the port refuses', () => {
    const failing: EvalScope = { context: () => undefined, hashFiles: () => { throw new Error("hashFiles: invalid pattern '../x': relative pathing '.' and '..' is not allowed"); } };
    assert.throws(() => evaluateTemplate("${{ hashFiles('../x') }}", failing), /hashFiles\('\.\.\/x'\): invalid pattern '\.\.\/x': relative pathing/);
    assert.throws(() => evaluateTemplate("${{ hashFiles('x') }}", { context: () => undefined }), /hashFiles\(\) is not available here/);
  });
});
