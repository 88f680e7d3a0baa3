// The one way a test says "this needs something the machine may not have" (sshd, docker, buildbot, root,
// ../shared/conformance, …). On a developer's machine the test skips with the reason printed; under CI (CI=true, as
// .ci/run sets) it fails, so a green CI run never hides a suite that did not run. test/harness/setup.sh installs
// everything the system tier needs.
import type { Context } from 'mocha';

/**
 * `missing` is why the test cannot run here (a sentence naming what is missing and how to get it), or null/undefined/''
 * when everything is there. Call it at the top of a test or in a `before` hook (then the whole suite skips or fails).
 */
export function requireTool(ctx: Context, missing: string | null | undefined | false): void {
  if (!missing) return;
  if (process.env.CI === 'true') {
    throw new Error(`required under CI (CI=true), but ${missing}; test/harness/setup.sh installs what the system tier needs`);
  }
  console.log(`      skipped: ${missing}`);
  ctx.skip();
}

/** requireTool for a yes/no check: `what` names the missing tool and how to get it. */
export function requireAvailable(ctx: Context, available: boolean, what: string): void {
  requireTool(ctx, available ? null : `${what} is not available`);
}

/**
 * The allow-list of tools a test may lack even under CI, each with the reason test/harness/setup.sh does not install
 * it. A test that needs one of them stays pending (with the reason) where it is missing, CI included.
 */
export const OPTIONAL_TOOLS = {
  pwsh: 'PowerShell is not packaged by Debian, so test/harness/setup.sh does not install it; pwsh steps run where it is installed',
} as const;

/** Skips (everywhere, CI included) when `tool`, one of OPTIONAL_TOOLS, is not `present`. */
export function skipWithoutOptionalTool(ctx: Context, tool: keyof typeof OPTIONAL_TOOLS, present: boolean): void {
  if (present) return;
  console.log(`      skipped: ${tool} is not installed (${OPTIONAL_TOOLS[tool]})`);
  ctx.skip();
}
