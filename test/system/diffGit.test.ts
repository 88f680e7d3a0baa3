// Deploy diffs in real repositories: commits to deploy and to revert, renames, binary files, odd file names,
// uncommitted changes, per-file hunks and file contents for the diff editor, environment <-> environment.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { environmentDiff, EnvironmentDiffError } from '../../src/adapters/environments/compare';
import { deployDiff, fileAtRevision, fileHunks, repositoryRoot } from '../../src/adapters/environments/diff';
import { parseDeliveryConfig, type EnvironmentConfig } from '../../src/core/config/delivery';
import { cleanupTempDirs, git, gitRepo, tempDir, writeFiles } from '../support/tmp';

function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

function environments(yaml: string): EnvironmentConfig[] {
  const cfg = parseDeliveryConfig(`version: 1\npipelines:\n  ci:\n    jobs:\n      b: { run: "true" }\nenvironments:\n${yaml}`);
  assert.deepEqual(cfg.problems, []);
  return cfg.environments;
}

describe('deploy diffs (real git)', function () {
  this.timeout(30_000);
  after(cleanupTempDirs);

  it('lists commits to deploy and to revert, and every kind of file change with +/- counts', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const repo = gitRepo({ 'keep.txt': 'a\nb\nc\n', 'old name.txt': `${lines}\n`, 'gone.txt': 'bye\n', 'logo.png': '\u0000\u0001PNG' });
    git(repo, 'checkout', '-q', '-b', 'hotfix');
    writeFiles(repo, { 'hotfix.txt': 'only on the environment\n' });
    const hot = commitAll(repo, 'Hotfix deployed by hand');
    git(repo, 'checkout', '-q', 'main');
    writeFiles(repo, { 'keep.txt': 'a\nB\nc\nd\n', 'tab\tname.txt': 'odd\n' });
    fs.writeFileSync(path.join(repo, 'logo.png'), Buffer.from([0, 1, 2, 3, 4, 5]));
    fs.rmSync(path.join(repo, 'gone.txt'));
    git(repo, 'mv', 'old name.txt', 'new name.txt');
    const c2 = commitAll(repo, 'Change things');
    const d = await deployDiff(repo, { env: 'production', sha: hot }, { ref: 'HEAD', sha: c2 });
    assert.deepEqual(d.from, { env: 'production', sha: hot });
    assert.deepEqual(d.to, { ref: 'HEAD', sha: c2 });
    assert.deepEqual(d.commits.toDeploy.map((c) => c.subject), ['Change things']);
    assert.deepEqual(d.commits.toRevert.map((c) => [c.sha, c.subject, c.author]), [[hot, 'Hotfix deployed by hand', 'Test']]);
    assert.match(d.commits.toRevert[0].date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    const files = Object.fromEntries(d.files.map((f) => [f.path, f]));
    assert.deepEqual(Object.keys(files).sort(), ['gone.txt', 'hotfix.txt', 'keep.txt', 'logo.png', 'new name.txt', 'tab\tname.txt']);
    assert.deepEqual(files['keep.txt'], { path: 'keep.txt', oldPath: null, status: 'M', additions: 2, deletions: 1, binary: false });
    assert.deepEqual(files['new name.txt'], { path: 'new name.txt', oldPath: 'old name.txt', status: 'R', additions: 0, deletions: 0, binary: false });
    assert.deepEqual(files['logo.png'], { path: 'logo.png', oldPath: null, status: 'M', additions: 0, deletions: 0, binary: true });
    assert.deepEqual([files['gone.txt'].status, files['gone.txt'].deletions], ['D', 1]);
    assert.deepEqual([files['hotfix.txt'].status, files['hotfix.txt'].deletions], ['D', 1], 'deploying HEAD removes the hotfix file');
    assert.deepEqual([files['tab\tname.txt'].status, files['tab\tname.txt'].additions], ['A', 1]);
    assert.deepEqual(d.uncommitted, [], 'uncommitted changes only when asked for the working tree');
  });

  it('lists uncommitted changes apart when comparing with the working HEAD', async () => {
    const repo = gitRepo({ 'a.txt': '1\n', 'b.txt': 'b\n' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(repo, 'a.txt'), '2\n');
    fs.writeFileSync(path.join(repo, 'new.txt'), 'n\n');
    git(repo, 'mv', 'b.txt', 'c.txt');
    const d = await deployDiff(repo, { env: 'staging', sha }, { ref: 'HEAD', sha, workingTree: true });
    assert.deepEqual(d.commits, { toDeploy: [], toRevert: [] });
    assert.deepEqual(d.files, []);
    assert.deepEqual(d.uncommitted, [
      { path: 'a.txt', status: ' M' },
      { path: 'c.txt', status: 'R ' },
      { path: 'new.txt', status: '??' },
    ]);
  });

  it('per-file hunks (a rename pairs with its old path; the working tree when `to` is null) and file contents', async () => {
    const repo = gitRepo({ 'src/app.js': 'one\ntwo\nthree\n', 'docs/readme.md': 'hello\nworld\nthis is long enough to be a rename\n' });
    const from = git(repo, 'rev-parse', 'HEAD');
    writeFiles(repo, { 'src/app.js': 'one\nTWO\nthree\n' });
    git(repo, 'mv', 'docs/readme.md', 'docs/README.md');
    const to = commitAll(repo, 'second');
    const hunks = await fileHunks(repo, { from, to, path: 'src/app.js' });
    assert.match(hunks, /^diff --git a\/src\/app\.js b\/src\/app\.js\n/);
    assert.match(hunks, /\n-two\n\+TWO\n/);
    const renamed = await fileHunks(repo, { from, to, path: 'docs/README.md', oldPath: 'docs/readme.md' });
    assert.match(renamed, /rename from docs\/readme\.md\nrename to docs\/README\.md/);
    fs.writeFileSync(path.join(repo, 'src/app.js'), 'uncommitted\n');
    assert.match(await fileHunks(repo, { from, to: null, path: 'src/app.js' }), /\n\+uncommitted\n/);
    // From a subfolder, paths stay relative to the repository root (as the diff lists them).
    const sub = path.join(repo, 'src');
    assert.match(await fileHunks(sub, { from, to, path: 'src/app.js' }), /\+TWO/);
    assert.equal((await fileAtRevision(sub, from, 'src/app.js'))?.toString(), 'one\ntwo\nthree\n');
    assert.equal(await fileAtRevision(repo, to, 'docs/readme.md'), null, 'absent in that commit');
    assert.equal(await fileAtRevision(repo, from, 'src'), null, 'a folder is not a file');
    assert.equal(await repositoryRoot(sub), fs.realpathSync(repo));
    assert.equal(await repositoryRoot(tempDir()), null);
    await assert.rejects(fileAtRevision(repo, from, '../etc/passwd'), /not a repository path/);
    await assert.rejects(fileHunks(repo, { from: 'HEAD', to, path: 'x' }), /full commit SHAs/);
  });

  it('binary contents come back byte for byte', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13, 0]);
    const repo = tempDir();
    git(repo, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'blob.bin'), bytes);
    const sha = commitAll(repo, 'binary');
    assert.deepEqual(await fileAtRevision(repo, sha, 'blob.bin'), bytes);
  });

  it('environment <-> environment and environment <-> ref, with clear errors', async () => {
    const repo = gitRepo({ 'a.txt': '1\n' });
    const c1 = git(repo, 'rev-parse', 'HEAD');
    writeFiles(repo, { 'a.txt': '2\n' });
    const c2 = commitAll(repo, 'two');
    git(repo, 'tag', 'v2');
    writeFiles(repo, { 'a.txt': '3\n' });
    commitAll(repo, 'three');
    const envs = environments(
      `  production: { version: { command: "echo ${c1}" } }\n  staging: { version: { command: "echo ${c2}" } }\n` +
        '  broken: { version: { command: "exit 4" } }\n  preview: { name: Preview }\n',
    );
    const envToEnv = await environmentDiff(repo, envs, 'production', { kind: 'environment', id: 'staging' });
    assert.deepEqual([envToEnv.diff.from, envToEnv.diff.to], [{ env: 'production', sha: c1 }, { ref: 'staging', sha: c2 }]);
    assert.deepEqual(envToEnv.diff.commits.toDeploy.map((c) => c.subject), ['two']);
    assert.equal(envToEnv.to?.id, 'staging');
    const toRef = await environmentDiff(repo, envs, 'staging', { kind: 'ref', ref: 'HEAD~1' });
    assert.deepEqual(toRef.diff.to, { ref: 'HEAD~1', sha: c2 });
    assert.deepEqual(toRef.diff.files, []);
    const toHead = await environmentDiff(repo, envs, 'staging');
    assert.deepEqual(toHead.diff.commits.toDeploy.map((c) => c.subject), ['three']);

    const reason = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        assert.ok(EnvironmentDiffError.is(e), String(e));
        return `${e.reason}: ${e.message}`;
      }
      return 'no error';
    };
    assert.equal(await reason(environmentDiff(repo, envs, 'nope')), 'unknown-environment: no environment "nope" (environments: production, staging, broken, preview)');
    assert.equal(await reason(environmentDiff(repo, envs, 'preview')), 'no-version: environment "preview" has no "version" in delivery.yml, so what it runs is unknown');
    assert.equal(await reason(environmentDiff(repo, envs, 'broken')), 'deployed-unknown: cannot tell what broken runs: the version command exited with code 4');
    assert.equal(await reason(environmentDiff(repo, envs, 'staging', { kind: 'ref', ref: 'no-such-branch' })), 'bad-ref: "no-such-branch" is not a branch, tag or commit of this repository');
    assert.equal(await reason(environmentDiff(repo, envs, 'staging', { kind: 'ref', ref: '--output=x' })), 'bad-ref: "--output=x" is not a branch, tag or commit name');
    const outside = tempDir();
    assert.equal(await reason(environmentDiff(outside, envs, 'staging')), `not-a-repository: ${outside} is not in a git repository`);
  });

  it('stays a few git calls for thousands of files and commits', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '-b', 'main');
    const files: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) files[`pkg${i % 30}/file ${i}.txt`] = `v1 ${i}\n`;
    writeFiles(repo, files);
    const from = commitAll(repo, 'base');
    for (let i = 0; i < 1500; i++) if (i % 3 !== 0) files[`pkg${i % 30}/file ${i}.txt`] = `v2 ${i}\nmore\n`;
    writeFiles(repo, files);
    for (let c = 0; c < 40; c++) git(repo, 'commit', '-q', '--allow-empty', '-m', `commit ${c}`);
    const to = commitAll(repo, 'change 1000 files');
    const d = await deployDiff(repo, { env: null, sha: from }, { ref: 'main', sha: to });
    assert.equal(d.files.length, 1000);
    assert.equal(d.commits.toDeploy.length, 41);
    assert.ok(d.files.every((f) => f.status === 'M' && f.additions === 2 && f.deletions === 1));
    // i % 30 === 7 implies i % 3 === 1: all 50 files of pkg7 changed.
    assert.equal(d.files.filter((f) => f.path.startsWith('pkg7/file ')).length, 50);
  });
});
