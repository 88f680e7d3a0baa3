// Reading a version probe's answer (core/environments/status.ts): pure. The probes against real targets (HTTP,
// commands, git) are in test/system/probes.test.ts.
import * as assert from 'node:assert/strict';
import { extractVersion, jsonPath } from '../../src/core/environments/status';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('version probes', () => {
  describe('reading the answer', () => {
    it('follows JSON dot paths through objects and arrays, and says which part is missing', () => {
      const doc = { data: { sha: SHA }, build: [{ rev: 'v1.2.3' }] };
      assert.deepEqual(jsonPath(doc, 'data.sha'), { found: true, value: SHA });
      assert.deepEqual(jsonPath(doc, 'build.0.rev'), { found: true, value: 'v1.2.3' });
      assert.deepEqual(jsonPath(doc, 'build.1.rev'), { found: false, missing: 'build.1' });
      assert.deepEqual(extractVersion(JSON.stringify(doc), { json: 'data.commit', regex: null }), { error: 'the JSON answer has no "data.commit"' });
      assert.deepEqual(extractVersion(JSON.stringify(doc), { json: 'data', regex: null }), { error: '"data" in the JSON answer is an object, not a commit' });
      assert.deepEqual(extractVersion(`rev=${SHA}\n`, { json: null, regex: 'rev=([0-9a-f]+)' }), { value: SHA });
      assert.deepEqual(extractVersion(`  ${SHA}\n`, { json: null, regex: null }), { value: SHA });
    });

    it('treats what a target says as data: only revision-like values pass', () => {
      for (const bad of ['--upload-pack=touch /tmp/x', 'HEAD@{1}', 'a..b', 'two words', '$(id)', 'x'.repeat(300)]) {
        const r = extractVersion(bad, { json: null, regex: null });
        assert.ok('error' in r && /not a commit SHA or tag/.test(r.error), `${bad}: ${JSON.stringify(r)}`);
      }
      assert.deepEqual(extractVersion('v1.2.3', { json: null, regex: null }), { value: 'v1.2.3' });
    });
  });
});
