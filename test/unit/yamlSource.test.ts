// The one YAML reader: limits, positions and messages, the same for delivery.yml, GitHub workflows and GitLab CI.
import * as assert from 'node:assert/strict';
import { YamlFile } from '../../src/core/config/yamlFile';
import { AliasBudget, MAX_ALIAS_VALUES, MAX_CONFIG_BYTES, YamlSource } from '../../src/core/config/yamlSource';
import { parseGitlabYaml, Problems } from '../../src/core/gitlab/yaml';

describe('YAML source (one reader for every pipeline file)', () => {
  it('turns offsets into 1-based lines and columns, clamped to the text', () => {
    const s = new YamlSource('a: 1\nbb: 2\n\nc: 3', { uniqueKeys: true });
    assert.deepEqual(s.pos(0), { line: 1, column: 1 });
    assert.deepEqual(s.pos(5), { line: 2, column: 1 });
    assert.deepEqual(s.pos(8), { line: 2, column: 4 });
    assert.deepEqual(s.pos(11), { line: 3, column: 1 });
    assert.deepEqual(s.pos(12), { line: 4, column: 1 });
    assert.deepEqual(s.pos(-3), { line: 1, column: 1 });
    assert.deepEqual(s.pos(999), { line: 4, column: 5 });
    // an empty span still covers one character; an end before the start is the start
    assert.deepEqual(s.span(5), { line: 2, column: 1, endLine: 2, endColumn: 2 });
    assert.deepEqual(s.span(5, 7), { line: 2, column: 1, endLine: 2, endColumn: 3 });
    assert.deepEqual(s.span(8, 2), { line: 2, column: 4, endLine: 2, endColumn: 5 });
  });

  const refusals: [string, string, string, { line: number; column: number }][] = [
    ['too large', 'a: ' + 'x'.repeat(MAX_CONFIG_BYTES), `file is too large (${Math.round((MAX_CONFIG_BYTES + 3) / 1024)} KB; the limit is 2048 KB)`, { line: 1, column: 1 }],
    ['binary', 'a: 1\n\u0000', 'file is binary (contains NUL bytes), not YAML', { line: 1, column: 1 }],
    ['not UTF-8', 'a: 1\nb: caf\uFFFD\n', 'file is not valid UTF-8', { line: 2, column: 7 }],
  ];
  for (const [name, text, message, at] of refusals) {
    it(`refuses a ${name} file before parsing, with the same message for every reader`, () => {
      const s = new YamlSource(text, { uniqueKeys: true });
      assert.deepEqual(s.refused && { message: s.refused.message, at: s.pos(s.refused.offset) }, { message, at });
      assert.equal(s.documents.length, 0);
      const f = new YamlFile('delivery.yml', text);
      assert.deepEqual(f.problems.map((p) => [p.line, p.column, p.message]), [[at.line, at.column, message]]);
      const problems = new Problems();
      assert.equal(parseGitlabYaml('.gitlab-ci.yml', text, problems).ok, false);
      assert.deepEqual(problems.list.map((p) => [p.line, p.column, p.message]), [[at.line, at.column, message]]);
    });
  }

  it('reports library errors located and without the library position suffix', () => {
    const s = new YamlSource('a: 1\na: 2\n', { uniqueKeys: true });
    assert.equal(s.hasErrors, true);
    assert.equal(s.diagnostics.length, 1);
    const d = s.diagnostics[0]!;
    assert.equal(d.severity, 'error');
    assert.match(d.message, /^Map keys must be unique/);
    assert.doesNotMatch(d.message, /at line \d+/);
    assert.deepEqual(s.pos(d.pos[0]), { line: 2, column: 1 });
    // GitLab allows repeated keys: the library says nothing, its reader warns
    assert.equal(new YamlSource('a: 1\na: 2\n', { uniqueKeys: false }).hasErrors, false);
  });

  it('reads several documents when asked, anchors and merges included', () => {
    const s = new YamlSource('spec:\n  inputs: {}\n---\nbase: &b {x: 1}\njob:\n  <<: *b\n  y: 2\n', { multi: true, uniqueKeys: false });
    assert.equal(s.documents.length, 2);
    assert.deepEqual(s.documents[1]!.toJS(), { base: { x: 1 }, job: { x: 1, y: 2 } });
    assert.equal(new YamlSource('# only a comment\n', { multi: true, uniqueKeys: false }).documents.length, 0);
  });

  it('bounds what aliases expand into: reported once at the limit, then spent', () => {
    const b = new AliasBudget();
    for (let i = 1; i < MAX_ALIAS_VALUES; i++) assert.equal(b.take(), 'ok');
    assert.equal(b.take(), 'exceeded');
    assert.equal(b.overdrawn, false);
    assert.equal(b.take(), 'spent');
    assert.equal(b.overdrawn, true);
    // a "billion laughs" GitLab file stops at the limit with that message
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]', 'f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]'].join('\n');
    const problems = new Problems();
    assert.equal(parseGitlabYaml('.gitlab-ci.yml', bomb, problems).ok, false);
    assert.deepEqual(problems.list.map((p) => p.message), [AliasBudget.message]);
  });
});
