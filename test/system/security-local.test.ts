// Security (issue #17): other local users and outside values. Private temporary files for the ssh wrapper (a
// folder another user plants in the shared temporary directory is never used); outside values in bash arithmetic
// contexts of GitHub `run:` scripts; GitLab's expand_vars pasting outside values into the configuration.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FolderSources } from '../../src/adapters/folderSources';
import { startLocalRun } from '../../src/adapters/localRuns';
import { FileRunStore } from '../../src/adapters/runStore';
import { rsyncCommand, sshWrapper } from '../../src/adapters/ssh';
import { arithmeticReferences, mayHaveArithmetic } from '../../src/core/github/script';
import type { RunRequest } from '../../src/core/engine/select';
import type { RunRecord } from '../../src/shared/model';
import type { CommandSpec } from '../../src/core/engine/ports';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';
import { startSshd, sshdAvailable, type Sshd } from '../support/targets/sshd';
import { requireAvailable } from '../support/requireTool';
import { useSharedWorkspaces } from '../support/workspaceMode';

async function run(spec: CommandSpec) {
  const out: string[] = [];
  const r = await new LocalProcessRunner().run(spec, { signal: new AbortController().signal, onLine: (s, t) => out.push(`${s}:${t}`) });
  return { ...r, out };
}

const NOBODY = 65534;

describe('security: the ssh wrapper never lives in a folder another local user can plant', function () {
  this.timeout(30000);
  let sshd: Sshd;
  let shared: string;
  let savedTmp: string | undefined;
  before(async function () {
    requireAvailable(this, sshdAvailable() && fs.existsSync('/usr/bin/rsync'), 'sshd, ssh and rsync');
    requireAvailable(this, process.getuid?.() === 0 && fs.existsSync('/usr/bin/setpriv'), 'root and setpriv (to act as another user)');
    sshd = await startSshd(path.join(tempDir(), 'sshd'));
  });
  beforeEach(() => {
    // A shared temporary directory of our own (mode 1777, like /tmp): tests running next to this one keep theirs.
    shared = path.join(tempDir('delivery-shared-'), 'tmp');
    fs.chmodSync(path.dirname(shared), 0o755);
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = shared;
  });
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });
  after(async () => {
    await sshd?.stop();
    cleanupTempDirs();
  });

  /** Runs a shell command as the other user (uid 65534). */
  const asOther = (script: string, ...args: string[]) =>
    execFileSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', script, 'sh', ...args]);

  /** The other user's wrapper: leaves a canary, then would connect anywhere it likes. */
  const hostile = (canary: string) => `#!/bin/sh\ntouch '${canary}'\nexec ssh "$@"\n`;

  /** As the other user: replace every file in `dir` with the hostile wrapper (they own the folder, so they can). */
  const replaceAll = (dir: string, canary: string) =>
    asOther('for f in "$1"/*; do [ -f "$f" ] || continue; rm -f "$f"; printf "%s" "$2" > "$f"; chmod 755 "$f"; done', dir, hostile(canary));

  async function deployAndCheck(planted: string, canary: string): Promise<void> {
    const src = tempDir();
    fs.writeFileSync(path.join(src, 'a.txt'), 'A');
    const dest = path.join(tempDir(), 'site');
    const spec = rsyncCommand(sshd.target(), src, dest, { delete: true, exclude: [], cwd: src });
    const wrapperFile = spec.args[spec.args.indexOf('-e') + 1];
    // The other user strikes between the moment we wrote the wrapper and the moment rsync runs it.
    replaceAll(planted, canary);
    const r = await run(spec);
    assert.equal(fs.existsSync(canary), false, `the other user's wrapper ran as us (wrapper: ${wrapperFile})`);
    assert.equal(r.exitCode, 0, r.out.join('\n'));
    assert.equal(fs.readFileSync(path.join(dest, 'a.txt'), 'utf8'), 'A');
    // Where it lives instead: a folder of ours, mode 0700, outside what the other user planted.
    assert.ok(!fs.realpathSync(wrapperFile).startsWith(fs.realpathSync(planted) + path.sep), wrapperFile);
    const st = fs.lstatSync(path.dirname(wrapperFile));
    assert.ok(st.isDirectory());
    assert.equal(st.uid, process.getuid!());
    assert.equal(st.mode & 0o777, 0o700);
  }

  it('ignores a predictable $TMPDIR/delivery-ssh-<uid> owned by another user (mode 0777, their wrapper inside)', async () => {
    const canary = path.join(tempDir(), 'CANARY');
    const planted = path.join(shared, `delivery-ssh-${process.getuid!()}`);
    asOther('mkdir -m 0777 "$1" && printf "%s" "$2" > "$1/ssh-wrapper.sh" && chmod 0777 "$1/ssh-wrapper.sh"', planted, hostile(canary));
    assert.equal(fs.statSync(planted).uid, NOBODY);
    await deployAndCheck(planted, canary);
  });

  it('ignores a predictable folder that is a symlink to another user\'s folder', async () => {
    const canary = path.join(tempDir(), 'CANARY');
    const theirs = path.join(shared, 'theirs');
    const planted = path.join(shared, `delivery-ssh-${process.getuid!()}`);
    asOther('mkdir -m 0777 "$1" && printf "%s" "$3" > "$1/ssh-wrapper.sh" && ln -s "$1" "$2"', theirs, planted, hostile(canary));
    assert.ok(fs.lstatSync(planted).isSymbolicLink());
    await deployAndCheck(theirs, canary);
  });

  it('makes a fresh private wrapper when the one in use was tampered with', () => {
    const first = sshWrapper();
    assert.equal(sshWrapper(), first, 'reused while intact');
    fs.chmodSync(first, 0o777); // writable by others: not ours to trust any more
    const second = sshWrapper();
    assert.notEqual(second, first);
    assert.equal(fs.lstatSync(second).mode & 0o022, 0);
    fs.rmSync(path.dirname(first), { recursive: true, force: true });
    fs.rmSync(second);
    fs.symlinkSync('/bin/true', second); // the wrapper replaced by a symlink
    const third = sshWrapper();
    assert.notEqual(third, second);
    assert.ok(fs.lstatSync(third).isFile());
    fs.rmSync(path.dirname(second), { recursive: true, force: true });
  });
});

/** A git repository holding `files`, committed on `branch`. */
function repo(files: Record<string, string>, branch = 'main'): string {
  const dir = tempDir('delivery-sec-');
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', branch);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Loads the folder as the extension and the CLI do; runs `pipelineId` when given. */
async function load(folder: string) {
  return new FolderSources(folder).loadAll();
}
async function runLocal(folder: string, pipelineId: string, request: RunRequest = {}): Promise<RunRecord> {
  const snapshot = await load(folder);
  const pipeline = snapshot.pipelines.find((p) => p.def.id === pipelineId);
  assert.ok(pipeline, `pipeline ${pipelineId} (problems: ${JSON.stringify(snapshot.problems)})`);
  const handle = await startLocalRun(pipeline, request, { folder, store: new FileRunStore(path.join(tempDir('delivery-sec-state-'), 'state')), trigger: 'cli', parallelism: 1 });
  if ('error' in handle) throw new Error(handle.error);
  return handle.done;
}

describe('security: outside values in bash arithmetic (GitHub run: scripts)', function () {
  useSharedWorkspaces();
  this.timeout(60000);
  after(cleanupTempDirs);

  const WORKFLOW = [
    'on: push', //                                                        line 1
    'jobs:',
    '  check:',
    '    runs-on: ubuntu-latest',
    '    steps:', //                                                      line 5
    '      - id: a',
    "        run: echo 'n=a[$(touch CANARY)]' >> \"$GITHUB_OUTPUT\"",
    '      - name: compare',
    '        run: |',
    '          echo start', //                                            line 10
    '          [[ ${{ steps.a.outputs.n }} -gt 0 ]] && echo big',
    '          echo "${{ steps.a.outputs.n }}" > seen.txt',
    '      - name: one line',
    '        run: echo $(( ${{ github.run_number }} + 1 ))',
    '',
  ].join('\n');

  it('warns where an expression stands in an arithmetic context, and only there', async () => {
    const dir = repo({ '.github/workflows/w.yml': WORKFLOW });
    const snapshot = await load(dir);
    const warnings = snapshot.problems.filter((p) => /evaluates arithmetic/.test(p.message)).map((p) => `${p.file}:${p.line}:${p.column}:${p.severity}`);
    assert.deepEqual(warnings, ['.github/workflows/w.yml:11:14:warning', '.github/workflows/w.yml:14:23:warning']);
    const first = snapshot.problems.find((p) => p.line === 11)!;
    assert.match(first.message, /steps\.a\.outputs\.n/);
    assert.match(first.message, /\[\[ \$N =~ \^\[0-9\]\+\$ \]\]/);
  });

  it('refuses a non-integer outside value in an arithmetic context before the step runs: the canary stays away', async () => {
    const dir = repo({ '.github/workflows/w.yml': WORKFLOW });
    const run = await runLocal(dir, 'w');
    const steps = run.jobs[0].steps;
    const compare = steps.find((s) => s.name === 'compare')!;
    assert.equal(fs.existsSync(path.join(dir, 'CANARY')), false, 'the value ran as code');
    assert.equal(compare.status, 'failed', JSON.stringify(steps));
    assert.match(compare.reason ?? '', /steps\.a\.outputs\.n.*evaluates arithmetic.*not a plain integer/);
    assert.equal(fs.existsSync(path.join(dir, 'seen.txt')), false, 'the step did not run at all');
  });

  it('still runs arithmetic on plain integers from outside', async () => {
    const dir = repo({
      '.github/workflows/w.yml': WORKFLOW.replace('n=a[$(touch CANARY)]', 'n=7'),
    });
    const run = await runLocal(dir, 'w');
    assert.equal(run.status, 'success', JSON.stringify(run.jobs[0].steps));
    assert.equal(fs.readFileSync(path.join(dir, 'seen.txt'), 'utf8'), '7\n');
  });

  it('finds the arithmetic contexts bash really evaluates (each checked against bash itself)', function () {
    const cases: [string, boolean][] = [
      ['[[ ${X} -gt 0 ]]', true],
      ['[[ "${X}" -eq 1 ]]', true],
      ['if [[ 0 -lt $X || a == b ]]; then :; fi', true],
      ['(( X > 0 ))', true],
      ['echo "$(( ${X} + 1 ))"', true],
      ['echo $[ ${X} ]', true],
      ['for (( i=0; i<${X}; i++ )); do :; done', true],
      ['declare -i n; n=${X}', true],
      ['declare -i n=${X}', true],
      ['a[${X}]=1', true],
      ['x=(1 2); echo ${x[${X}]}', true],
      ['s=abc; echo ${s:${X}}', true],
      ['cat <<EOF\n$(( ${X} ))\nEOF', true],
      ['[[ ${X} == 0 ]]', false],
      ['[ ${X} -gt 0 ]', false],
      ['echo ${X} "${X}"', false],
      ["echo '(( ${X} ))'", false],
      ['# (( ${X} ))', false],
      ['declare -A m; echo ${m[${X}]}', false],
      ["cat <<'EOF'\n$(( ${X} ))\nEOF", false],
    ];
    const bash = fs.existsSync('/bin/bash');
    for (const [script, arithmetic] of cases) {
      assert.equal(arithmeticReferences(script).has('X'), arithmetic, script);
      // The quick look that skips the scan never skips a script where the scan finds something.
      if (arithmeticReferences(script).size > 0) assert.ok(mayHaveArithmetic(script), `skipped: ${script}`);
      if (!bash) continue;
      // bash agrees: a value in X runs code exactly where we say arithmetic.
      const dir = tempDir();
      try {
        execFileSync('bash', ['-c', script], { cwd: dir, env: { PATH: process.env.PATH, X: 'a[$(touch ran)]' }, stdio: 'ignore' });
      } catch {
        // a syntax or arithmetic error after the expansion is expected
      }
      assert.equal(fs.existsSync(path.join(dir, 'ran')), arithmetic, `bash: ${script}`);
    }
  });
});

describe('security: GitLab expand_vars on values from outside the repository', function () {
  this.timeout(60000);
  after(cleanupTempDirs);

  const TEMPLATE = [
    'spec:', //                                                     line 1
    '  inputs:',
    '    ref:',
    '      default: build of $CI_COMMIT_BRANCH',
    '    site:', //                                                 line 5
    '      default: $SITE-$CI_COMMIT_SHORT_SHA',
    '---',
    'show:',
    '  script:',
    '    - echo $[[ inputs.ref | expand_vars ]]', //                  line 10
    '    - echo $[[ inputs.site | expand_vars ]] "$CI_COMMIT_BRANCH" > seen.txt',
    '',
  ].join('\n');

  it('warns, at the interpolation, when expand_vars pastes a branch name (not for SHAs or repository variables)', async () => {
    const dir = repo({
      '.gitlab-ci.yml': 'include:\n  - local: templates/show.yml\n',
      'templates/show.yml': TEMPLATE,
      '.gitlab-ci-local-variables.yml': 'SITE: docs\n',
    });
    const snapshot = await load(dir);
    const warnings = snapshot.problems.filter((p) => /expand_vars/.test(p.message));
    assert.deepEqual(
      warnings.map((p) => `${p.file}:${p.line}:${p.column}:${p.severity}`),
      ['templates/show.yml:10:7:warning'],
      JSON.stringify(snapshot.problems),
    );
    assert.match(warnings[0].message, /\$CI_COMMIT_BRANCH.*outside the repository.*runs as shell code/);
  });

  it('a branch name written as "$CI_COMMIT_BRANCH" in a script stays data (no expand_vars): the canary stays away', async () => {
    const branch = 'x$(touch${IFS}CANARY)';
    const dir = repo(
      {
        '.gitlab-ci.yml': 'include:\n  - local: templates/show.yml\n',
        'templates/show.yml': TEMPLATE.replace('    - echo $[[ inputs.ref | expand_vars ]]\n', ''),
        '.gitlab-ci-local-variables.yml': 'SITE: docs\n',
      },
      branch,
    );
    const run = await runLocal(dir, 'gitlab-ci');
    assert.equal(run.status, 'success', JSON.stringify(run.jobs));
    assert.equal(fs.existsSync(path.join(dir, 'CANARY')), false, 'the branch name ran as code');
    assert.match(fs.readFileSync(path.join(dir, 'seen.txt'), 'utf8'), /^docs-[0-9a-f]{8} x\$\(touch\$\{IFS\}CANARY\)\n$/);
  });
});
