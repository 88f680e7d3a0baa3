// File access for the core's ports: globbing inside a folder and reading text. Repository content (pipeline files,
// includes, local actions, reports, artifacts) is read only through readRepoFile and globFiles: a hostile repository
// can commit symlinks to /dev/zero, to a FIFO, to /etc/passwd or to `..`, so every read resolves symlinks, stays
// inside the repository, takes regular files only and reads at most a capped number of bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { execFile } from 'node:child_process';
import type { WorkspaceFiles } from '../core/engine/ports';
import type { PlanIO } from '../core/sources';
import type { Toolchain } from '../core/github/toolchains';
import { hashWorkspaceFiles } from './hashFiles';
import { actionSource } from './actions/gitActions';
import { globBase, globToRegExp } from '../core/glob';

const SKIP_DIRS = new Set(['.git', 'node_modules']);
const MAX_ENTRIES = 50_000;
/** Largest YAML file read: pipeline files, includes, action.yml, project variables. */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;
/** Largest test report read (JUnit XML). */
export const MAX_REPORT_BYTES = 50 * 1024 * 1024;
/** Largest scratch file a step writes for the runner to read (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH). */
const MAX_SCRATCH_BYTES = 16 * 1024 * 1024;

/** A file that exists but is not read: outside the repository, not a regular file, too large. The message says which and why. */
export class RefusedFile extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedFile';
  }
}

/** True when `p` is `root` or below it (both absolute, already resolved). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function mb(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

/** How a repository file is opened: non-blocking (a FIFO cannot hang), never a terminal; `noFollow`: no final symlink. */
function openFlags(noFollow?: boolean): number {
  return fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY | (noFollow ? fs.constants.O_NOFOLLOW : 0);
}

/** Why opening `name` failed, as a refusal when it names one (ELOOP, ENXIO), else the error itself. */
function openFailure(e: unknown, name: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return new RefusedFile(`${name} is a symbolic link that changed while it was read; not read`);
  if (code === 'ENXIO') return new RefusedFile(`${name} is not a regular file; not read`); // a socket
  return e;
}

interface BoundedRead {
  check?: (real: string) => void;
  what?: string;
  noFollow?: boolean;
}

/** The opened file, before anything is read: a regular file (no FIFOs, devices, sockets or folders) within the size. */
function checkOpened(st: fs.Stats, name: string, maxBytes: number, what: string): void {
  if (!st.isFile()) throw new RefusedFile(`${name} is not a regular file; not read`);
  if (st.size > maxBytes) throw new RefusedFile(`${name} is too large${what && ` to be ${what}`} (${mb(st.size)}; the limit is ${mb(maxBytes)}); not read`);
}

/**
 * A file's bytes as they are read: to the end, whatever fstat said (a file may grow, /proc reports 0), but never
 * past maxBytes + 1.
 */
class BoundedBody {
  private readonly chunks: Buffer[] = [];
  private got = 0;
  private ended = false;
  private chunk: Buffer | null = null;

  constructor(
    private readonly size: number,
    private readonly maxBytes: number,
  ) {}

  /** The buffer to read into next (at least 64 KB, what fstat said is left), or null when the file is read. */
  next(): Buffer | null {
    if (this.ended || this.got > this.maxBytes) return null;
    // Only the bytes read are kept: no need to zero the buffer first.
    this.chunk = Buffer.allocUnsafe(Math.min(Math.max(64 * 1024, this.size + 1 - this.got), this.maxBytes + 1 - this.got));
    return this.chunk;
  }

  /** `bytesRead` bytes went into the last buffer; nothing, or a short read at the size fstat gave, is the end. */
  took(bytesRead: number): void {
    const chunk = this.chunk!;
    if (bytesRead === 0) {
      this.ended = true;
      return;
    }
    this.chunks.push(chunk.subarray(0, bytesRead));
    this.got += bytesRead;
    // A short read of a regular file at the size fstat gave is its end: no read more to hear it again.
    this.ended = bytesRead < chunk.length && this.got === this.size;
  }

  bytes(name: string, what: string): Buffer {
    if (this.got > this.maxBytes) throw new RefusedFile(`${name} is too large${what && ` to be ${what}`} (more than ${mb(this.maxBytes)}); not read`);
    return Buffer.concat(this.chunks, this.got);
  }
}

/** Where the platform tells the real path of an opened file (Linux). */
function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/**
 * Reads at most `maxBytes` of a regular file. Opened non-blocking (a FIFO cannot hang the read) and checked with
 * fstat after opening (no FIFOs, devices, sockets or directories); never reads more than maxBytes + 1 bytes, so a
 * file that grows or lies about its size (/proc, /dev/zero) cannot grow memory. `check` sees the opened file's
 * real path (where the platform tells it) before anything is read; `noFollow` refuses a symlink as the last part.
 */
async function readBounded(file: string, name: string, maxBytes: number, opts: BoundedRead = {}): Promise<Buffer> {
  const { check, what = '' } = opts;
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, openFlags(opts.noFollow));
  } catch (e) {
    throw openFailure(e, name);
  }
  try {
    const st = await fh.stat();
    if (check && st.isFile()) {
      // The file opened, not the path checked before: a symlink swapped in between is caught here.
      const real = await fs.promises.readlink(fdPath(fh.fd)).catch(() => null);
      if (real !== null) check(real);
    }
    checkOpened(st, name, maxBytes, what);
    const body = new BoundedBody(st.size, maxBytes);
    for (let chunk = body.next(); chunk; chunk = body.next()) body.took((await fh.read(chunk, 0, chunk.length, null)).bytesRead);
    return body.bytes(name, what);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * readBounded without waiting: the same checks and limits in one go, with the opened file's fstat (taken before
 * anything is read).
 */
function readBoundedSync(file: string, name: string, maxBytes: number, opts: BoundedRead = {}): { bytes: Buffer; stat: fs.Stats } {
  const { check, what = '' } = opts;
  let fd: number;
  try {
    fd = fs.openSync(file, openFlags(opts.noFollow));
  } catch (e) {
    throw openFailure(e, name);
  }
  try {
    const st = fs.fstatSync(fd);
    if (check && st.isFile()) {
      const real = readlinkOrNull(fdPath(fd));
      if (real !== null) check(real);
    }
    checkOpened(st, name, maxBytes, what);
    const body = new BoundedBody(st.size, maxBytes);
    for (let chunk = body.next(); chunk; chunk = body.next()) body.took(fs.readSync(fd, chunk, 0, chunk.length, null));
    return { bytes: body.bytes(name, what), stat: st };
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // Closed already.
    }
  }
}

function readlinkOrNull(link: string): string | null {
  try {
    return fs.readlinkSync(link);
  } catch {
    return null; // not told by this platform
  }
}

/** One decoder for every file (a whole-buffer decode keeps no state between calls). */
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Invalid UTF-8 becomes U+FFFD, which the YAML reader reports with its position. */
function decode(buf: Buffer): string {
  return utf8.decode(buf);
}

/** `rel` inside `root` as an absolute path; RefusedFile when it is not a plain relative path inside it. */
function insidePath(root: string, rel: string): string {
  if (rel.includes('\0')) throw new RefusedFile(`${JSON.stringify(rel)} is not a valid file name; not read`);
  const abs = path.resolve(root, rel);
  if (path.isAbsolute(rel) || !isInside(path.resolve(root), abs)) throw new RefusedFile(`${rel} is outside the repository; not read`);
  return abs;
}

/** A failed realpath: null when the file does not exist, a refusal for a symlink loop, else the error. */
function realpathFailure(e: unknown, rel: string): null {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return null;
  if (code === 'ELOOP') throw new RefusedFile(`${rel} is a symbolic link loop; not read`);
  throw e;
}

function checkedReal(realRoot: string, real: string, rel: string): string {
  if (!isInside(realRoot, real)) throw new RefusedFile(`${rel} resolves outside the repository (-> ${real}); not read`);
  return real;
}

/**
 * Where a path relative to the repository really is: null when it does not exist; RefusedFile when the name is
 * not a plain relative path inside the repository or a symlink on the way leads out of it.
 */
async function resolveInside(root: string, rel: string, realRoot: string): Promise<string | null> {
  const abs = insidePath(root, rel);
  let real: string;
  try {
    real = await fs.promises.realpath(abs);
  } catch (e) {
    return realpathFailure(e, rel);
  }
  return checkedReal(realRoot, real, rel);
}

async function realRootOf(root: string): Promise<string | null> {
  try {
    return await fs.promises.realpath(root);
  } catch {
    return null;
  }
}

/** Checks that the file opened (its real path, where the platform tells it) is inside the repository. */
function openedInside(realRoot: string, rel: string): (opened: string) => void {
  return (opened) => {
    if (!isInside(realRoot, opened)) throw new RefusedFile(`${rel} resolves outside the repository (-> ${opened}); not read`);
  };
}

/**
 * A file of the repository at `root` (path relative to it): its bytes, or null when it does not exist. Rejects
 * with RefusedFile when the file is outside the repository (also through symlinks), not a regular file, or larger
 * than `maxBytes` (`what` the file is meant to be, for that message: "a pipeline file").
 */
export async function readRepoFile(root: string, rel: string, maxBytes = MAX_YAML_BYTES, what = '', knownRealRoot?: string): Promise<Buffer | null> {
  const realRoot = knownRealRoot ?? (await realRootOf(root));
  if (realRoot === null) return null;
  const real = await resolveInside(root, rel, realRoot);
  if (real === null) return null;
  try {
    // `real` has no symlinks left: one found now was swapped in after the check.
    return await readBounded(real, rel, maxBytes, { check: openedInside(realRoot, rel), what, noFollow: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // deleted in between
    throw e;
  }
}

/**
 * readRepoText in one go, without waiting for the thread pool (each of its six file operations would), with the
 * file's fstat taken before it was read: for reading many small files (a folder's pipeline files and their
 * includes, at most MAX_YAML_BYTES each), where the waits cost more than the reads. `realRoot`: the root's real path.
 */
/**
 * The real path of `p` by the system's realpath (fs.realpathSync.native); by Node's own where something replaced
 * fs.realpathSync without it (a tracer or a mock in the same process: the editor's extension host is shared).
 */
export function realpathNow(p: string): string {
  const native = (fs.realpathSync as { native?: (p: string) => string }).native;
  return typeof native === 'function' ? native(p) : fs.realpathSync(p);
}

export function readRepoTextSync(root: string, rel: string, realRoot: string, maxBytes = MAX_YAML_BYTES, what = ''): { text: string; stat: fs.Stats } | null {
  const abs = insidePath(root, rel);
  let real: string;
  try {
    real = checkedReal(realRoot, realpathNow(abs), rel);
  } catch (e) {
    if (e instanceof RefusedFile) throw e;
    return realpathFailure(e, rel);
  }
  try {
    const { bytes, stat } = readBoundedSync(real, rel, maxBytes, { check: openedInside(realRoot, rel), what, noFollow: true });
    return { text: decode(bytes), stat };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // deleted in between
    throw e;
  }
}

/** readRepoFile as text. `realRoot`: the root's real path when the caller knows it (one look-up for many files). */
export async function readRepoText(root: string, rel: string, maxBytes = MAX_YAML_BYTES, what = '', realRoot?: string): Promise<string | null> {
  const buf = await readRepoFile(root, rel, maxBytes, what, realRoot);
  return buf === null ? null : decode(buf);
}

/**
 * Relative paths (forward slashes) of the regular files under `root` that match any of the globs. Nothing outside
 * the repository is listed: patterns that leave it (`../x`, `/etc/*`) and matches whose symlinks lead out of it are
 * left out and told to `onRefused`; symlinked directories are not walked.
 */
export async function globFiles(root: string, patterns: readonly string[], onRefused?: (why: string, rel: string) => void): Promise<string[]> {
  const out = new Set<string>();
  const realRoot = await realRootOf(root);
  if (realRoot === null) return [];
  const refuse = (why: string, rel: string) => onRefused?.(why, rel);
  /** A symlink (or a file named without wildcards): listed when it resolves to a regular file inside the root. */
  const addChecked = async (rel: string): Promise<void> => {
    try {
      const real = await resolveInside(root, rel, realRoot);
      if (real === null) return;
      const st = await fs.promises.stat(real);
      if (st.isFile()) out.add(rel);
      else if (!st.isDirectory()) refuse(`${rel} is not a regular file; not read`, rel);
    } catch (e) {
      if (e instanceof RefusedFile) refuse(e.message, rel);
      // Unreadable: not a match.
    }
  };
  for (const pattern of patterns) {
    const clean = pattern.replace(/^(\.\/)+/, '');
    if (clean.includes('\0') || path.posix.isAbsolute(clean) || path.isAbsolute(clean)) {
      refuse(`${pattern} is outside the repository; not read`, pattern);
      continue;
    }
    const norm = path.posix.normalize(clean);
    if (norm === '..' || norm.startsWith('../')) {
      refuse(`${pattern} leaves the repository (..); not read`, pattern);
      continue;
    }
    if (!/[*?{]/.test(norm)) {
      await addChecked(norm);
      continue;
    }
    const re = globToRegExp(norm);
    const base = globBase(norm);
    const deep = norm.includes('**');
    const depth = norm.split('/').length;
    if (base !== '') {
      // The walk starts at the base folder: it must really be inside the repository.
      try {
        if ((await resolveInside(root, base, realRoot)) === null) continue;
      } catch (e) {
        if (e instanceof RefusedFile) refuse(e.message, base);
        continue;
      }
    }
    let seen = 0;
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (++seen > MAX_ENTRIES) return;
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && (deep || child.split('/').length < depth)) await walk(child);
        } else if (!re.test(child)) continue;
        else if (e.isFile()) out.add(child);
        else if (e.isSymbolicLink()) await addChecked(child);
        else refuse(`${child} is not a regular file; not read`, child); // a FIFO, a socket, a device
      }
    };
    await walk(base);
  }
  return [...out].sort();
}

/** Reports and artifacts of a run: globbed and read inside the run's folder (`root`; the job's cwd when not given). */
export class LocalWorkspaceFiles implements WorkspaceFiles {
  constructor(private readonly root?: string) {}

  async glob(cwd: string, patterns: readonly string[], onRefused?: (why: string) => void, jobRoot?: string): Promise<string[]> {
    const root = path.resolve(jobRoot ?? this.root ?? cwd);
    const from = path.relative(root, path.resolve(cwd));
    if (path.isAbsolute(from) || from === '..' || from.startsWith(`..${path.sep}`)) {
      onRefused?.(`the job's folder ${cwd} is outside the repository; ${patterns.join(', ')} not read`);
      return [];
    }
    const prefix = from === '' ? '' : `${from.split(path.sep).join('/')}/`;
    // A path without wildcards may name a folder (GitLab's `artifacts: paths: [out/]`): its files, at any depth.
    const rooted = patterns.flatMap((p) => {
      const clean = p.replace(/^(\.\/)+/, '');
      const full = path.posix.isAbsolute(clean) ? clean : `${prefix}${clean}`;
      return /[*?{[]/.test(clean) ? [full] : [full.replace(/\/+$/, ''), `${full.replace(/\/+$/, '')}/**`];
    });
    return (await globFiles(root, rooted, onRefused && ((why) => onRefused(why)))).map((r) => path.join(root, r));
  }

  async readText(p: string, jobRoot?: string): Promise<string> {
    const root = path.resolve(jobRoot ?? this.root ?? path.dirname(p));
    const text = await readRepoText(root, path.relative(root, path.resolve(p)), MAX_REPORT_BYTES);
    if (text === null) throw new Error(`${p} does not exist`);
    return text;
  }
}

/** The last `lines` lines of a text file (reads at most the last 64 KB); empty when unreadable. */
export async function readTail(file: string, lines: number): Promise<string[]> {
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) return [];
    const { size } = st;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const text = buf.toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    if (length < size) all.shift(); // first line is probably cut
    return all.slice(-lines);
  } catch {
    return [];
  } finally {
    await fh?.close();
  }
}

/** How each toolchain says its version, and where in the output (java -version writes to stderr). */
const TOOL_PROBES: Record<Toolchain, { command: string; args: string[]; pattern: RegExp }> = {
  node: { command: 'node', args: ['--version'], pattern: /^v?(\d+\.\d+\.\d+)/m },
  python: { command: 'python3', args: ['--version'], pattern: /Python (\d+\.\d+(?:\.\d+)?)/ },
  go: { command: 'go', args: ['version'], pattern: /go version go(\d+(?:\.\d+)*)/ },
  java: { command: 'java', args: ['-version'], pattern: /version "([^"]+)"/ },
};

const toolVersions = new Map<Toolchain, Promise<string | null>>();

/** This machine's version of a toolchain (PlanIO.toolVersion): asked once per process, for 5 s at most. */
export function toolVersion(tool: Toolchain): Promise<string | null> {
  let p = toolVersions.get(tool);
  if (!p) {
    const probe = TOOL_PROBES[tool];
    p = new Promise<string | null>((resolve) => {
      execFile(probe.command, probe.args, { timeout: 5000, maxBuffer: 64 * 1024, encoding: 'utf8', windowsHide: true }, (_err, stdout, stderr) => {
        resolve(probe.pattern.exec(`${stdout}\n${stderr}`)?.[1] ?? null);
      });
    });
    toolVersions.set(tool, p);
  }
  return p;
}

/**
 * A scratch file of a job (GITHUB_OUTPUT and the other step files, a few bytes each, five made and four read per
 * step), read synchronously: each of Node's asynchronous file calls costs a trip through the thread pool (0.05–0.15
 * ms here), four of them per file, which made a trivial GitHub job several milliseconds slower. Whatever a step
 * replaced it with (a FIFO, a link to /dev/zero, a socket) is not read (readBoundedSync's checks); null when missing
 * or refused.
 */
function readScratchSync(file: string, maxBytes: number): string | null {
  try {
    // Most step files stay empty: one look at the name says so (a link, FIFO or device is read the careful way).
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st === undefined) return null;
    if (st.isFile() && st.size === 0) return '';
    return decode(readBoundedSync(file, file, maxBytes).bytes);
  } catch {
    return null;
  }
}

export const localPlanIO: PlanIO = {
  // Synchronous, like the scratch files below: a job's folder is made once per job, on its path.
  tempDir: async (prefix) => fs.mkdtempSync(path.join(os.tmpdir(), prefix.replace(/[^A-Za-z0-9_-]/g, '_'))),
  readText: async (p) => readScratchSync(p, MAX_SCRATCH_BYTES),
  readRepoFile: (root, rel) => readRepoText(root, rel, MAX_YAML_BYTES),
  // Scratch files are small (step files, event.json): written synchronously, see readScratchSync.
  writeText: async (p, text) => fs.writeFileSync(p, text),
  hashFiles: hashWorkspaceFiles,
  toolVersion,
  // Remote actions: fetched from DELIVERY_ACTIONS_HOST (default https://github.com) into the shared cache; a front
  // end with its own setting (delivery.actions.host, --actions-host) passes its own source.
  get actions() {
    return actionSource();
  },
};
