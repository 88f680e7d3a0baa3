// The CLI starts its bundle from a V8 code cache (src/adapters/codeCache.ts, src/cli/launcher.ts): real Node
// processes, real cache files. What matters is that a cache never changes what runs: a changed bundle, a damaged
// or untrusted cache file, all compile as usual and behave the same.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, gitRepo, tempDir } from '../support/tmp';

const ROOT = path.resolve(__dirname, '../../..');
const CODE_CACHE = path.resolve(__dirname, '../../src/adapters/codeCache.js');

/** A launcher like dist/cli.js around runWithCodeCache, printing the outcome; and a bundle with a sibling module. */
function fixture(): { dir: string; bundle: string; cacheDir: string; run(...args: string[]): { out: string; outcome: string; status: number | null } } {
  const dir = tempDir('delivery-codecache-');
  const cacheDir = path.join(dir, 'state', 'code-cache');
  fs.writeFileSync(
    path.join(dir, 'launch.js'),
    `const { runWithCodeCache } = require(${JSON.stringify(CODE_CACHE)});\n` +
      `const dir = process.env.CACHE_DIR === 'off' ? null : process.env.CACHE_DIR;\n` +
      `const outcome = runWithCodeCache(require('path').join(__dirname, 'bundle.js'), module, { dir, key: 'run' });\n` +
      `process.stderr.write('outcome:' + outcome + '\\n');\n`,
  );
  fs.writeFileSync(path.join(dir, 'sibling.js'), 'module.exports = { answer: 42 };\n');
  const bundle = path.join(dir, 'bundle.js');
  writeBundle(bundle, 'AAAA');
  return {
    dir,
    bundle,
    cacheDir,
    run: (...args) => {
      const r = spawnSync(process.execPath, [path.join(dir, 'launch.js'), ...args], { encoding: 'utf8', env: { ...process.env, CACHE_DIR: cacheDir } });
      return { out: r.stdout, outcome: /outcome:(\w+)/.exec(r.stderr)?.[1] ?? `none (${r.stderr})`, status: r.status };
    },
  };
}

function writeBundle(file: string, word: string): void {
  // Enough code for V8 to have something to cache; `word` changes what it prints without changing its length.
  const helpers = Array.from({ length: 50 }, (_, i) => `function helper${i}(x) { return x.map((y) => y * ${i + 1}).filter((y) => y % 3 !== 0).length; }`).join('\n');
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node\n${helpers}\n` +
      `const sibling = require('./sibling.js');\n` +
      `console.log(${JSON.stringify(word)}, sibling.answer, require.main === module, __filename === ${JSON.stringify(file)}, helper7([1, 2, 3, 4]));\n` +
      `if (process.argv[2]) process.exitCode = Number(process.argv[2]);\n`,
  );
}

const cacheFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.v8cache')) : []);

describe('CLI code cache', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  it('compiles once, saves the cache privately, then starts from it with the same behaviour', () => {
    const f = fixture();
    const first = f.run();
    assert.equal(first.outcome, 'missing');
    assert.equal(first.out, 'AAAA 42 true true 3\n', 'require of a sibling, require.main and __filename work as under Node');
    const [file] = cacheFiles(f.cacheDir);
    assert.ok(file, 'a cache file was written');
    assert.equal(fs.statSync(path.join(f.cacheDir, file)).mode & 0o777, 0o600);
    assert.equal(fs.statSync(f.cacheDir).mode & 0o777, 0o700);
    const second = f.run();
    assert.equal(second.outcome, 'accepted');
    assert.equal(second.out, first.out);
  });

  it('never runs old code after the bundle changes, even at the same length and with its old mtime', () => {
    const f = fixture();
    f.run();
    assert.equal(f.run().outcome, 'accepted');
    const before = fs.statSync(f.bundle);
    writeBundle(f.bundle, 'BBBB');
    assert.equal(fs.statSync(f.bundle).size, before.size, 'same length: V8 alone would take the old cache');
    fs.utimesSync(f.bundle, before.atime, before.mtime); // only the ctime tells
    const changed = f.run();
    assert.equal(changed.out, 'BBBB 42 true true 3\n');
    assert.equal(changed.outcome, 'missing');
    assert.equal(f.run().outcome, 'accepted', 'the new bundle gets its own cache');
    assert.equal(f.run().out, 'BBBB 42 true true 3\n');
  });

  it('compiles as usual from a damaged or untrusted cache, and keeps no cache after exit status 2 or when off', () => {
    const f = fixture();
    f.run();
    const file = path.join(f.cacheDir, cacheFiles(f.cacheDir)[0]);
    // Damaged: the stamp line intact, the data cut short. V8 refuses it; the run is unchanged and saves it again.
    const data = fs.readFileSync(file);
    fs.writeFileSync(file, data.subarray(0, data.indexOf(10) + 1 + 200), { mode: 0o600 });
    const damaged = f.run();
    assert.equal(damaged.outcome, 'rejected');
    assert.equal(damaged.out, 'AAAA 42 true true 3\n');
    assert.equal(f.run().outcome, 'accepted');
    // Writable by others: not read.
    fs.chmodSync(file, 0o666);
    assert.equal(f.run().outcome, 'missing');

    const g = fixture();
    assert.equal(g.run('2').status, 2);
    assert.deepEqual(cacheFiles(g.cacheDir), [], 'a run that stopped early (bad usage) saves no cache');
    assert.equal(g.run('1').status, 1);
    assert.equal(cacheFiles(g.cacheDir).length, 1, 'a failed run (exit 1) ran the command: its cache is kept');

    const h = fixture();
    const off = spawnSync(process.execPath, [path.join(h.dir, 'launch.js')], { encoding: 'utf8', env: { ...process.env, CACHE_DIR: 'off' } });
    assert.match(off.stderr, /outcome:off/);
    assert.equal(off.stdout, 'AAAA 42 true true 3\n');
    assert.deepEqual(cacheFiles(h.cacheDir), []);
  });

  it('the built `delivery` runs the same from its cache, including the lazily loaded commands', () => {
    // The production build as `npm run package` makes it, in a folder of its own (dist/ is rebuilt by other work).
    const build = tempDir('delivery-cli-build-');
    for (const name of ['src', 'webview', 'media', 'esbuild.mjs', 'tsconfig.json', 'package.json']) fs.symlinkSync(path.join(ROOT, name), path.join(build, name));
    execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: build, stdio: 'pipe' });
    const cli = path.join(build, 'dist', 'cli.js');
    const repo = gitRepo({ 'delivery.yml': "version: 1\npipelines:\n  ci:\n    jobs:\n      hello: { run: 'echo hello from the job' }\n" });
    const state = tempDir('delivery-cli-state-');
    const env = { ...process.env, DELIVERY_STATE_DIR: state };
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: repo, env, encoding: 'utf8' });
    const stable = (s: string) => s.replace(/\d+(\.\d+)?(ms|s)\b/g, 'T');
    const first = run('run', 'ci');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /hello from the job/);
    const caches = fs.readdirSync(path.join(state, 'code-cache'));
    assert.ok(caches.some((c) => c.endsWith('-run.v8cache')), `a cache for "run" (${caches.join(', ')})`);
    const second = run('run', 'ci');
    assert.equal(second.status, 0, second.stderr);
    assert.equal(stable(second.stdout), stable(first.stdout));
    // A command from the lazily loaded bundle, first compiled, then from the cache.
    for (let i = 0; i < 2; i++) {
      const envs = run('envs', '--json');
      assert.equal(envs.status, 0, envs.stderr);
      assert.deepEqual(JSON.parse(envs.stdout), JSON.parse(run('envs', '--json').stdout));
    }
    const json = run('run', 'ci', '--json');
    assert.equal(JSON.parse(json.stdout).status, 'success');
    // Bad usage still says so (exit 2), from the cache or not.
    assert.equal(run('run', 'nope').status, 2);
    assert.equal(spawnSync(process.execPath, [cli, '--version'], { env: { ...env, DELIVERY_NO_CODE_CACHE: '1' }, encoding: 'utf8' }).stdout.trim(), run('--version').stdout.trim());
  });
});
