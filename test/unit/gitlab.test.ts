// GitLab CI import: the fixture pipelines under test/fixtures/gitlab/, located problems, expressions, durations.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipelinesJson } from '../../src/cli/json';
import { evaluate, parseExpression } from '../../src/core/gitlab/expression';
import { gitlabImporter } from '../../src/core/gitlab/importer';
import { pipelineVariables } from '../../src/core/gitlab/predefined';
import { expandText, parseGitlabDuration, resolveVariables } from '../../src/core/gitlab/variables';
import { IMPORTERS } from '../../src/core/importers';
import type { JobDef, Problem } from '../../src/shared/model';
import { cleanupTempDirs, tempDir, writeFiles } from '../support/tmp';
import { FIXTURES, importFolder } from '../support/gitlabSupport';
import { planFacts } from '../../src/adapters/clock';

/** 1-based line of the first line of `file` that starts with `prefix`. */
function lineOf(folder: string, file: string, prefix: string): number {
  const i = fs.readFileSync(path.join(folder, file), 'utf8').split('\n').findIndex((l) => l.startsWith(prefix));
  assert.ok(i >= 0, `${file} has a line starting with ${prefix}`);
  return i + 1;
}

function byId(jobs: JobDef[], id: string): JobDef {
  const j = jobs.find((x) => x.id === id);
  assert.ok(j, `job ${id} (jobs: ${jobs.map((x) => x.id).join(', ')})`);
  return j;
}

const where = (p: Problem) => `${p.file}:${p.line}:${p.column}`;

/** Imports a pipeline written inline (with extra files) and returns its problems and jobs. */
async function importYaml(yaml: string, files: Record<string, string> = {}) {
  const dir = tempDir('gitlab-inline-');
  writeFiles(dir, { '.gitlab-ci.yml': yaml, ...files });
  const r = await importFolder(dir);
  return { ...r, dir, jobs: r.pipeline?.def.jobs ?? [] };
}

describe('GitLab CI import', () => {
  after(cleanupTempDirs);

  it('is registered for .gitlab-ci.yml only', () => {
    assert.ok(IMPORTERS.includes(gitlabImporter));
    assert.ok(gitlabImporter.matches('.gitlab-ci.yml'));
    assert.ok(!gitlabImporter.matches('ci/.gitlab-ci.yml'));
    assert.ok(!gitlabImporter.matches('.gitlab-ci.yaml'));
  });

  it('applies extends chains (also lists), anchors with <<:, !reference, default: and inherit:', async () => {
    const dir = path.join(FIXTURES, 'templates');
    const { pipeline, problems } = await importFolder(dir);
    assert.deepEqual(problems, []);
    const def = pipeline!.def;
    assert.equal(def.id, 'gitlab-ci');
    assert.equal(def.name, 'GitLab CI');
    assert.deepEqual(def.source, { kind: 'gitlab', file: '.gitlab-ci.yml' });
    assert.deepEqual(def.stages, ['.pre', 'build', 'test', 'package', '.post']);
    assert.deepEqual(def.jobs.map((j) => j.id), ['compile', 'compile-release', 'unit-tests', 'lint', 'package'], 'hidden jobs are not jobs');

    const compile = byId(def.jobs, 'compile');
    assert.deepEqual(compile.env, { NODE_VERSION: '20', PYTHON_VERSION: '3.11', TIER: 'compile', OPTIMIZE: '-O2' }, '.base <- .compile <- compile, with the anchor merged in .base');
    assert.deepEqual(compile.location, { file: '.gitlab-ci.yml', line: lineOf(dir, '.gitlab-ci.yml', 'compile:'), column: 1 });
    assert.equal(compile.timeoutMs, 10 * 60_000, 'default: timeout');
    // default before_script, then the script: !reference [.setup, script], which itself references default's before_script
    assert.deepEqual(compile.steps.map((s) => s.name), [
      'mkdir -p "$OUT_DIR"',
      'mkdir -p "$OUT_DIR"',
      'echo "setting up $APP_NAME"',
      'echo setup > "$OUT_DIR/setup.txt"',
      'echo "compile $OPTIMIZE tier=$TIER node=$NODE_VERSION" | tee "$OUT_DIR/compile.txt"',
      'echo "after $CI_JOB_NAME: $CI_JOB_STATUS" >> out/after.log',
    ]);
    assert.ok(compile.steps.every((s) => s.kind === 'script'));
    const beforeLine = lineOf(dir, '.gitlab-ci.yml', '    - mkdir -p');
    assert.deepEqual(compile.steps[0].location, { file: '.gitlab-ci.yml', line: beforeLine, column: 7 }, 'a step points at its line, here in default:');

    const release = byId(def.jobs, 'compile-release');
    assert.equal(release.env.OPTIMIZE, '-O3', 'the later of two extends wins');
    assert.equal(release.env.SIGNED, 'yes');
    assert.equal(release.env.TIER, 'compile');

    const tests = byId(def.jobs, 'unit-tests');
    assert.deepEqual(tests.needs, ['compile']);
    assert.deepEqual(tests.reports.junit, ['out/junit.xml']);
    assert.deepEqual(tests.env, { APP_NAME: 'shop', OUT_DIR: 'out/$APP_NAME', REPORT: 'out/junit.xml' }, 'the global variables anchor merged into the job');

    const lint = byId(def.jobs, 'lint');
    assert.deepEqual(lint.steps.map((s) => s.name), ['mkdir -p "$OUT_DIR"', 'test -d "$OUT_DIR"', 'echo "lint without the default after_script"'], 'inherit:default [before_script]');
    assert.deepEqual(lint.needs, [], 'no needs declared: empty');
    const pkg = byId(def.jobs, 'package');
    assert.equal(pkg.steps.length, 2, 'inherit:default false: no before_script, no after_script');
    assert.equal(pkg.timeoutMs, null);
  });

  it('reads local includes (wildcards, nested, inputs) and lists the includes that need the network', async () => {
    const dir = path.join(FIXTURES, 'includes');
    const { pipeline, problems, dependsOn } = await importFolder(dir);
    const def = pipeline!.def;
    assert.deepEqual(def.jobs.map((j) => j.id), ['build', 'unit', 'deploy-staging'], 'ci/jobs/*.yml does not reach ci/jobs/nested/');
    assert.deepEqual(byId(def.jobs, 'build').location, { file: 'ci/jobs/build.yml', line: 1, column: 1 });
    assert.deepEqual(byId(def.jobs, 'build').steps.map((s) => `${s.location.file}:${s.location.line}`), ['ci/defaults.yml:3', 'ci/jobs/build.yml:4']);
    const unit = byId(def.jobs, 'unit');
    assert.deepEqual(unit.location.file, 'ci/jobs/test.yml', 'a job extended by the main file keeps the place it is defined');
    assert.deepEqual(unit.env, { HELPER: 'from ci/helpers.yml', SUITE: 'unit-from-main', LEVEL: 'fast' }, 'main file keys win; mappings merge');
    const deploy = byId(def.jobs, 'deploy-staging');
    assert.equal(deploy.stage, 'deploy');
    assert.deepEqual(deploy.environment, { name: 'staging', url: 'https://staging.example.com' });
    assert.equal(deploy.steps[1].name, 'echo "deploying 2 replicas to $CI_ENVIRONMENT_NAME at $CI_ENVIRONMENT_URL"');
    assert.deepEqual(deploy.location, { file: 'ci/deploy.yml', line: lineOf(dir, 'ci/deploy.yml', 'deploy-'), column: 1 });
    assert.equal(def.env.GREETING, 'hello from the main file', 'the main file overrides included variables');
    assert.equal(def.env.REGION, 'eu-west-1');

    assert.deepEqual(
      problems.map((p) => `${p.severity} ${where(p)} ${p.message.split(';')[0]}`),
      [
        `warning .gitlab-ci.yml:${lineOf(dir, '.gitlab-ci.yml', '  - template')}:5 include:template Security/SAST.gitlab-ci.yml needs GitLab's template library (the network)`,
        `warning .gitlab-ci.yml:${lineOf(dir, '.gitlab-ci.yml', '  - remote')}:5 include:remote https://gitlab.example.com/platform/ci/-/raw/main/shared.yml needs the network`,
        `warning .gitlab-ci.yml:${lineOf(dir, '.gitlab-ci.yml', '  - project')}:5 include:project platform/ci-templates /templates/node.yml@v3 needs access to another GitLab project`,
        `warning .gitlab-ci.yml:${lineOf(dir, '.gitlab-ci.yml', '  - component')}:5 include:component gitlab.example.com/components/secret-detection/secret-detection@1.0 needs the GitLab CI/CD catalog (the network)`,
      ],
    );
    assert.deepEqual([...dependsOn].sort(), ['.gitlab-ci-local-variables.yml', 'ci/defaults.yml', 'ci/deploy.yml', 'ci/helpers.yml', 'ci/jobs/build.yml', 'ci/jobs/test.yml']);
  });

  it('expands parallel and parallel:matrix into named jobs; needs on them name every (or the selected) instance', async () => {
    const { pipeline, problems } = await importFolder(path.join(FIXTURES, 'matrix'));
    assert.deepEqual(problems, []);
    const ids = pipeline!.def.jobs.map((j) => j.id);
    assert.deepEqual(ids.filter((i) => i.startsWith('build')), ['build: [linux,amd64]', 'build: [linux,arm64]', 'build: [mac,amd64]', 'build: [mac,arm64]', 'build: [windows,amd64]']);
    assert.deepEqual(ids.filter((i) => i.startsWith('test')), ['test: [1/3]', 'test: [2/3]', 'test: [3/3]']);
    const test2 = byId(pipeline!.def.jobs, 'test: [2/3]');
    assert.deepEqual(test2.needs, ['build: [linux,amd64]', 'build: [linux,arm64]'], 'needs:parallel:matrix selects the linux builds');
    assert.ok(test2.matrix);
    const deployEu = byId(pipeline!.def.jobs, 'deploy: [eu]');
    assert.equal(deployEu.needs.length, 8, 'a need on a parallel job means all its instances');
    assert.deepEqual(deployEu.environment, { name: 'production/eu', url: 'https://eu.shop.example.com' });
    assert.deepEqual(deployEu.env, { REGION: 'eu' });
    const stop = byId(pipeline!.def.jobs, 'stop-review');
    assert.equal(stop.when, 'manual');
    assert.equal(stop.allowFailure, true, 'manual jobs (without rules) may fail');
  });

  it('says why container jobs, triggers and rules:changes do not run as in GitLab', async () => {
    const { pipeline, problems } = await importFolder(path.join(FIXTURES, 'containers'));
    const jobs = pipeline!.def.jobs;
    assert.equal(byId(jobs, 'unit').image, 'node:20-alpine');
    assert.equal(byId(jobs, 'unit').unsupported, null, 'runs in a container');
    assert.equal(byId(jobs, 'integration').image, 'node:20-alpine');
    assert.deepEqual(byId(jobs, 'integration').services, ['postgres:16', 'redis:7']);
    assert.equal(byId(jobs, 'shell-checks').image, null, 'inherit:default false drops the default image');
    assert.equal(byId(jobs, 'docs-pipeline').unsupported, 'triggers a downstream pipeline (child pipeline)');
    assert.deepEqual(byId(jobs, 'docs-pipeline').steps, []);
    assert.equal(byId(jobs, 'release').retries, 1, 'default: retry');
    assert.deepEqual(problems, []);
    const rules = await importFolder(path.join(FIXTURES, 'rules'));
    assert.deepEqual(rules.problems.map((p) => `${p.severity} ${p.message.split(';')[0]}`), ['info rules:changes cannot be evaluated in a local run (there is no pushed diff)']);
    assert.equal(rules.pipeline!.def.name, 'Delivery for $CI_COMMIT_REF_NAME', 'the workflow name (variables known only when it runs stay as written)');
  });

  it('keeps the JSON contract of `delivery pipelines --json`', async () => {
    const { pipeline, dir } = await importYaml(`# @Description Builds everything
build:
  script:
    - make
    - make check
test:
  needs: [build]
  before_script: echo before
  script: make test
  after_script: [echo after]
`);
    const json = pipelinesJson({ folder: dir, pipelines: [pipeline!], environments: [], problems: [], files: ['.gitlab-ci.yml'] });
    assert.deepEqual(json.pipelines[0].jobs, [
      { id: 'build', name: 'build', stage: 'test', needs: [], when: null, matrix: false, uses: null, environment: null, unsupported: null, allowFailure: false, if: null, steps: [{ name: 'make', kind: 'script' }, { name: 'make check', kind: 'script' }] },
      { id: 'test', name: 'test', stage: 'test', needs: ['build'], when: null, matrix: false, uses: null, environment: null, unsupported: null, allowFailure: false, if: null, steps: ['echo before', 'make test', 'echo after'].map((name) => ({ name, kind: 'script' as const })) },
    ]);
    assert.equal(pipeline!.def.jobs[0].description, 'Builds everything');
  });

  describe('located problems (nothing runs from a pipeline with errors)', () => {
    const cases: { name: string; yaml: string; files?: Record<string, string>; want: RegExp; at: string }[] = [
      { name: 'malformed YAML', yaml: 'build:\n  script: [make\n', want: /Flow sequence|end with a \]/, at: '.gitlab-ci.yml:3:1' },
      { name: 'unknown stage', yaml: 'stages: [build]\nx:\n  stage: tset\n  script: make\n', want: /job "x": stage "tset" does not exist; the stages are \.pre, build, \.post/, at: '.gitlab-ci.yml:3:10' },
      { name: 'needs naming a missing job', yaml: 'a:\n  script: make\n  needs: [b, c]\nb:\n  script: make\n', want: /job "a" needs "c", which is not a job in this pipeline/, at: '.gitlab-ci.yml:3:14' },
      { name: 'needs on a hidden job', yaml: '.t:\n  script: make\na:\n  needs: [.t]\n  script: make\n', want: /needs "\.t", which is not a job in this pipeline \(hidden jobs never run\)/, at: '.gitlab-ci.yml:4:11' },
      { name: 'needs in a cycle', yaml: 'a:\n  needs: [b]\n  script: make\nb:\n  needs: [a]\n  script: make\n', want: /jobs need each other in a cycle: a → b → a/, at: '.gitlab-ci.yml:2:11' },
      { name: 'needs on a later stage', yaml: 'a:\n  stage: build\n  needs: [b]\n  script: make\nb:\n  stage: deploy\n  script: make\n', want: /needs "b", which is in a later stage \(deploy\)/, at: '.gitlab-ci.yml:3:11' },
      { name: 'extends of a missing job', yaml: 'a:\n  extends: .missing\n  script: make\n', want: /job "a": extends "\.missing", which is not defined/, at: '.gitlab-ci.yml:2:12' },
      { name: 'circular extends', yaml: '.x:\n  extends: .y\n.y:\n  extends: .x\na:\n  extends: .x\n  script: make\n', want: /circular extends/, at: '.gitlab-ci.yml:' },
      { name: 'an include that does not exist', yaml: 'include:\n  - local: ci/missing.yml\na:\n  script: make\n', want: /include:local: file "ci\/missing.yml" does not exist/, at: '.gitlab-ci.yml:2:12' },
      { name: 'a mistake inside an included file', yaml: 'include: ci/jobs.yml\n', files: { 'ci/jobs.yml': 'a:\n  script: make\n  stage: nope\n' }, want: /stage "nope" does not exist/, at: 'ci/jobs.yml:3:10' },
      { name: 'an unknown job key, with a suggestion', yaml: 'a:\n  scripts: make\n  script: make\n', want: /job "a": unknown key "scripts" \(did you mean "script"\?\)/, at: '.gitlab-ci.yml:2:3' },
      { name: 'a job without script', yaml: 'a:\n  stage: test\n', want: /job "a": a job needs a script/, at: '.gitlab-ci.yml:2:3' },
      { name: 'a !reference to nothing', yaml: 'a:\n  script: !reference [.nope, script]\n', want: /!reference \[\.nope, script\]: "\.nope" is not defined/, at: '.gitlab-ci.yml:2:22' },
      { name: 'a !reference with a list index (GitLab takes names only)', yaml: '.t:\n  script: [make, make test]\na:\n  script:\n    - !reference [.t, script, 0]\n', want: /^!reference takes names only: GitLab refuses 0 \(a number; a reference cannot pick an item of a list — quote it if it names a key\)$/, at: '.gitlab-ci.yml:5:31' },
      { name: 'an unquoted ": " in a command', yaml: 'a:\n  script:\n    - echo result: ok\n', want: /a command containing ": " must be quoted/, at: '.gitlab-ci.yml:3:7' },
      { name: 'an invalid rules:if expression', yaml: 'a:\n  script: make\n  rules:\n    - if: $A == "x" &&\n', want: /invalid expression "\$A == "x" &&": expression ends too early/, at: '.gitlab-ci.yml:4:11' },
      { name: 'a pipeline without visible jobs', yaml: '.hidden:\n  script: make\n', want: /the pipeline has no visible jobs/, at: '.gitlab-ci.yml:1:1' },
      { name: 'when: never outside rules', yaml: 'a:\n  when: never\n  script: make\n', want: /when:never can only be used in a rules section/, at: '.gitlab-ci.yml:2:9' },
      { name: 'include loop', yaml: 'include: a.yml\n', files: { 'a.yml': 'include: b.yml\n', 'b.yml': 'include: a.yml\nx:\n  script: make\n' }, want: /include loop: \.gitlab-ci\.yml includes a\.yml includes b\.yml includes a\.yml/, at: 'b.yml:1:10' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { errors, pipeline, dir } = await importYaml(c.yaml, c.files);
        const hit = errors.find((e) => c.want.test(e.message));
        assert.ok(hit, `expected an error matching ${c.want}; got ${JSON.stringify(errors.map((e) => `${where(e)} ${e.message}`))}`);
        assert.ok(where(hit).startsWith(c.at), `located at ${c.at}, not ${where(hit)}`);
        if (pipeline) {
          const plan = await pipeline.plan({}, { ...planFacts(), folder: dir });
          assert.ok('error' in plan, 'a pipeline with errors does not plan');
          assert.match(plan.error, /has errors, so nothing runs/);
        }
      });
    }
  });
});

describe('GitLab CI expressions', () => {
  const vars: Record<string, string> = { BRANCH: 'feature/login', EMPTY: '', MAIN: 'main', PATTERN: '/^feat/', TAG: 'v1.2.0' };
  const cases: [string, boolean][] = [
    ['$BRANCH', true],
    ['$EMPTY', false],
    ['$UNDEFINED', false],
    ['$BRANCH == "feature/login"', true],
    ["$BRANCH == 'main'", false],
    ['$BRANCH != "main"', true],
    ['$UNDEFINED == null', true],
    ['$EMPTY == null', false],
    ['$EMPTY == ""', true],
    ['$BRANCH =~ /^feature\\//', true],
    ['$BRANCH =~ /^FEATURE/i', true],
    ['$BRANCH !~ /^release/', true],
    ['$UNDEFINED =~ /.*/', false],
    ['$BRANCH =~ $PATTERN', true],
    ['$MAIN == "main" && $TAG', true],
    ['$MAIN == "x" || $TAG =~ /^v\\d+\\.\\d+/', true],
    ['$MAIN == "x" || $TAG == "y" && $BRANCH', false],
    ['($MAIN == "x" || $TAG) && $EMPTY', false],
    ['$MAIN == "${MAIN}"', false],
  ];
  for (const [src, want] of cases) {
    it(`${src} is ${want}`, () => assert.equal(evaluate(parseExpression(src), (n) => vars[n]), want));
  }
  it('reports syntax errors with their position', () => {
    assert.throws(() => parseExpression('$A == '), /ends too early/);
    assert.throws(() => parseExpression('$A = "x"'), /unexpected "= "x""/);
    assert.throws(() => parseExpression('$A =~ "x"'), /must be a \/regular expression\//);
    assert.throws(() => parseExpression('($A'), /missing "\)"/);
    // GitLab's lexer has no ${NAME} form ("invalid expression syntax"); inside a string it is just text.
    assert.throws(() => parseExpression('${MAIN} == $MAIN'), (e: Error & { at?: number }) => /\$\{MAIN\} is not allowed in an expression.*write \$MAIN/.test(e.message) && e.at === 0);
    assert.throws(() => parseExpression('$A == "x" && ${B}'), (e: Error & { at?: number }) => e.at === 13);
  });
});

describe('GitLab CI variables and durations', () => {
  it('expands $VAR and ${VAR} in values, keeps $$ as $, and guards against cycles', () => {
    assert.equal(expandText('a-$X-${Y}-$$X-$MISSING.', (n) => ({ X: '1', Y: '2' })[n]), 'a-1-2-$X-.');
    const out = resolveVariables([
      { vars: { CI_PROJECT_DIR: '/p' }, expand: false },
      { vars: { OUT: '$CI_PROJECT_DIR/out', A: '$B', B: '$A', RAW: '$OUT' }, expand: new Set(['OUT', 'A', 'B']) },
      { vars: { OUT: '$CI_PROJECT_DIR/override' }, expand: true },
    ]);
    assert.equal(out.OUT, '/p/override', 'a later layer wins and is expanded');
    assert.equal(out.RAW, '$OUT', 'expand: false keeps the value as written');
    assert.ok(out.A === '$A' || out.A === '$B', 'a cycle stops expanding');
  });
  it('parses GitLab durations', () => {
    assert.equal(parseGitlabDuration('1h 30m'), 90 * 60_000);
    assert.equal(parseGitlabDuration('2 hours 10 minutes'), 130 * 60_000);
    assert.equal(parseGitlabDuration('3600'), 3_600_000);
    assert.equal(parseGitlabDuration('1 day'), 86_400_000);
    assert.equal(parseGitlabDuration('30min'), 30 * 60_000);
    assert.equal(parseGitlabDuration('soon'), null);
  });
});

describe('GitLab predefined variables', () => {
  it('date and number the pipeline from the plan context’s time, not the machine’s clock', () => {
    const now = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const vars = pipelineVariables({ folder: '/w/app', configPath: '.gitlab-ci.yml', git: undefined, pipelineId: 424242, now });
    assert.equal(vars.CI_PIPELINE_CREATED_AT, '2024-01-02T03:04:05Z');
    assert.equal(vars.CI_PIPELINE_ID, '424242');
  });
});
