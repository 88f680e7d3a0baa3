import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderSources } from '../../src/adapters/folderSources';
import { startLocalRun } from '../../src/adapters/localRuns';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { startRun } from '../../src/core/engine/engine';
import type { RunRequest } from '../../src/core/engine/select';
import { importWorkflow, type GithubRunOptions } from '../../src/core/github/importer';
import type { ImportedPipeline } from '../../src/core/sources';
import type { RunRecord } from '../../src/shared/model';
import { cleanupTempDirs, git, tempDir, testPlanIO, writeFiles } from '../support/tmp';
import { planFacts, systemClock } from '../../src/adapters/clock';
import { useSharedWorkspaces } from '../support/workspaceMode';

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/github/repo');

/** A git repository holding `files` (or the fixture repository), on `branch`, with a configured user. */
function repo(files: Record<string, string> | null, branch = 'main'): string {
  const dir = tempDir('delivery-gh-run-');
  if (files) writeFiles(dir, files);
  else fs.cpSync(FIXTURE, dir, { recursive: true });
  git(dir, 'init', '-q', '-b', branch);
  git(dir, 'config', 'user.name', 'Tester');
  git(dir, 'config', 'user.email', 'tester@example.invalid');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Runs a pipeline of the folder the way the extension and the CLI do (real git facts, processes, run store). */
async function runLocal(folder: string, pipelineId: string, request: RunRequest = {}): Promise<RunRecord> {
  const snapshot = await new FolderSources(folder).loadAll();
  const pipeline = snapshot.pipelines.find((p) => p.def.id === pipelineId);
  assert.ok(pipeline, `pipeline ${pipelineId} (problems: ${JSON.stringify(snapshot.problems)})`);
  // No container engine here (containers.test.ts runs them against a real one): container jobs say so.
  const handle = await startLocalRun(pipeline, request, { folder, store: new FileRunStore(path.join(tempDir('delivery-gh-state-'), 'state')), trigger: 'cli', parallelism: 2, containerEngine: '/nonexistent/docker' });
  if ('error' in handle) throw new Error(handle.error);
  return handle.done;
}

/** Runs a workflow text with run options the product does not expose (an event payload, secrets). */
async function runWith(folder: string, text: string, opts: GithubRunOptions, request: RunRequest = {}): Promise<RunRecord> {
  const r = await importWorkflow({ path: '.github/workflows/w.yml', text }, { readFile: async () => null, listFiles: async () => [] }, opts);
  const plan = await (r.pipelines[0] as ImportedPipeline).plan(request, { ...planFacts(), folder, io: testPlanIO, git: { sha: null, ref: null, branch: null } });
  if ('error' in plan) throw new Error(plan.error);
  const handle = startRun(plan, { id: newRunId(), folder, trigger: 'cli', sha: null, pid: process.pid }, {
    runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock,
    ports: { io: testPlanIO },
    store: new FileRunStore(path.join(tempDir('delivery-gh-state-'), 'state')),
    parallelism: 1,
  });
  return handle.done;
}

const job = (run: RunRecord, id: string) => {
  const j = run.jobs.find((x) => x.id === id);
  assert.ok(j, `job ${id} in ${run.jobs.map((x) => x.id).join(', ')}`);
  return j;
};
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
const summary = (run: RunRecord) => run.jobs.map((j) => `${j.id}: ${j.status} ${j.reason ?? ''}`).join('\n');

describe('GitHub workflows: local runs (real processes)', function () {
  useSharedWorkspaces();
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('runs a matrix CI workflow: checkout is a no-op, a leg asking for a Node this machine lacks is unsupported and runs none of its steps', async () => {
    const dir = repo(null);
    // The macOS leg runs here only when its label is mapped to this machine (else it is unsupported: githubPlatforms.test.ts).
    const run = await runLocal(dir, 'ci', { platforms: { 'macos-latest': 'host' } });
    const local = process.version.slice(1);
    assert.equal(local.split('.')[0], '20', 'the fixture asks for Node 18, 20 and 22: this test expects a machine with Node 20');
    assert.equal(run.status, 'failed', `a leg that could not run as CI runs it is not a success\n${summary(run)}`);
    assert.equal(read(dir, 'lint.out'), 'linted delivery-demo\n');
    assert.deepEqual(read(dir, 'tests.out').trim().split('\n').sort(), ['macos-latest-20', 'ubuntu-latest-20'], 'only the legs this machine answers for ran their steps');
    const experimental = job(run, 'test (ubuntu-latest, 22, true)');
    assert.equal(experimental.status, 'unsupported');
    assert.equal(experimental.allowFailure, true, 'continue-on-error: ${{ matrix.experimental }}');
    const t18 = job(run, 'test (ubuntu-latest, 18, false)');
    assert.deepEqual(
      t18.steps.map((s) => [s.name, s.status]),
      [
        ['Run actions/checkout@v4', 'success'],
        ['Run actions/setup-node@v4', 'unsupported'],
        ['Test on ubuntu-latest with node 18', 'skipped'],
        ['Experimental', 'skipped'],
      ],
    );
    assert.equal(t18.status, 'unsupported');
    assert.equal(t18.reason, `Run actions/setup-node@v4: actions/setup-node@v4 asks for Node 18, this machine has ${local}`);
    assert.equal(job(run, 'test (ubuntu-latest, 20, false)').status, 'success');
    assert.deepEqual(job(run, 'build').deps.length, 4);
    assert.equal(job(run, 'build').status, 'skipped', 'a leg it needs did not run');
    assert.equal(read(dir, 'report.out'), 'build , tests failure\n', 'if: always() runs; needs.test.result counts the unsupported leg');
    const alone = await runLocal(dir, 'ci', { jobs: ['report'] });
    assert.deepEqual(alone.jobs.map((j) => j.id), ['report']);
    assert.equal(job(alone, 'report').steps[0].reason, 'needs.build is not known: job "build" is not part of this run (run the job with the jobs it needs)');
  });

  it('runs a dispatch workflow with typed input defaults, GITHUB_PATH, GITHUB_ENV and job outputs', async () => {
    const dir = repo(null);
    const run = await runLocal(dir, 'deploy');
    assert.equal(run.status, 'success', summary(run));
    assert.equal(read(dir, 'deploy.out'), 'deploying app-staging.tar --replicas 2 --dry-run=true\n');
    assert.equal(job(run, 'notify').status, 'skipped');
    assert.equal(job(run, 'notify').reason, 'if: failure() is false');
    assert.equal(job(run, 'deploy').steps[1].name, 'Release ${{ needs.package.outputs.artifact }}');
  });

  it('reports container and service jobs, and a reusable workflow the actions host cannot give, as unsupported and runs the rest, local reusable workflows too', async () => {
    const dir = repo(null);
    const integration = await runLocal(dir, 'integration');
    assert.equal(integration.status, 'failed', 'a job that could not run is not a success');
    assert.equal(job(integration, 'db-tests').status, 'unsupported');
    assert.equal(job(integration, 'db-tests').reason, 'GitHub container node:20-bookworm needs a container engine: /nonexistent/docker is not an executable (or run it in the local shell with --force-shell-executor)');
    assert.equal(job(integration, 'after-db').status, 'skipped');
    assert.equal(job(integration, 'unit').status, 'success');
    assert.equal(read(dir, 'unit.out'), 'unit ok\n');
    const release = await runLocal(dir, 'release');
    assert.deepEqual(release.jobs.map((j) => j.id), ['checks / check', 'publish', 'announce'], 'the caller job is the called workflow\'s jobs');
    assert.equal(job(release, 'checks / check').status, 'success');
    assert.equal(read(dir, 'checks.out'), 'level=full\n', 'with: level: full');
    assert.equal(job(release, 'publish').status, 'unsupported');
    assert.match(job(release, 'publish').reason!, /^reusable workflow acme\/shared-workflows\/\.github\/workflows\/publish\.yml@v2: cannot fetch acme\/shared-workflows@v2 from file:\/\/\/nonexistent\/.*, and the action cache \(.*\) has no copy of it$/);
    assert.equal(read(dir, 'announce.out'), 'checks success, publish failure\n');
    const checks = await runLocal(dir, 'checks');
    assert.equal(checks.status, 'success');
    assert.equal(read(dir, 'checks.out'), 'level=quick\n', 'the reusable workflow runs on its own with its input defaults');
  });

  it('runs with images in the local shell when asked (allowImages), services still unsupported', async () => {
    const dir = repo({
      '.github/workflows/c.yml': `on: push
jobs:
  in-container:
    runs-on: ubuntu-latest
    container: alpine:3
    steps:
      - run: 'if [ -z "\${BASH_VERSION:-}" ]; then echo sh > shell.out; else echo bash > shell.out; fi'
`,
    });
    const run = await runLocal(dir, 'c', { forceShellExecutor: true });
    assert.equal(run.status, 'success', summary(run));
    assert.equal(read(dir, 'shell.out'), 'sh\n', 'jobs written for a container default to sh, as on GitHub');
    const refused = await runLocal(dir, 'c');
    assert.equal(job(refused, 'in-container').status, 'unsupported');
  });

  it('expands local composite actions: inputs, outputs, GITHUB_ENV, nesting, continue-on-error outcomes', async () => {
    const dir = repo(null);
    const run = await runLocal(dir, 'composite');
    assert.equal(run.status, 'success', summary(run));
    const lines = read(dir, 'greetings.log').trim().split('\n');
    assert.deepEqual(lines, [`Hello Mona (from ${path.join(dir, '.github/actions/log')})`, `Hi Tester (from ${path.join(dir, '.github/actions/log')})`]);
    assert.equal(read(dir, 'flaky.out'), 'flaky failed and the job went on\n');
    const steps = job(run, 'greet').steps;
    const greet = 'Run ./.github/actions/greet';
    assert.deepEqual(steps.slice(0, 5).map((s) => [s.name, s.status]), [
      [greet, 'success'],
      [`${greet} › Run echo "message=\${{ inputs.greeting }}, \${{ inputs.who }}$PUNCTUATION" >> "$GITHUB…`, 'success'],
      [`${greet} › Run echo "GREETED=\${{ inputs.who }}" >> "$GITHUB_ENV"`, 'success'],
      [`${greet} › Run ./.github/actions/log`, 'success'],
      [`${greet} › Run ./.github/actions/log › Run echo "\${{ inputs.line }} (from $GITHUB_ACTION_PATH)" >> "$GITHUB_WORKSPACE/greet…`, 'success'],
    ]);
    assert.equal(steps.find((s) => s.name === 'Run exit 7')!.status, 'failed');
  });

  it('reads the JUnit reports a report action names from inside a local composite action, its inputs evaluated when it runs (matrix, env, inputs)', async () => {
    const xml = (name: string, cases: string) => `<testsuite name="${name}">${cases}</testsuite>\n`;
    const dir = repo({
      'reports/jest/junit.xml': xml('jest', '<testcase name="a"/>'),
      'reports/pytest/results.xml': xml('pytest', '<testcase name="a"/><testcase name="b"><failure message="no"/></testcase><testcase name="c"><skipped/></testcase>'),
      'reports/other.trx': '<TestRun/>\n',
      // percebus/github-actions-testing's wrappers: the report actions' inputs come from the composite's inputs.
      '.github/actions/summary/action.yml': `inputs:
  files_pattern: { default: nothing.xml }
runs:
  using: composite
  steps:
    - uses: pmeier/pytest-results-action@v0.7.2
      if: always()
      with:
        path: \${{ inputs.files_pattern }}
`,
      '.github/actions/reporter/action.yml': `inputs:
  reporter: { required: true }
  files_pattern: { required: true }
  publish: { default: 'true' }
runs:
  using: composite
  steps:
    - uses: dorny/test-reporter@v2.5.0
      if: \${{ inputs.publish == 'true' }}
      with:
        reporter: \${{ inputs.reporter }}
        path: \${{ inputs.files_pattern }}
`,
      '.github/workflows/reports.yml': `on: push
env:
  JEST: reports/jest/junit.xml
jobs:
  summary:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        files: [reports/pytest/results.xml, 'reports/**/*.xml']
    steps:
      - run: exit 1
      - uses: ./.github/actions/summary
        if: always()
        with:
          files_pattern: \${{ matrix.files }}
  reporter:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        include:
          - { reporter: jest-junit, publish: 'true' }
          - { reporter: dotnet-trx, publish: 'true' }
          - { reporter: python-xunit, publish: 'false' }
    steps:
      - uses: ./.github/actions/reporter
        with:
          reporter: \${{ matrix.reporter }}
          files_pattern: \${{ env.JEST }}
          publish: \${{ matrix.publish }}
`,
    });
    const run = await runLocal(dir, 'reports');
    const tests = Object.fromEntries(run.jobs.filter((j) => j.steps.length > 0).map((j) => [j.id, j.tests ?? null]));
    assert.deepEqual(tests, {
      'summary (reports/pytest/results.xml)': { total: 3, failed: 1, errors: 0, skipped: 1 },
      'summary (reports/**/*.xml)': { total: 4, failed: 1, errors: 0, skipped: 1 },
      'reporter (jest-junit, true)': { total: 1, failed: 0, errors: 0, skipped: 0 },
      // Not JUnit, or not published: no reports.
      'reporter (dotnet-trx, true)': null,
      'reporter (python-xunit, false)': null,
    }, summary(run));
    assert.equal(job(run, 'summary (reports/pytest/results.xml)').status, 'failed', 'the job failed; its report step ran after (if: always())');
  });

  it('evaluates expressions from the local repository, runs python steps and computes hashFiles()', async () => {
    const dir = repo(null, 'feature/x');
    const run = await runLocal(dir, 'expressions');
    assert.equal(run.status, 'success', summary(run));
    assert.equal(read(dir, 'facts.out'), 'event=workflow_dispatch\nref=feature/x\nmain=false\nflavour=vanilla\njoin=a+b\ncontains=true\nrunner=Linux\n');
    const sha = git(dir, 'rev-parse', 'HEAD');
    assert.equal(read(dir, 'python.out'), `short=${sha.slice(0, 7)} flavour=vanilla`);
    assert.equal(job(run, 'tagged').status, 'skipped');
    assert.equal(job(run, 'tagged').reason, "if: startsWith(github.ref, 'refs/tags/') is false");
    // hashFiles() as the runner computes it: the SHA-256 of the SHA-256 digests of the matching files.
    assert.equal(job(run, 'cache-key').status, 'success');
    const digest = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'app/package.json'))).digest();
    assert.equal(read(dir, 'cache-key.out'), `key-${crypto.createHash('sha256').update(digest).digest('hex')}\n`);
  });

  it('gives steps the GITHUB_* and RUNNER_* variables of a manual run, from the local repository', async () => {
    const dir = repo({
      '.github/workflows/env.yml': `name: Env check
on:
  workflow_dispatch:
    inputs:
      level:
        default: full
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - id: first
        run: env | grep -E '^(CI|ACT|GITHUB_[A-Z_]+|RUNNER_(OS|NAME|ENVIRONMENT))=' | grep -v -E '^GITHUB_(ENV|PATH|OUTPUT|STATE|STEP_SUMMARY|EVENT_PATH|RUN_ID)=' | sort > env.txt
      - run: cp "$GITHUB_EVENT_PATH" event.json
`,
    });
    git(dir, 'remote', 'add', 'origin', 'git@github.com:acme/widgets.git');
    const run = await runLocal(dir, 'env');
    assert.equal(run.status, 'success', summary(run));
    const sha = git(dir, 'rev-parse', 'HEAD');
    const env = Object.fromEntries(read(dir, 'env.txt').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.deepEqual(env, {
      CI: 'true',
      GITHUB_ACTION: 'first',
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTOR: 'Tester',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_BASE_REF: '',
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
      GITHUB_HEAD_REF: '',
      GITHUB_JOB: 'show',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_REF_PROTECTED: 'false',
      GITHUB_REF_TYPE: 'branch',
      GITHUB_REPOSITORY: 'acme/widgets',
      GITHUB_REPOSITORY_OWNER: 'acme',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_RUN_NUMBER: '1',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_SHA: sha,
      GITHUB_TRIGGERING_ACTOR: 'Tester',
      GITHUB_WORKFLOW: 'Env check',
      GITHUB_WORKFLOW_REF: 'acme/widgets/.github/workflows/env.yml@refs/heads/main',
      GITHUB_WORKSPACE: dir,
      RUNNER_ENVIRONMENT: 'self-hosted',
      RUNNER_NAME: 'delivery-local',
      RUNNER_OS: 'Linux',
    });
    const event = JSON.parse(read(dir, 'event.json')) as Record<string, unknown>;
    assert.deepEqual(event.inputs, { level: 'full' });
    assert.deepEqual(event.repository, { full_name: 'acme/widgets', name: 'widgets', owner: { login: 'acme' } });
  });

  it('runs the steps of a parallel group (vuejs/core\'s workflows) one after another; their outputs reach later steps; a failing one fails the job', async () => {
    const folder = tempDir();
    const ok = await runWith(
      folder,
      `on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo before >> trace.out
      - parallel:
          - name: Run eslint
            id: eslint
            run: echo "eslint" >> trace.out && echo "result=clean" >> "$GITHUB_OUTPUT"
          - name: Run prettier
            run: echo prettier >> trace.out
      - run: echo "after \${{ steps.eslint.outputs.result }}" >> trace.out
`,
      {},
    );
    assert.equal(ok.status, 'success', summary(ok));
    assert.deepEqual(ok.jobs[0].steps.map((s) => [s.name, s.status]), [
      ['Run echo before >> trace.out', 'success'],
      ['Run eslint', 'success'],
      ['Run prettier', 'success'],
      ['Run echo "after ${{ steps.eslint.outputs.result }}" >> trace.out', 'success'],
    ]);
    assert.deepEqual(read(folder, 'trace.out').trim().split('\n'), ['before', 'eslint', 'prettier', 'after clean']);
    const failing = await runWith(tempDir(), 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - parallel:\n          - run: exit 3\n          - run: "true"\n      - run: echo never\n', {});
    assert.equal(failing.status, 'failed');
    assert.deepEqual(failing.jobs[0].steps.map((s) => s.status), ['failed', 'skipped', 'skipped']);
  });

  it('never runs a branch name or an event value as code', async () => {
    const branch = 'x$(touch${IFS}pwned)`touch${IFS}pwned2`';
    const dir = repo(
      {
        '.github/workflows/w.yml': `on: push
jobs:
  echo:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "[\${{ github.ref_name }}]" > out.txt
          echo '[\${{ github.ref_name }}]' >> out.txt
          echo [\${{ github.head_ref || github.ref_name }}] >> out.txt
`,
      },
      branch,
    );
    const run = await runLocal(dir, 'w');
    assert.equal(run.status, 'success', summary(run));
    assert.deepEqual(read(dir, 'out.txt').split('\n').slice(0, 3), [`[${branch}]`, `[${branch}]`, `[${branch}]`]);
    assert.ok(!fs.existsSync(path.join(dir, 'pwned')) && !fs.existsSync(path.join(dir, 'pwned2')), 'nothing was executed');

    const folder = tempDir();
    const payload = { inputs: { name: '"; touch pwned; echo "' } };
    const dispatch = await runWith(
      folder,
      `on:
  workflow_dispatch:
    inputs:
      name:
        required: true
jobs:
  hello:
    runs-on: ubuntu-latest
    steps:
      - run: echo "hello \${{ inputs.name }}" > hello.txt
      - shell: python
        run: print("\${{ inputs.name }}")
`,
      { event: { name: 'workflow_dispatch', payload } },
    );
    assert.equal(fs.readFileSync(path.join(folder, 'hello.txt'), 'utf8'), `hello ${payload.inputs.name}\n`);
    assert.ok(!fs.existsSync(path.join(folder, 'pwned')));
    const py = job(dispatch, 'hello').steps[1];
    assert.equal(py.status, 'failed');
    assert.match(py.reason!, /takes its value from outside the workflow file, so it is not pasted into a python script/);
  });

  it('fails a step that needs a secret the run does not have, and reads given secrets and variables', async () => {
    const text = `on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: echo "region \${{ vars.REGION }}" > region.txt
      - env:
          TOKEN: \${{ secrets.NPM_TOKEN }}
        run: test -n "$TOKEN" && echo published > published.txt
`;
    const folder = tempDir();
    const without = await runWith(folder, text, {}, { variables: { REGION: 'eu-west' } });
    assert.equal(fs.readFileSync(path.join(folder, 'region.txt'), 'utf8'), 'region eu-west\n');
    const step = job(without, 'publish').steps[1];
    assert.equal(step.status, 'failed');
    assert.equal(step.reason, 'secrets.NPM_TOKEN is not available to local runs: give it with --secret NPM_TOKEN (or "Delivery: Set Secret" in VS Code)');
    assert.ok(!fs.existsSync(path.join(folder, 'published.txt')));
    const withSecret = await runWith(folder, text, { secrets: { NPM_TOKEN: 'abc' } }, { variables: { REGION: 'eu-west' } });
    assert.equal(withSecret.status, 'success', summary(withSecret));
    const noVariable = await runWith(tempDir(), text, { secrets: {} });
    assert.match(job(noVariable, 'publish').steps[0].reason!, /vars\.REGION is not known locally/);
  });

  it('fails a step whose workflow commands or step files are refused, and skips unsupported jobs whose if: is false', async () => {
    const folder = tempDir();
    const run = await runWith(
      folder,
      `on: push
jobs:
  commands:
    runs-on: ubuntu-latest
    steps:
      - id: env
        run: echo "::set-env name=FOO::bar"
      - if: always()
        run: echo "NOT A VALID LINE" >> "$GITHUB_ENV"
      - if: always()
        run: echo "FOO=\${FOO:-unset}" > foo.txt
  db:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
    steps:
      - run: echo never
`,
      {},
    );
    const steps = job(run, 'commands').steps;
    assert.equal(steps[0].status, 'failed');
    assert.match(steps[0].reason!, /::set-env is disabled \(set ACTIONS_ALLOW_UNSECURE_COMMANDS=true, or write to \$GITHUB_ENV\)/);
    assert.equal(steps[1].status, 'failed');
    assert.match(steps[1].reason!, /^GITHUB_ENV: line 1 is neither NAME=value nor NAME<<DELIMITER/);
    assert.equal(fs.readFileSync(path.join(folder, 'foo.txt'), 'utf8'), 'FOO=unset\n');
    assert.equal(job(run, 'db').status, 'skipped', 'not reported unsupported: it would not run anyway');
  });

  it('stops a fail-fast matrix after the first failure, and times out slow steps', async () => {
    const folder = tempDir();
    const run = await runWith(
      folder,
      `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2, 3]
    steps:
      - run: echo \${{ matrix.n }} >> ran.txt; test \${{ matrix.n }} != 1
  slow:
    runs-on: ubuntu-latest
    steps:
      - timeout-minutes: 0.01
        run: sleep 5
      - if: always()
        run: echo after > after.txt
`,
      {},
    );
    assert.equal(fs.readFileSync(path.join(folder, 'ran.txt'), 'utf8'), '1\n');
    assert.equal(job(run, 'test (2)').status, 'skipped');
    assert.equal(job(run, 'test (2)').reason, 'not started: "test (1)" failed and the matrix is fail-fast');
    const slow = job(run, 'slow');
    assert.equal(slow.status, 'failed');
    assert.equal(slow.steps[0].reason, 'timed out after 600ms');
    assert.equal(fs.readFileSync(path.join(folder, 'after.txt'), 'utf8'), 'after\n');
  });
});
