import * as assert from 'node:assert/strict';
import { wrapText } from '../../src/core/wrap';

describe('wrapText (tree rows)', () => {
  it('keeps short text whole and breaks long text at spaces', () => {
    assert.deepEqual(wrapText('no version', 40), ['no version']);
    assert.deepEqual(wrapText('could not read the version: connect ECONNREFUSED 127.0.0.1:8080', 30), [
      'could not read the version:',
      'connect ECONNREFUSED',
      '127.0.0.1:8080',
    ]);
  });
  it('cuts a word longer than a line, keeps line breaks, drops empty ones', () => {
    assert.deepEqual(wrapText('x https://example.invalid/a/very/long/path end', 12), ['x', 'https://exam', 'ple.invalid/', 'a/very/long/', 'path end']);
    assert.deepEqual(wrapText('first\n\nsecond  line', 40), ['first', 'second line']);
    assert.deepEqual(wrapText('', 10), ['']);
  });
});
