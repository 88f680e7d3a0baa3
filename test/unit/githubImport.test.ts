import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources } from '../../src/adapters/folderSources';
import { pipelinesJson } from '../../src/cli/json';
import { RunRuntime } from '../../src/core/engine/interpreters';
import { importWorkflow } from '../../src/core/github/importer';
import type { RunRequest } from '../../src/core/engine/select';
import type { ImportContext } from '../../src/core/sources';
import type { Problem } from '../../src/shared/model';
import { cleanupTempDirs, tempDir, testPlanIO } from '../support/tmp';
import { planFacts } from '../../src/adapters/clock';

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/github/repo');

function fixtureCopy(): string {
  const dir = tempDir('delivery-gh-import-');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

const noFiles: ImportContext = { readFile: async () => null, listFiles: async () => [] };

async function importText(text: string, file = '.github/workflows/w.yml', ctx: ImportContext = noFiles) {
  return importWorkflow({ path: file, text }, ctx);
}

const brief = (p: Problem) => `${p.line}:${p.column} ${p.severity}: ${p.message}`;

describe('GitHub workflows: import', () => {
  after(cleanupTempDirs);

  it('lists every workflow of the fixture repository as a pipeline, in the CLI JSON shape', async () => {
    const snapshot = await new FolderSources(fixtureCopy()).loadAll();
    const json = pipelinesJson(snapshot);
    const github = json.pipelines.filter((p) => p.source.kind === 'github');
    assert.deepEqual(
      github.map((p) => [p.id, p.name, p.source.file]),
      [
        ['checks', 'Checks', '.github/workflows/checks.yml'],
        ['ci', 'CI', '.github/workflows/ci.yml'],
        ['composite', 'Composite actions', '.github/workflows/composite.yml'],
        ['deploy', 'Deploy', '.github/workflows/deploy.yml'],
        ['expressions', 'Expressions', '.github/workflows/expressions.yml'],
        ['integration', 'Integration', '.github/workflows/integration.yaml'],
        ['release', 'Release', '.github/workflows/release.yml'],
      ],
    );
    const ci = github.find((p) => p.id === 'ci')!;
    assert.equal(ci.stages, null);
    assert.deepEqual(
      ci.jobs.map((j) => ({ id: j.id, name: j.name, needs: j.needs, matrix: j.matrix, when: j.when, stage: j.stage })),
      [
        { id: 'lint', name: 'Lint', needs: [], matrix: false, when: null, stage: null },
        { id: 'test', name: 'test', needs: ['lint'], matrix: true, when: null, stage: null },
        { id: 'build', name: 'build', needs: ['test'], matrix: false, when: null, stage: null },
        { id: 'report', name: 'report', needs: ['build', 'test'], matrix: false, when: null, stage: null },
      ],
    );
    assert.deepEqual(ci.jobs[1].steps, [
      { name: 'Run actions/checkout@v4', kind: 'uses' },
      { name: 'Run actions/setup-node@v4', kind: 'uses' },
      { name: 'Test on ${{ matrix.os }} with node ${{ matrix.node }}', kind: 'run' },
      { name: 'Experimental', kind: 'run' },
    ]);
    const deploy = github.find((p) => p.id === 'deploy')!;
    assert.deepEqual(deploy.jobs.find((j) => j.id === 'deploy')!.environment, {
      name: '${{ inputs.target }}',
      url: 'https://${{ inputs.target }}.example.com/${{ steps.release.outputs.path }}',
    });
    const release = github.find((p) => p.id === 'release')!;
    assert.deepEqual(
      release.jobs.map((j) => [j.id, j.uses, j.steps.length]),
      [
        ['checks', './.github/workflows/checks.yml', 0],
        ['publish', 'acme/shared-workflows/.github/workflows/publish.yml@v2', 0],
        ['announce', null, 1],
      ],
    );
    assert.deepEqual(
      json.problems.filter((p) => p.file.startsWith('.github/')),
      [],
    );
  });

  it('says what cannot run here, on jobs and steps, with locations', async () => {
    const snapshot = await new FolderSources(fixtureCopy()).loadAll();
    const def = (id: string) => snapshot.pipelines.find((p) => p.def.id === id)!.def;
    const db = def('integration').jobs.find((j) => j.id === 'db-tests')!;
    assert.equal(db.unsupported, 'needs Docker image node:20-bookworm (the job runs in a container); needs service containers postgres:16, redis:7');
    assert.deepEqual(db.location, { file: '.github/workflows/integration.yaml', line: 5, column: 3 });
    assert.equal(def('integration').jobs.find((j) => j.id === 'unit')!.unsupported, null);
    assert.equal(def('release').jobs[0].unsupported, null, 'a reusable workflow of this repository runs locally');
    assert.equal(def('release').jobs[1].unsupported, null, 'a reusable workflow of another repository is fetched when a run is planned, not to list it');
    const test = def('ci').jobs.find((j) => j.id === 'test')!;
    assert.deepEqual(
      test.steps.map((s) => [s.unsupported, s.location.line]),
      [
        [null, 42],
        [null, 43], // a remote action: fetched from the actions host when the step runs
        [null, 46],
        [null, 48],
      ],
    );
    assert.equal(test.timeoutMs, 600_000);
    assert.equal(test.cwd, 'app', 'defaults.run.working-directory of the workflow');
    const greet = def('composite').jobs[0];
    assert.deepEqual(greet.steps.map((s) => [s.kind, s.uses, s.unsupported]).slice(0, 2), [
      ['uses', './.github/actions/greet', null],
      ['run', null, null],
    ]);
  });

  it('re-imports a workflow when a local action it uses changes', async () => {
    const dir = fixtureCopy();
    const sources = new FolderSources(dir);
    await sources.loadAll();
    const read = (rel: string) => fs.promises.readFile(path.join(dir, rel), 'utf8').catch(() => null);
    const r = await importWorkflow({ path: '.github/workflows/composite.yml', text: (await read('.github/workflows/composite.yml'))! }, { readFile: read, listFiles: async () => [] });
    assert.deepEqual(r.dependsOn, ['.github/actions/greet/action.yaml', '.github/actions/greet/action.yml', '.github/actions/log/action.yaml', '.github/actions/log/action.yml']);
    fs.writeFileSync(path.join(dir, '.github/actions/log/action.yml'), 'name: Log\nruns:\n  using: composite\n  steps:\n    - uses: not-an-action\n');
    assert.equal(await sources.reload('.github/actions/log/action.yml'), true);
    const problems = sources.snapshot().problems.filter((p) => p.file === '.github/workflows/composite.yml');
    assert.deepEqual(problems.map((p) => `${p.line} ${p.severity}: ${p.message}`), [
      '8 info: step "Run ./.github/actions/greet" (./.github/actions/greet) has a step that cannot run locally: "not-an-action" is not an action reference (./path, $/path, docker://image or owner/repo[/path]@ref)',
      '24 info: step "Run ./.github/actions/greet" (./.github/actions/greet) has a step that cannot run locally: "not-an-action" is not an action reference (./path, $/path, docker://image or owner/repo[/path]@ref)',
    ]);
  });

  it('reports malformed YAML, a workflow without jobs and a missing "on" at their place', async () => {
    const bad = await importText('name: x\non: push\njobs:\n  a: [\n');
    assert.equal(bad.pipelines.length, 0);
    assert.ok(bad.problems.length > 0 && bad.problems.every((p) => p.severity === 'error' && p.line >= 4), bad.problems.map(brief).join('\n'));
    const noJobs = await importText('name: x\non: push\n');
    assert.deepEqual(noJobs.problems.map(brief), ['1:1 error: the workflow has no "jobs"']);
    const empty = await importText('on: push\njobs: {}\n');
    assert.deepEqual(empty.problems.map(brief), ['2:7 error: "jobs" is empty: a workflow needs at least one job']);
    const noOn = await importText('jobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n');
    assert.deepEqual(noOn.problems.map(brief), ['1:1 error: the workflow has no "on": it needs at least one event']);
    const dupKeys = await importText('on: push\njobs:\n  a:\n    runs-on: x\n    runs-on: y\n    steps: [{run: echo}]\n');
    assert.equal(dupKeys.problems[0].severity, 'error');
    assert.equal(dupKeys.problems[0].line, 5);
  });

  it('reports needs on a missing job and cycles, and nothing runs', async () => {
    const r = await importText(`on: push
jobs:
  build:
    runs-on: ubuntu-latest
    needs: [tset]
    steps:
      - run: echo build
  test:
    needs: deploy
    runs-on: ubuntu-latest
    steps:
      - run: echo test
  deploy:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
`);
    assert.deepEqual(r.problems.map(brief), [
      '5:13 error: job "build" needs "tset", which is not a job of this workflow',
      '8:3 error: jobs need each other in a cycle: test → deploy → test',
    ]);
    const plan = await r.pipelines[0].plan({}, { ...planFacts(), folder: tempDir() });
    assert.deepEqual(plan, { error: '.github/workflows/w.yml has errors; fix them first (see Problems)' });
  });

  it('checks keys, steps and expressions, with exact columns', async () => {
    const r = await importText(`on: push
jobs:
  build:
    runs-on: ubuntu-latest
    timeout: 5
    steps:
      - run: echo "\${{ github.sha }"
      - name: both
        run: echo
        uses: actions/checkout@v4
      - name: neither
      - run: echo \${{ frobnicate(1) }} \${{ foo.bar }}
        shel: bash
      - id: one
        run: echo
      - id: one
        run: echo
      - uses: Foo/Bar
      - if: { a: 1 }
        run: echo
      - run: echo \${{ secrets.NPM_TOKEN }} \${{ vars.REGION }} \${{ github.token }}
  9bad:
    runs-on: x
    steps: [{ run: echo }]
  lib:
    uses: ./.github/workflows/lib.yml
    steps: [{ run: echo }]
  noruns:
    steps: [{ run: echo }]
  matrix:
    runs-on: x
    strategy:
      matrix:
        os: linux
    steps: [{ run: echo }]
`);
    assert.deepEqual(r.problems.map(brief), [
      '5:5 warning: job "build": unknown key "timeout"; it is ignored',
      '7:20 error: "${{" is not closed with "}}"',
      '10:9 error: job "build", step 2: has both "run" and "uses"; use one',
      '11:9 error: job "build", step 3: needs "run" (a script) or "uses" (an action)',
      '12:23 error: expression "frobnicate(1)": unknown function frobnicate()',
      '12:44 error: expression "foo.bar": unrecognized named-value "foo"',
      '13:9 warning: job "build", step 4: unknown key "shel" (did you mean "shell"?); it is ignored',
      '16:9 error: job "build": step id "one" is used twice',
      '18:9 error: step "Run Foo/Bar": "Foo/Bar" is not an action reference (./path, $/path, docker://image or owner/repo[/path]@ref)',
      '19:13 error: job "build", step 8: "if" must be an expression, not a mapping',
      '21:23 warning: secrets.NPM_TOKEN is not available to local runs unless given (--secret NPM_TOKEN; in VS Code: Delivery: Set Secret): a step that needs it fails without it',
      '21:48 warning: vars.REGION is not known locally: give it as a variable (--variable REGION=value), or a step that needs it fails',
      '21:67 warning: the GitHub token is not available to local runs: a step that needs it fails there',
      '22:3 error: job "9bad": a job id must start with a letter or _ and contain only letters, digits, - and _',
      '27:5 error: job "lib": a job that calls a reusable workflow ("uses") cannot have "steps"',
      '29:5 error: job "noruns": missing "runs-on" (where the job runs on GitHub; locally it runs on this machine)',
      '34:13 error: job "matrix": "strategy": "matrix.os" must be a list of values, not the string "linux"',
    ]);
  });

  it('checks the expressions of remote actions\' inputs without warning about what they read', async () => {
    const r = await importText(`on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: softprops/action-gh-release@v2
        with:
          token: \${{ secrets.GITHUB_TOKEN }}
          name: \${{ github.ref_name ) }}
`);
    assert.deepEqual(r.problems.map(brief), ['9:37 error: expression "github.ref_name )": unexpected ")"']);
  });

  it('plans matrix jobs with their own ids, and dependents wait for all of them', async () => {
    const r = await importText(`on: push
jobs:
  test:
    name: Test
    runs-on: ubuntu-latest
    strategy:
      matrix:
        node: [18, 20]
        os: [linux]
        include:
          - node: 22
            os: linux
            experimental: true
    steps:
      - run: echo \${{ matrix.node }}
  deploy:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: echo docs
`);
    assert.deepEqual(r.problems, []);
    const plan = await r.pipelines[0].plan({}, { ...planFacts(), folder: tempDir() });
    assert.ok(!('error' in plan));
    assert.deepEqual(
      plan.jobs.map((j) => [j.id, j.name, j.deps]),
      [
        ['test (18, linux)', 'Test (18, linux)', []],
        ['test (20, linux)', 'Test (20, linux)', []],
        ['test (22, linux, true)', 'Test (22, linux, true)', []],
        ['deploy', 'deploy', ['test (18, linux)', 'test (20, linux)', 'test (22, linux, true)']],
        ['docs', 'docs', []],
      ],
    );
    const only = await r.pipelines[0].plan({ jobs: ['deploy'], withNeeds: true }, { ...planFacts(), folder: tempDir() });
    assert.ok(!('error' in only));
    assert.deepEqual(only.jobs.map((j) => j.id), ['test (18, linux)', 'test (20, linux)', 'test (22, linux, true)', 'deploy']);
    assert.deepEqual(await r.pipelines[0].plan({ jobs: ['nope'] }, { ...planFacts(), folder: tempDir() }), {
      error: 'no job named "nope" (jobs: test, deploy, docs; matrix legs: test (18, linux), test (20, linux), test (22, linux, true))',
    });
  });

  it('runs one matrix leg named as the planner names it, with what it needs when asked', async () => {
    const r = await importText(`on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps: [{ run: echo lint }]
  test:
    needs: lint
    runs-on: ubuntu-latest
    strategy:
      matrix:
        node: [16, 18]
    steps: [{ run: echo test }]
  deploy:
    needs: test
    runs-on: ubuntu-latest
    steps: [{ run: echo deploy }]
`);
    const ids = async (request: RunRequest) => {
      const plan = await r.pipelines[0].plan(request, { ...planFacts(), folder: tempDir() });
      return 'error' in plan ? plan.error : plan.jobs.map((j) => `${j.id} <- ${j.deps.join(', ')}`);
    };
    assert.deepEqual(await ids({ jobs: ['test (16)'] }), ['test (16) <- ']);
    assert.deepEqual(await ids({ jobs: ['test (16)'], withNeeds: true }), ['lint <- ', 'test (16) <- lint']);
    assert.deepEqual(await ids({ jobs: ['test (16)', 'test (18)'] }), ['test (16) <- ', 'test (18) <- ']);
    // A job that needs the matrix waits for all its legs: they all run.
    assert.deepEqual(await ids({ jobs: ['test (16)', 'deploy'] }), ['test (16) <- ', 'test (18) <- ', 'deploy <- test (16), test (18)']);
    // …and the job that needs them says so in its log (it was silent: typing_extensions' create-issue-on-failure).
    const both = await r.pipelines[0].plan({ jobs: ['test (16)', 'deploy'] }, { ...planFacts(), folder: tempDir() });
    assert.ok(!('error' in both));
    assert.deepEqual(both.jobs.find((j) => j.id === 'deploy')?.notes, ['needs every leg of test (2), so all of them run, not only test (16)']);
    assert.equal(await ids({ jobs: ['test (17)'] }), 'no job named "test (17)" (jobs: lint, test, deploy; matrix legs: test (16), test (18))');
  });

  it('picks the shell as GitHub does: bash -e by default, sh in containers, pwsh for Windows runners, job defaults', async () => {
    const r = await importText(`on: push
jobs:
  plain:
    runs-on: ubuntu-latest
    steps: [{ run: echo }]
  boxed:
    runs-on: ubuntu-latest
    container: alpine:3
    steps: [{ run: echo }]
  windows:
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [windows-latest]
    steps: [{ run: echo }]
  py:
    runs-on: ubuntu-latest
    defaults:
      run:
        shell: python
        working-directory: sub
    steps: [{ run: print(1) }, { shell: bash, working-directory: other, run: echo }]
`);
    assert.deepEqual(r.problems, []);
    const folder = tempDir();
    const plan = await r.pipelines[0].plan({ forceShellExecutor: true, platforms: { 'windows-latest': 'host' } }, { ...planFacts(), folder, io: testPlanIO });
    assert.ok(!('error' in plan));
    const ctx = { failed: false, cancelled: false, deps: {}, outputs: {}, attempt: 1 };
    const specs: string[] = [];
    const runtime = new RunRuntime(plan, { io: testPlanIO });
    for (const job of plan.jobs) {
      for (const step of (await runtime.openJob(job, ctx)).steps) {
        step.condition?.(ctx);
        const spec = typeof step.command === 'function' ? await step.command(ctx) : null;
        assert.ok(spec && 'command' in spec, JSON.stringify(spec));
        specs.push(`${job.id}: ${[spec.command, ...spec.args].join(' ')} in ${path.relative(folder, spec.cwd) || '.'}`);
      }
    }
    assert.deepEqual(specs, [
      'plain: bash -e {0} in .',
      'boxed: sh -e {0} in .',
      "windows (windows-latest): pwsh -command . '{0}' in .",
      'py: python3 {0} in sub',
      'py: bash --noprofile --norc -eo pipefail {0} in other',
    ]);
  });

  it('takes the run id and runner.os/arch from the plan context, not from the machine', async () => {
    const r = await importText('on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{ run: \'echo ${{ runner.os }} ${{ runner.arch }} ${{ github.run_id }}\' }]\n');
    assert.deepEqual(r.problems, []);
    const plan = await r.pipelines[0].plan({}, { folder: tempDir(), now: 1_700_000_000_000, host: { platform: 'darwin', arch: 'arm64' }, io: testPlanIO });
    assert.ok(!('error' in plan), JSON.stringify(plan));
    const ctx = { failed: false, cancelled: false, deps: {}, outputs: {}, attempt: 1 };
    const step = (await new RunRuntime(plan, { io: testPlanIO }).openJob(plan.jobs[0], ctx)).steps[0];
    const spec = typeof step.command === 'function' ? await step.command(ctx) : null;
    assert.ok(spec && 'env' in spec, JSON.stringify(spec));
    assert.deepEqual([spec.env.RUNNER_OS, spec.env.RUNNER_ARCH, spec.env.GITHUB_RUN_ID], ['macOS', 'ARM64', '1700000000000']);
  });

  it('refuses to plan a matrix that cannot be expanded, naming the job', async () => {
    const r = await importText(`on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        node: '\${{ fromJSON(''{"not": "a list"}'') }}'
    steps:
      - run: echo
`);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(await r.pipelines[0].plan({}, { ...planFacts(), folder: tempDir() }), { error: '.github/workflows/w.yml: job "test": matrix "node" must be a list, not a mapping' });
  });
});
