// Workspaces the scenarios generate under bench/.work (gitignored), each a real git repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

export function git(dir, args, input) {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** A new folder at `dir` (emptied first) holding `files` (relative path -> text), committed on main. */
export function repoWith(dir, files) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'bench workspace']);
  return dir;
}
