// GitHub workflows as GitHub reads them, run through the CLI: steps shared through YAML aliases, a matrix inserted
// from a needed job's outputs (`${{ insert }}`, mappings as values), hashFiles() in `if:` and scripts, and
// github.repository from the folder's name (with a note in the step's log) when no remote names the repository.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';
import { useSharedWorkspaces } from '../support/workspaceMode';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function cli(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(cwd, '.state-test') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WORKFLOW = `on: push
jobs:
  setup:
    runs-on: ubuntu-latest
    outputs:
      axes: \${{ steps.m.outputs.axes }}
    steps: &steps
      - id: m
        run: echo 'axes={"os":["linux","mac"],"cfg":[{"opt":1}]}' >> "$GITHUB_OUTPUT"
      - if: hashFiles('lock.txt') != ''
        run: echo "hash=\${{ hashFiles('lock.txt') }}" >> "out-\${{ github.job }}.txt"
      - if: hashFiles('missing/**') != ''
        run: echo never >> "out-\${{ github.job }}.txt"
      - run: echo "repo=\${{ github.repository }} owner=$GITHUB_REPOSITORY_OWNER" >> "out-\${{ github.job }}.txt"
  again:
    runs-on: ubuntu-latest
    steps: *steps
  m:
    needs: setup
    runs-on: ubuntu-latest
    strategy:
      matrix:
        \${{ insert }}: \${{ fromJSON(needs.setup.outputs.axes) }}
        node: [20]
    steps:
      - run: echo "\${{ matrix.os }}-\${{ matrix.cfg.opt }}-\${{ matrix.node }}" >> matrix.txt
`;

describe('GitHub workflows as GitHub reads them (CLI)', function () {
  useSharedWorkspaces();
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('runs steps shared through an alias, hashFiles() and an inserted matrix; github.repository is the folder\'s name, said in the log', () => {
    const dir = path.join(tempDir(), 'my app');
    writeFiles(dir, { '.github/workflows/ci.yml': WORKFLOW, 'lock.txt': 'locked\n' });
    git(dir, 'init', '-q');
    const list = cli(dir, ['pipelines', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const jobs = JSON.parse(list.stdout).pipelines[0].jobs as { id: string; steps: unknown[]; matrix: boolean; needs: string[] }[];
    assert.deepEqual(jobs.map((j) => [j.id, j.steps.length, j.matrix, j.needs]), [['setup', 4, false, []], ['again', 4, false, []], ['m', 1, true, ['setup']]]);
    const r = cli(dir, ['run', 'ci']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const digest = crypto.createHash('sha256').update(crypto.createHash('sha256').update('locked\n').digest()).digest('hex');
    for (const job of ['setup', 'again']) {
      assert.equal(fs.readFileSync(path.join(dir, `out-${job}.txt`), 'utf8'), `hash=${digest}\nrepo=local/my-app owner=local\n`);
    }
    assert.deepEqual(fs.readFileSync(path.join(dir, 'matrix.txt'), 'utf8').split('\n').filter(Boolean).sort(), ['linux-1-20', 'mac-1-20']);
    assert.match(r.stdout, /^setup +\| ▷ Run echo "repo=\$\{\{ github\.repository \}\} owner=\$GITHUB_REPOSITORY_OWNER" >> "out-\$\{\{ …: github\.repository is "local\/my-app" \(owner "local", the folder's name\): the repository has no remote that names it \(origin\)$/m);
    assert.doesNotMatch(r.stdout, /▷ Run echo 'axes=.*github\.repository/, 'a step that does not read it has no note');
  });

  it('takes github.repository from the origin remote when there is one, without a note', () => {
    const dir = tempDir();
    writeFiles(dir, { '.github/workflows/ci.yml': 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.repository }}" > repo.txt\n' });
    git(dir, 'init', '-q');
    git(dir, 'remote', 'add', 'origin', 'https://github.com/acme/widgets.git');
    const r = cli(dir, ['run', 'ci']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'repo.txt'), 'utf8'), 'acme/widgets\n');
    assert.doesNotMatch(r.stdout, /▷/);
  });

  it('refuses a workflow with a "<<" merge key, as GitHub does, at the key', () => {
    const dir = tempDir();
    writeFiles(dir, { '.github/workflows/ci.yml': 'on: push\njobs:\n  a: &a\n    runs-on: ubuntu-latest\n    steps: [{ run: touch ran }]\n  b:\n    <<: *a\n' });
    const r = cli(dir, ['run', 'ci']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^\.github\/workflows\/ci\.yml:7:5: error: "<<" \(a YAML merge key\) is not supported by GitHub Actions/m);
    assert.equal(fs.existsSync(path.join(dir, 'ran')), false);
  });
});
