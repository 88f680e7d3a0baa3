// GitHub actions run locally: remote actions fetched with git from a host the test serves (file:// and
// `git http-backend` on 127.0.0.1) and then from the cache with the host gone; composite and JavaScript actions
// (pre, main, post, state, inputs, outputs); local JavaScript actions; local reusable workflows with inputs,
// secrets and outputs. Every action here is written by the test.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitActionSource } from '../../src/adapters/actions/gitActions';
import { planFacts, systemClock } from '../../src/adapters/clock';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { startRun } from '../../src/core/engine/engine';
import type { RunRequest } from '../../src/core/engine/select';
import { importWorkflow } from '../../src/core/github/importer';
import type { ActionSource, ImportContext } from '../../src/core/sources';
import type { JobRecord, RunRecord } from '../../src/shared/model';
import { actionsCache, ActionsHost, serveOverHttp } from '../support/actionsHost';
import { requireAvailable } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir, testPlanIO, writeFiles } from '../support/tmp';
import { useSharedWorkspaces } from '../support/workspaceMode';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function hasGit(): boolean {
  return spawnSync('git', ['--version']).status === 0;
}

function workspace(files: Record<string, string>): string {
  const dir = tempDir('delivery-gh-actions-');
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

function importContext(root: string): ImportContext {
  return {
    readFile: async (rel) => (fs.existsSync(path.join(root, rel)) ? fs.readFileSync(path.join(root, rel), 'utf8') : null),
    listFiles: async () => [],
  };
}

interface Ran {
  run: RunRecord;
  job(id: string): JobRecord;
  log(id: string): string;
}

/** Imports .github/workflows/<file> of the folder, plans it with `actions` as the action source, runs it. */
async function runWorkflow(folder: string, file: string, opts: { actions?: ActionSource; secrets?: Record<string, string>; request?: RunRequest } = {}): Promise<Ran> {
  const rel = `.github/workflows/${file}`;
  const r = await importWorkflow({ path: rel, text: fs.readFileSync(path.join(folder, rel), 'utf8') }, importContext(folder), opts.secrets ? { secrets: opts.secrets } : {});
  const errors = r.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(errors, [], 'the workflow imports without errors');
  const io = { ...testPlanIO, actions: opts.actions };
  const plan = await r.pipelines[0].plan(opts.request ?? {}, {
    ...planFacts(),
    folder,
    io,
    git: { sha: null, ref: null, branch: null },
  });
  if ('error' in plan) throw new Error(plan.error);
  const handle = startRun(plan, { id: newRunId(), folder, trigger: 'cli', sha: null, pid: process.pid }, {
    ports: { io },
    runner: new LocalProcessRunner({ killGraceMs: 300 }),
    clock: systemClock,
    store: new FileRunStore(path.join(tempDir('delivery-gh-actions-state-'), 'state')),
    parallelism: 2,
  });
  const run = await handle.done;
  const job = (id: string) => {
    const j = run.jobs.find((x) => x.id === id);
    assert.ok(j, `job ${id} in ${run.jobs.map((x) => x.id).join(', ')}`);
    return j;
  };
  return { run, job, log: (id) => (job(id).logFile ? fs.readFileSync(job(id).logFile!, 'utf8') : '') };
}

async function planError(folder: string, file: string): Promise<string> {
  const rel = `.github/workflows/${file}`;
  const r = await importWorkflow({ path: rel, text: fs.readFileSync(path.join(folder, rel), 'utf8') }, importContext(folder));
  const plan = await r.pipelines[0].plan({}, { ...planFacts(), folder, io: testPlanIO, git: { sha: null, ref: null, branch: null } });
  assert.ok('error' in plan, 'the plan is refused');
  return plan.error;
}

const summary = (run: RunRecord) => run.jobs.map((j) => `${j.id}: ${j.status} ${j.reason ?? ''}${j.steps.map((s) => `\n  ${s.name}: ${s.status} ${s.reason ?? ''}`).join('')}`).join('\n');
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

const GREET = {
  'greet/action.yml': `name: greet
inputs:
  who:
    required: true
  greeting:
    default: hello
outputs:
  message:
    value: \${{ steps.say.outputs.message }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: |
        echo "message=\${{ inputs.greeting }} \${{ inputs.who }}" >> "$GITHUB_OUTPUT"
        cat "$GITHUB_ACTION_PATH/data.txt" > "$GITHUB_WORKSPACE/action-path.out"
`,
  'greet/data.txt': 'data next to the action\n',
};

/** A JavaScript action that traces its pre, main and post scripts into trace.out of the workspace. */
function nodeTool(opts: { pre?: boolean; preIf?: string; postIf?: string } = {}): Record<string, string> {
  const trace = `const fs = require('fs'); const t = (s) => fs.appendFileSync(process.env.GITHUB_WORKSPACE + '/trace.out', s + '\\n');`;
  return {
    'action.yml': `name: node tool
inputs:
  name:
    required: true
  shout:
    default: 'no'
outputs:
  greeting:
    description: what main said
runs:
  using: node20
${opts.pre ? '  pre: dist/pre.js\n' : ''}${opts.preIf ? `  pre-if: ${opts.preIf}\n` : ''}  main: dist/main.js
  post: dist/post.js
${opts.postIf ? `  post-if: ${opts.postIf}\n` : ''}`,
    'dist/pre.js': `${trace}
t('pre ' + process.env.INPUT_NAME);
fs.appendFileSync(process.env.GITHUB_STATE, 'started=at-pre\\n');
if (process.env.INPUT_NAME === 'pre-fail') process.exit(4);
`,
    'dist/main.js': `${trace}
t('main ' + process.env.INPUT_NAME + ' shout=' + process.env.INPUT_SHOUT + ' state=' + (process.env.STATE_started || '-') + ' repo=' + (process.env.GITHUB_ACTION_REPOSITORY || 'local'));
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'greeting=hi ' + process.env.INPUT_NAME + '\\n');
fs.appendFileSync(process.env.GITHUB_ENV, 'FROM_ACTION=' + process.env.INPUT_NAME + '\\n');
fs.appendFileSync(process.env.GITHUB_STATE, 'cleanup=' + process.env.INPUT_NAME + '\\n');
console.log('::save-state name=legacy::saved-by-command');
if (process.env.INPUT_NAME === 'fail') process.exit(3);
`,
    'dist/post.js': `${trace}
t('post ' + process.env.INPUT_NAME + ' started=' + (process.env.STATE_started || '-') + ' cleanup=' + process.env.STATE_cleanup + ' legacy=' + process.env.STATE_legacy);
`,
  };
}

describe('GitHub actions: remote actions from a git host, JavaScript actions, reusable workflows (real processes)', function () {
  useSharedWorkspaces();
  this.timeout(120_000);
  after(cleanupTempDirs);
  before(function () {
    requireAvailable(this, hasGit(), 'git (apt-get install git)');
  });

  it('fetches a composite action by tag from the host, then serves it from the cache with the host gone', async () => {
    const host = new ActionsHost();
    const sha = host.commit('acme', 'tools', GREET, { tag: 'v2' });
    const cache = actionsCache();
    const actions = new GitActionSource({ host: host.fileUrl, cacheDir: cache });
    const wf = (ref: string) => `on: push
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - id: g
        uses: acme/tools/greet@${ref}
        with:
          who: \${{ github.event_name }}
      - run: echo "\${{ steps.g.outputs.message }}" > message.out
`;
    const dir = workspace({ '.github/workflows/tag.yml': wf('v2'), '.github/workflows/sha.yml': wf(sha) });
    const first = await runWorkflow(dir, 'tag.yml', { actions });
    assert.equal(first.run.status, 'success', summary(first.run));
    assert.equal(read(dir, 'message.out'), 'hello workflow_dispatch\n');
    assert.equal(read(dir, 'action-path.out'), 'data next to the action\n', 'GITHUB_ACTION_PATH is the action folder of the fetched copy');
    assert.match(first.log('greet'), new RegExp(`Downloaded action repository 'acme/tools@v2' \\(SHA:${sha}\\) from file://`));
    assert.ok(fs.existsSync(path.join(cache, fs.readdirSync(cache)[0], 'acme', 'tools', sha, 'greet', 'action.yml')), 'the cache keeps the commit by host, repository and commit');
    assert.ok(!fs.existsSync(path.join(cache, fs.readdirSync(cache)[0], 'acme', 'tools', sha, '.git')), 'the copy has no .git');

    // The host is gone: the tag resolves from what the cache remembers, the SHA directly.
    host.remove();
    fs.rmSync(path.join(dir, 'message.out'));
    const again = await runWorkflow(dir, 'tag.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: cache }) });
    assert.equal(again.run.status, 'success', summary(again.run));
    assert.equal(read(dir, 'message.out'), 'hello workflow_dispatch\n');
    assert.match(again.log('greet'), /Using action repository 'acme\/tools@v2' \(SHA:[0-9a-f]{40}\) from the action cache/);
    assert.match(again.log('greet'), /could not be reached .*using the copy of v2 fetched earlier/);
    const bySha = await runWorkflow(dir, 'sha.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: cache }) });
    assert.equal(bySha.run.status, 'success', summary(bySha.run));

    // A cache that never had it: unsupported with the reason; a step reading its output says why it cannot.
    const empty = await runWorkflow(dir, 'tag.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: actionsCache() }) });
    const step = empty.job('greet').steps[0];
    assert.equal(step.status, 'unsupported');
    assert.match(step.reason!, /^cannot fetch acme\/tools\/greet@v2 from file:\/\/.*\/acme\/tools \(.*\), and the action cache \(.*\) has no copy of it$/);
    assert.equal(empty.job('greet').steps[1].status, 'failed', 'the next step reads its output, which is not known');
    assert.match(empty.job('greet').steps[1].reason!, /steps\.g did not run locally: cannot fetch acme\/tools\/greet@v2/);
  });

  it('runs a remote JavaScript action over HTTP: pre, main and post, inputs, outputs, state, GITHUB_ENV', async function () {
    const host = new ActionsHost();
    const sha = host.commit('acme', 'node-tool', nodeTool({ pre: true }), { tag: 'v1', annotated: true });
    const server = await serveOverHttp(host);
    try {
      const dir = workspace({
        '.github/workflows/js.yml': `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - id: first
        uses: acme/node-tool@v1
        with:
          name: one
      - run: echo "saw \${{ steps.first.outputs.greeting }}, $FROM_ACTION" >> trace.out
      - uses: acme/node-tool@v1
        with:
          name: two
          shout: 'yes'
`,
      });
      const r = await runWorkflow(dir, 'js.yml', { actions: new GitActionSource({ host: server.url, cacheDir: actionsCache() }) });
      assert.equal(r.run.status, 'success', summary(r.run));
      // Every action's pre runs when the job starts, in step order (as on GitHub), with the inputs known then.
      assert.deepEqual(read(dir, 'trace.out').trim().split('\n'), [
        'pre one',
        'pre two',
        'main one shout=no state=at-pre repo=acme/node-tool',
        'saw hi one, one',
        'main two shout=yes state=at-pre repo=acme/node-tool',
        // Post scripts run when the job's steps are done, the last action's first, with the state of its pre and main.
        'post two started=at-pre cleanup=two legacy=saved-by-command',
        'post one started=at-pre cleanup=one legacy=saved-by-command',
      ]);
      assert.deepEqual(
        r.job('build').steps.map((s) => [s.name, s.status]),
        [
          ['Pre Run acme/node-tool@v1', 'success'],
          ['Pre Run acme/node-tool@v1', 'success'],
          ['Run acme/node-tool@v1', 'success'],
          ['Run echo "saw ${{ steps.first.outputs.greeting }}, $FROM_ACTION" >> trace.out', 'success'],
          ['Run acme/node-tool@v1', 'success'],
          ['Post Run acme/node-tool@v1', 'success'],
          ['Post Run acme/node-tool@v1', 'success'],
        ],
      );
      assert.match(r.log('build'), new RegExp(`Downloaded action repository 'acme/node-tool@v1' \\(SHA:${sha}\\) from http://127\\.0\\.0\\.1`), 'an annotated tag resolves to its commit');
      assert.ok(server.requests.some((q) => q.startsWith('GET /acme/node-tool/info/refs')), server.requests.join('\n'));
    } finally {
      await server.close();
    }
  });

  it('runs every action\'s pre when the job starts, in step order, before the first step: pre-if decides, a failed pre fails the job', async () => {
    const host = new ActionsHost();
    host.commit('acme', 'node-tool', nodeTool({ pre: true }), { tag: 'v1' });
    host.commit('acme', 'never-pre', nodeTool({ pre: true, preIf: "env.NEVER == 'yes'" }), { tag: 'v1' });
    const actions = () => new GitActionSource({ host: host.fileUrl, cacheDir: actionsCache() });
    const dir = workspace({
      '.github/workflows/pre.yml': `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "step one" >> trace.out
      - uses: acme/node-tool@v1
        with: { name: two }
      - uses: acme/never-pre@v1
        with: { name: three }
`,
      '.github/workflows/broken.yml': `on: push
jobs:
  broken:
    runs-on: ubuntu-latest
    steps:
      - run: echo "step one" >> broken.out
      - uses: acme/node-tool@v1
        with: { name: pre-fail }
      - if: always()
        run: echo "always" >> broken.out
`,
    });
    const r = await runWorkflow(dir, 'pre.yml', { actions: actions() });
    assert.equal(r.run.status, 'success', summary(r.run));
    assert.deepEqual(read(dir, 'trace.out').trim().split('\n'), [
      'pre two',
      'step one',
      'main two shout=no state=at-pre repo=acme/node-tool',
      'main three shout=no state=- repo=acme/never-pre',
      'post three started=- cleanup=three legacy=saved-by-command',
      'post two started=at-pre cleanup=two legacy=saved-by-command',
    ]);
    assert.deepEqual(
      r.job('build').steps.map((s) => [s.name, s.status]),
      [
        ['Pre Run acme/node-tool@v1', 'success'],
        ['Pre Run acme/never-pre@v1', 'skipped'],
        ['Run echo "step one" >> trace.out', 'success'],
        ['Run acme/node-tool@v1', 'success'],
        ['Run acme/never-pre@v1', 'success'],
        ['Post Run acme/never-pre@v1', 'success'],
        ['Post Run acme/node-tool@v1', 'success'],
      ],
    );
    assert.match(r.log('build'), /Downloaded action repository 'acme\/node-tool@v1'[^\n]*\n(.*\n)*.*Downloaded action repository 'acme\/never-pre@v1'/, 'both actions are fetched when the job is set up, in step order');

    const b = await runWorkflow(dir, 'broken.yml', { actions: actions() });
    assert.equal(b.run.status, 'failed');
    assert.deepEqual(
      b.job('broken').steps.map((s) => [s.name, s.status]),
      [
        ['Pre Run acme/node-tool@v1', 'failed'],
        ['Run echo "step one" >> broken.out', 'skipped'],
        ['Run acme/node-tool@v1', 'skipped'],
        ['Run echo "always" >> broken.out', 'success'],
      ],
    );
    assert.equal(read(dir, 'broken.out'), 'always\n', 'after a failed pre only steps that run always() run');
  });

  it('runs post scripts after a failure (post-if defaults to always()), and skips them when post-if says so', async () => {
    const host = new ActionsHost();
    host.commit('acme', 'always-post', nodeTool(), { tag: 'v1' });
    host.commit('acme', 'success-post', nodeTool({ postIf: 'success()' }), { tag: 'v1' });
    const dir = workspace({
      '.github/workflows/fail.yml': `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/always-post@v1
        with: { name: a }
      - uses: acme/success-post@v1
        with: { name: b }
      - uses: acme/always-post@v1
        with: { name: fail }
      - run: echo never >> trace.out
`,
    });
    const r = await runWorkflow(dir, 'fail.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: actionsCache() }) });
    assert.equal(r.run.status, 'failed');
    assert.deepEqual(read(dir, 'trace.out').trim().split('\n'), [
      'main a shout=no state=- repo=acme/always-post',
      'main b shout=no state=- repo=acme/success-post',
      'main fail shout=no state=- repo=acme/always-post',
      'post fail started=- cleanup=fail legacy=saved-by-command',
      'post a started=- cleanup=a legacy=saved-by-command',
    ]);
    const posts = r.job('build').steps.filter((s) => s.name.startsWith('Post '));
    assert.deepEqual(posts.map((s) => [s.status, s.reason]), [
      ['success', null],
      ['skipped', 'post-if: success() is false'],
      ['success', null],
    ]);
    assert.match(r.job('build').reason!, /exited with code 3/);
  });

  it('names what it cannot fetch: no such tag, a host that does not answer, a bad name, a Docker action', async () => {
    const host = new ActionsHost();
    host.commit('acme', 'tools', GREET, { tag: 'v2' });
    host.commit('acme', 'docker-thing', { 'action.yml': "name: d\nruns:\n  using: docker\n  image: 'Dockerfile'\n", Dockerfile: 'FROM scratch\n' }, { tag: 'v1' });
    const server = await serveOverHttp(new ActionsHost());
    const gone = server.url;
    await server.close();
    const dir = workspace({
      '.github/workflows/missing.yml': `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tools/greet@v9
      - uses: acme/docker-thing@v1
      - uses: acme/tools/../../etc@v2
      - uses: acme/tools@--upload-pack=touch
      - run: echo still running > after.out
`,
    });
    const r = await runWorkflow(dir, 'missing.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: actionsCache() }) });
    const steps = r.job('build').steps;
    assert.deepEqual(steps.map((s) => s.status), ['unsupported', 'unsupported', 'unsupported', 'unsupported', 'success']);
    assert.match(steps[0].reason!, /^file:\/\/.*\/acme\/tools has no branch or tag "v9" \(acme\/tools\/greet@v9\)$/);
    assert.match(steps[1].reason!, /^uses a Docker action \(acme\/docker-thing@v1: image Dockerfile; (this run has no container engine|no container engine: .*|the container engine \w+ does not answer: .*)\)$/);
    assert.match(steps[2].reason!, /is not a folder of the repository/);
    assert.match(steps[3].reason!, /is not a git branch, tag or commit/);
    assert.equal(read(dir, 'after.out'), 'still running\n');
    assert.equal(r.job('build').status, 'success');
    assert.match(r.job('build').reason!, /^4 steps unsupported locally/);

    const unreachable = await runWorkflow(dir, 'missing.yml', { actions: new GitActionSource({ host: gone, cacheDir: actionsCache(), timeoutMs: 30_000 }) });
    assert.match(unreachable.job('build').steps[0].reason!, new RegExp(`^cannot fetch acme/tools/greet@v9 from ${gone.replace(/\./g, '\\.')}/acme/tools \\(.+\\), and the action cache .* has no copy of it$`));
  });

  it('runs a local JavaScript action: main and post with state, pre not run (as on GitHub), post after a failure', async () => {
    const dir = workspace({
      '.github/actions/tool/action.yml': nodeTool({ pre: true })['action.yml'],
      '.github/actions/tool/dist/pre.js': nodeTool({ pre: true })['dist/pre.js'],
      '.github/actions/tool/dist/main.js': nodeTool()['dist/main.js'],
      '.github/actions/tool/dist/post.js': nodeTool()['dist/post.js'],
      '.github/workflows/local.yml': `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - id: a
        uses: ./.github/actions/tool
        with: { name: local }
      - run: echo "output \${{ steps.a.outputs.greeting }}, env $FROM_ACTION" >> trace.out
      - uses: ./.github/actions/tool
        with: { name: fail }
      - run: echo never >> trace.out
`,
    });
    const r = await runWorkflow(dir, 'local.yml');
    assert.equal(r.run.status, 'failed');
    assert.deepEqual(read(dir, 'trace.out').trim().split('\n'), [
      'main local shout=no state=- repo=local',
      'output hi local, env local',
      'main fail shout=no state=- repo=local',
      'post fail started=- cleanup=fail legacy=saved-by-command',
      'post local started=- cleanup=local legacy=saved-by-command',
    ]);
    assert.match(r.log('build'), /`pre` execution is not supported for local action from '\.\/\.github\/actions\/tool' \(as on GitHub\)/);
    assert.deepEqual(
      r.job('build').steps.map((s) => [s.name, s.status]),
      [
        ['Run ./.github/actions/tool', 'success'],
        ['Run echo "output ${{ steps.a.outputs.greeting }}, env $FROM_ACTION" >> trace.out', 'success'],
        ['Run ./.github/actions/tool', 'failed'],
        ['Run echo never >> trace.out', 'skipped'],
        ['Post Run ./.github/actions/tool', 'success'],
        ['Post Run ./.github/actions/tool', 'success'],
      ],
    );
  });

  it('runs a local reusable workflow: typed inputs and defaults, secrets passed and inherited, outputs back to the caller', async () => {
    const dir = workspace({
      '.github/workflows/build.yml': `name: build
on:
  workflow_call:
    inputs:
      target:
        type: string
        required: true
      debug:
        type: boolean
        default: false
      retries:
        type: number
        default: 2
      flavour:
        type: string
    secrets:
      token:
        required: true
    outputs:
      artifact:
        value: \${{ jobs.package.outputs.file }}
      checked:
        value: \${{ jobs.check.result }}
env:
  FROM_CALLED: called-env
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: echo "check \${{ inputs.target }} debug=\${{ toJSON(inputs.debug) }} retries=\${{ toJSON(inputs.retries) }} flavour=[\${{ inputs.flavour }}] $FROM_CALLED caller=[$FROM_CALLER] token=\${{ secrets.token }} other=[\${{ secrets.other }}]" >> "calls.out"
  package:
    needs: check
    runs-on: ubuntu-latest
    outputs:
      file: \${{ steps.p.outputs.file }}
    steps:
      - id: p
        run: echo "file=\${{ inputs.target }}.tar" >> "$GITHUB_OUTPUT"
`,
      '.github/workflows/ci.yml': `name: ci
on: push
env:
  FROM_CALLER: caller-env
jobs:
  prepare:
    runs-on: ubuntu-latest
    outputs:
      target: \${{ steps.t.outputs.target }}
    steps:
      - id: t
        run: echo "target=app" >> "$GITHUB_OUTPUT"
  explicit:
    needs: prepare
    uses: ./.github/workflows/build.yml
    with:
      target: \${{ needs.prepare.outputs.target }}
      debug: true
      retries: 5
    secrets:
      token: \${{ secrets.DEPLOY_TOKEN }}
  inherited:
    strategy:
      matrix:
        flavour: [small, large]
    uses: ./.github/workflows/build.yml
    with:
      target: lib-\${{ matrix.flavour }}
      flavour: \${{ matrix.flavour }}
    secrets: inherit
  skipped:
    if: github.event_name == 'schedule'
    uses: ./.github/workflows/build.yml
    with:
      target: never
    secrets: inherit
  report:
    needs: [explicit, inherited, skipped]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "explicit=\${{ needs.explicit.outputs.artifact }}/\${{ needs.explicit.outputs.checked }}/\${{ needs.explicit.result }} inherited=\${{ needs.inherited.outputs.artifact }} skipped=\${{ needs.skipped.result }}" > report.out
`,
    });
    const r = await runWorkflow(dir, 'ci.yml', { secrets: { DEPLOY_TOKEN: 'tok-1', other: 'o' } });
    assert.equal(r.run.status, 'success', summary(r.run));
    assert.deepEqual(r.run.jobs.map((j) => [j.id, j.name, j.status]), [
      ['prepare', 'prepare', 'success'],
      ['explicit / check', 'explicit / check', 'success'],
      ['explicit / package', 'explicit / package', 'success'],
      ['inherited (small) / check', 'inherited (small) / check', 'success'],
      ['inherited (small) / package', 'inherited (small) / package', 'success'],
      ['inherited (large) / check', 'inherited (large) / check', 'success'],
      ['inherited (large) / package', 'inherited (large) / package', 'success'],
      ['skipped / check', 'skipped / check', 'skipped'],
      ['skipped / package', 'skipped / package', 'skipped'],
      ['report', 'report', 'success'],
    ]);
    assert.deepEqual(r.job('explicit / check').deps, ['prepare'], 'the called jobs wait for what the caller needs');
    assert.equal(r.job('skipped / check').reason, "if: github.event_name == 'schedule' is false");
    assert.deepEqual(read(dir, 'calls.out').trim().split('\n').sort(), [
      // The caller's env does not reach the called workflow; only the secrets passed (or inherited) do.
      'check app debug=true retries=5 flavour=[] called-env caller=[] token=tok-1 other=[]',
      'check lib-large debug=false retries=2 flavour=[large] called-env caller=[] token= other=[o]',
      'check lib-small debug=false retries=2 flavour=[small] called-env caller=[] token= other=[o]',
    ]);
    assert.equal(read(dir, 'report.out'), 'explicit=app.tar/success/success inherited=lib-large.tar skipped=skipped\n');
  });

  it('runs a reusable workflow of another repository fetched from the host (inputs, secrets, outputs, caller matrix, a ./ call inside it), then from the cache with the host gone', async () => {
    const host = new ActionsHost();
    const sha = host.commit(
      'acme',
      'shared',
      {
        '.github/workflows/build.yml': `name: build
on:
  workflow_call:
    inputs:
      target: { type: string, required: true }
    secrets:
      token: { required: false }
    outputs:
      artifact:
        value: \${{ jobs.package.outputs.file }}
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: echo "check \${{ inputs.target }} token=[\${{ secrets.token }}] other=[\${{ secrets.other }}]" >> calls.out
  package:
    needs: check
    uses: ./.github/workflows/package.yml
    with:
      target: \${{ inputs.target }}
`,
        // Called with ./ from build.yml: read from acme/shared at the same commit, not from the caller's repository.
        '.github/workflows/package.yml': `on:
  workflow_call:
    inputs:
      target: { type: string, required: true }
    outputs:
      file:
        value: \${{ jobs.tar.outputs.file }}
jobs:
  tar:
    runs-on: ubuntu-latest
    outputs:
      file: \${{ steps.p.outputs.file }}
    steps:
      - id: p
        run: echo "file=\${{ inputs.target }}.tar" >> "$GITHUB_OUTPUT"
`,
      },
      { tag: 'v1' },
    );
    const dir = workspace({
      '.github/workflows/ci.yml': `on: push
jobs:
  explicit:
    uses: acme/shared/.github/workflows/build.yml@v1
    with: { target: app }
    secrets:
      token: \${{ secrets.DEPLOY_TOKEN }}
  legs:
    strategy:
      matrix:
        flavour: [small, large]
    uses: acme/shared/.github/workflows/build.yml@v1
    with:
      target: lib-\${{ matrix.flavour }}
    secrets: inherit
  report:
    needs: [explicit, legs]
    runs-on: ubuntu-latest
    steps:
      - run: echo "explicit=\${{ needs.explicit.outputs.artifact }} legs=\${{ needs.legs.outputs.artifact }}" > report.out
`,
      // This repository's own package.yml must not be the one the remote build.yml calls.
      '.github/workflows/package.yml': 'on: workflow_call\njobs:\n  wrong:\n    runs-on: ubuntu-latest\n    steps: [{ run: "echo wrong >> calls.out" }]\n',
    });
    // Listing needs no host: the caller job is listed as written, runnable.
    const listed = await importWorkflow({ path: '.github/workflows/ci.yml', text: read(dir, '.github/workflows/ci.yml') }, importContext(dir));
    assert.deepEqual(listed.pipelines[0].def.jobs.map((j) => [j.id, j.uses, j.unsupported]), [
      ['explicit', 'acme/shared/.github/workflows/build.yml@v1', null],
      ['legs', 'acme/shared/.github/workflows/build.yml@v1', null],
      ['report', null, null],
    ]);

    const cache = actionsCache();
    const secrets = { DEPLOY_TOKEN: 'tok-1', other: 'o' };
    const first = await runWorkflow(dir, 'ci.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: cache }), secrets });
    assert.equal(first.run.status, 'success', summary(first.run));
    assert.deepEqual(first.run.jobs.map((j) => [j.id, j.status]), [
      ['explicit / check', 'success'],
      ['explicit / package / tar', 'success'],
      ['legs (small) / check', 'success'],
      ['legs (small) / package / tar', 'success'],
      ['legs (large) / check', 'success'],
      ['legs (large) / package / tar', 'success'],
      ['report', 'success'],
    ]);
    assert.deepEqual(first.job('explicit / package / tar').deps, ['explicit / check']);
    assert.deepEqual(read(dir, 'calls.out').trim().split('\n').sort(), [
      'check app token=[tok-1] other=[]',
      'check lib-large token=[] other=[o]',
      'check lib-small token=[] other=[o]',
    ]);
    assert.equal(read(dir, 'report.out'), 'explicit=app.tar legs=lib-large.tar\n');

    // The host is gone: the same run, through the CLI, comes from the cache, and the jobs' logs say so.
    host.remove();
    fs.rmSync(path.join(dir, 'calls.out'));
    fs.rmSync(path.join(dir, 'report.out'));
    const env = { ...process.env, DELIVERY_STATE_DIR: path.join(tempDir('delivery-cli-state-'), 'state'), DELIVERY_ACTIONS_CACHE: cache };
    const again = spawnSync(process.execPath, [CLI, 'run', 'ci', '--actions-host', host.fileUrl, '--secret', 'DEPLOY_TOKEN=tok-1', '--secret', 'other=o', '--secret', 'token=inherited', '--cwd', dir], { encoding: 'utf8', env });
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.equal(read(dir, 'report.out'), 'explicit=app.tar legs=lib-large.tar\n');
    assert.equal(read(dir, 'calls.out').trim().split('\n').length, 3);
    assert.match(again.stdout, new RegExp(`Using workflow repository 'acme/shared@v1' \\(SHA:${sha}\\) from the action cache: .*could not be reached`));

    // Host gone and a cache that never had it: the caller job is unsupported with the reason; what needs it is skipped.
    const none = await runWorkflow(dir, 'ci.yml', { actions: new GitActionSource({ host: host.fileUrl, cacheDir: actionsCache() }), secrets });
    assert.equal(none.job('explicit').status, 'unsupported');
    assert.match(none.job('explicit').reason!, /^reusable workflow acme\/shared\/\.github\/workflows\/build\.yml@v1: cannot fetch acme\/shared@v1 from file:\/\/.*\/acme\/shared \(.*\), and the action cache \(.*\) has no copy of it$/);
    assert.equal(none.job('report').status, 'skipped');
  });

  it('refuses what GitHub refuses before a run: unknown or missing inputs and secrets, a workflow that is not reusable, a loop', async () => {
    const called = `on:
  workflow_call:
    inputs:
      target: { type: string, required: true }
    secrets:
      token: { required: true }
jobs:
  a:
    runs-on: ubuntu-latest
    steps: [{ run: 'true' }]
`;
    const dir = workspace({
      '.github/workflows/called.yml': called,
      '.github/workflows/plain.yml': 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{ run: "true" }]\n',
      '.github/workflows/loop.yml': 'on: workflow_call\njobs:\n  again:\n    uses: ./.github/workflows/loop.yml\n',
      '.github/workflows/unknown-input.yml': 'on: push\njobs:\n  c:\n    uses: ./.github/workflows/called.yml\n    with: { target: x, colour: red }\n    secrets: inherit\n',
      '.github/workflows/missing-input.yml': 'on: push\njobs:\n  c:\n    uses: ./.github/workflows/called.yml\n    secrets: inherit\n',
      '.github/workflows/missing-secret.yml': 'on: push\njobs:\n  c:\n    uses: ./.github/workflows/called.yml\n    with: { target: x }\n',
      '.github/workflows/not-reusable.yml': 'on: push\njobs:\n  c:\n    uses: ./.github/workflows/plain.yml\n',
      '.github/workflows/calls-loop.yml': 'on: push\njobs:\n  c:\n    uses: ./.github/workflows/loop.yml\n',
      '.github/workflows/outside.yml': 'on: push\njobs:\n  c:\n    uses: ./ci/build.yml\n',
    });
    assert.equal(await planError(dir, 'unknown-input.yml'), '.github/workflows/unknown-input.yml:3:3: job "c": input "colour" is not defined in .github/workflows/called.yml (its on.workflow_call.inputs: target)');
    assert.equal(await planError(dir, 'missing-input.yml'), '.github/workflows/missing-input.yml:3:3: job "c": input "target" is required by .github/workflows/called.yml but not given ("with:")');
    assert.equal(await planError(dir, 'missing-secret.yml'), '.github/workflows/missing-secret.yml:3:3: job "c": secret "token" is required by .github/workflows/called.yml but not passed ("secrets:")');
    assert.equal(await planError(dir, 'not-reusable.yml'), '.github/workflows/not-reusable.yml:3:3: job "c": calls ./.github/workflows/plain.yml, which is not a reusable workflow (its "on" has no workflow_call)');
    assert.equal(await planError(dir, 'calls-loop.yml'), '.github/workflows/loop.yml:3:3: job "again": workflows call each other in a loop: .github/workflows/loop.yml → .github/workflows/loop.yml');
    assert.match(await planError(dir, 'outside.yml'), /^\.github\/workflows\/outside\.yml:3:3: job "c": "\.\/ci\/build\.yml" is not a workflow of this repository/);
  });

  it('delivery run --actions-host fetches from that host; a host that is not a URL is a usage error', () => {
    const host = new ActionsHost();
    host.commit('acme', 'tools', GREET, { tag: 'v2' });
    const dir = workspace({
      '.github/workflows/cli.yml': `on: push
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - id: g
        uses: acme/tools/greet@v2
        with: { who: cli }
      - run: echo "\${{ steps.g.outputs.message }}" > message.out
`,
    });
    const env = { ...process.env, DELIVERY_STATE_DIR: path.join(tempDir('delivery-cli-state-'), 'state'), DELIVERY_ACTIONS_CACHE: actionsCache() };
    const ok = spawnSync(process.execPath, [CLI, 'run', 'cli', '--actions-host', host.fileUrl, '--cwd', dir], { encoding: 'utf8', env });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.equal(read(dir, 'message.out'), 'hello cli\n');
    const bad = spawnSync(process.execPath, [CLI, 'run', 'cli', '--actions-host', 'ftp://example.com', '--cwd', dir], { encoding: 'utf8', env });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--actions-host: "ftp:\/\/example\.com": only https:\/\/, http:\/\/ and file:\/\/ hosts are supported/);
  });
});
