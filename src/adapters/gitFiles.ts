// A repository's HEAD, branch, origin URL, default branch and configured author, read from its files instead of
// three `git` processes (each costs a fork of the Node process: ~10 ms of a CLI run, more on a busy machine).
// Only the common layout is read here; anything unusual answers ASK_GIT and the caller asks git itself, so the
// answers never differ from git's: reftable or other repository extensions, a `core.worktree` elsewhere, a bare repository,
// a `.git` owned by someone else (safe.directory), a discovery crossing a filesystem boundary, a symbolic branch,
// config includes, a `git` whose system config is not /etc/gitconfig, a file that does not parse.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** "Ask git": the files are not in a layout this reader is sure about. */
export const ASK_GIT = Symbol('ask git');
export type AskGit = typeof ASK_GIT;

/** Where a work tree's repository lives. */
export interface RepoLocation {
  /** The work tree's top folder. */
  top: string;
  /** Its git directory (`.git`, or where a `.git` file points: a linked worktree's or a submodule's). */
  gitDir: string;
  /** Where refs, packed-refs and config live (`commondir` of a linked worktree; else gitDir). */
  commonDir: string;
  /** Hex digits of an object name (40 for SHA-1, 64 for SHA-256). */
  hexLength: number;
  /** The repository's own config entries (read once: extensions and core.* are checked here). */
  config: ConfigEntry[];
}

/** HEAD as `git status --porcelain=v2 --branch` reports it. */
export interface HeadFiles {
  /** null: an unborn branch (no commit yet). */
  sha: string | null;
  /** null: detached HEAD. */
  branch: string | null;
}

export interface ConfigEntry {
  /** `section.subsection.key` as git prints it: section and key lower-case, subsection as written. */
  name: string;
  /** null: a key without `=` (boolean true). */
  value: string | null;
}

const missing = (e: unknown) => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException)?.code ?? '');

async function statOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}

async function readOrNull(p: string): Promise<string | null> {
  try {
    return await fs.promises.readFile(p, 'utf8');
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}

/**
 * The repository whose work tree contains `folder`, found as git finds it (walking up from the folder's real
 * path); null when there is none; ASK_GIT when git might see it differently.
 */
export async function locateRepo(folder: string): Promise<RepoLocation | null | AskGit> {
  try {
    const euid = process.geteuid?.();
    if (euid === undefined) return ASK_GIT; // ownership (safe.directory) is git's to judge on this platform
    let start: string;
    try {
      start = await fs.promises.realpath(folder);
    } catch (e) {
      if (missing(e)) return null; // no such folder: no repository (git could not even start there)
      throw e;
    }
    if (start.split(path.sep).includes('.git')) return ASK_GIT; // inside a git directory: not a work tree
    const startDev = (await fs.promises.stat(start)).dev;
    for (let dir = start; ; ) {
      const [dirStat, dotGit] = await Promise.all([fs.promises.stat(dir), statOrNull(path.join(dir, '.git'))]);
      // git stops at a filesystem boundary (GIT_DISCOVERY_ACROSS_FILESYSTEM unset): let it say so.
      if (dirStat.dev !== startDev) return ASK_GIT;
      if (dotGit) return await openRepo(dir, dotGit, euid, dirStat);
      // A bare repository (HEAD without .git) on the way up: git treats it differently.
      if (await statOrNull(path.join(dir, 'HEAD'))) return ASK_GIT;
      const parent = path.dirname(dir);
      if (parent === dir) return null;
      dir = parent;
    }
  } catch {
    return ASK_GIT;
  }
}

async function openRepo(top: string, dotGit: fs.Stats, euid: number, topStat: fs.Stats): Promise<RepoLocation | AskGit> {
  let gitDir: string;
  if (dotGit.isDirectory()) gitDir = path.join(top, '.git');
  else if (dotGit.isFile()) {
    // A linked worktree or a submodule: `gitdir: <path>`, relative to the work tree.
    const m = /^gitdir: *(.+?)\r?\n?$/.exec(await fs.promises.readFile(path.join(top, '.git'), 'utf8'));
    if (!m) return ASK_GIT;
    gitDir = path.resolve(top, m[1]);
  } else return ASK_GIT;
  const [gitDirStat, head, commondir] = await Promise.all([statOrNull(gitDir), statOrNull(path.join(gitDir, 'HEAD')), readOrNull(path.join(gitDir, 'commondir'))]);
  if (!gitDirStat?.isDirectory() || !head?.isFile()) return ASK_GIT;
  const commonDir = commondir === null ? gitDir : path.resolve(gitDir, commondir.trim());
  const [objects, refs, configText] = await Promise.all([statOrNull(path.join(commonDir, 'objects')), statOrNull(path.join(commonDir, 'refs')), readOrNull(path.join(commonDir, 'config'))]);
  if (!objects?.isDirectory() || !refs?.isDirectory()) return ASK_GIT;
  // safe.directory: git refuses a repository owned by someone else unless configured to trust it.
  if (topStat.uid !== euid || dotGit.uid !== euid || gitDirStat.uid !== euid) return ASK_GIT;
  const config = configText === null ? [] : parseGitConfig(configText);
  if (config === null) return ASK_GIT;
  let hexLength = 40;
  let worktree: string | null = null;
  for (const { name, value } of config) {
    const v = value?.toLowerCase() ?? null;
    if (name === 'core.repositoryformatversion' && v !== '0' && v !== '1') return ASK_GIT;
    else if (name === 'core.bare' && v !== 'false') return ASK_GIT;
    else if (name === 'core.worktree') worktree = value;
    else if (name === 'include.path' || name.startsWith('includeif.')) return ASK_GIT;
    else if (name === 'extensions.objectformat') {
      if (v === 'sha256') hexLength = 64;
      else if (v !== 'sha1') return ASK_GIT;
    } else if (name.startsWith('extensions.') && !(name === 'extensions.refstorage' && v === 'files')) return ASK_GIT; // reftable, worktreeConfig, ...
  }
  // A submodule's config names its work tree (relative to its git directory): fine when it is where we are.
  if (worktree !== null && (await fs.promises.realpath(path.resolve(gitDir, worktree)).catch(() => null)) !== top) return ASK_GIT;
  return { top, gitDir, commonDir, hexLength, config };
}

/** A branch name git would accept (so it is safe to read as a path under refs/heads). */
function validRefName(name: string): boolean {
  return (
    /^refs\/heads\/[^\0-\x20\x7f~^:?*[\\]+$/.test(name) &&
    !name.split('/').some((c) => c === '' || c.startsWith('.') || c.endsWith('.lock')) &&
    !name.includes('..') &&
    !name.includes('@{') &&
    !name.endsWith('.')
  );
}

/** HEAD: the branch it names (null when detached) and its commit (null on an unborn branch). */
export async function readHead(repo: RepoLocation): Promise<HeadFiles | AskGit> {
  try {
    const head = (await fs.promises.readFile(path.join(repo.gitDir, 'HEAD'), 'utf8')).replace(/\r?\n$/, '');
    const hex = new RegExp(`^[0-9a-f]{${repo.hexLength}}$`);
    if (hex.test(head)) return { sha: head, branch: null };
    const m = /^ref: *(.+)$/.exec(head);
    if (!m || !validRefName(m[1])) return ASK_GIT;
    const ref = m[1];
    const branch = ref.slice('refs/heads/'.length);
    // Branches are shared by every worktree: the loose file first, then packed-refs.
    const loose = await readOrNull(path.join(repo.commonDir, ...ref.split('/')));
    if (loose !== null) {
      const sha = loose.replace(/\r?\n$/, '');
      return hex.test(sha) ? { sha, branch } : ASK_GIT; // a symbolic branch, or damage: git knows
    }
    const packed = await readOrNull(path.join(repo.commonDir, 'packed-refs'));
    for (const line of (packed ?? '').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0 && line.slice(sp + 1).replace(/\r$/, '') === ref) {
        const sha = line.slice(0, sp);
        return hex.test(sha) ? { sha, branch } : ASK_GIT;
      }
    }
    return { sha: null, branch }; // unborn: no commit yet
  } catch {
    return ASK_GIT;
  }
}

/** The branch origin's HEAD names (`git symbolic-ref --short refs/remotes/origin/HEAD`, without `origin/`), or null. */
export async function readOriginHead(repo: RepoLocation): Promise<string | null> {
  const text = await readOrNull(path.join(repo.commonDir, 'refs', 'remotes', 'origin', 'HEAD')).catch(() => null);
  const m = /^ref: *(refs\/\S+)\r?\n?$/.exec(text ?? '');
  if (!m) return null;
  const short = m[1].replace(/^refs\/(heads|tags|remotes)\//, '').replace(/^refs\//, '');
  return short.replace(/^origin\//, '') || null;
}

/**
 * Config entries as `git config --get-regexp` would see them from inside the repository: system, global and the
 * repository's, in that order (later wins). ASK_GIT when includes could bring in more, a file does not parse, or
 * the `git` on PATH may read another system file.
 */
export async function readConfigs(repo: RepoLocation, env: NodeJS.ProcessEnv): Promise<ConfigEntry[] | AskGit> {
  try {
    if (process.platform !== 'linux' || !(await distroGit(env))) return ASK_GIT;
    const home = env.HOME || null;
    const xdg = env.XDG_CONFIG_HOME ? path.join(env.XDG_CONFIG_HOME, 'git', 'config') : home ? path.join(home, '.config', 'git', 'config') : null;
    const files = ['/etc/gitconfig', xdg, home ? path.join(home, '.gitconfig') : null];
    const texts = await Promise.all(files.map((f) => (f ? readOrNull(f) : null)));
    const entries: ConfigEntry[] = [];
    for (const text of texts) {
      if (text === null) continue;
      const parsed = parseGitConfig(text);
      if (parsed === null) return ASK_GIT;
      entries.push(...parsed);
    }
    entries.push(...repo.config);
    if (entries.some((e) => e.name === 'include.path' || e.name.startsWith('includeif.'))) return ASK_GIT;
    return entries;
  } catch {
    return ASK_GIT;
  }
}

/** True when the first `git` on PATH is the distribution's (/usr/bin/git or /bin/git): its system config is /etc/gitconfig. */
async function distroGit(env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'git');
    const ok = await fs.promises.access(candidate, fs.constants.X_OK).then(() => true, () => false);
    if (ok) return candidate === '/usr/bin/git' || candidate === '/bin/git';
  }
  return false;
}

/**
 * Parses git's config format as git does (config.c): sections `[s]`, `[s "sub"]` and `[s.sub]`, keys with or
 * without a value, quotes, escapes, line continuations, `#` and `;` comments. null where git would report a bad
 * config line (the caller then asks git, which says what it says).
 */
export function parseGitConfig(text: string): ConfigEntry[] | null {
  const entries: ConfigEntry[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // git reads "\r\n" as "\n"; the end of the text reads as a final newline.
  const next = (): string => {
    if (i >= text.length) {
      i++;
      return '\n';
    }
    const c = text[i++];
    if (c === '\r' && text[i] === '\n') return text[i++];
    return c;
  };
  const eof = () => i > text.length;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  const isAlpha = (c: string) => /^[A-Za-z]$/.test(c);
  const isKeyChar = (c: string) => /^[A-Za-z0-9-]$/.test(c);
  let section: string | null = null;
  let comment = false;
  for (;;) {
    const c = next();
    if (eof()) return entries;
    if (c === '\n') {
      comment = false;
      continue;
    }
    if (comment || isSpace(c)) continue;
    if (c === '#' || c === ';') {
      comment = true;
      continue;
    }
    if (c === '[') {
      // The section name: letters, digits, '-' and '.' (the old `[section.sub]` form, all lower-cased).
      let name = '';
      let d: string;
      for (;;) {
        d = next();
        if (eof() || d === '\n') return null;
        if (d === ']') break;
        if (isSpace(d)) {
          // `[section "sub"]`: spaces, a quoted subsection with \-escapes, then ']'.
          while (isSpace(d) && d !== '\n') d = next();
          if (d !== '"') return null;
          let sub = '';
          for (;;) {
            d = next();
            if (eof() || d === '\n') return null;
            if (d === '"') break;
            if (d === '\\') {
              d = next();
              if (eof() || d === '\n') return null;
            }
            sub += d;
          }
          if (next() !== ']') return null;
          name = `${name}.${sub}`;
          break;
        }
        if (!isKeyChar(d) && d !== '.') return null;
        name += d.toLowerCase();
      }
      if (name === '' || name.startsWith('.')) return null;
      section = name;
      continue;
    }
    if (!isAlpha(c) || section === null) return null;
    // A key: letters, digits, '-'; then '=' and a value, or the end of the line (no value).
    let key = c.toLowerCase();
    let d = next();
    while (!eof() && isKeyChar(d)) {
      key += d.toLowerCase();
      d = next();
    }
    while (d === ' ' || d === '\t') d = next();
    if (d === '\n') {
      entries.push({ name: `${section}.${key}`, value: null });
      continue;
    }
    if (d !== '=') return null;
    const value = parseValue(next, isSpace);
    if (value === null) return null;
    entries.push({ name: `${section}.${key}`, value });
  }
}

function parseValue(next: () => string, isSpace: (c: string) => boolean): string | null {
  let value = '';
  let quote = false;
  let comment = false;
  let spaces = 0;
  for (;;) {
    let c = next();
    if (c === '\n') return quote ? null : value;
    if (comment) continue;
    if (isSpace(c) && !quote) {
      if (value.length) spaces++;
      continue;
    }
    if (!quote && (c === ';' || c === '#')) {
      comment = true;
      continue;
    }
    value += ' '.repeat(spaces);
    spaces = 0;
    if (c === '\\') {
      c = next();
      if (c === '\n') continue; // a line continuation (or a final backslash)
      const escaped = ({ t: '\t', b: '\b', n: '\n', '\\': '\\', '"': '"' } as Record<string, string>)[c];
      if (escaped === undefined) return null;
      value += escaped;
      continue;
    }
    if (c === '"') {
      quote = !quote;
      continue;
    }
    value += c;
  }
}
