// Starting a CommonJS bundle from a V8 code cache: Node 20 has no module.enableCompileCache, and compiling the CLI
// bundle is a good part of what a short `delivery run` costs. The first run of each command compiles the bundle as
// usual and, as it exits, saves what V8 compiled (the functions that command used); later runs load that instead of
// parsing and compiling again. The cache is only a speed-up: any doubt about it means compiling as usual.
//
// Safety: V8 itself rejects data from another V8 version, other flags or a source of another length; a stamp of the
// bundle (size, mtime, ctime, inode) and of the runtime guards against a same-length change. The file is written
// atomically (temp + rename, mode 0600) and read only when owned by this user and not writable by others.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

export type CodeCacheOutcome =
  /** No cache directory: compiled as usual. */
  | 'off'
  /** No usable cache (none yet, another bundle or runtime, not trusted): compiled, and saved at exit. */
  | 'missing'
  /** V8 refused the data: compiled, and saved again at exit. */
  | 'rejected'
  /** Loaded from the cache. */
  | 'accepted';

export interface CodeCacheOptions {
  /** Where caches live (created 0700 when needed); null: no cache. */
  dir: string | null;
  /** What this run does (a command name): each gets its own cache, holding the functions it runs. */
  key: string;
}

/**
 * Runs `bundle` (CommonJS) as the body of `module` — so `require.main === module` holds in it when `module` is the
 * main module — compiled from the code cache when a valid one exists. Returns what happened with the cache.
 */
export function runWithCodeCache(bundle: string, module: NodeJS.Module, opts: CodeCacheOptions): CodeCacheOutcome {
  const file = opts.dir === null ? null : path.join(opts.dir, `${fnv1a(path.resolve(bundle))}-${/^[a-z][a-z0-9-]{0,30}$/.test(opts.key) ? opts.key : 'default'}.v8cache`);
  // Stamped before it is read: a change while reading makes the next run's stamp differ, never match old code.
  const stamp = file === null ? '' : bundleStamp(bundle);
  const source = fs.readFileSync(bundle, 'utf8');
  // The same wrapper Node's CommonJS loader uses: the bundle's line numbers stay its own.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source.startsWith('#!') ? `//${source}` : source}\n});`;
  const cachedData = file === null ? undefined : readCache(file, stamp);
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  const outcome: CodeCacheOutcome = file === null ? 'off' : cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted';
  // Saved as the process exits: by then V8 has compiled every function this command ran. Not after bad usage or
  // a broken file (exit 2): that run stopped early, and its cache would lack most of what the command runs.
  if (file !== null && outcome !== 'accepted') process.once('exit', (code) => code <= 1 && writeCache(file, stamp, script));
  const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;
  fn.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  return outcome;
}

/** What must not have changed for a cache to be used: the runtime and the bundle file. */
function bundleStamp(bundle: string): string {
  const st = fs.statSync(bundle);
  return JSON.stringify([process.version, process.versions.v8, process.arch, st.size, st.mtimeMs, st.ctimeMs, st.ino]);
}

/** The cached data after its stamp line, when the file is this user's, not writable by others, and stamped alike. */
function readCache(file: string, stamp: string): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    const euid = process.geteuid?.(); // undefined on Windows, whose files have no such owner and mode
    if (!st.isFile() || (euid !== undefined && (st.uid !== euid || (st.mode & 0o022) !== 0))) return undefined;
    const data = fs.readFileSync(fd);
    const nl = data.indexOf(10);
    if (nl < 0 || data.toString('utf8', 0, nl) !== stamp) return undefined;
    return data.subarray(nl + 1);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function writeCache(file: string, stamp: string, script: vm.Script): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${stamp}\n`), script.createCachedData()]), { mode: 0o600 });
    fs.renameSync(tmp, file);
    pruneOld(path.dirname(file));
  } catch {
    // A read-only or full disk: the next run compiles as usual.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing to remove
    }
  }
}

/**
 * Caches of copies no longer run (an updated extension lives in a new folder) go after 30 days. A cache in use is
 * never rewritten, so it may go too: its command then compiles once more and saves it again.
 */
function pruneOld(dir: string): void {
  const before = Date.now() - 30 * 24 * 3600_000;
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.v8cache')) continue;
    const p = path.join(dir, name);
    if (fs.statSync(p).mtimeMs < before) fs.rmSync(p, { force: true });
  }
}

/** A short, stable name for a bundle's path (32-bit FNV-1a): one cache per installed copy. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
