// The bad-input catalogue's harness: each case is a fresh folder (a git repository unless the case says otherwise)
// whose state directory already holds an earlier run and an earlier deploy, so every case can show that its bad
// input ran nothing ("ran-*" and "pwned" markers stay absent) and lost nothing (the earlier records still read).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileDeployStore } from '../../src/adapters/deploy/history';
import { FileRunStore } from '../../src/adapters/runStore';
import { folderStateDir } from '../../src/adapters/stateDir';
import { git, tempDir, writeFiles } from './tmp';

export const CLI = path.resolve(__dirname, '../../src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The compiled CLI as a user runs it; killed (and reported) if it outlives `timeoutMs`. */
export function cli(cwd: string, stateRoot: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, DELIVERY_STATE_DIR: stateRoot, GIT_TERMINAL_PROMPT: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: signal ? `${stderr}\n[killed by ${signal}: the CLI hung]` : stderr });
    });
  });
}

export type RepoState = 'commit' | 'none' | 'empty';

/** A folder with `files`: committed on main (default), not a repository, or a repository without commits. */
export function caseFolder(files: Record<string, string | Buffer>, state: RepoState = 'commit'): string {
  const dir = tempDir('delivery-catalogue-');
  for (const [rel, content] of Object.entries(files)) {
    if (typeof content === 'string') writeFiles(dir, { [rel]: content });
    else {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
  }
  if (state === 'none') return dir;
  git(dir, 'init', '-q', '-b', 'main');
  if (state === 'empty') return dir;
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'catalogue case');
  return dir;
}

const SEED_YML = `version: 1
pipelines:
  seed:
    jobs:
      hello: { run: "echo seeded" }
environments:
  seeded:
    deploy: { command: "echo deployed" }
`;

/** What every case's state directory starts with: one real run and one real deploy, made by the CLI. */
export interface SeedHistory {
  /** A folder state directory holding them (copied into each case's). */
  dir: string;
  runId: string;
  deployId: string;
}

let seed: Promise<SeedHistory> | null = null;

/** Made once and shared by the catalogue's suites (made again when a suite's cleanup removed it). */
export async function seedHistory(): Promise<SeedHistory> {
  const current = seed;
  if (current) {
    const s = await current;
    if (fs.existsSync(s.dir)) return s;
    if (seed === current) seed = null;
  }
  seed ??= (async () => {
    const folder = caseFolder({ 'delivery.yml': SEED_YML });
    const root = tempDir('delivery-catalogue-seed-');
    const run = await cli(folder, root, ['run', 'seed', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const deploy = await cli(folder, root, ['deploy', 'seeded', '--json']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const dir = folderStateDir(folder, root);
    const [r] = await new FileRunStore(dir).list();
    const [d] = await new FileDeployStore(dir).list('seeded');
    return { dir, runId: r.id, deployId: d.id };
  })();
  return seed;
}

/** A state root for `folder` whose folder state directory holds the seeded history. */
export async function seededStateRoot(folder: string): Promise<string> {
  const s = await seedHistory();
  const root = tempDir('delivery-catalogue-state-');
  fs.cpSync(s.dir, folderStateDir(folder, root), { recursive: true });
  return root;
}

/** Nothing lost: the earlier run and deploy still read as they were, every record parses, no lock or temp file stays. */
export async function assertNothingLost(folder: string, stateRoot: string): Promise<void> {
  const s = await seedHistory();
  const dir = folderStateDir(folder, stateRoot);
  const runs = await new FileRunStore(dir).list(1000);
  const earlier = runs.find((r) => r.id === s.runId);
  assert.ok(earlier, `the earlier run ${s.runId} is still listed`);
  assert.equal(earlier.status, 'success');
  for (const id of fs.readdirSync(path.join(dir, 'runs'))) {
    const file = path.join(dir, 'runs', id, 'run.json');
    if (fs.existsSync(file)) JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  const deploys = await new FileDeployStore(dir).list('seeded');
  assert.deepEqual(deploys.map((d) => [d.id, d.status]), [[s.deployId, 'success']]);
  for (const env of fs.readdirSync(path.join(dir, 'deploys'))) {
    for (const id of fs.readdirSync(path.join(dir, 'deploys', env))) {
      const file = path.join(dir, 'deploys', env, id, 'record.json');
      if (fs.existsSync(file)) JSON.parse(fs.readFileSync(file, 'utf8'));
    }
  }
  const locks = path.join(dir, 'locks');
  assert.deepEqual(fs.existsSync(locks) ? fs.readdirSync(locks) : [], [], 'no deploy lock or lock temp file is left');
  assert.deepEqual(leftoverTempFiles(dir), [], 'no temporary file of an atomic write is left');
}

function leftoverTempFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.tmp')) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

/** Files a job, deploy or injected command would have created: `ran-*` and `pwned`, anywhere under `dirs`. */
export function markers(...dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    for (const e of fs.readdirSync(d, { withFileTypes: true, recursive: true })) {
      if (e.name === 'pwned' || e.name.startsWith('ran-')) out.push(path.relative(d, path.join(e.parentPath, e.name)));
    }
  }
  return out.sort();
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of the results. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
