import * as assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/core/duration';

describe('durations', () => {
  it('parses what pipeline files say', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1h 30m'), 5_400_000);
    assert.equal(parseDuration('45s'), 45_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration(90), 90_000);
    assert.equal(parseDuration('1.5s'), 1500);
  });
  it('refuses malformed and zero durations', () => {
    for (const bad of ['', 'ten', '10 minutes', '5x', 'm5', '0s', 0, -3, '10m foo']) assert.equal(parseDuration(bad), null, String(bad));
  });
  it('formats durations compactly', () => {
    assert.equal(formatDuration(12), '12ms');
    assert.equal(formatDuration(1234), '1.2s');
    assert.equal(formatDuration(65_000), '1m 05s');
    assert.equal(formatDuration(3_720_000), '1h 02m');
  });
});
