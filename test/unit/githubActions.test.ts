// Pure parts of running GitHub actions locally: remote action names checked before they reach git, what a local
// run does with each kind of `uses:`, JavaScript action metadata, reusable-workflow declarations, save-state.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkActionsHost } from '../../src/adapters/actions/gitActions';
import { inputVariable, isCommitSha, isNodeRuntime, parseUses, remoteActionPlan, remoteRef } from '../../src/core/github/actions';
import { handleCommandLine, newEffects } from '../../src/core/github/commands';
import { runFacts } from '../../src/core/github/context';
import { scriptPath } from '../../src/core/github/nodeAction';
import { readAction, readWorkflow } from '../../src/core/github/workflow';

describe('GitHub actions: names, plans and metadata', () => {
  it('splits and checks remote action names (they become a URL, git arguments and a folder)', () => {
    assert.deepEqual(remoteRef('actions/setup-node@v4'), { owner: 'actions', repo: 'setup-node', path: '', ref: 'v4' });
    assert.deepEqual(remoteRef('acme/tools/greet/deep@release/v1.2'), { owner: 'acme', repo: 'tools', path: 'greet/deep', ref: 'release/v1.2' });
    assert.deepEqual(remoteRef('org/.github/actions/x@main'), { owner: 'org', repo: '.github', path: 'actions/x', ref: 'main' });
    const sha = 'a'.repeat(40);
    assert.deepEqual(remoteRef(`o/r@${sha}`), { owner: 'o', repo: 'r', path: '', ref: sha });
    const bad: [string, RegExp][] = [
      ['o/r@--upload-pack=touch', /is not a git branch, tag or commit/],
      ['o/r@-x', /is not a git branch, tag or commit/],
      ['o/r@a..b', /is not a git branch, tag or commit/],
      ['o/r@v1.lock', /is not a git branch, tag or commit/],
      ['o/r@x:y', /is not a git branch, tag or commit/],
      ['o/r@$(id)', /is not a git branch, tag or commit/],
      ['o/r@', /is not a git branch, tag or commit/],
      ['o/..@v1', /is not a repository name/],
      ['o/-r@v1', /is not a repository name/],
      ['-o/r@v1', /is not a repository owner/],
      ['o/r/../../etc@v1', /is not a folder of the repository/],
      ['o/r/a\\b@v1', /is not a folder of the repository/],
      ['o/r', /has no @ref/],
    ];
    for (const [uses, why] of bad) {
      const r = remoteRef(uses);
      assert.ok('invalid' in r, `${uses} is refused`);
      assert.match(r.invalid, why, uses);
    }
    assert.ok(isCommitSha(sha) && !isCommitSha('abc123') && !isCommitSha(sha.toUpperCase()));
  });

  it('plans each kind of uses: a checkout of the workspace is a no-op, remote actions are fetched, Docker images are unsupported', () => {
    assert.deepEqual(remoteActionPlan(parseUses('actions/checkout@v4'), {}), { noop: 'the workspace is already checked out here (actions/checkout does nothing locally)' });
    assert.match((remoteActionPlan(parseUses('actions/checkout@v4'), { repository: 'other/repo' }) as { unsupported: string }).unsupported, /to check out repository: other\/repo/);
    assert.deepEqual(remoteActionPlan(parseUses('actions/setup-node@v4'), {}), { fetch: { owner: 'actions', repo: 'setup-node', path: '', ref: 'v4' } });
    assert.deepEqual(remoteActionPlan(parseUses('docker://alpine:3'), {}), { container: 'alpine:3' });
    assert.match((remoteActionPlan(parseUses('o/r@-x'), {}) as { unsupported: string }).unsupported, /is not a git branch/);
  });

  it('names inputs as the runner does and runs node12 to node24 with the local node', () => {
    assert.equal(inputVariable('node-version'), 'INPUT_NODE-VERSION');
    assert.equal(inputVariable('my input'), 'INPUT_MY_INPUT');
    assert.deepEqual(['node12', 'node16', 'node20', 'node24', 'node', 'node18', 'composite'].map(isNodeRuntime), [true, true, true, true, false, false, false]);
  });

  it('keeps a JavaScript action\'s scripts inside the repository it comes from', () => {
    const root = path.resolve('/repo');
    assert.deepEqual(scriptPath(root, path.join(root, 'act'), 'dist/index.js'), { file: path.join(root, 'act', 'dist', 'index.js') });
    assert.deepEqual(scriptPath(root, path.join(root, 'act'), '../shared/main.js'), { file: path.join(root, 'shared', 'main.js') });
    assert.match((scriptPath(root, path.join(root, 'act'), '../../etc/passwd') as { error: string }).error, /outside the action's repository/);
    assert.match((scriptPath(root, root, '/bin/sh') as { error: string }).error, /relative to the action's folder/);
    assert.match((scriptPath(root, root, ' ') as { error: string }).error, /no script is named/);
  });

  it('reads a JavaScript action: main, pre, post and their conditions; main is required', () => {
    const { action } = readAction('action.yml', 'name: t\nruns:\n  using: node20\n  pre: pre.js\n  main: dist/index.js\n  post: post.js\n  pre-if: runner.os == \'Linux\'\n  post-if: success()\n');
    assert.ok(action);
    assert.deepEqual([action.using, action.pre, action.main, action.post, action.preIf, action.postIf], ['node20', 'pre.js', 'dist/index.js', 'post.js', "runner.os == 'Linux'", 'success()']);
    const missing = readAction('action.yml', 'name: t\nruns:\n  using: node24\n');
    assert.equal(missing.action, null);
    assert.match(missing.f.problems[0].message, /the JavaScript action has no "runs.main"/);
  });

  it('reads what a reusable workflow takes and gives (on.workflow_call) and what a caller passes', () => {
    const called = readWorkflow('.github/workflows/b.yml', `on:
  workflow_call:
    inputs:
      target: { type: string, required: true }
    secrets:
      token: { required: true }
      optional: {}
    outputs:
      file:
        value: \${{ jobs.build.outputs.file }}
jobs:
  build:
    runs-on: ubuntu-latest
    steps: [{ run: 'true' }]
`);
    assert.deepEqual(called.f.problems, []);
    const call = called.workflow!.call!;
    assert.deepEqual(call.inputs.map((i) => [i.name, i.type, i.required]), [['target', 'string', true]]);
    assert.deepEqual(call.secrets, [{ name: 'token', required: true }, { name: 'optional', required: false }]);
    assert.deepEqual(call.outputs.map((o) => [o.name, o.value, o.location.line]), [['file', '${{ jobs.build.outputs.file }}', 10]]);
    assert.equal(readWorkflow('w.yml', 'on: workflow_call\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: "true" }]\n').workflow!.call !== null, true, '"on: workflow_call" as a string makes it reusable');
    assert.equal(readWorkflow('w.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: "true" }]\n').workflow!.call, null);

    const caller = readWorkflow('.github/workflows/a.yml', `on: push
jobs:
  one:
    uses: ./.github/workflows/b.yml
    with: { target: app, debug: true }
    secrets: inherit
  two:
    uses: ./.github/workflows/b.yml
    secrets:
      token: \${{ secrets.DEPLOY }}
  three:
    uses: ./.github/workflows/b.yml
    secrets: all
`);
    const jobs = caller.workflow!.jobs;
    assert.deepEqual([jobs[0].with, jobs[0].secrets], [{ target: 'app', debug: 'true' }, 'inherit']);
    assert.deepEqual(jobs[1].secrets, { token: '${{ secrets.DEPLOY }}' });
    assert.deepEqual(
      caller.f.problems.filter((p) => p.severity === 'error').map((p) => `${p.line}:${p.column} ${p.message}`),
      ['13:14 job "three": "secrets" must be "inherit" or a mapping of secret names to values, not "all"'],
    );
  });

  it('reads what real workflows use: max-parallel 0 (no limit, nodejs/undici), default_branch in the event (dorny/paths-filter)', () => {
    const r = readWorkflow('w.yml', 'on: push\njobs:\n  t:\n    strategy:\n      max-parallel: 0\n      matrix: { n: [1, 2] }\n    runs-on: x\n    steps: [{ run: "true" }]\n');
    assert.deepEqual(r.f.problems, []);
    assert.equal(r.workflow!.jobs[0].maxParallel, null);
    assert.match(readWorkflow('w.yml', 'on: push\njobs:\n  t:\n    strategy:\n      max-parallel: -1\n    runs-on: x\n    steps: [{ run: "true" }]\n').f.problems[0].message, /"max-parallel" must be a whole number \(0: no limit\)/);
    const facts = runFacts(r.workflow!, { folder: '/w', now: 0, host: { platform: 'linux', arch: 'x64' }, git: { sha: 'a'.repeat(40), ref: 'refs/heads/main', branch: 'main', defaultBranch: 'main', remoteUrl: 'https://github.com/acme/app.git' } }, {}, {}, '1');
    assert.deepEqual(facts.payload.repository, { full_name: 'acme/app', name: 'app', owner: { login: 'acme' }, default_branch: 'main' });
  });

  it('keeps ::save-state for the post script', () => {
    const eff = newEffects();
    handleCommandLine('::save-state name=pid::1234', eff, false);
    handleCommandLine('::save-state name=multi::a%0Ab', eff, false);
    assert.deepEqual(eff.state, { pid: '1234', multi: 'a\nb' });
  });

  it('checks the actions host setting: an http(s) or file URL (GitHub, GHES, a mirror)', () => {
    assert.deepEqual(checkActionsHost('https://github.com/'), { host: 'https://github.com' });
    assert.deepEqual(checkActionsHost('https://ghe.example.com'), { host: 'https://ghe.example.com' });
    assert.deepEqual(checkActionsHost('file:///srv/mirrors'), { host: 'file:///srv/mirrors' });
    assert.match((checkActionsHost('ftp://example.com') as { error: string }).error, /only https:\/\/, http:\/\/ and file:\/\/ hosts/);
    assert.match((checkActionsHost('ext::sh -c touch% /tmp/x') as { error: string }).error, /only https/);
    assert.match((checkActionsHost('github.com') as { error: string }).error, /is not a URL/);
    assert.match((checkActionsHost('https://ghe.example.com/?x=1') as { error: string }).error, /no query/);
  });
});
