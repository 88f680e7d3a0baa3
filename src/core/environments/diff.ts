// What deploying one commit over another changes, read from git's machine formats (-z: NUL-separated, so paths
// with tabs, quotes or newlines arrive intact). Pure parsing; the git calls live in src/adapters/environments.
import type { CommitInfo, FileChange, FileStatus } from '../../shared/model';

/** A full object name (SHA-1, or SHA-256 in repositories that use it). */
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** What a target may report as its commit: an abbreviated or full object name. */
const SHA_LIKE = /^[0-9a-f]{7,64}$/;
/** A tag or branch name a target may report instead (conservative: no spaces, no leading dash, no `..`). */
const REF_LIKE = /^[A-Za-z0-9_][A-Za-z0-9_.+/@-]{0,199}$/;

export function isFullSha(value: string): boolean {
  return FULL_SHA.test(value);
}

export function isShaLike(value: string): boolean {
  return SHA_LIKE.test(value);
}

/**
 * A value that may be handed to git as a revision: an object name or a plain ref/tag name. Everything a target
 * reports passes through here first; anything else is data to show, never an argument.
 */
export function isSafeRevision(value: string): boolean {
  if (SHA_LIKE.test(value)) return true;
  if (!REF_LIKE.test(value) || /^[A-Z_]*HEAD$/.test(value)) return false; // HEAD, FETCH_HEAD...: local pointers, not versions
  return !value.includes('..') && !value.includes('@{') && !value.endsWith('.lock') && !value.endsWith('/') && !value.endsWith('.');
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** `git log -z` format for parseLog: left/right mark, SHA, author, ISO date, subject (last: it may hold anything). */
export const LOG_FORMAT = '%m%H%x1f%an%x1f%aI%x1f%s';

/** Commits of a symmetric range `from...to` with --left-right: left (`<`) only in from, right (`>`) only in to. */
export function parseLeftRightLog(out: string): { left: CommitInfo[]; right: CommitInfo[] } {
  const left: CommitInfo[] = [];
  const right: CommitInfo[] = [];
  for (const record of out.split('\0')) {
    const rec = record.replace(/^\n+/, '');
    if (!rec) continue;
    const mark = rec[0];
    const [sha, author, date, ...subject] = rec.slice(1).split('\x1f');
    if (!sha || !isFullSha(sha)) throw new Error(`unexpected git log record: ${JSON.stringify(rec.slice(0, 80))}`);
    const commit: CommitInfo = { sha, subject: subject.join('\x1f'), author: author ?? '', date: date ?? '' };
    (mark === '<' ? left : right).push(commit);
  }
  return { left, right };
}

/** `git rev-list --left-right --count A...B` -> commits only in A (left) and only in B (right). */
export function parseLeftRightCount(out: string): { left: number; right: number } {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(out);
  if (!m) throw new Error(`unexpected git rev-list output: ${JSON.stringify(out.slice(0, 80))}`);
  return { left: Number(m[1]), right: Number(m[2]) };
}

/**
 * Distance between the deployed commit and a local one. ahead: local commits a deploy would bring; behind:
 * deployed commits the local one lacks (a deploy of it would revert them).
 */
export function distanceFromCount(deployedToLocal: { left: number; right: number }): { ahead: number; behind: number } {
  return { ahead: deployedToLocal.right, behind: deployedToLocal.left };
}

const RAW_HEADER = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([ACDMRTUX])(\d*)$/;

/**
 * Output of `git diff --raw --numstat -z -M A B`: first one raw record per file (status and paths), then one
 * numstat record per file in the same order (counts; `-` for binary files).
 */
export function parseRawNumstat(out: string): FileChange[] {
  const tokens = out.split('\0');
  if (tokens.length && tokens[tokens.length - 1] === '') tokens.pop();
  const files: FileChange[] = [];
  let i = 0;
  while (i < tokens.length && tokens[i].startsWith(':')) {
    const m = RAW_HEADER.exec(tokens[i]);
    if (!m) throw new Error(`unexpected git diff --raw record: ${JSON.stringify(tokens[i].slice(0, 80))}`);
    const letter = m[5];
    const twoPaths = letter === 'R' || letter === 'C';
    const first = tokens[i + 1];
    const second = twoPaths ? tokens[i + 2] : undefined;
    if (first === undefined || (twoPaths && second === undefined)) throw new Error('truncated git diff --raw output');
    files.push({
      path: twoPaths ? second! : first,
      oldPath: letter === 'R' ? first : null,
      status: fileStatus(letter),
      additions: 0,
      deletions: 0,
      binary: false,
    });
    i += twoPaths ? 3 : 2;
  }
  for (const file of files) {
    const rec = tokens[i];
    if (rec === undefined) throw new Error('git diff --numstat output has fewer records than --raw');
    const t1 = rec.indexOf('\t');
    const t2 = rec.indexOf('\t', t1 + 1);
    if (t1 < 0 || t2 < 0) throw new Error(`unexpected git diff --numstat record: ${JSON.stringify(rec.slice(0, 80))}`);
    const add = rec.slice(0, t1);
    const del = rec.slice(t1 + 1, t2);
    // A rename's numstat record has an empty path and the two paths as the next tokens.
    i += rec.length === t2 + 1 ? 3 : 1;
    if (add === '-' && del === '-') file.binary = true;
    else {
      file.additions = Number(add);
      file.deletions = Number(del);
    }
  }
  return files;
}

function fileStatus(letter: string): FileStatus {
  switch (letter) {
    case 'A':
    case 'C': // a copy is a new file (only reported with -C)
      return 'A';
    case 'D':
      return 'D';
    case 'R':
      return 'R';
    default:
      return 'M'; // M, T (type change), U, X
  }
}

export interface WorkingChange {
  path: string;
  /** The two-letter code of `git status --porcelain=v1` (index, work tree): ` M`, `A `, `??`, `R `... */
  status: string;
}

/** `git status --porcelain=v1 -z`: `XY path` records; a rename or copy is followed by its old path. */
export function parsePorcelainZ(out: string): WorkingChange[] {
  const tokens = out.split('\0');
  const changes: WorkingChange[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const rec = tokens[i];
    if (rec.length < 4) continue;
    const status = rec.slice(0, 2);
    changes.push({ path: rec.slice(3), status });
    if (status[0] === 'R' || status[0] === 'C') i++; // skip the old path
  }
  return changes;
}

/** Totals for a summary line. */
export function diffTotals(files: readonly FileChange[]): { files: number; additions: number; deletions: number; binary: number } {
  let additions = 0;
  let deletions = 0;
  let binary = 0;
  for (const f of files) {
    additions += f.additions;
    deletions += f.deletions;
    if (f.binary) binary++;
  }
  return { files: files.length, additions, deletions, binary };
}
