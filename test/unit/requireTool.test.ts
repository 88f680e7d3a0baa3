// The one skip helper (test/support/requireTool.ts): on a developer's machine a missing tool skips the test with the
// reason; under CI=true it fails the test, so a green CI never hides a suite that did not run.
import * as assert from 'node:assert/strict';
import type { Context } from 'mocha';
import { requireAvailable, requireTool, skipWithoutOptionalTool } from '../support/requireTool';

class Skipped extends Error {}

/** A mocha context whose skip() throws as mocha's does (so nothing after it runs), and console.log captured. */
function harness(ci: string | undefined, fn: (ctx: Context) => void): { skipped: boolean; thrown: Error | null; printed: string[] } {
  const saved = { ci: process.env.CI, log: console.log };
  const printed: string[] = [];
  let skipped = false;
  let thrown: Error | null = null;
  const ctx = {
    skip(): never {
      skipped = true;
      throw new Skipped('skip');
    },
  } as unknown as Context;
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
  console.log = (...args: unknown[]) => void printed.push(args.join(' '));
  try {
    fn(ctx);
  } catch (e) {
    if (!(e instanceof Skipped)) thrown = e as Error;
  } finally {
    console.log = saved.log;
    if (saved.ci === undefined) delete process.env.CI;
    else process.env.CI = saved.ci;
  }
  return { skipped, thrown, printed };
}

const MISSING = 'OpenSSH is not installed (/usr/sbin/sshd)';

describe('requireTool: skips on a developer machine, fails under CI', () => {
  it('CI unset: skips the test and prints why', () => {
    const r = harness(undefined, (ctx) => requireTool(ctx, MISSING));
    assert.equal(r.thrown, null);
    assert.equal(r.skipped, true);
    assert.deepEqual(r.printed, [`      skipped: ${MISSING}`]);
  });

  it('CI=true: fails the test with the reason and where to get the tool, and does not skip', () => {
    const r = harness('true', (ctx) => requireTool(ctx, MISSING));
    assert.equal(r.skipped, false);
    assert.ok(r.thrown, 'it throws');
    assert.match(r.thrown.message, /^required under CI \(CI=true\), but OpenSSH is not installed \(\/usr\/sbin\/sshd\); test\/harness\/setup\.sh installs/);
  });

  it('does nothing when the tool is there (null, empty or false), under CI or not', () => {
    for (const ci of [undefined, 'true']) {
      for (const missing of [null, undefined, '', false] as const) {
        const r = harness(ci, (ctx) => requireTool(ctx, missing));
        assert.deepEqual(r, { skipped: false, thrown: null, printed: [] }, `CI=${ci} missing=${String(missing)}`);
      }
    }
  });

  it('requireAvailable says which tool is not available', () => {
    assert.equal(harness(undefined, (ctx) => requireAvailable(ctx, true, 'rsync')).skipped, false);
    assert.deepEqual(harness(undefined, (ctx) => requireAvailable(ctx, false, 'rsync')).printed, ['      skipped: rsync is not available']);
    assert.match(harness('true', (ctx) => requireAvailable(ctx, false, 'rsync')).thrown?.message ?? '', /but rsync is not available/);
  });

  it('an allow-listed optional tool (pwsh) stays pending with its reason, under CI too', () => {
    for (const ci of [undefined, 'true']) {
      const r = harness(ci, (ctx) => skipWithoutOptionalTool(ctx, 'pwsh', false));
      assert.equal(r.thrown, null);
      assert.equal(r.skipped, true);
      assert.match(r.printed[0] ?? '', /skipped: pwsh is not installed \(PowerShell is not packaged by Debian/);
    }
    assert.equal(harness('true', (ctx) => skipWithoutOptionalTool(ctx, 'pwsh', true)).skipped, false);
  });
});
