// Job workspaces: each GitHub job and matrix leg runs in a copy of the folder as it is now (committed files and
// uncommitted changes, not ignored ones), with a .git of its own; the folder itself is never written. Real git, real
// processes, the CLI as a user runs it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, gitRepo, tempDir } from '../support/tmp';
import { cli, caseFolder } from '../support/catalogueSupport';
import { makeWorkspace, runWorkspaces, snapshotOf } from '../../src/adapters/workspaces';

type RunJson = { status: string; jobs: Record<string, { status: string; reason: string | null; workspace?: string }> };

describe('job workspaces (real git, CLI)', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  const workflow = `name: ci
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        leg: [one, two]
    steps:
      - run: mkdir _build && echo "\${{ matrix.leg }}" > _build/leg
      - run: |
          echo "tracked=$(cat tracked.txt) untracked=$(cat new.txt) ignored=$(test -e build.out && echo yes || echo no)"
          echo "status=$(git status --porcelain | tr '\\n' ' ')"
          echo "workspace-is-cwd=$(test "$GITHUB_WORKSPACE" = "$PWD" && echo yes)"
          echo "in-place" >> tracked.txt
          git -c user.email=ci@example.com -c user.name=ci commit -qam "made by the job"
      - run: test "\${{ matrix.leg }}" = one
`;

  it('runs matrix legs that write the same paths each in its own copy; your folder, changes and commits stay as they are', async () => {
    const dir = caseFolder({ '.github/workflows/ci.yml': workflow, 'tracked.txt': 'committed\n', '.gitignore': '*.out\n' });
    const head = git(dir, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(dir, 'tracked.txt'), 'changed, not committed\n');
    fs.writeFileSync(path.join(dir, 'new.txt'), 'untracked\n');
    fs.writeFileSync(path.join(dir, 'build.out'), 'ignored build output\n');
    const r = await cli(dir, tempDir('state-'), ['run', 'ci', '--json', '--parallel', '2']);
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as RunJson;
    // Both legs made _build (the second would fail with "File exists" in a shared folder); leg two fails on purpose.
    assert.equal(out.jobs['build (one)'].status, 'success', r.stderr);
    assert.equal(out.jobs['build (two)'].status, 'failed', r.stderr);
    assert.match(out.jobs['build (two)'].reason ?? '', /Run test "\$\{\{ matrix.leg \}\}" = one" exited with code 1/);
    for (const leg of ['one', 'two']) {
      assert.ok(r.stderr.includes(`build (${leg}) > tracked=changed, not committed untracked=untracked ignored=no`), r.stderr);
      assert.ok(r.stderr.includes(`build (${leg}) > status= M tracked.txt ?? _build/ ?? new.txt `), r.stderr);
      assert.ok(r.stderr.includes(`build (${leg}) > workspace-is-cwd=yes`), r.stderr);
    }
    // The folder: nothing written, the change and the untracked file as they were, HEAD where it was.
    assert.ok(!fs.existsSync(path.join(dir, '_build')));
    assert.equal(fs.readFileSync(path.join(dir, 'tracked.txt'), 'utf8'), 'changed, not committed\n', 'an in-place write in a workspace never reaches the folder');
    assert.equal(git(dir, 'rev-parse', 'HEAD'), head, "the job's commit stays in its workspace");
    // The failed leg's workspace is kept (with what it made), the passed leg's is gone.
    const kept = out.jobs['build (two)'].workspace;
    assert.ok(kept && fs.existsSync(path.join(kept, '_build', 'leg')), `kept workspace: ${kept}`);
    assert.equal(fs.readFileSync(path.join(kept, '_build', 'leg'), 'utf8'), 'two\n');
    assert.equal(git(kept, 'log', '-1', '--format=%s'), 'made by the job');
    assert.equal(out.jobs['build (one)'].workspace, undefined);
    assert.ok(!fs.existsSync(path.join(path.dirname(kept), 'build-one')), 'a job that succeeded leaves no workspace');
  });

  it('--workspace shared runs the jobs in the folder itself (the second leg then finds _build)', async () => {
    const dir = caseFolder({ '.github/workflows/ci.yml': workflow, 'tracked.txt': 'committed\n', 'new.txt': 'x\n' });
    const r = await cli(dir, tempDir('state-'), ['run', 'ci', '--workspace', 'shared', '--parallel', '1', '--json']);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.ok(fs.existsSync(path.join(dir, '_build')));
    assert.equal(out.jobs['build (two)'].status, 'failed');
    assert.match(out.jobs['build (two)'].reason ?? '', /mkdir _build/);
    const bad = await cli(dir, tempDir('state-'), ['run', 'ci', '--workspace', 'elsewhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--workspace must be shared or isolated, not "elsewhere"/);
  });

  it('GitLab with --workspace isolated: each job in its own copy; declared artifacts reach the jobs that need them (needs, stages, dependencies)', async () => {
    const dir = caseFolder({
      '.gitlab-ci.yml': `stages: [build, test]
build:
  stage: build
  script:
    - mkdir -p out && echo "built in $(basename "$CI_PROJECT_DIR")" > out/app.txt && echo scratch > scratch.txt
  artifacts:
    paths: [out/]
with-needs:
  stage: test
  needs: [build]
  script:
    - cat out/app.txt
    - test ! -e scratch.txt && echo "no scratch"
by-stage:
  stage: test
  script:
    - cat out/app.txt
none:
  stage: test
  dependencies: []
  script:
    - test ! -e out/app.txt && echo "no artifacts asked for"
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci', '--workspace', 'isolated', '--json']);
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.status, 'success', r.stderr);
    assert.ok(/with-needs +> built in build/.test(r.stderr), r.stderr);
    assert.ok(/with-needs +> no scratch/.test(r.stderr), 'only declared artifacts travel');
    assert.ok(/by-stage +> built in build/.test(r.stderr), r.stderr);
    assert.ok(/none +> no artifacts asked for/.test(r.stderr), r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'out')) && !fs.existsSync(path.join(dir, 'scratch.txt')), 'the folder is not written');
    // Without isolation (gitlab-ci-local's default) the jobs share the folder.
    const shared = await cli(dir, tempDir('state-'), ['run', 'gitlab-ci', 'build']);
    assert.equal(shared.code, 0, shared.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'out', 'app.txt')));
  });

  it('delivery.yml: a job with workspace: isolated runs in a copy; its artifacts reach the job that needs it', async () => {
    const dir = caseFolder({
      'delivery.yml': `version: 1
pipelines:
  ci:
    jobs:
      build:
        workspace: isolated
        run: mkdir -p dist && echo "from $(basename "$DELIVERY_WORKSPACE")" > dist/app.txt
        artifacts: [dist/app.txt]
      ship:
        workspace: isolated
        needs: [build]
        run: cat dist/app.txt
      here:
        run: echo "shared $(test "$DELIVERY_WORKSPACE" = "$PWD" && echo yes)" && touch here.txt
`,
    });
    const r = await cli(dir, tempDir('state-'), ['run', 'ci', '--json']);
    if (!r.stdout) assert.fail(`no JSON (exit ${r.code}): ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as RunJson).status, 'success', r.stderr);
    assert.ok(/ship +> from build/.test(r.stderr), r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, 'dist')), 'the isolated jobs do not write the folder');
    assert.ok(fs.existsSync(path.join(dir, 'here.txt')), 'a job without workspace: runs in the folder');
  });

  it('a folder that is not a git work tree is copied whole; symlinks stay links', async () => {
    const src = tempDir('plain-');
    fs.mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a', 'b', 'f.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    fs.symlinkSync('b/f.sh', path.join(src, 'a', 'link'));
    const dest = path.join(tempDir('ws-'), 'w');
    const made = await makeWorkspace(src, dest);
    assert.deepEqual(made.notes, ['the folder is not a git work tree: every file is copied']);
    assert.equal(fs.readFileSync(path.join(dest, 'a', 'b', 'f.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(fs.statSync(path.join(dest, 'a', 'b', 'f.sh')).mode & 0o777, 0o755);
    assert.equal(fs.readlinkSync(path.join(dest, 'a', 'link')), 'b/f.sh');
    assert.notEqual(fs.statSync(path.join(dest, 'a', 'b', 'f.sh')).ino, fs.statSync(path.join(src, 'a', 'b', 'f.sh')).ino, 'a copy, not a hard link');
  });
  /** A repository as users have them: an origin with its remote-tracking branch and HEAD, a packed and a loose tag, a second branch, an executable, a link. */
  function realisticRepo(extraFiles = 0): string {
    const files: Record<string, string> = { 'README.md': 'readme\n', 'src/app.sh': '#!/bin/sh\necho app\n', '.gitignore': '*.out\n' };
    for (let i = 0; i < extraFiles; i++) files[`many/d${i % 7}/f${i}.txt`] = `file ${i}\n`;
    const dir = gitRepo(files, 'first');
    fs.chmodSync(path.join(dir, 'src', 'app.sh'), 0o755);
    fs.symlinkSync('src/app.sh', path.join(dir, 'run'));
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'second');
    git(dir, 'tag', '-a', 'v1.0', '-m', 'release');
    git(dir, 'branch', 'feature');
    git(dir, 'pack-refs', '--all');
    git(dir, 'tag', 'loose-tag');
    git(dir, 'remote', 'add', 'origin', 'https://example.invalid/team/app.git');
    git(dir, 'update-ref', 'refs/remotes/origin/main', 'HEAD');
    git(dir, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main');
    git(dir, 'config', 'branch.main.remote', 'origin');
    git(dir, 'config', 'branch.main.merge', 'refs/heads/main');
    return dir;
  }

  for (const layout of ['written from the repository files', 'made by git (a layout the reader leaves to git)']) {
    it(`a workspace's .git ${layout}: git status, log, rev-parse, diff and describe answer as in the folder; a commit stays in the workspace`, async () => {
      const src = realisticRepo();
      if (layout.startsWith('made by git')) {
        // A config include: the reader of .git files does not follow it, so git makes the workspace's .git.
        git(src, 'config', 'include.path', '/nonexistent/delivery-test-include');
      }
      const snapshot = await snapshotOf(src);
      assert.equal(typeof snapshot.git === 'object', layout.startsWith('written'), `snapshot.git: ${JSON.stringify(snapshot.git === null ? null : typeof snapshot.git)}`);
      const root = tempDir('ws-');
      for (const name of ['first', 'second']) {
        const ws = path.join(root, name);
        await makeWorkspace(src, ws, undefined, snapshot);
        assert.equal(git(ws, 'status', '--porcelain'), '', `${name}: an unmodified copy shows no change`);
        assert.equal(git(ws, 'diff'), '');
        assert.equal(git(ws, 'rev-parse', 'HEAD'), git(src, 'rev-parse', 'HEAD'));
        assert.equal(git(ws, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
        assert.equal(git(ws, 'log', '--format=%s'), 'second\nfirst');
        assert.equal(git(ws, 'describe', '--tags', '--abbrev=0', '--match', 'v*'), 'v1.0');
        assert.equal(git(ws, 'rev-parse', 'loose-tag'), git(src, 'rev-parse', 'HEAD'));
        assert.equal(git(ws, 'config', '--get', 'remote.origin.url'), 'https://example.invalid/team/app.git');
        if (layout.startsWith('written')) {
          // The folder's branches and remote-tracking branches (a clone would name its branches origin/*).
          assert.equal(git(ws, 'rev-parse', 'feature'), git(src, 'rev-parse', 'feature'));
          assert.equal(git(ws, 'rev-parse', 'origin/main'), git(src, 'rev-parse', 'HEAD'));
          assert.match(git(ws, 'status', '-sb'), /^## main\.\.\.origin\/main$/m);
        }
        assert.equal(fs.readlinkSync(path.join(ws, 'run')), 'src/app.sh');
        assert.equal(fs.statSync(path.join(ws, 'src', 'app.sh')).mode & 0o777, 0o755);
        // The job's own commit: in the workspace, not in the folder (the objects are borrowed, never written there).
        fs.appendFileSync(path.join(ws, 'README.md'), 'job\n');
        assert.equal(git(ws, 'status', '--porcelain'), 'M README.md');
        assert.match(git(ws, 'diff'), /\+job/);
        git(ws, 'commit', '-qam', `made in ${name}`);
        assert.equal(git(ws, 'log', '-1', '--format=%s'), `made in ${name}`);
        assert.equal(git(src, 'log', '-1', '--format=%s'), 'second');
        assert.equal(git(src, 'status', '--porcelain'), '');
      }
    });
  }

  it('a detached HEAD, staged and unstaged changes, a deleted file and an untracked one: the workspace has them as the folder does', async () => {
    const src = realisticRepo();
    git(src, 'checkout', '-q', '--detach', 'HEAD~1');
    fs.writeFileSync(path.join(src, 'staged.txt'), 'staged\n');
    git(src, 'add', 'staged.txt');
    fs.appendFileSync(path.join(src, 'README.md'), 'unstaged\n');
    fs.rmSync(path.join(src, 'src', 'app.sh'));
    fs.writeFileSync(path.join(src, 'new.txt'), 'untracked\n');
    fs.writeFileSync(path.join(src, 'build.out'), 'ignored\n');
    const ws = path.join(tempDir('ws-'), 'w');
    await makeWorkspace(src, ws);
    assert.equal(git(ws, 'rev-parse', 'HEAD'), git(src, 'rev-parse', 'HEAD'));
    assert.equal(git(ws, 'rev-parse', '--abbrev-ref', 'HEAD'), 'HEAD', 'detached, as in the folder');
    assert.equal(git(ws, 'status', '--porcelain'), git(src, 'status', '--porcelain'));
    assert.ok(!fs.existsSync(path.join(ws, 'build.out')), 'ignored output is not copied');
    assert.ok(!fs.existsSync(path.join(ws, 'src', 'app.sh')), 'a deleted file is not copied');
  });

  for (const files of [10, 400]) {
    it(`a job writing in place into a workspace file does not change the folder's file (${files > 200 ? 'many files: copied by cp' : 'a few files: copied by Node'})`, async () => {
      const src = realisticRepo(files);
      const ws = path.join(tempDir('ws-'), 'w');
      await makeWorkspace(src, ws);
      for (const rel of ['README.md', `many/d${(files - 1) % 7}/f${files - 1}.txt`]) {
        const inWs = path.join(ws, rel);
        const before = fs.readFileSync(path.join(src, rel), 'utf8');
        assert.equal(fs.readFileSync(inWs, 'utf8'), before);
        assert.notEqual(fs.statSync(inWs).ino, fs.statSync(path.join(src, rel)).ino, 'a copy, not a hard link');
        // In place: the same inode opened for writing, no new file (what a formatter or `npm version` may do).
        const fd = fs.openSync(inWs, 'r+');
        fs.writeSync(fd, 'XXXX', 0);
        fs.closeSync(fd);
        assert.equal(fs.readFileSync(inWs, 'utf8').slice(0, 4), 'XXXX');
        assert.equal(fs.readFileSync(path.join(src, rel), 'utf8'), before, `${rel} in the folder is unchanged`);
      }
      const count = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.name === '.git' ? 0 : e.isDirectory() ? count(path.join(dir, e.name)) : 1), 0);
      assert.equal(count(ws), count(src), 'every file of the folder is in the workspace');
      assert.equal(git(ws, 'status', '--porcelain'), `M README.md\n M many/d${(files - 1) % 7}/f${files - 1}.txt`);
    });
  }

  it('the workspaces of a run: the folder read once (a file added later is not in them), a spare made ahead, nothing left after close', async () => {
    const src = realisticRepo();
    const root = path.join(tempDir('run-'), 'workspaces');
    const port = runWorkspaces({ reuse: true, planned: 3 });
    const signal = new AbortController().signal;
    await port.prepare(src, path.join(root, 'a'), signal);
    fs.writeFileSync(path.join(src, 'later.txt'), 'after the run began\n');
    fs.appendFileSync(path.join(src, 'README.md'), 'changed after the run began\n');
    await port.prepare(src, path.join(root, 'b'), signal);
    await port.prepare(src, path.join(root, 'c'), signal);
    for (const name of ['a', 'b', 'c']) {
      assert.equal(git(path.join(root, name), 'rev-parse', 'HEAD'), git(src, 'rev-parse', 'HEAD'));
      assert.ok(!fs.existsSync(path.join(root, name, 'later.txt')), `${name}: the run's file list is the one it began with`);
    }
    await port.remove(path.join(root, 'a'));
    assert.ok(!fs.existsSync(path.join(root, 'a')));
    await port.close();
    assert.deepEqual(fs.readdirSync(root).sort(), ['b', 'c'], 'no spare, nothing half-removed');
    // Without reuse (a job of the run works in the folder), each workspace reads the folder again.
    const fresh = runWorkspaces({ reuse: false });
    await fresh.prepare(src, path.join(root, 'd'), signal);
    assert.equal(fs.readFileSync(path.join(root, 'd', 'later.txt'), 'utf8'), 'after the run began\n');
    await fresh.close();
  });
  it("many jobs: the spares are made by the run's own thread, each a full copy with a working .git", async () => {
    const src = realisticRepo(30);
    fs.writeFileSync(path.join(src, 'README.md'), 'changed, not committed\n');
    const root = path.join(tempDir('run-'), 'workspaces');
    const port = runWorkspaces({ reuse: true, planned: 6 });
    const signal = new AbortController().signal;
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const ws = path.join(root, name);
      const made = await port.prepare(src, ws, signal);
      assert.deepEqual(made.notes, [], `${name}: made without a fallback`);
      assert.equal(git(ws, 'status', '--porcelain'), 'M README.md', `${name}: the change shows, nothing else`);
      assert.equal(git(ws, 'rev-parse', 'HEAD'), git(src, 'rev-parse', 'HEAD'));
      assert.equal(fs.readlinkSync(path.join(ws, 'run')), 'src/app.sh');
      assert.equal(fs.statSync(path.join(ws, 'src', 'app.sh')).mode & 0o777, 0o755);
      assert.notEqual(fs.statSync(path.join(ws, 'README.md')).ino, fs.statSync(path.join(src, 'README.md')).ino, 'a copy, not a hard link');
      fs.writeFileSync(path.join(ws, 'README.md'), `written by job ${name}\n`);
      if (name !== 'e') await port.remove(ws);
    }
    assert.equal(fs.readFileSync(path.join(src, 'README.md'), 'utf8'), 'changed, not committed\n');
    await port.close();
    assert.deepEqual(fs.readdirSync(root), ['e'], 'the spare and the removed workspaces are gone');
  });
  it("a succeeded job's workspace it changed nothing in serves the next job; one it changed in any way never does", async () => {
    const src = realisticRepo(30);
    const root = path.join(tempDir('run-'), 'workspaces');
    const port = runWorkspaces({ reuse: true, planned: 8 });
    const signal = new AbortController().signal;
    const readme = (name: string) => path.join(root, name, 'README.md');
    const original = fs.readFileSync(path.join(src, 'README.md'), 'utf8');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await port.prepare(src, path.join(root, 'a'), signal);
    await port.remove(path.join(root, 'a'));
    // b: a spare made while a ran; b only reads it.
    await port.prepare(src, path.join(root, 'b'), signal);
    const inoB = fs.statSync(readme('b')).ino;
    assert.equal(fs.readFileSync(readme('b'), 'utf8'), original);
    await port.remove(path.join(root, 'b'));
    // c: b's workspace itself (the same files), not a copy.
    assert.equal((await port.prepare(src, path.join(root, 'c'), signal)).reused, true);
    assert.equal(fs.statSync(readme('c')).ino, inoB, 'the unchanged workspace is taken again');
    // c rewrites README.md in place with as many bytes and puts its times back: still a change.
    const st = fs.statSync(readme('c'));
    fs.writeFileSync(readme('c'), 'X'.repeat(Buffer.byteLength(original)));
    fs.utimesSync(readme('c'), st.atime, st.mtime);
    await port.remove(path.join(root, 'c'));
    assert.equal((await port.prepare(src, path.join(root, 'd'), signal)).reused, undefined);
    assert.equal(fs.readFileSync(readme('d'), 'utf8'), original, 'a changed workspace is never taken again');
    assert.notEqual(fs.statSync(readme('d')).ino, inoB);
    await port.remove(path.join(root, 'd'));
    // e (its spare long made): adds a file and removes another; f gets a fresh copy.
    await sleep(60);
    await port.prepare(src, path.join(root, 'e'), signal);
    fs.writeFileSync(path.join(root, 'e', 'extra.txt'), 'made by e\n');
    fs.rmSync(path.join(root, 'e', 'src', 'app.sh'));
    await port.remove(path.join(root, 'e'));
    await port.prepare(src, path.join(root, 'f'), signal);
    assert.ok(!fs.existsSync(path.join(root, 'f', 'extra.txt')));
    assert.ok(fs.existsSync(path.join(root, 'f', 'src', 'app.sh')));
    // g: f changed only .git (git status refreshes the index): not taken again either.
    await port.remove(path.join(root, 'f'));
    await sleep(60);
    await port.prepare(src, path.join(root, 'g'), signal);
    const inoG = fs.statSync(readme('g')).ino;
    git(path.join(root, 'g'), 'update-index', '--really-refresh');
    git(path.join(root, 'g'), 'config', 'core.x', 'y');
    await port.remove(path.join(root, 'g'));
    await port.prepare(src, path.join(root, 'h'), signal);
    assert.notEqual(fs.statSync(readme('h')).ino, inoG, "a workspace whose .git changed is not taken again");
    assert.equal(git(path.join(root, 'h'), 'config', '--default', 'none', '--get', 'core.x'), 'none');
    await port.close();
    assert.deepEqual(fs.readdirSync(root), ['h'], 'nothing else left');
  });
});
