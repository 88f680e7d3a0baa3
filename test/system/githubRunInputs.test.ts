// `delivery run` of GitHub workflows with an event, its payload, inputs and secrets (real CLI processes): the event
// decides `if:`, the payload is github.event and the GITHUB_EVENT_PATH file, inputs are checked before anything runs,
// secrets reach `secrets.*` and are masked in the output, the logs and the records.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, tempDir, writeFiles } from '../support/tmp';
import { useSharedWorkspaces } from '../support/workspaceMode';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function cli(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(cwd, '.state-test'), ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A git repository with one workflow (committed, so github.sha and the ref are known). */
function repo(workflow: string, extra: Record<string, string> = {}): string {
  const dir = tempDir('delivery-gh-inputs-');
  writeFiles(dir, { '.github/workflows/w.yml': workflow, '.gitignore': '.state-test/\n*.out\n', ...extra });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Tester');
  git(dir, 'config', 'user.email', 'tester@example.invalid');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Every file under `dir` (the state folder: run records, job logs). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

const RELEASE = `on:
  push:
  workflow_dispatch:
    inputs:
      version:
        required: true
      dry-run:
        type: boolean
        default: true
      level:
        type: choice
        options: [patch, minor, major]
        default: patch
jobs:
  first:
    runs-on: ubuntu-latest
    steps:
      - run: touch first-ran.out
  release:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.version }} \${{ inputs.dry-run }} \${{ github.event.inputs.level }} \${{ github.event_name }}" > release.out
`;

describe('delivery run: events, payloads, inputs and secrets of GitHub workflows', function () {
  useSharedWorkspaces();
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('runs an `if: github.event_name == ...` step with --event push, and skips it without', () => {
    const dir = repo(`on: [push, workflow_dispatch]
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - if: github.event_name == 'push'
        run: touch pushed.out
      - run: echo "$GITHUB_EVENT_NAME \${{ github.event_name }}" > event.out
`);
    const manual = cli(dir, ['run', 'w']);
    assert.equal(manual.code, 0, manual.stderr + manual.stdout);
    assert.equal(fs.existsSync(path.join(dir, 'pushed.out')), false);
    assert.equal(read(dir, 'event.out'), 'workflow_dispatch workflow_dispatch\n');
    const push = cli(dir, ['run', 'w', '--event', 'push']);
    assert.equal(push.code, 0, push.stderr + push.stdout);
    assert.ok(fs.existsSync(path.join(dir, 'pushed.out')));
    assert.equal(read(dir, 'event.out'), 'push push\n');
    const typo = cli(dir, ['run', 'w', '--event', 'pussh']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown event "pussh" \(did you mean "push"\?\)/);
  });

  it('gives --event-payload as github.event and the GITHUB_EVENT_PATH file; a bad file says where, and nothing runs', () => {
    const dir = repo(`on: pull_request
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.event.pull_request.number }} \${{ github.event.pull_request.head.ref }}" > pr.out
      - run: node -e "console.log(require(process.env.GITHUB_EVENT_PATH).pull_request.number)" > path.out
`);
    writeFiles(dir, { 'pr.json': JSON.stringify({ pull_request: { number: 42, head: { ref: 'feature/x' } } }), 'bad.json': '{\n  "pull_request": {\n    "number": 42,\n  }\n}\n' });
    const r = cli(dir, ['run', 'w', '--event', 'pull_request', '--event-payload', 'pr.json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(read(dir, 'pr.out'), '42 feature/x\n');
    assert.equal(read(dir, 'path.out'), '42\n');
    fs.rmSync(path.join(dir, 'pr.out'));
    const bad = cli(dir, ['run', 'w', '--event', 'pull_request', '--event-payload', 'bad.json']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^delivery: --event-payload bad\.json:4:3: not valid JSON: .*; nothing was run$/m);
    const missing = cli(dir, ['run', 'w', '--event-payload', 'nope.json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--event-payload nope\.json: no such file/);
    assert.equal(fs.existsSync(path.join(dir, 'pr.out')), false);
  });

  it('refuses a run whose required input is missing, before anything runs (no step, no record)', () => {
    const dir = repo(RELEASE);
    const r = cli(dir, ['run', 'w']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /\.github\/workflows\/w\.yml:5:7: input "version" is required and has no default: give it \(--input version=VALUE\)/);
    assert.equal(fs.existsSync(path.join(dir, 'first-ran.out')), false, 'the job before the one reading the input did not run');
    assert.deepEqual(filesUnder(path.join(dir, '.state-test')).filter((f) => /runs/.test(f)), [], 'no run record, no job log');
  });

  it('refuses wrong types and unknown inputs, naming each; takes typed inputs with defaults for the rest', () => {
    const dir = repo(RELEASE);
    const wrong = cli(dir, ['run', 'w', '--input', 'version=1.0', '--input', 'dry-run=maybe', '--input', 'level=huge', '--input', 'colour=red']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /w\.yml:7:7: input "dry-run" is a boolean: true or false, not "maybe"/);
    assert.match(wrong.stderr, /w\.yml:10:7: input "level" must be one of patch, minor, major, not "huge"/);
    assert.match(wrong.stderr, /unknown input "colour": on\.workflow_dispatch\.inputs declares version, dry-run, level/);
    assert.equal(fs.existsSync(path.join(dir, 'first-ran.out')), false);
    const pushed = cli(dir, ['run', 'w', '--event', 'push', '--input', 'version=1']);
    assert.equal(pushed.code, 2);
    assert.match(pushed.stderr, /input "version" cannot be given: a push event carries no inputs/);

    const ok = cli(dir, ['run', 'w', '--input', 'version=2.1.0', '--input', 'level=minor']);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.equal(read(dir, 'release.out'), '2.1.0 true minor workflow_dispatch\n');
    const noDefaults = cli(dir, ['run', 'w', '--input', 'version=3', '--input', 'dry-run=false']);
    assert.equal(noDefaults.code, 0, noDefaults.stderr + noDefaults.stdout);
    assert.equal(read(dir, 'release.out'), '3 false patch workflow_dispatch\n');
  });

  it('takes workflow_call inputs with --event workflow_call', () => {
    const dir = repo(`on:
  workflow_call:
    inputs:
      target: { type: string, required: true }
      replicas: { type: number, default: 2 }
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ inputs.target }} \${{ inputs.replicas }}" > call.out
`);
    const missing = cli(dir, ['run', 'w', '--event', 'workflow_call', '--input', 'replicas=3']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /w\.yml:4:7: input "target" is required/);
    const r = cli(dir, ['run', 'w', '--event', 'workflow_call', '--input', 'target=prod']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(read(dir, 'call.out'), 'prod 2\n');
  });

  it('gives --secret NAME from the environment to secrets.NAME, masked in stdout, the job log and the record', () => {
    const value = 'tok-3f9c2a71-secret';
    const dir = repo(`on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: echo "token is \${{ secrets.NPM_TOKEN }}"
      - name: publish with \${{ secrets.NPM_TOKEN }}
        env:
          TOKEN: \${{ secrets.NPM_TOKEN }}
        run: echo "$TOKEN" | rev > reversed.out && echo "again $TOKEN"
`);
    const r = cli(dir, ['run', 'w', '--secret', 'NPM_TOKEN'], { NPM_TOKEN: value });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(read(dir, 'reversed.out'), `${[...value].reverse().join('')}\n`, 'the step had the value');
    assert.ok(!r.stdout.includes(value) && !r.stderr.includes(value), r.stdout);
    assert.match(r.stdout, /token is \*\*\*/);
    assert.match(r.stdout, /again \*\*\*/);
    const files = filesUnder(path.join(dir, '.state-test'));
    const logs = files.filter((f) => f.endsWith('.log'));
    assert.ok(logs.length > 0, `job logs in ${files.join(', ')}`);
    assert.ok(logs.some((f) => fs.readFileSync(f, 'utf8').includes('token is ***')), 'the log has the masked line');
    for (const f of files) assert.ok(!fs.readFileSync(f, 'utf8').includes(value), `${f} holds the secret`);

    const unset = cli(dir, ['run', 'w', '--secret', 'NPM_TOKEN'], { NPM_TOKEN: '' });
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /--secret NPM_TOKEN: the environment variable NPM_TOKEN is empty/);
    const without = cli(dir, ['run', 'w']);
    assert.equal(without.code, 1);
    assert.match(without.stdout, /secrets\.NPM_TOKEN is not available to local runs: give it with --secret NPM_TOKEN/);
  });

  it('reads --secret-file (dotenv) and --secret NAME=VALUE; a bad line says where', () => {
    const dir = repo(`on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ secrets.API_KEY }}|\${{ secrets.OTHER }}" | rev > secrets.out; echo "\${{ secrets.API_KEY }}"
`);
    writeFiles(dir, { 'ci.env': '# local secrets\nAPI_KEY="key with spaces"\nOTHER=from-file\n', 'bad.env': 'API_KEY=1\nnot a line\n' });
    const r = cli(dir, ['run', 'w', '--secret-file', 'ci.env', '--secret', 'OTHER=from-flag']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(read(dir, 'secrets.out'), `${[...'key with spaces|from-flag'].reverse().join('')}\n`);
    assert.ok(!r.stdout.includes('key with spaces'), r.stdout);
    const bad = cli(dir, ['run', 'w', '--secret-file', 'bad.env']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--secret-file bad\.env:2: expected NAME=VALUE/);
  });

  it('refuses these options where they do not apply: other commands, pipelines that take no events', () => {
    const dir = repo(RELEASE, { 'delivery.yml': 'version: 1\npipelines:\n  ci:\n    jobs:\n      build: { run: touch built.out }\n' });
    const deploy = cli(dir, ['deploy', 'staging', '--event', 'push']);
    assert.equal(deploy.code, 2);
    assert.match(deploy.stderr, /^delivery: deploy: --event applies to run, not to deploy$/m);
    const envs = cli(dir, ['envs', '--secret', 'X=1']);
    assert.equal(envs.code, 2);
    assert.match(envs.stderr, /envs: --secret applies to run, not to envs/);
    const local = cli(dir, ['run', 'ci', '--event', 'push']);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /--event: ci \(delivery\.yml\) is a delivery pipeline, which takes no events, inputs or secrets/);
    assert.equal(fs.existsSync(path.join(dir, 'built.out')), false);
  });
  it('GitLab CI: --secret gives a CI/CD variable the scripts read, masked; --event and --input are refused there', () => {
    const dir = repo(RELEASE, { '.gitlab-ci.yml': 'deploy:\n  script:\n    - test "$DEPLOY_TOKEN" = "s3cr3t-value" && echo "token ok=$DEPLOY_TOKEN" > token.out\n    - echo "printed $DEPLOY_TOKEN"\n' });
    const r = cli(dir, ['run', 'gitlab-ci', '--secret', 'DEPLOY_TOKEN=s3cr3t-value']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'token.out'), 'token ok=s3cr3t-value\n', 'the job gets the value');
    assert.match(r.stdout, /printed \*\*\*/);
    assert.ok(!r.stdout.includes('s3cr3t-value') && !r.stderr.includes('s3cr3t-value'), 'the value is masked');
    const listed = cli(dir, ['pipelines', '--json']);
    const gitlab = (JSON.parse(listed.stdout) as { pipelines: { id: string }[] }).pipelines.find((p) => p.id === 'gitlab-ci');
    assert.ok(gitlab);
    const event = cli(dir, ['run', 'gitlab-ci', '--event', 'push']);
    assert.equal(event.code, 2);
    assert.match(event.stderr, /--event: GitLab CI \(\.gitlab-ci\.yml\) is a gitlab pipeline, which takes no events or inputs/);
  });
});
