// GitLab CI as GitLab reads it, where real files differ from fixtures: jobs whose templates live in includes that
// cannot be read offline, needs on one matrix instance and matrix expressions, `needs: []` with dependencies,
// --needs on a job without needs, CI_ENVIRONMENT_* and the `${VAR}` form GitLab rejects in rules:if.
import * as assert from 'node:assert/strict';
import { planFacts } from '../../src/adapters/clock';
import type { PreparedRun } from '../../src/core/gitlab/importer';
import { environmentSlug, environmentTier } from '../../src/core/gitlab/variables';
import type { RunRequest } from '../../src/core/engine/select';
import type { JobDef, Problem } from '../../src/shared/model';
import { importFolder } from '../support/gitlabSupport';
import { cleanupTempDirs, tempDir, writeFiles } from '../support/tmp';

const where = (p: Problem) => `${p.file}:${p.line}:${p.column}`;
const said = (problems: Problem[]) => problems.map((p) => `${p.severity} ${where(p)} ${p.message}`);

async function importYaml(yaml: string, files: Record<string, string> = {}) {
  const dir = tempDir('gitlab-semantics-');
  writeFiles(dir, { '.gitlab-ci.yml': yaml, ...files });
  const r = await importFolder(dir);
  return { ...r, dir, jobs: r.pipeline?.def.jobs ?? [] };
}

function job(jobs: JobDef[], id: string): JobDef {
  const j = jobs.find((x) => x.id === id);
  assert.ok(j, `job ${id} (jobs: ${jobs.map((x) => x.id).join(', ')})`);
  return j;
}

/** The run as it would be planned on branch main (no process is started). */
async function prepare(yaml: string, request: RunRequest = {}, files: Record<string, string> = {}): Promise<PreparedRun> {
  const { pipeline, errors, dir } = await importYaml(yaml, files);
  assert.deepEqual(errors, [], 'no import errors');
  const git = { sha: 'a'.repeat(40), ref: 'refs/heads/main', branch: 'main', defaultBranch: 'main', remoteUrl: 'git@gitlab.com:group/app.git', author: null };
  const prepared = await pipeline!.prepare(request, { ...planFacts(), folder: dir, git });
  if ('error' in prepared) assert.fail(prepared.error);
  return prepared;
}

const FDO = `include:
  - project: freedesktop/ci-templates
    ref: 4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff
    file: /templates/debian.yml
`;

describe('GitLab CI: jobs whose templates are in includes that cannot be read offline', () => {
  after(cleanupTempDirs);

  it('lists them with what the file says, a located warning per missing template, and runs what has a script', async () => {
    const yaml = `${FDO}
stages: [container, build]

.debian:
  variables:
    FDO_DISTRIBUTION_VERSION: bookworm

.build-base:
  extends:
    - .debian
    - .fdo.distribution-image@debian
  before_script:
    - echo preparing

container:
  extends:
    - .debian
    - .fdo.container-build@debian
  stage: container

build:
  extends: .build-base
  stage: build
  needs: [container]
  script:
    - make
`;
    const { jobs, problems, errors } = await importYaml(yaml);
    assert.deepEqual(errors, []);
    assert.deepEqual(jobs.map((j) => `${j.id}@${j.stage} needs:${j.needs.join(',')}`), ['container@container needs:', 'build@build needs:container']);
    const source = 'include:project freedesktop/ci-templates /templates/debian.yml@4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff';
    assert.equal(job(jobs, 'container').unsupported, `its script is defined in ".fdo.container-build@debian" from ${source}, which cannot be read offline`);
    assert.deepEqual(job(jobs, 'container').env, { FDO_DISTRIBUTION_VERSION: 'bookworm' }, 'what the local templates say is kept');
    const build = job(jobs, 'build');
    assert.equal(build.unsupported, null, 'a job with its own script runs locally');
    assert.deepEqual(build.steps.map((s) => s.script), ['echo preparing', 'make']);
    assert.deepEqual(
      said(problems).filter((p) => p.startsWith('warning')),
      [
        `warning .gitlab-ci.yml:2:5 include:project freedesktop/ci-templates /templates/debian.yml@4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff needs access to another GitLab project; it is not resolvable offline, so its jobs and settings are left out of local runs`,
        `warning .gitlab-ci.yml:15:7 template ".build-base": extends ".fdo.distribution-image@debian", which is not defined in this file or its local includes; it must come from ${source}, which cannot be read offline. The job is listed with what this file says; what ".fdo.distribution-image@debian" sets (script, stage, image, variables, rules…) is missing locally`,
        `warning .gitlab-ci.yml:22:7 job "container": extends ".fdo.container-build@debian", which is not defined in this file or its local includes; it must come from ${source}, which cannot be read offline. The job is listed with what this file says; what ".fdo.container-build@debian" sets (script, stage, image, variables, rules…) is missing locally`,
      ],
      'one warning where each missing template is named (the shared .build-base once)',
    );
  });

  it('says once per job which templates it extends come from includes that cannot be read, naming the includes', async () => {
    const yaml = `${FDO}
  - project: freedesktop/ci-templates
    ref: 4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff
    file: /templates/fedora.yml
  - template: Security/SAST.gitlab-ci.yml

build:
  extends:
    - .fdo.distribution-image@debian
    - .fdo.distribution-image@fedora
    - .other
  script: make

check:
  extends: .fdo.container-build@fedora
  script: make check
`;
    const { problems, errors } = await importYaml(yaml);
    assert.deepEqual(errors, []);
    const includes =
      'one of the includes that cannot be read here (include:project freedesktop/ci-templates /templates/debian.yml@4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff; include:project freedesktop/ci-templates /templates/fedora.yml@4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff; include:template Security/SAST.gitlab-ci.yml)';
    assert.deepEqual(
      said(problems).filter((p) => p.startsWith('warning') && !p.includes('not resolvable offline')),
      [
        `warning .gitlab-ci.yml:13:7 job "build": extends ".fdo.distribution-image@debian", ".fdo.distribution-image@fedora" and ".other", which are not defined in this file or its local includes; they must come from ${includes}. The job is listed with what this file says; what they set (script, stage, image, variables, rules…) is missing locally`,
        `warning .gitlab-ci.yml:19:12 job "check": extends ".fdo.container-build@fedora", which is not defined in this file or its local includes; it must come from ${includes}. The job is listed with what this file says; what ".fdo.container-build@fedora" sets (script, stage, image, variables, rules…) is missing locally`,
      ],
    );
  });

  it('a job completing a same-named job of an included template is listed, unsupported, and never blocks the others', async () => {
    const yaml = `include:
  - template: Security/SAST.gitlab-ci.yml

sast:
  variables:
    SAST_EXCLUDED_PATHS: vendor

unit:
  script: echo unit
`;
    const { jobs, problems, errors, pipeline, dir } = await importYaml(yaml);
    assert.deepEqual(errors, []);
    assert.equal(job(jobs, 'sast').unsupported, 'its script is defined in include:template Security/SAST.gitlab-ci.yml, which cannot be read offline');
    const warning = problems.find((p) => p.message.startsWith('job "sast" has no script'));
    assert.ok(warning, said(problems).join('\n'));
    assert.equal(where(warning), '.gitlab-ci.yml:4:1');
    assert.match(warning.message, /GitLab takes it from a job of the same name in include:template Security\/SAST\.gitlab-ci\.yml/);
    const plan = await pipeline!.plan({}, { ...planFacts(), folder: dir });
    assert.ok(!('error' in plan), 'the pipeline plans');
    assert.equal(plan.jobs.find((j) => j.id === 'sast')!.unsupported, job(jobs, 'sast').unsupported);
    assert.equal(plan.jobs.find((j) => j.id === 'unit')!.unsupported, null);
  });

  it('references into unread templates are empty, stages and needs they would define are warned about, not errors', async () => {
    const yaml = `include:
  - component: gitlab.gnome.org/GNOME/citemplates/release-service@master
  - remote: https://example.com/ci/shared.yml

check:
  stage: lint
  script:
    - !reference [.shared, before_script]
    - echo check
  needs: [shared-setup]
  dependencies: [shared-setup]

package:
  stage: deploy
  script: !reference [.shared, script]
`;
    const { jobs, problems, errors, pipeline } = await importYaml(yaml);
    assert.deepEqual(errors, [], said(problems).join('\n'));
    assert.deepEqual(pipeline!.def.stages, ['.pre', 'build', 'test', 'deploy', 'lint', '.post'], 'an undeclared stage runs after the declared ones');
    assert.deepEqual(job(jobs, 'check').steps.map((s) => s.script), ['echo check']);
    assert.deepEqual(job(jobs, 'check').needs, [], 'the need it cannot see is left out');
    assert.match(job(jobs, 'package').unsupported ?? '', /^its script is defined in "\.shared" from one of the includes that cannot be read here \(include:component .*; include:remote https:\/\/example\.com\/ci\/shared\.yml\)$/);
    const warnings = said(problems).filter((p) => p.startsWith('warning') && !p.includes('not resolvable offline'));
    assert.deepEqual(warnings.map((w) => w.split(' ').slice(0, 2).join(' ')), [
      'warning .gitlab-ci.yml:5:1',
      'warning .gitlab-ci.yml:6:10',
      'warning .gitlab-ci.yml:8:18',
      'warning .gitlab-ci.yml:10:11',
      'warning .gitlab-ci.yml:15:22',
    ]);
    assert.match(warnings[0], /job "check": dependencies names "shared-setup", which is not defined in this file or its local includes/);
    assert.match(warnings[1], /stage "lint" is not declared in this file or its local includes/);
    assert.match(warnings[2], /!reference \[\.shared, before_script\]: "\.shared" is not defined.*Locally the reference is empty/);
    assert.match(warnings[3], /needs "shared-setup", which is not defined in this file or its local includes.*Locally the need is left out/);
    assert.match(warnings[4], /!reference \[\.shared, script\]/);
  });

  it('a job without a stage of its own whose template is unread, where GitLab\'s default stage is not declared, goes with what it needs', async () => {
    const { jobs, problems, errors } = await importYaml(`include:
  - project: gnome/citemplates
    file: flatpak/flatpak_ci_initiative.yml
stages: [build, deploy]
flatpak:
  stage: build
  script: flatpak-builder
nightly:
  extends: .publish_nightly
  needs: [flatpak]
`);
    assert.deepEqual(errors, [], said(problems).join('\n'));
    assert.equal(job(jobs, 'nightly').stage, 'build');
    assert.ok(problems.some((p) => where(p) === '.gitlab-ci.yml:8:1' && /its stage is set by a template that is not read here \(GitLab's default stage "test" is not declared\); locally it is in stage "build", with what it needs/.test(p.message)));
  });

  it('a reference to a key a local template would get from an unread one is empty, with a warning', async () => {
    const { jobs, problems, errors } = await importYaml(`${FDO}
.mutter:
  extends: .fdo.distribution-image@fedora
  variables:
    MUTTER: "1"
check:
  before_script: !reference [.mutter, before_script]
  script: !reference [.mutter, script]
`);
    assert.deepEqual(errors, [], said(problems).join('\n'));
    assert.match(job(jobs, 'check').unsupported ?? '', /^its script is defined in "\.fdo\.distribution-image@fedora" from include:project freedesktop\/ci-templates/);
    const refs = problems.filter((p) => p.message.startsWith('!reference'));
    assert.deepEqual(refs.map(where), ['.gitlab-ci.yml:11:29', '.gitlab-ci.yml:12:22']);
    assert.match(refs[0].message, /"\.mutter\.before_script" is not defined here, and "\.mutter" extends "\.fdo\.distribution-image@fedora"; it must come from include:project/);
  });

  it('a file whose every job comes from an unread include is a warning, not an error', async () => {
    const { errors, problems, pipeline } = await importYaml('include:\n  - component: gitlab.com/components/sast/sast@1.0\n');
    assert.deepEqual(errors, []);
    assert.deepEqual(pipeline!.def.jobs, []);
    assert.ok(problems.some((p) => p.severity === 'warning' && /no visible jobs in this file or its local includes; its jobs must come from include:component/.test(p.message)));
  });

  it('without unread includes, the same mistakes stay located errors', async () => {
    const cases: [string, RegExp, string][] = [
      ['a:\n  extends: .fdo.x\n  script: make\n', /job "a": extends "\.fdo\.x", which is not defined/, '.gitlab-ci.yml:2:12'],
      ['a:\n  stage: test\n', /a job needs a script/, '.gitlab-ci.yml:2:3'],
      ['a:\n  stage: lint\n  script: make\n', /stage "lint" does not exist/, '.gitlab-ci.yml:2:10'],
      ['a:\n  script: !reference [.x, script]\n', /"\.x" is not defined/, '.gitlab-ci.yml:2:22'],
    ];
    for (const [yaml, want, at] of cases) {
      const { errors } = await importYaml(yaml);
      const hit = errors.find((e) => want.test(e.message));
      assert.ok(hit, `${want} in ${JSON.stringify(errors.map((e) => e.message))}`);
      assert.equal(where(hit), at);
    }
  });
});

describe('GitLab CI: the order GitLab reads a file in', () => {
  after(cleanupTempDirs);

  it('!reference sees what a template has through its own extends (extends first, then references)', async () => {
    const { jobs, errors } = await importYaml(`.base:
  before_script:
    - echo base
.fedora:
  extends: .base
  variables:
    DISTRO: fedora
test:
  before_script:
    - !reference [.fedora, before_script]
    - echo more
  variables: !reference [.fedora, variables]
  script: make check
`);
    assert.deepEqual(errors, []);
    assert.deepEqual(job(jobs, 'test').steps.map((s) => s.script), ['echo base', 'echo more', 'make check']);
    assert.deepEqual(job(jobs, 'test').env, { DISTRO: 'fedora' });
  });

  it('an include whose rules need run-time variables is listed as if it applies (a run decides), with an info', async () => {
    const { jobs, problems, errors } = await importYaml(`include:
  - local: ci/canonical.yml
    rules:
      - if: $CI_PROJECT_PATH == "group/app"
  - local: ci/never.yml
    rules:
      - if: $CI_PIPELINE_SOURCE == "schedule"
build:
  extends: .runner
  script: make
`, {
      'ci/canonical.yml': '.runner:\n  tags: [big]\n  variables:\n    SIZE: big\nsecurity-scan:\n  script: scan\n',
      'ci/never.yml': 'nightly:\n  script: nightly\n',
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(jobs.map((j) => j.id), ['security-scan', 'build'], 'a rule decidable now (the pipeline source is push) still decides');
    assert.deepEqual(job(jobs, 'build').env, { SIZE: 'big' });
    assert.deepEqual(said(problems), ['info .gitlab-ci.yml:2:5 include:rules use variables known only when the pipeline runs; the include is listed as if it applies, and a run decides']);
  });

  it('an image named by a variable is reported by its value', async () => {
    const { jobs } = await importYaml('variables:\n  FEDORA_IMAGE: registry.example.com/ci/fedora:v41\nbuild:\n  image: $FEDORA_IMAGE\n  script: make\nother:\n  image: ${UNKNOWN_IMAGE}\n  script: make\n');
    assert.equal(job(jobs, 'build').image, 'registry.example.com/ci/fedora:v41');
    assert.equal(job(jobs, 'other').image, '${UNKNOWN_IMAGE}', 'a variable it does not have stays as written');
    assert.equal(job(jobs, 'build').unsupported, null, 'it runs in a container of the image');
  });
});

describe('GitLab CI: needs on matrix instances and matrix expressions', () => {
  after(cleanupTempDirs);

  const MATRIX = `stages: [build, test]
build:
  stage: build
  parallel:
    matrix:
      - ARCH: [x86_64, aarch64]
        OS: [linux, windows]
  script: echo "$ARCH $OS"
shard:
  stage: build
  parallel: 3
  script: echo shard
`;

  it('a need may name one instance by its full name, as GitLab writes it or without spaces', async () => {
    const { jobs, errors } = await importYaml(`${MATRIX}
one:
  stage: test
  needs: ["build: [x86_64, linux]", "build: [aarch64,windows]", "shard 2/3"]
  dependencies: ["build: [x86_64, linux]"]
  script: echo one
`);
    assert.deepEqual(errors, []);
    assert.deepEqual(job(jobs, 'one').needs, ['build: [x86_64,linux]', 'build: [aarch64,windows]', 'shard: [2/3]']);
    const prepared = await prepare(`${MATRIX}
one:
  stage: test
  needs: ["build: [x86_64, linux]"]
  script: echo one
`, { jobs: ['one'], withNeeds: true });
    assert.deepEqual(prepared.selected.map((s) => s.job.id), ['build: [x86_64,linux]', 'one']);
  });

  it('$[[ matrix.NAME ]] in needs:parallel:matrix pairs each instance with its own counterpart', async () => {
    const yaml = `${MATRIX}
test:
  stage: test
  parallel:
    matrix:
      - ARCH: [x86_64, aarch64]
        OS: [linux]
  needs:
    - job: build
      parallel:
        matrix:
          - ARCH: ['$[[ matrix.ARCH ]]']
            OS: $[[ matrix.OS ]]
  script: echo test
`;
    const { jobs, errors } = await importYaml(yaml);
    assert.deepEqual(errors, []);
    assert.deepEqual(job(jobs, 'test: [x86_64,linux]').needs, ['build: [x86_64,linux]']);
    assert.deepEqual(job(jobs, 'test: [aarch64,linux]').needs, ['build: [aarch64,linux]']);
    const prepared = await prepare(yaml, { jobs: ['test: [aarch64, linux]'], withNeeds: true });
    assert.deepEqual(prepared.selected.map((s) => `${s.job.id} <- ${s.deps.join(',')}`), ['build: [aarch64,linux] <- ', 'test: [aarch64,linux] <- build: [aarch64,linux]']);
  });

  it('matrix expressions survive spec:inputs interpolation of an included file', async () => {
    const { jobs, errors } = await importYaml(`include:\n  - local: ci/test.yml\n    inputs:\n      suite: unit\n${MATRIX}`, {
      'ci/test.yml': `spec:
  inputs:
    suite:
---
test-$[[ inputs.suite ]]:
  stage: test
  parallel:
    matrix:
      - ARCH: [aarch64]
        OS: [windows]
  needs:
    - job: build
      parallel:
        matrix:
          - ARCH: $[[ matrix.ARCH ]]
            OS: $[[ matrix.OS ]]
  script: echo test
`,
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(job(jobs, 'test-unit: [aarch64,windows]').needs, ['build: [aarch64,windows]']);
  });

  it('a matrix expression naming an identifier the job lacks, or in a job without a matrix, is a located error', async () => {
    const missing = await importYaml(`${MATRIX}
test:
  stage: test
  parallel:
    matrix:
      - ARCH: [x86_64]
  needs:
    - job: build
      parallel:
        matrix:
          - OS: $[[ matrix.OS ]]
  script: echo test
`);
    assert.deepEqual(said(missing.errors), [`error .gitlab-ci.yml:20:12 job "test": 'OS' does not exist in matrix configuration (the job's parallel:matrix has ARCH)`]);
    const plain = await importYaml(`${MATRIX}
test:
  stage: test
  needs:
    - job: build
      parallel:
        matrix:
          - OS: $[[ matrix.OS ]]
  script: echo test
`);
    assert.deepEqual(said(plain.errors), ['error .gitlab-ci.yml:17:12 job "test": uses $[[ matrix.NAME ]] in needs, but has no parallel:matrix of its own']);
  });
});

describe('GitLab CI: gitlab-ci-local semantics', () => {
  after(cleanupTempDirs);

  it('`needs: []` with dependencies is accepted; dependencies in a later stage are not', async () => {
    const ok = await importYaml('build:\n  stage: build\n  script: make\nlint:\n  stage: test\n  needs: []\n  dependencies: [build]\n  script: lint\n');
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(job(ok.jobs, 'lint').needs, []);
    const later = await importYaml('build:\n  stage: build\n  dependencies: [pack]\n  script: make\npack:\n  stage: deploy\n  script: pack\n');
    assert.deepEqual(said(later.errors), ['error .gitlab-ci.yml:1:1 job "build" (stage build): dependency "pack" is in a later stage (deploy); dependencies must be in the current or an earlier stage']);
  });

  it('--needs on a job without needs brings every job of the earlier stages that runs, recursively', async () => {
    const yaml = `stages: [prep, build, test, deploy]
fetch:
  stage: prep
  script: fetch
gate:
  stage: prep
  when: manual
  script: gate
skipped:
  stage: prep
  rules:
    - if: $NEVER
  script: never
compile:
  stage: build
  script: make
docs:
  stage: build
  needs: []
  script: docs
test:
  stage: test
  script: test
deploy:
  stage: deploy
  needs: [docs]
  script: deploy
`;
    const ids = async (request: RunRequest) => (await prepare(yaml, request)).selected.map((s) => s.job.id);
    assert.deepEqual(await ids({ jobs: ['test'], withNeeds: true }), ['fetch', 'compile', 'docs', 'test'], 'not the manual gate unless named, not what rules leave out');
    assert.deepEqual(await ids({ jobs: ['test'], withNeeds: true, manual: ['gate'] }), ['fetch', 'gate', 'compile', 'docs', 'test']);
    assert.deepEqual(await ids({ jobs: ['deploy'], withNeeds: true }), ['docs', 'deploy'], 'declared needs are followed as they are');
    assert.deepEqual(await ids({ jobs: ['test'] }), ['test']);
  });

  it('`${VAR}` in rules:if, workflow:rules and only:variables is a located error, as GitLab rejects it', async () => {
    const cases: [string, string][] = [
      ['a:\n  script: make\n  rules:\n    - if: \'${CI_COMMIT_BRANCH} == "main"\'\n', '.gitlab-ci.yml:4:11'],
      ['workflow:\n  rules:\n    - if: $A && ${B}\na:\n  script: make\n', '.gitlab-ci.yml:3:11'],
      ['a:\n  script: make\n  only:\n    variables: ["${DEPLOY}"]\n', '.gitlab-ci.yml:4:17'],
    ];
    for (const [yaml, at] of cases) {
      const { errors } = await importYaml(yaml);
      assert.equal(errors.length, 1, JSON.stringify(said(errors)));
      assert.equal(where(errors[0]), at);
      assert.match(errors[0].message, /invalid expression ".*": \$\{[A-Z_]+\} is not allowed in an expression \(GitLab rejects it: invalid expression syntax\); write \$[A-Z_]+ at character \d+/);
    }
    const quoted = await importYaml('a:\n  script: make\n  rules:\n    - if: $A == "${B}"\n');
    assert.deepEqual(quoted.errors, [], 'inside a string it is text');
  });

  it('CI_ENVIRONMENT_SLUG is GitLab\'s: 24 characters at most, a SHA-256 suffix whenever the name had to change', () => {
    // The names of GitLab's own table (Gitlab::Slug::Environment), with the real suffixes (computed independently).
    const table: [string, string][] = [
      ['production', 'production'],
      ['staging-1234567890123456', 'staging-1234567890123456'],
      ['foo-', 'foo'],
      ['staging-12345678-', 'staging-12345678'],
      ['PRODUCTION', 'production-vl4voz'],
      ['staging-12345678901234567', 'staging-123456789-s729ne'],
      ['review/feature-x', 'review-feature-x-bjrazc'],
      ['Stage Domain', 'stage-domain-ip33nk'],
      ['stage-domain-foobar-long-string', 'stage-domain-foob-yafktx'],
    ];
    for (const [name, slug] of table) assert.equal(environmentSlug(name), slug, name);
    for (const name of ['9-staging-123456789012345', '1/foo', '*-foo', '', 'foo**bar']) {
      const s = environmentSlug(name);
      assert.ok(s.length <= 24 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(s) && !s.includes('--'), `${name} -> ${s}`);
    }
    assert.match(environmentSlug('9-staging-123456789012345'), /^env-9-staging-123-[a-z0-9]{6}$/);
    assert.match(environmentSlug('*-foo'), /^env-foo-[a-z0-9]{6}$/);
  });

  it('CI_ENVIRONMENT_TIER is deployment_tier, or GitLab\'s guess from the name (in its order)', async () => {
    const guesses: [string, string][] = [
      ['production', 'production'], ['live', 'production'], ['staging', 'staging'], ['pre-prod', 'staging'], ['demo', 'staging'],
      ['review/main', 'development'], ['dev-prod', 'development'], ['qa', 'testing'], ['integration', 'testing'], ['nonprod', 'staging'],
      ['customer-portal', 'other'],
    ];
    for (const [name, tier] of guesses) assert.equal(environmentTier(name), tier, name);

    const prepared = await prepare(`variables:
  SUFFIX: foobar-long-string
deploy:
  stage: deploy
  variables:
    TARGET: stage-domain-$SUFFIX
  environment:
    name: $TARGET
    url: https://$CI_COMMIT_REF_SLUG.example.com
    action: prepare
    deployment_tier: production
  script: echo deploy
`);
    const env = prepared.jobs[0].env;
    assert.deepEqual(
      { name: env.CI_ENVIRONMENT_NAME, slug: env.CI_ENVIRONMENT_SLUG, tier: env.CI_ENVIRONMENT_TIER, action: env.CI_ENVIRONMENT_ACTION, url: env.CI_ENVIRONMENT_URL },
      { name: 'stage-domain-foobar-long-string', slug: 'stage-domain-foob-yafktx', tier: 'production', action: 'prepare', url: 'https://main.example.com' },
    );
    const { errors } = await importYaml('a:\n  script: x\n  environment:\n    name: prod\n    deployment_tier: prod\n');
    assert.deepEqual(said(errors), ['error .gitlab-ci.yml:5:22 job "a": environment: "deployment_tier" must be one of production, staging, testing, development, other, not "prod"']);
  });
});
