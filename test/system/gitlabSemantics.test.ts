// GitLab CI files as real projects write them, run for real through the `delivery` CLI and the engine: jobs whose
// templates live in includes that cannot be read offline never stop the others, --needs follows stage order, and
// the environment variables a deploy job sees are GitLab's.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { cleanupTempDirs } from '../support/tmp';
import { repoWith, runGitlab } from '../support/gitlabSupport';

const CLI = path.resolve(__dirname, '../../src/cli/main.js');

function cli(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DELIVERY_STATE_DIR: path.join(cwd, '.state-test') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const OFFLINE = `include:
  - template: Security/SAST.gitlab-ci.yml
  - project: freedesktop/ci-templates
    ref: 4f06663cd1507136a0f8a6a9a8c2bbbfef6ba1ff
    file: /templates/debian.yml

stages: [container, build, test]

sast:
  stage: test
  variables:
    SAST_EXCLUDED_PATHS: vendor

container:
  extends: .fdo.container-build@debian
  stage: container

build:
  extends: .fdo.distribution-image@debian
  stage: build
  script:
    - echo "built on $CI_COMMIT_REF_NAME" > built.txt

unit:
  stage: test
  needs: [build]
  script:
    - cat built.txt
`;

describe('GitLab CI as real projects write it (CLI and real runs)', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  it('lists jobs whose templates are in unread includes, and runs the others: one such job never stops a run', () => {
    const dir = repoWith({ '.gitlab-ci.yml': OFFLINE });
    const listed = cli(dir, ['pipelines', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const out = JSON.parse(listed.stdout) as { pipelines: { jobs: { id: string; unsupported: string | null }[] }[]; problems: { severity: string; line: number; message: string }[] };
    assert.deepEqual(out.pipelines[0].jobs.map((j) => [j.id, j.unsupported === null]), [['sast', false], ['container', false], ['build', true], ['unit', true]]);
    assert.ok(out.problems.every((p) => p.severity !== 'error'), JSON.stringify(out.problems));
    assert.ok(out.problems.some((p) => p.line === 15 && /extends "\.fdo\.container-build@debian".*include:project freedesktop\/ci-templates/.test(p.message)));

    const some = cli(dir, ['run', 'gitlab-ci', 'build', 'unit']);
    assert.equal(some.code, 0, `${some.stdout}\n${some.stderr}`);
    assert.match(some.stdout + some.stderr, /unit +> built on main/);

    const sast = cli(dir, ['run', 'gitlab-ci', 'sast', '--json']);
    assert.equal(sast.code, 1, 'the job that cannot run is reported, not run');
    const result = JSON.parse(sast.stdout) as { jobs: Record<string, { status: string; reason: string }> };
    assert.equal(result.jobs.sast.status, 'unsupported');
    assert.match(result.jobs.sast.reason, /its script is defined in one of the includes that cannot be read here \(include:template Security\/SAST\.gitlab-ci\.yml; include:project/);
  });

  it('--needs on a job without needs runs the jobs of the earlier stages first', () => {
    const dir = repoWith({
      '.gitlab-ci.yml': `stages: [prep, build, test]
fetch:
  stage: prep
  script: echo fetched > fetched.txt
compile:
  stage: build
  script: cat fetched.txt > compiled.txt
unit:
  stage: test
  script: cat compiled.txt
`,
    });
    const r = cli(dir, ['run', 'gitlab-ci', 'unit', '--needs', '--json']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as { jobs: Record<string, { status: string }> };
    assert.deepEqual(Object.entries(result.jobs).map(([id, j]) => `${id}:${j.status}`), ['fetch:success', 'compile:success', 'unit:success']);
  });

  it('a deploy job sees GitLab\'s CI_ENVIRONMENT_* (slug with its hash suffix, tier, action) for an expanded name', async () => {
    const dir = repoWith({
      '.gitlab-ci.yml': `deploy-stage:
  stage: deploy
  variables:
    EXPAND_ME: foobar-long-string
  environment:
    name: stage-domain-\${EXPAND_ME}
    url: https://$CI_COMMIT_REF_SLUG.example.com
  script:
    - echo "$CI_ENVIRONMENT_NAME|$CI_ENVIRONMENT_SLUG|$CI_ENVIRONMENT_TIER|$CI_ENVIRONMENT_ACTION|$CI_ENVIRONMENT_URL"
deploy-prod:
  stage: deploy
  environment:
    name: Stage Domain
    action: stop
    deployment_tier: production
  script:
    - echo "$CI_ENVIRONMENT_NAME|$CI_ENVIRONMENT_SLUG|$CI_ENVIRONMENT_TIER|$CI_ENVIRONMENT_ACTION"
`,
    });
    const { run, output } = await runGitlab(dir);
    assert.equal(run.status, 'success');
    assert.ok(output('deploy-stage').includes('stage-domain-foobar-long-string|stage-domain-foob-yafktx|staging|start|https://main.example.com'), output('deploy-stage').join('\n'));
    assert.ok(output('deploy-prod').includes('Stage Domain|stage-domain-ip33nk|production|stop'), output('deploy-prod').join('\n'));
  });
});
