// git's config format as src/adapters/gitFiles.ts reads it (test/system/gitFacts.test.ts compares it with git itself).
import * as assert from 'node:assert/strict';
import { parseGitConfig } from '../../src/adapters/gitFiles';

const entries = (text: string) => parseGitConfig(text)?.map((e) => (e.value === null ? e.name : `${e.name}=${e.value}`)) ?? null;

describe('git config files', () => {
  it('reads sections, subsections and values as git does', () => {
    const cases: Array<[string, string[]]> = [
      ['[user]\n\tname = Ann Lee\n\temail = ann@example.invalid\n', ['user.name=Ann Lee', 'user.email=ann@example.invalid']],
      ['[remote "origin"]\n\turl = git@host:team/app.git\n', ['remote.origin.url=git@host:team/app.git']],
      // Section and key names are case-insensitive (lower-cased); a quoted subsection keeps its case, the old form does not.
      ['[Remote "Origin"]\n\tURL = x\n[remote.UP]\n\turl = y\n', ['remote.Origin.url=x', 'remote.up.url=y']],
      // Comments after a value, quotes keeping spaces and comment characters, escapes, a continued line.
      ['[s]\n\ta = v ; c\n\tb = "  x ; y  " # c\n\tc = say \\"hi\\"\\tnow\n\td = one\\\n  two\n', ['s.a=v', 's.b=  x ; y  ', 's.c=say "hi"\tnow', 's.d=one  two']],
      // A key on the header's line, a key with no value, an empty value, CRLF endings, a BOM, no final newline.
      ['\ufeff[user] name = A\r\n\tflag\r\n\tempty =\r\n\tlast = z', ['user.name=A', 'user.flag', 'user.empty=', 'user.last=z']],
      // Runs of whitespace inside a value become single spaces per character; trailing ones go.
      ['[s]\n\tk =  two  words\tand  \n', ['s.k=two  words and']],
      ['[s "a\\"b\\\\c"]\n\tk = v\n', ['s.a"b\\c.k=v']],
      ['# only a comment\n\n; another\n', []],
    ];
    for (const [text, expected] of cases) assert.deepEqual(entries(text), expected, JSON.stringify(text));
  });

  it('is null where git reports a bad config line (the caller then asks git)', () => {
    for (const bad of [
      'k = v\n', // no section
      '[s]\n\tk = bad\\q\n', // unknown escape
      '[s]\n\tk = "unterminated\n',
      '[s\n\tk = v\n', // unclosed header
      '[s "sub]\n',
      '[s "sub"x]\n',
      '[s]\n\t1k = v\n', // a key must start with a letter
      '[s]\n\tk v\n',
      '[s]\n\tk # comment\n',
    ]) assert.equal(parseGitConfig(bad), null, JSON.stringify(bad));
  });
});
