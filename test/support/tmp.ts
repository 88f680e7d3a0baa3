// Temporary folders and small process helpers for tests.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localPlanIO } from '../../src/adapters/files';
import type { PlanIO } from '../../src/core/sources';

const made: string[] = [];

// Tests never fetch actions from GitHub (nor run GitHub's code): remote actions resolve against a host that does not
// exist, with a cache of their own, unless a test names its own host (a local git repository it serves).
process.env.DELIVERY_ACTIONS_HOST ??= 'file:///nonexistent/delivery-test-actions-host';
const TEST_ACTIONS_CACHE = path.join(os.tmpdir(), `delivery-test-actions-cache-${process.pid}`);
process.env.DELIVERY_ACTIONS_CACHE ??= TEST_ACTIONS_CACHE;

export function tempDir(prefix = 'delivery-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** localPlanIO whose scratch folders (GITHUB_ENV files, file variables) `cleanupTempDirs` removes, as a run removes its own. */
export const testPlanIO: PlanIO = { ...localPlanIO, tempDir: async (prefix) => tempDir(prefix.replace(/[^A-Za-z0-9_-]/g, '_')) };

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(TEST_ACTIONS_CACHE, { recursive: true, force: true });
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.invalid' },
  }).trim();
}

/** A fresh repository with the given files committed on branch main. */
export function gitRepo(files: Record<string, string>, message = 'initial'): string {
  const dir = tempDir('delivery-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return dir;
}

/** Alive and not a zombie. */
export { alive as isAlive } from './targets/common';

export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 10000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
