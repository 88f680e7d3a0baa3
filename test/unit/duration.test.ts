import * as assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/core/duration';
import { formatDuration as sharedFormatDuration } from '../../src/shared/duration';

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
    assert.equal(formatDuration(-5), '0ms');
    assert.equal(formatDuration(12_000), '12s');
    assert.equal(formatDuration(3_599_999), '59m 59s');
  });
  it('has one formatter, shared by core and the webview', () => {
    // core re-exports the shared one (webview/ can only import src/shared): same function, not a copy
    assert.equal(formatDuration, sharedFormatDuration);
  });
});
