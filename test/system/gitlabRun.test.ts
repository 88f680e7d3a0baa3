// GitLab CI pipelines run for real in the local shell (bash, LocalProcessRunner, FileRunStore), from the fixture
// files under test/fixtures/gitlab/ and small inline pipelines.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempDirs, git, testPlanIO } from '../support/tmp';
import { fixtureRepo, gitFacts, importFolder, repoWith, runGitlab } from '../support/gitlabSupport';
import { planFacts } from '../../src/adapters/clock';

const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

describe('GitLab CI runs (real processes)', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('runs the template-based pipeline: extends, anchors, !reference, default: and after_script', async () => {
    const dir = fixtureRepo('templates');
    const { run, job, output } = await runGitlab(dir);
    assert.equal(run.status, 'success');
    assert.equal(run.pipelineId, 'gitlab-ci');
    assert.deepEqual(run.stages, ['.pre', 'build', 'test', 'package', '.post']);
    assert.ok(output('compile').includes('compile -O2 tier=compile node=20'), output('compile').join('\n'));
    assert.ok(output('compile').includes('$ echo "setting up $APP_NAME"'), 'each command is echoed before it runs');
    assert.ok(output('compile-release').includes('release -O3 signed=yes tier=compile'));
    assert.deepEqual(job('unit-tests').tests, { total: 3, failed: 0, errors: 0, skipped: 1 }, 'JUnit report from artifacts:reports:junit');
    assert.deepEqual(job('unit-tests').deps, ['compile'], 'needs, not stage order');
    assert.deepEqual(job('package').deps.sort(), ['compile', 'compile-release', 'lint', 'unit-tests'], 'stage order: every job of earlier stages');
    assert.ok(output('package').includes('packaging shop out_dir=[]'), 'inherit:variables [APP_NAME] leaves OUT_DIR out');
    assert.equal(read(dir, 'out/package.txt'), 'compile.txt release.txt setup.txt ');
    assert.deepEqual(read(dir, 'out/after.log').trim().split('\n').sort(), ['after compile-release: success', 'after compile: success', 'after unit-tests: success']);
    assert.deepEqual(job('compile').steps.map((s) => `${s.name}:${s.status}`), ['script:success', 'after_script:success']);
  });

  it('runs a pipeline assembled from local includes, with inputs', async () => {
    const dir = fixtureRepo('includes');
    const { run, output } = await runGitlab(dir);
    assert.equal(run.status, 'success');
    assert.equal(read(dir, 'build.txt'), 'hello from the main file in eu-west-1\n');
    assert.ok(output('unit').includes('suite=unit-from-main level=fast helper=from ci/helpers.yml'));
    assert.ok(output('deploy-staging').includes('deploying 2 replicas to staging at https://staging.example.com'));
    assert.ok(output('build').includes('defaults from ci/defaults.yml'));
  });

  it('evaluates workflow:rules, rules, only/except for the branch it runs on', async () => {
    const main = fixtureRepo('rules', 'main');
    const onMain = await runGitlab(main);
    assert.equal(onMain.run.status, 'success');
    assert.equal(onMain.run.pipelineName, 'Delivery for main');
    assert.equal(read(main, 'channel.txt'), 'channel=stable\n', 'workflow:rules variables override global ones');
    assert.equal(read(main, 'build.txt'), 'build --release\n', 'rules:variables of the first matching rule');
    const status = (r: typeof onMain, id: string) => `${r.job(id).status}${r.job(id).reason ? `: ${r.job(id).reason}` : ''}`;
    assert.equal(status(onMain, 'node-tests'), 'success', 'rules:exists package.json');
    assert.equal(status(onMain, 'go-tests'), 'skipped: no rule in rules: matches this run');
    assert.equal(status(onMain, 'docs'), 'success', 'rules:changes is treated as true locally');
    assert.equal(status(onMain, 'nightly'), 'skipped: no rule in rules: matches this run');
    assert.equal(status(onMain, 'deploy-preview'), 'skipped: only: does not match branch "main"');
    assert.equal(onMain.job('deploy-production').status, 'manual');
    assert.equal(onMain.job('notify-failure').status, 'skipped');
    assert.equal(onMain.job('cleanup').status, 'success');

    const feature = fixtureRepo('rules', 'feature/login');
    const onFeature = await runGitlab(feature);
    assert.equal(onFeature.run.status, 'success', 'an allowed failure does not fail the run');
    assert.equal(read(feature, 'channel.txt'), 'channel=preview\n');
    assert.equal(read(feature, 'build.txt'), 'build --debug\n');
    assert.equal(onFeature.job('flaky-e2e').status, 'failed');
    assert.equal(onFeature.job('flaky-e2e').allowFailure, true, 'rules:allow_failure');
    assert.equal(onFeature.job('flaky-e2e').exitCode, 3);
    assert.ok(onFeature.output('deploy-preview').includes('preview at https://feature-login.preview.example.com'));
    assert.equal(onFeature.job('deploy-production').status, 'skipped');
    assert.equal(onFeature.job('notify-failure').status, 'skipped', 'allowed failures do not trigger on_failure jobs');

    const noPreview = await runGitlab(feature, { request: { jobs: ['deploy-preview'], variables: { SKIP_PREVIEW: 'yes' } } });
    assert.equal(noPreview.job('deploy-preview').reason, 'except: matches this run');

    const tagged = await runGitlab(main, { git: { ref: 'refs/tags/v2.0.0', branch: null }, request: { jobs: ['prepare', 'build'] } });
    assert.equal(read(main, 'channel.txt'), 'channel=release\n', 'a tag pipeline (git facts) takes the first workflow rule');
    assert.equal(tagged.job('build').status, 'skipped', 'build has no rule for tags');

    const other = fixtureRepo('rules', 'experiment');
    const { pipeline } = await importFolder(other);
    const plan = await pipeline!.plan({}, { ...planFacts(), folder: other, git: await gitFacts(other), io: testPlanIO });
    assert.ok('error' in plan);
    assert.match(plan.error, /workflow:rules keep this pipeline from running for branch "experiment" \(a rule says when: never\)/);
  });

  it('runs manual jobs only when they are named, and refuses to start a run that needs a manual job', async () => {
    const dir = fixtureRepo('rules', 'main');
    const named = await runGitlab(dir, { request: { jobs: ['deploy-production'] } });
    assert.equal(named.job('deploy-production').status, 'success');
    assert.deepEqual(named.run.jobs.map((j) => j.id), ['deploy-production'], 'only the named job (its needs on request)');
    const withNeeds = await runGitlab(dir, { request: { jobs: ['deploy-production'], withNeeds: true } });
    // build has no needs: of its own: it waits for the earlier stages, so --needs brings them too (gitlab-ci-local).
    assert.deepEqual(withNeeds.run.jobs.map((j) => j.id), ['prepare', 'lint', 'docs', 'node-tests', 'build', 'deploy-production']);
    const manual = await runGitlab(dir, { request: { manual: ['deploy-production'] } });
    assert.equal(manual.job('deploy-production').status, 'success');

    const needsManual = repoWith({ '.gitlab-ci.yml': 'gate:\n  when: manual\n  script: echo gate\nafter-gate:\n  needs: [gate]\n  script: echo after\n' });
    const { pipeline } = await importFolder(needsManual);
    const refused = await pipeline!.plan({}, { ...planFacts(), folder: needsManual });
    assert.deepEqual(refused, { error: 'gate is a manual job and after-gate needs it: run it too by naming it as a manual job to run (--manual "gate"), or run "after-gate" on its own' });
  });

  it('runs matrix and parallel jobs with their own variables, environments and scoped project variables', async () => {
    const dir = fixtureRepo('matrix');
    const { run, job, output } = await runGitlab(dir);
    assert.equal(run.status, 'success');
    assert.equal(run.jobs.filter((j) => j.id.startsWith('build: [')).length, 5);
    assert.ok(output('test: [2/3]').includes('shard 2 of 3'));
    assert.deepEqual(job('test: [1/3]').deps, ['build: [linux,amd64]', 'build: [linux,arm64]']);
    // CI_ENVIRONMENT_SLUG as GitLab makes it: the name changed, so a suffix from its SHA-256 is added.
    assert.ok(output('deploy: [eu]').includes('deploy to production/eu (production-eu-ytgffm) url=https://eu.shop.example.com token=token-eu'), 'the exact environment scope wins');
    assert.ok(output('deploy: [us]').includes('deploy to production/us (production-us-qhatbr) url=https://us.shop.example.com token=token-production'), 'then a wildcard scope');
    assert.ok(output('smoke').includes('eu us '));
    assert.equal(job('stop-review').status, 'manual');
    for (const f of ['linux-amd64', 'linux-arm64', 'mac-amd64', 'mac-arm64', 'windows-amd64']) assert.ok(fs.existsSync(path.join(dir, `dist/${f}.txt`)), f);

    const one = await runGitlab(dir, { request: { jobs: ['test: [2/3]'], withNeeds: true } });
    assert.deepEqual(one.run.jobs.map((j) => j.id), ['build: [linux,amd64]', 'build: [linux,arm64]', 'test: [2/3]'], 'needs:parallel:matrix pulls only the selected instances');
    const all = await runGitlab(dir, { request: { jobs: ['deploy'], variables: { DEPLOY_TOKEN: 'from-the-command-line' } } });
    assert.deepEqual(all.run.jobs.map((j) => j.id), ['deploy: [eu]', 'deploy: [us]'], 'the base name means every instance');
    assert.ok(all.output('deploy: [eu]').some((l) => l.endsWith('token=from-the-command-line')), 'run variables win over project variables');
    const spaced = await runGitlab(dir, { request: { jobs: ['build: [linux, amd64]'] } });
    assert.deepEqual(spaced.run.jobs.map((j) => j.id), ['build: [linux,amd64]'], "GitLab's spelling with a space is accepted");
  });

  it('image and service jobs need a container executor (this engine has none) unless run in the shell; triggers and release stay unsupported', async () => {
    const dir = fixtureRepo('containers');
    const plain = await runGitlab(dir);
    assert.equal(plain.job('unit').status, 'unsupported');
    assert.equal(plain.job('unit').reason, 'runs in image node:20-alpine, and this run has no executor for it');
    assert.equal(plain.job('integration').reason, 'runs in image node:20-alpine, and this run has no executor for it');
    assert.equal(plain.job('shell-checks').status, 'success');
    assert.equal(read(dir, 'shell-checks.txt'), 'ok\n');
    assert.equal(plain.job('docs-pipeline').status, 'unsupported');
    assert.equal(plain.job('release').status, 'skipped', 'rules: only for tags');
    assert.equal(plain.run.status, 'failed', 'unsupported jobs fail the run');

    const allowed = await runGitlab(dir, { request: { forceShellExecutor: true }, git: { ref: 'refs/tags/v1.2.0', branch: null } });
    assert.equal(allowed.job('unit').status, 'success');
    assert.equal(allowed.job('unit').steps[0].name, 'image');
    assert.match(allowed.job('unit').steps[0].reason!, /needs Docker image node:20-alpine: running in the local shell instead/);
    assert.ok(allowed.output('integration').includes('integration against postgres://postgres@postgres/test'));
    assert.equal(allowed.job('docs-pipeline').status, 'unsupported');
    assert.ok(allowed.output('release').includes('releasing v1.2.0'));
    assert.deepEqual(allowed.job('release').steps.map((s) => `${s.name}:${s.status}`), ['image:success', 'script:success', 'release:unsupported']);
  });

  it('after_script runs after a failure in its own shell, sees CI_JOB_STATUS, and its failure only warns', async () => {
    const dir = repoWith({
      '.gitlab-ci.yml': `fails:
  before_script:
    - export SHARED=from-before
  script:
    - echo "script sees $SHARED"
    - exit 7
  after_script:
    - echo "after sees [\${SHARED}] status=$CI_JOB_STATUS"
passes:
  script: echo fine
  after_script:
    - echo "status=$CI_JOB_STATUS"
    - exit 1
allowed-codes:
  allow_failure:
    exit_codes: [7, 9]
  script: exit 9
other-code:
  allow_failure:
    exit_codes: 7
  script: exit 8
slow:
  timeout: 1 second
  script: sleep 30
retried:
  retry: 2
  script:
    - echo x >> tries.txt
    - test "$(wc -l < tries.txt)" -ge 2
`,
    });
    const { job, output, run } = await runGitlab(dir);
    assert.equal(job('fails').status, 'failed');
    assert.equal(job('fails').exitCode, 7);
    assert.ok(output('fails').includes('script sees from-before'), 'before_script and script share one shell');
    assert.ok(output('fails').includes('after sees [] status=failed'), output('fails').join('\n'));
    assert.equal(job('passes').status, 'success', 'a failing after_script does not fail the job');
    assert.ok(output('passes').includes('status=success'));
    assert.equal(job('passes').steps[1].status, 'failed');
    assert.equal(job('allowed-codes').status, 'failed');
    assert.equal(job('allowed-codes').allowFailure, true, 'exit code 9 is allowed');
    assert.equal(job('other-code').allowFailure, false, 'exit code 8 is not');
    assert.equal(job('retried').status, 'success');
    assert.equal(job('retried').attempts, 2);
    assert.equal(job('slow').status, 'failed');
    assert.match(job('slow').reason!, /timed out after 1s/);
    assert.equal(run.status, 'failed');
  });

  it('follows stage order without needs: a hard failure skips later stages, needs: [] starts at once', async () => {
    const dir = repoWith({
      '.gitlab-ci.yml': `stages: [one, two, three]
broken:
  stage: one
  script: exit 1
later:
  stage: two
  script: echo later
independent:
  stage: three
  needs: []
  script: echo independent
rescue:
  stage: three
  when: on_failure
  script: echo rescue
`,
    });
    const { job } = await runGitlab(dir);
    assert.equal(job('later').status, 'skipped');
    assert.match(job('later').reason!, /an earlier job \("broken"\) failed/);
    assert.equal(job('independent').status, 'success');
    assert.deepEqual(job('independent').deps, []);
    assert.equal(job('rescue').status, 'success');
  });

  it('applies variable precedence: predefined < global < job < rules < project file < run; $$ and expand: false', async () => {
    const dir = repoWith(
      {
        '.gitlab-ci.yml': `variables:
  LEVEL: global
  ONLY_GLOBAL: g
  DIR: $CI_PROJECT_DIR/build
  LITERAL:
    value: "$HOME"
    expand: false
  DOLLARS: "cost: $$5"
show:
  variables:
    LEVEL: job
    FROM_FILE: job
    FROM_RUN: job
  rules:
    - if: $CI_COMMIT_BRANCH == "main" && $CI_DEFAULT_BRANCH == "main"
      variables:
        LEVEL: rule
  script:
    - echo "level=$LEVEL global=$ONLY_GLOBAL file=$FROM_FILE run=$FROM_RUN"
    - echo "dir=$DIR literal=$LITERAL dollars=$DOLLARS gone=[\${ONLY_GLOBAL_GONE-unset}]"
    - echo "ci=$CI gitlab_ci=$GITLAB_CI job=$CI_JOB_NAME stage=$CI_JOB_STAGE branch=$CI_COMMIT_BRANCH project=$CI_PROJECT_PATH"
`,
        '.gitlab-ci-local-variables.yml': 'FROM_FILE: file\nFROM_RUN: file\nONLY_GLOBAL_GONE: here\n',
      },
      'main',
    );
    git(dir, 'remote', 'add', 'origin', 'https://gitlab.example.com/team/shop.git');
    const { output } = await runGitlab(dir, { request: { variables: { FROM_RUN: 'run' }, unsetVariables: ['ONLY_GLOBAL_GONE'] } });
    const out = output('show');
    assert.ok(out.includes('level=rule global=g file=file run=run'), out.join('\n'));
    assert.ok(out.includes(`dir=${dir}/build literal=$HOME dollars=cost: $5 gone=[unset]`), out.join('\n'));
    assert.ok(out.includes('ci=true gitlab_ci=false job=show stage=test branch=main project=team/shop'), out.join('\n'));
  });

  it('passes branch names and run variables to jobs only as environment variables', async () => {
    const dir = repoWith({
      '.gitlab-ci.yml': `include:
  - local: ci/$CI_COMMIT_REF_NAME.yml
    rules:
      - if: $CI_COMMIT_REF_NAME == "never"
show:
  environment:
    name: review/$CI_COMMIT_REF_NAME
  script:
    - echo "branch=$CI_COMMIT_BRANCH env=$CI_ENVIRONMENT_NAME value=$VALUE"
`,
    });
    const branch = 'x$(touch${IFS}pwned)';
    git(dir, 'checkout', '-q', '-b', branch);
    const { output, job } = await runGitlab(dir, { request: { variables: { VALUE: '"; touch also-pwned; echo "' } } });
    assert.equal(job('show').status, 'success');
    assert.ok(output('show').includes(`branch=${branch} env=review/${branch} value="; touch also-pwned; echo "`), output('show').join('\n'));
    assert.ok(!fs.existsSync(path.join(dir, 'pwned')) && !fs.existsSync(path.join(dir, 'also-pwned')), 'nothing from outside the file ran');
  });
  it('a script line that is an AND/OR list whose first command fails goes on, as in GitLab; a failing command stops the job', async () => {
    const dir = repoWith({ '.gitlab-ci.yml': 'lists:\n  script:\n    - false && exit 1\n    - echo "after the list"\nplain:\n  script:\n    - "false"\n    - echo never\n' });
    const { job, output } = await runGitlab(dir);
    assert.equal(job('lists').status, 'success');
    assert.ok(output('lists').includes('after the list'), output('lists').join('\n'));
    assert.equal(job('plain').status, 'failed');
    assert.ok(!output('plain').includes('never'));
  });
});
