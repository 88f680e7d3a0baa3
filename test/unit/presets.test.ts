// Remote-trigger presets: "last used" is a slot of its own, so a preset the user names "last used" is just a preset;
// the version-1 shape (the magic name among the presets) is migrated on read.
import * as assert from 'node:assert/strict';
import { presetsOf, readPresets, withLastUsed, withSaved } from '../../src/vscode/remote/presets';

const p = (ref: string, env: string) => ({ ref, inputs: { env } });

describe('remote trigger presets', () => {
  it('keeps the last-used inputs apart from a preset named "last used"', () => {
    let store = readPresets(undefined);
    store = withSaved(store, '/w#ci', 'last used', p('main', 'prod'));
    store = withLastUsed(store, '/w#ci', p('dev', 'dev'));
    const mine = presetsOf(store, '/w#ci');
    assert.deepEqual(mine, { lastUsed: p('dev', 'dev'), saved: { 'last used': p('main', 'prod') } });
    assert.deepEqual(readPresets(JSON.parse(JSON.stringify(store))), store, 'what is stored reads back the same');
  });

  it('migrates the version-1 shape: its "last used" entry becomes the slot, the rest stay presets', () => {
    const v1 = { '/w#ci': { 'last used': p('dev', 'dev'), nightly: p('main', 'prod') }, '/w#other': { nightly: p('x', 'y') } };
    assert.deepEqual(readPresets(v1), {
      version: 2,
      pipelines: { '/w#ci': { lastUsed: p('dev', 'dev'), saved: { nightly: p('main', 'prod') } }, '/w#other': { lastUsed: null, saved: { nightly: p('x', 'y') } } },
    });
  });

  it('reads anything unreadable as no presets, and skips malformed entries', () => {
    assert.deepEqual(readPresets('junk'), { version: 2, pipelines: {} });
    assert.deepEqual(readPresets({ '/w#ci': { a: { ref: 1 }, b: p('main', 'x') } }).pipelines['/w#ci'], { lastUsed: null, saved: { b: p('main', 'x') } });
    assert.deepEqual(presetsOf(readPresets(null), '/nope'), { lastUsed: null, saved: {} });
  });
});
