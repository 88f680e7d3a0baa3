// Issue #10 items 4-6 through the CLI, with real processes: runs-on labels mapped to platforms (a macOS leg is
// unsupported, never run on Linux), one matrix leg named ("test (16)"), and setup actions that use this machine's
// toolchain only when its version fits.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunJson } from '../../src/cli/json';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';
import { useSharedWorkspaces } from '../support/workspaceMode';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');
/** This machine's Node (the one steps run), and a major it does not have. */
const LOCAL = process.versions.node;
const MAJOR = Number(LOCAL.split('.')[0]);
const OTHER = MAJOR + 1;

function repo(workflow: string, extra: Record<string, string> = {}): string {
  const dir = tempDir('delivery-gh-platforms-');
  writeFiles(dir, { '.github/workflows/ci.yml': workflow, ...extra });
  git(dir, 'init', '-q', '-b', 'main');
  return dir;
}

function run(dir: string, args: string[]): { status: number | null; json: RunJson; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', 'ci', ...args, '--json', '--cwd', dir], {
    encoding: 'utf8',
    env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') },
  });
  let json: RunJson;
  try {
    json = JSON.parse(r.stdout) as RunJson;
  } catch {
    throw new Error(`no JSON (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, json, stderr: r.stderr };
}

const lines = (dir: string, file: string) => (fs.existsSync(path.join(dir, file)) ? fs.readFileSync(path.join(dir, file), 'utf8').trim().split('\n').sort() : []);

const MATRIX = `on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo lint >> ran.txt
  test:
    needs: lint
    runs-on: \${{ matrix.os }}
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, macos-latest]
        node: [16, 18]
    steps:
      - run: echo "\${{ matrix.os }} \${{ matrix.node }}" >> ran.txt
`;

describe('GitHub platforms, matrix legs and toolchains (CLI, real processes)', function () {
  useSharedWorkspaces();
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('plans a macOS leg as unsupported, naming its label, and runs the Linux legs', () => {
    const dir = repo(MATRIX);
    const r = run(dir, []);
    assert.equal(r.status, 1, 'a leg that could not run is not a success');
    const mac = r.json.jobs['test (macos-latest, 16)'];
    assert.equal(mac.status, 'unsupported');
    assert.equal(mac.reason, 'runs on "macos-latest", which has no local platform (map one with --platform macos-latest=host or the delivery.platforms setting)');
    assert.equal(r.json.jobs['test (ubuntu-latest, 16)'].status, 'success');
    assert.deepEqual(lines(dir, 'ran.txt'), ['lint', 'ubuntu-latest 16', 'ubuntu-latest 18'], 'nothing ran for macOS');
  });

  it('--platform macos-latest=host runs the macOS legs on this machine', () => {
    const dir = repo(MATRIX);
    const r = run(dir, ['--platform', 'macos-latest=host']);
    assert.equal(r.status, 0, JSON.stringify(r.json));
    assert.deepEqual(lines(dir, 'ran.txt'), ['lint', 'macos-latest 16', 'macos-latest 18', 'ubuntu-latest 16', 'ubuntu-latest 18']);
    const bad = spawnSync(process.execPath, [CLI, 'run', 'ci', '--platform', 'macos-latest', '--cwd', dir], { encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') } });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--platform needs LABEL=host or LABEL=IMAGE, not "macos-latest"/);
  });

  it('runs one leg named "test (ubuntu-latest, 16)", with what it needs under --needs; an unknown leg lists the legs', () => {
    const dir = repo(MATRIX);
    const one = run(dir, ['test (ubuntu-latest, 16)']);
    assert.equal(one.status, 0, JSON.stringify(one.json));
    assert.deepEqual(Object.keys(one.json.jobs), ['test (ubuntu-latest, 16)']);
    assert.deepEqual(lines(dir, 'ran.txt'), ['ubuntu-latest 16']);
    fs.rmSync(path.join(dir, 'ran.txt'));
    const needs = run(dir, ['test (ubuntu-latest, 18)', '--needs']);
    assert.deepEqual(Object.keys(needs.json.jobs), ['lint', 'test (ubuntu-latest, 18)']);
    assert.deepEqual(lines(dir, 'ran.txt'), ['lint', 'ubuntu-latest 18']);
    const unknown = spawnSync(process.execPath, [CLI, 'run', 'ci', 'test (ubuntu-latest, 20)', '--cwd', dir], { encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') } });
    assert.equal(unknown.status, 2);
    assert.match(
      unknown.stderr,
      /no job named "test \(ubuntu-latest, 20\)" \(jobs: lint, test; matrix legs: test \(ubuntu-latest, 16\), test \(ubuntu-latest, 18\), test \(macos-latest, 16\), test \(macos-latest, 18\)\)/,
    );
  });

  it('names a leg, or a job, by the name GitHub shows for it (`name: Node.js ${{ matrix.node }}`)', () => {
    const dir = repo(`name: named
on: push
jobs:
  test:
    name: Node.js \${{ matrix.node }}
    runs-on: ubuntu-latest
    strategy: { matrix: { node: [14, 16] } }
    steps:
      - run: echo "node \${{ matrix.node }}" >> ran.txt
  lint:
    name: Lint the code
    runs-on: ubuntu-latest
    steps:
      - run: echo lint >> ran.txt
`);
    const shown = spawnSync(process.execPath, [CLI, 'run', 'ci', 'Node.js 16', 'Lint the code', '--json', '--cwd', dir], { encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') } });
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(Object.keys((JSON.parse(shown.stdout) as RunJson).jobs).sort(), ['lint', 'test (16)']);
    assert.deepEqual(lines(dir, 'ran.txt').sort(), ['lint', 'node 16']);
  });

  it('GitLab: one parallel instance by its full name or as "job 2/3"', () => {
    const dir = tempDir('delivery-gl-legs-');
    writeFiles(dir, { '.gitlab-ci.yml': 'build:\n  parallel:\n    matrix:\n      - PROVIDER: [aws]\n        STACK: [app1, app2]\n  script: [echo "build $STACK" >> ran.txt]\nshard:\n  parallel: 3\n  script: [echo "shard $CI_NODE_INDEX" >> ran.txt]\n' });
    const gl = (name: string) => spawnSync(process.execPath, [CLI, 'run', 'gitlab-ci', name, '--json', '--cwd', dir], { encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') } });
    assert.deepEqual(Object.keys((JSON.parse(gl('build: [aws, app1]').stdout) as RunJson).jobs), ['build: [aws,app1]']);
    assert.deepEqual(Object.keys((JSON.parse(gl('shard 2/3').stdout) as RunJson).jobs), ['shard: [2/3]']);
    assert.deepEqual(lines(dir, 'ran.txt'), ['build app1', 'shard 2']);
    const unknown = gl('shard 4/3');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no job named "shard 4\/3" in this pipeline \(jobs: build, shard; parallel jobs: build: \[aws,app1\], build: \[aws,app2\], shard: \[1\/3\], shard: \[2\/3\], shard: \[3\/3\]\)/);
  });

  it(`setup-node asking for Node ${OTHER} makes the leg unsupported naming both versions (its later steps do not run); asking for ${MAJOR} uses this machine's`, () => {
    const dir = repo(`on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        node: [${MAJOR}, ${OTHER}]
    steps:
      - uses: actions/setup-node@v4
        id: setup
        with:
          node-version: \${{ matrix.node }}
      - run: echo "\${{ matrix.node }} $(node --version)" >> ran.txt
      - if: matrix.node == ${MAJOR}
        run: echo "\${{ steps.setup.outputs.node-version }}" >> ran.txt
`);
    const r = run(dir, []);
    const mine = r.json.jobs[`test (${MAJOR})`];
    assert.equal(mine.status, 'success');
    assert.equal(mine.unsupportedSteps, undefined, 'nothing unsupported: it ran as CI would');
    const other = r.json.jobs[`test (${OTHER})`];
    const why = `actions/setup-node@v4 asks for Node ${OTHER}, this machine has ${LOCAL}`;
    assert.equal(other.status, 'unsupported', 'not a pass: its steps would have run on another Node than CI gives it');
    assert.equal(other.reason, `Run actions/setup-node@v4: ${why}`);
    assert.deepEqual(lines(dir, 'ran.txt'), [`${MAJOR} v${LOCAL}`, `v${LOCAL}`].sort(), "only the leg this machine's Node answers for ran its steps");
    // The text summary does not call such a leg a pass.
    const text = spawnSync(process.execPath, [CLI, 'run', 'ci', `test (${OTHER})`, '--cwd', dir], { encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(dir, '.state-test') } });
    assert.match(text.stdout, new RegExp(`UNSUPPORTED +test \\(${OTHER}\\)`));
    assert.match(text.stdout, new RegExp(`UNSUPPORTED +test \\(${OTHER}\\) +\\d+ms +Run actions/setup-node@v4: actions/setup-node@v4 asks for Node ${OTHER}, this machine has ${LOCAL.replace(/\./g, '\\.')}`));
    // Its last line says why the run failed as the status bar does: nothing in it failed.
    assert.match(text.stdout, /: failed in \S+ \(1 of 1 job unsupported locally\)$/m);
  });

  it('reads node-version-file, and a setup action inside a local composite action', () => {
    const dir = repo(
      `on: push
jobs:
  file:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with:
          node-version-file: .nvmrc
      - run: echo file >> ran.txt
  composite:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/setup
`,
      {
        '.nvmrc': `v${OTHER}\n`,
        '.github/actions/setup/action.yml': `name: setup\nruns:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n      with:\n        node-version: '>=${MAJOR}'\n    - run: echo composite >> ran.txt\n      shell: bash\n`,
      },
    );
    const r = run(dir, []);
    assert.equal(r.json.jobs.file.reason, `Run actions/setup-node@v4: actions/setup-node@v4 asks for Node v${OTHER}, this machine has ${LOCAL}`);
    assert.equal(r.json.jobs.composite.status, 'success');
    assert.equal(r.json.jobs.composite.unsupportedSteps, undefined, JSON.stringify(r.json.jobs.composite));
    assert.equal(r.json.jobs.file.status, 'unsupported');
    assert.deepEqual(lines(dir, 'ran.txt'), ['composite'], 'the file job stopped at its setup step');
  });
});
