// Job workspaces: each GitHub job and matrix leg runs in a copy of the folder as it is now (committed files and
// uncommitted changes, not ignored ones), with a .git of its own; the folder itself is never written. Real git, real
// processes, the CLI as a user runs it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, tempDir } from '../support/tmp';
import { cli, caseFolder } from '../support/catalogueSupport';
import { makeWorkspace } from '../../src/adapters/workspaces';

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
});
