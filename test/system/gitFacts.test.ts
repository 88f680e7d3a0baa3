// HEAD, branch, origin and author read from a repository's files (src/adapters/gitFiles.ts), against repositories
// made by git itself: every answer must be git's own, with no `git` process in the common layouts and git asked
// whenever the layout is unusual.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitOutput, headFacts, headInfo, type GitRunner } from '../../src/adapters/git';
import { parseGitConfig } from '../../src/adapters/gitFiles';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';

/**
 * A HOME of our own (no ~/.gitconfig of the machine), and the distribution's git first on PATH: another git may
 * read another system config, and the facts then ask it (which the counts below would show).
 */
function homeEnv(gitconfig?: string): NodeJS.ProcessEnv {
  const home = tempDir('delivery-home-');
  if (gitconfig !== undefined) fs.writeFileSync(path.join(home, '.gitconfig'), gitconfig);
  return { PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, HOME: home, LANG: 'C' };
}

/** Counts the git processes the facts cost. */
function counting(): { runGit: GitRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    runGit: (folder, args, signal, env) => {
      calls.push(args);
      return gitOutput(folder, args, signal, env);
    },
  };
}

/** What git itself says (the commands headInfo used before it read files). */
function gitSays(folder: string) {
  const run = (...args: string[]) => {
    try {
      return git(folder, ...args);
    } catch {
      return null;
    }
  };
  const sha = run('rev-parse', '-q', '--verify', 'HEAD');
  const branch = run('symbolic-ref', '-q', '--short', 'HEAD');
  return { sha, branch };
}

/** A repository with one commit on `branch`. */
function repo(files: Record<string, string> = { 'a.txt': 'a\n' }, branch = 'main'): string {
  const dir = tempDir('delivery-facts-');
  gitIn(dir, 'init', '-q', '-b', branch);
  writeFiles(dir, files);
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

function gitIn(cwd: string, ...args: string[]): string {
  return git(cwd, '-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'protocol.file.allow=always', ...args);
}

describe('git facts from the repository files', () => {
  after(cleanupTempDirs);

  it('parses config files as git does', () => {
    const file = path.join(tempDir('delivery-config-'), 'config');
    fs.writeFileSync(
      file,
      '\ufeff# comment\n[core]\n\trepositoryformatversion = 0 ; trailing\n[user] name = "Ann \\"Q\\" Lee"   # c\n\temail=a@b\n' +
        '[Remote "Origin"]\n\tURL = https://x/y.git\n[remote.UP]\n\turl = two  words\tand\\ttab\n[s "sub\\"q\\\\x"]\n\tk = a\\\n  continued\n' +
        '\tflag\n\tempty =\n\tcrlf = v\r\n\tq = "  spaced ; not comment  "\n[a-b.c-d]\n\tkey-1 = x\n',
    );
    const ours = parseGitConfig(fs.readFileSync(file, 'utf8'))?.map((e) => (e.value === null ? e.name : `${e.name}\n${e.value}`));
    const theirs = git(path.dirname(file), 'config', '--file', file, '--list', '-z').split('\0').filter((e) => e !== '');
    assert.equal(ours?.length, 11);
    assert.deepEqual(ours, theirs);
  });

  it('reads HEAD, the branch, origin, its HEAD and the author of a plain repository without running git', async () => {
    const env = homeEnv('[user]\n\tname = Global Person\n\temail = global@example.invalid\n');
    const dir = repo();
    gitIn(dir, 'remote', 'add', 'origin', 'https://example.invalid/team/app.git');
    gitIn(dir, 'update-ref', 'refs/remotes/origin/trunk', 'HEAD');
    gitIn(dir, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/trunk');
    // The repository's own author wins over the global one; quotes and escapes as git reads them.
    gitIn(dir, 'config', 'user.name', ' Ann "the builder" O\'Neil ');
    const { runGit, calls } = counting();
    const facts = await headFacts(dir, undefined, { env, runGit });
    assert.deepEqual(calls, []);
    const sha = git(dir, 'rev-parse', 'HEAD');
    assert.deepEqual(facts, {
      sha,
      branch: 'main',
      ref: 'refs/heads/main',
      defaultBranch: 'trunk',
      remoteUrl: 'https://example.invalid/team/app.git',
      author: { name: git(dir, 'config', 'user.name'), email: 'global@example.invalid' },
    });
    // From a folder inside the work tree, the same.
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    assert.deepEqual(await headFacts(path.join(dir, 'sub', 'deeper'), undefined, { env, runGit }), facts);
    assert.deepEqual(calls, []);
  });

  it('agrees with git on a detached HEAD, packed refs, an unborn branch and a repository without remote', async () => {
    const env = homeEnv();
    const { runGit, calls } = counting();
    // Detached.
    const detached = repo();
    gitIn(detached, 'checkout', '-q', '--detach');
    const d = await headFacts(detached, undefined, { env, runGit });
    assert.equal(d?.branch, null);
    assert.equal(d?.sha, gitSays(detached).sha);
    assert.equal(d?.ref, d?.sha);
    // Packed refs only, then a loose ref newer than the packed one.
    const packed = repo();
    gitIn(packed, 'pack-refs', '--all', '--prune');
    assert.ok(!fs.existsSync(path.join(packed, '.git', 'refs', 'heads', 'main')), 'the branch is only in packed-refs');
    assert.equal((await headFacts(packed, undefined, { env, runGit }))?.sha, gitSays(packed).sha);
    fs.writeFileSync(path.join(packed, 'b.txt'), 'b\n');
    gitIn(packed, 'add', '-A');
    gitIn(packed, 'commit', '-q', '-m', 'second');
    assert.equal((await headFacts(packed, undefined, { env, runGit }))?.sha, gitSays(packed).sha);
    // A branch with a slash in its name.
    gitIn(packed, 'checkout', '-q', '-b', 'feature/x');
    assert.equal((await headFacts(packed, undefined, { env, runGit }))?.branch, 'feature/x');
    // Unborn: no commit yet.
    const empty = tempDir('delivery-facts-');
    gitIn(empty, 'init', '-q', '-b', 'trunk');
    assert.deepEqual(await headFacts(empty, undefined, { env, runGit }), { sha: null, branch: 'trunk', ref: 'refs/heads/trunk', defaultBranch: null, remoteUrl: null, author: null });
    assert.deepEqual(calls, []);
  });

  it('follows a linked worktree and a submodule to their git directories', async () => {
    const env = homeEnv();
    const { runGit, calls } = counting();
    const main = repo();
    gitIn(main, 'remote', 'add', 'origin', 'git@example.invalid:team/app.git');
    const wt = path.join(tempDir('delivery-wt-'), 'feature');
    gitIn(main, 'worktree', 'add', '-q', '-b', 'feature', wt);
    fs.writeFileSync(path.join(wt, 'f.txt'), 'f\n');
    gitIn(wt, 'add', '-A');
    gitIn(wt, 'commit', '-q', '-m', 'on feature');
    assert.ok(fs.statSync(path.join(wt, '.git')).isFile(), 'a worktree has a .git file');
    const facts = await headFacts(wt, undefined, { env, runGit });
    assert.equal(facts?.branch, 'feature');
    assert.equal(facts?.sha, gitSays(wt).sha);
    assert.notEqual(facts?.sha, gitSays(main).sha);
    assert.equal(facts?.remoteUrl, 'git@example.invalid:team/app.git', 'the config is the common one');

    // A submodule: `.git` is a file with a relative `gitdir: ../.git/modules/lib`, whose config names the work tree.
    const lib = repo({ 'lib.txt': 'lib\n' }, 'stable');
    const superproject = repo();
    gitIn(superproject, 'submodule', 'add', '-q', lib, 'lib');
    const sub = path.join(superproject, 'lib');
    assert.match(fs.readFileSync(path.join(sub, '.git'), 'utf8'), /^gitdir: \.\.\/\.git\/modules\/lib/);
    assert.match(git(sub, 'config', 'core.worktree'), /lib$/);
    const subFacts = await headFacts(sub, undefined, { env, runGit });
    assert.equal(subFacts?.sha, gitSays(lib).sha);
    assert.equal(subFacts?.branch, gitSays(sub).branch);
    assert.equal(subFacts?.remoteUrl, lib);

    // A separate git directory given by an absolute path.
    const separate = tempDir('delivery-facts-');
    gitIn(separate, 'init', '-q', '-b', 'main', `--separate-git-dir=${path.join(tempDir('delivery-gitdir-'), 'repo.git')}`);
    writeFiles(separate, { 'x.txt': 'x\n' });
    gitIn(separate, 'add', '-A');
    gitIn(separate, 'commit', '-q', '-m', 'x');
    assert.equal((await headFacts(separate, undefined, { env, runGit }))?.sha, gitSays(separate).sha);
    assert.deepEqual(calls, []);
  });

  it('is null outside a repository, with no git process', async () => {
    const env = homeEnv();
    const { runGit, calls } = counting();
    assert.equal(await headFacts(tempDir('delivery-norepo-'), undefined, { env, runGit }), null);
    assert.equal(await headFacts(path.join(tempDir('delivery-norepo-'), 'missing'), undefined, { env, runGit }), null);
    assert.equal(await headInfo(tempDir('delivery-norepo-'), undefined, { env, runGit }), null);
    assert.deepEqual(calls, []);
  });

  it('asks git when config includes could bring in the author', async () => {
    const home = homeEnv();
    fs.writeFileSync(path.join(home.HOME!, 'work.gitconfig'), '[user]\n\tname = Included Person\n\temail = inc@example.invalid\n');
    fs.writeFileSync(path.join(home.HOME!, '.gitconfig'), `[includeIf "gitdir:/"]\n\tpath = ${path.join(home.HOME!, 'work.gitconfig')}\n`);
    const dir = repo();
    const { runGit, calls } = counting();
    const facts = await headFacts(dir, undefined, { env: home, runGit });
    assert.deepEqual(facts?.author, { name: 'Included Person', email: 'inc@example.invalid' });
    assert.equal(facts?.sha, gitSays(dir).sha);
    assert.deepEqual(calls.map((c) => c[0]), ['config'], 'only the config is asked of git');
  });

  it('asks git for a repository format it does not read, and answers as git does', async () => {
    const env = homeEnv();
    // A ref storage git 2.39 does not know: git refuses the repository, so do we (no reading of stale files).
    const reftable = repo();
    gitIn(reftable, 'config', 'core.repositoryformatversion', '1');
    gitIn(reftable, 'config', 'extensions.refStorage', 'reftable');
    const { runGit, calls } = counting();
    const gitCanRead = gitSays(reftable).sha !== null;
    const facts = await headFacts(reftable, undefined, { env, runGit });
    assert.ok(calls.length > 0, 'git was asked');
    if (gitCanRead) assert.equal(facts?.sha, gitSays(reftable).sha);
    else assert.equal(facts, null);

    // A symbolic branch (refs/heads/alias -> refs/heads/main): git resolves it.
    const symbolic = repo();
    gitIn(symbolic, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
    gitIn(symbolic, 'symbolic-ref', 'HEAD', 'refs/heads/alias');
    calls.length = 0;
    const s = await headFacts(symbolic, undefined, { env, runGit });
    assert.deepEqual(calls.map((c) => c[1]), ['status']);
    assert.equal(s?.sha, gitSays(symbolic).sha);

    // core.worktree naming another folder (here the one around the repository): git knows where the work tree is.
    const outer = tempDir('delivery-facts-');
    const inner = path.join(outer, 'inner');
    fs.mkdirSync(inner);
    gitIn(inner, 'init', '-q', '-b', 'main');
    writeFiles(inner, { 'a.txt': 'a\n' });
    gitIn(inner, 'add', '-A');
    gitIn(inner, 'commit', '-q', '-m', 'first');
    gitIn(inner, 'config', 'core.worktree', outer);
    calls.length = 0;
    assert.equal((await headFacts(inner, undefined, { env, runGit }))?.sha, gitSays(inner).sha);
    assert.ok(calls.length > 0, 'git was asked');
  });

  it('headInfo: one `git status` for the dirty flag, the rest from the files', async () => {
    const env = homeEnv('[user]\n\tname = G\n\temail = g@example.invalid\n');
    const dir = repo();
    const { runGit, calls } = counting();
    const clean = await headInfo(dir, undefined, { env, runGit });
    assert.equal(clean?.dirty, false);
    assert.deepEqual(clean?.author, { name: 'G', email: 'g@example.invalid' });
    fs.writeFileSync(path.join(dir, 'new.txt'), 'untracked\n');
    const dirty = await headInfo(dir, undefined, { env, runGit });
    assert.equal(dirty?.dirty, true);
    assert.equal(dirty?.sha, gitSays(dir).sha);
    assert.deepEqual(calls.map((c) => c[1]), ['status', 'status']);
  });
});
