// Configuration of remote engines: `remote:` on delivery.yml pipelines, the `workflow:` deploy kind, targets
// inferred from git remote URLs, trigger input checks, and Buildbot's words mapped to ours. Pure logic.
import * as assert from 'node:assert/strict';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import { planDeliveryPipeline } from '../../src/core/engine/planDelivery';
import { planDeploySteps } from '../../src/core/environments/deploy';
import { buildbotInputs, buildbotLogText, buildbotRefField, buildbotStatus, type BuildbotField } from '../../src/core/remote/buildbot';
import { describeTarget, engineOfHost, parseGitRemoteUrl, remoteTargetFor } from '../../src/core/remote/config';
import { checkInputs, parseInputPair } from '../../src/core/remote/inputs';
import { envTokenProvider } from '../../src/core/remote/tokens';
import type { PipelineDef } from '../../src/shared/model';

function parse(text: string) {
  const cfg = parseDeliveryConfig(`version: 1\n${text}`);
  return { cfg, problems: cfg.problems.map((p) => `${p.line}:${p.column} ${p.message}`) };
}

function def(kind: 'delivery' | 'github' | 'gitlab', file: string, id = 'ci'): PipelineDef {
  return { id, name: id, source: { kind, file }, stages: null, env: {}, jobs: [], location: { file, line: 1, column: 1 } };
}

describe('remote engines: configuration (core)', () => {
  it('reads remote: on delivery.yml pipelines, for each engine, with defaults', () => {
    const { cfg, problems } = parse(`pipelines:
  app:
    remote: { buildbot: { url: "http://127.0.0.1:8010/", builder: app } }
  gh:
    remote: { github: { repo: acme/shop } }
    jobs: { build: { run: make } }
  ghe:
    remote: { github: { repo: acme/shop, workflow: release.yaml, host: git.corp.example } }
  gl:
    remote: { gitlab: { project: group/sub/shop, host: gitlab.example.com } }
`);
    // Another API host than the engine's own is named where it is written: the token does not go there unasked.
    assert.deepEqual(
      problems.map((p) => p.replace(/: the (GitHub|GitLab) token is sent there .*/, '')),
      ['9:72 pipeline "ghe": remote: github: "host" names the API host git.corp.example, not api.github.com', '11:56 pipeline "gl": remote: gitlab: "host" names the API host gitlab.example.com, not gitlab.com'],
    );
    assert.deepEqual(
      cfg.pipelines.map((p) => p.remote),
      [
        { engine: 'buildbot', url: 'http://127.0.0.1:8010', builder: 'app', scheduler: 'force' },
        { engine: 'github', host: 'github.com', apiUrl: 'https://api.github.com', owner: 'acme', repo: 'shop', workflow: 'gh.yml' },
        { engine: 'github', host: 'git.corp.example', apiUrl: 'https://git.corp.example/api/v3', owner: 'acme', repo: 'shop', workflow: 'release.yaml' },
        { engine: 'gitlab', host: 'gitlab.example.com', apiUrl: 'https://gitlab.example.com/api/v4', project: 'group/sub/shop' },
      ],
    );
    // A pipeline with remote: and no jobs lives only on its engine: a local run says so instead of doing nothing.
    assert.deepEqual(cfg.pipelines[0].jobs, []);
    const plan = planDeliveryPipeline(cfg.pipelines[0], '/tmp');
    assert.ok('error' in plan);
    assert.match(plan.error, /no local jobs: it runs on buildbot \(delivery remote trigger app\)/);
    assert.ok(!('error' in planDeliveryPipeline(cfg.pipelines[1], '/tmp')));
  });

  it('reports bad remote: with file positions', () => {
    const { problems } = parse(`pipelines:
  a:
    remote: { buildbot: { url: "ftp://x", builder: "has space" } }
  b:
    remote: { github: { repo: justname }, gitlab: { project: g/p } }
  c:
    remote: {}
  d:
    remote: { gitlab: { project: nogroup, hots: x } }
  e:
    remote: { buildbot: { builder: app } }
  f:
    name: no jobs, no remote
`);
    assert.deepEqual(problems, [
      '4:32 pipeline "a": remote: buildbot: "url" must be an http:// or https:// URL without credentials or query, not "ftp://x"',
      '4:52 pipeline "a": remote: buildbot: "builder" must be a name without spaces, "/", "?", "#" or "%", not "has space"',
      '6:43 pipeline "b": remote: use exactly one of github, gitlab, buildbot, not github and gitlab',
      '8:13 pipeline "c": remote: name the engine, with exactly one of github, gitlab, buildbot',
      '10:34 pipeline "d": remote: gitlab: "project" must be a path such as group/name (or a numeric id), not "nogroup"',
      '10:43 pipeline "d": remote: gitlab: unknown key "hots"',
      '12:25 pipeline "e": remote: buildbot: missing required key "url"',
      '14:5 pipeline "f": missing required key "jobs"',
    ]);
  });

  it('reads the workflow: deploy kind and plans its steps', () => {
    const { cfg, problems } = parse(`pipelines:
  deploy:
    remote: { buildbot: { url: "http://127.0.0.1:8010", builder: deploy } }
environments:
  staging:
    deploy:
      workflow:
        pipeline: deploy
        inputs: { env: "\${DELIVERY_ENV}", sha: "\${DELIVERY_SHA}", dry-run: false, n: 3 }
    version: { http: "http://127.0.0.1:1/version", json: sha }
    health: { http: "http://127.0.0.1:1/health" }
  prod:
    deploy: { workflow: { pipeline: "github:deploy", ref: main } }
`);
    assert.deepEqual(problems, []);
    const [staging, prod] = cfg.environments;
    assert.deepEqual(staging.deploy?.method, { kind: 'workflow', pipeline: 'deploy', ref: null, inputs: { env: '${DELIVERY_ENV}', sha: '${DELIVERY_SHA}', 'dry-run': 'false', n: '3' } });
    assert.deepEqual(prod.deploy?.method, { kind: 'workflow', pipeline: 'github:deploy', ref: 'main', inputs: {} });
    const steps = planDeploySteps(staging);
    assert.ok(!('error' in steps));
    assert.deepEqual(steps.map((s) => s.id), ['workflow.dispatch', 'workflow.follow', 'version', 'health']);
  });

  it('reports workflow: deploys that cannot work, with positions', () => {
    const { problems } = parse(`pipelines:
  ci:
    jobs: { build: { run: make } }
  remoteonly:
    remote: { buildbot: { url: "http://127.0.0.1:8010", builder: b } }
environments:
  a: { deploy: { workflow: { pipeline: ci } } }
  b: { deploy: { workflow: { pipeline: "delivery:nope" } } }
  c: { deploy: { workflow: { pipeline: "bad id!", inputs: [x] } } }
  d: { deploy: { workflow: { pipeline: ci, ref: "-x", inputs: { "a b": 1, c: { d: 1 } } } } }
  e: { deploy: { pipeline: remoteonly, command: ./deploy.sh } }
  f: { deploy: { workflow: {} } }
`);
    assert.deepEqual(problems, [
      '8:3 environment "a": workflow pipeline "ci" has no "remote:" saying which engine runs it',
      '9:3 environment "b": workflow pipeline "nope" is not a pipeline in delivery.yml',
      '10:40 environment "c": deploy: workflow "pipeline" must be a pipeline id (or <source>:<id>), not "bad id!"',
      '11:3 environment "d": workflow pipeline "ci" has no "remote:" saying which engine runs it',
      '11:49 environment "d": deploy: workflow "ref" must be a branch or tag name, not "-x"',
      '11:65 environment "d": deploy: workflow input name "a b" may contain only letters, digits, "_", "." and "-"',
      '11:78 environment "d": deploy: workflow input "c" must be a string, number or boolean',
      '12:3 environment "e": deploy pipeline "remoteonly" has no local jobs; to deploy through its remote engine use "workflow: { pipeline: remoteonly }"',
      '13:28 environment "f": deploy: workflow: missing required key "pipeline"',
    ]);
  });

  it('parses git remote URLs in the forms git accepts', () => {
    assert.deepEqual(parseGitRemoteUrl('git@github.com:acme/shop.git'), { scheme: 'ssh', host: 'github.com', port: null, path: 'acme/shop' });
    assert.deepEqual(parseGitRemoteUrl('https://token:x@GitHub.com/acme/shop/'), { scheme: 'https', host: 'github.com', port: null, path: 'acme/shop' });
    assert.deepEqual(parseGitRemoteUrl('ssh://git@gitlab.example.com:2222/g/sub/p.git'), { scheme: 'ssh', host: 'gitlab.example.com', port: 2222, path: 'g/sub/p' });
    assert.deepEqual(parseGitRemoteUrl('http://gitlab.local:8080/g/p'), { scheme: 'http', host: 'gitlab.local', port: 8080, path: 'g/p' });
    for (const local of ['/srv/repo.git', 'file:///srv/repo.git', '../other', 'C:\\repo', 'https://host/', 'ftp://host/a/b']) assert.equal(parseGitRemoteUrl(local), null, local);
    assert.deepEqual(['github.com', 'ssh.github.com', 'acme.ghe.com', 'github.corp.io', 'gitlab.com', 'my-gitlab.example', 'example.com', 'notgithubish.io'].map(engineOfHost), [
      'github', 'github', 'github', 'github', 'gitlab', 'gitlab', null, null,
    ]);
  });

  it('infers the target of GitHub and GitLab files from the origin remote; delivery.yml needs remote:', () => {
    assert.deepEqual(remoteTargetFor(def('github', '.github/workflows/ci.yml'), 'git@github.com:acme/shop.git'), {
      engine: 'github', host: 'github.com', apiUrl: 'https://api.github.com', owner: 'acme', repo: 'shop', workflow: 'ci.yml',
    });
    assert.deepEqual(remoteTargetFor(def('github', '.github/workflows/ci.yml'), 'http://github.corp:8080/acme/shop'), {
      engine: 'github', host: 'github.corp', apiUrl: 'http://github.corp:8080/api/v3', owner: 'acme', repo: 'shop', workflow: 'ci.yml',
    });
    assert.deepEqual(remoteTargetFor(def('gitlab', '.gitlab-ci.yml', 'gitlab-ci'), 'ssh://git@altssh.gitlab.com:443/g/sub/p.git'), {
      engine: 'gitlab', host: 'gitlab.com', apiUrl: 'https://gitlab.com/api/v4', project: 'g/sub/p',
    });
    const errors = [
      remoteTargetFor(def('github', '.github/workflows/ci.yml'), null),
      remoteTargetFor(def('github', '.github/workflows/ci.yml'), 'git@gitlab.com:g/p.git'),
      remoteTargetFor(def('gitlab', '.gitlab-ci.yml'), 'https://user:secret@example.com/g/p.git'),
      remoteTargetFor(def('github', '.github/workflows/ci.yml'), 'git@github.com:a/b/c.git'),
      remoteTargetFor(def('delivery', 'delivery.yml', 'deploy'), 'git@github.com:a/b.git'),
    ].map((r) => ('error' in r ? r.error : 'no error'));
    assert.match(errors[0], /no "origin" remote/);
    assert.match(errors[1], /gitlab\.com, which is not a GitHub host \(it looks like GitLab\)/);
    assert.match(errors[2], /example\.com, which is not a GitLab host/);
    assert.ok(!errors[2].includes('secret'));
    assert.match(errors[3], /does not name a GitHub repository as owner\/name/);
    assert.match(errors[4], /pipeline "deploy" in delivery.yml has no "remote:"/);
    // delivery.yml's remote: wins over inference.
    const named = { ...def('github', '.github/workflows/ci.yml'), remote: { engine: 'buildbot' as const, url: 'http://127.0.0.1:1', builder: 'b', scheduler: 'force' } };
    assert.equal(describeTarget(remoteTargetFor(named, 'git@github.com:a/b.git') as never), 'Buildbot http://127.0.0.1:1 builder b');
  });

  it('checks trigger inputs against what the engine declares, all problems at once', () => {
    const declared = [
      { name: 'env', type: 'choice' as const, description: null, required: false, default: 'dev', options: ['dev', 'prod'] },
      { name: 'sha', type: 'string' as const, description: null, required: true, default: null, options: [] },
      { name: 'verbose', type: 'boolean' as const, description: null, required: false, default: 'false', options: [] },
      { name: 'n', type: 'number' as const, description: null, required: false, default: '1', options: [] },
    ];
    assert.deepEqual(checkInputs(declared, { env: 'prod', sha: 'abc', verbose: 'true', n: '2.5' }), { errors: [] });
    assert.deepEqual(checkInputs(declared, { env: 'qa', verbose: 'yes', n: 'many', colour: 'red' }).errors, [
      'input "env" must be one of dev, prod, not "qa"',
      'input "verbose" is a boolean: true or false, not "yes"',
      'input "n" is a number, not "many"',
      'unknown input "colour" (inputs: env, sha, verbose, n)',
      'input "sha" is required',
    ]);
    assert.deepEqual(checkInputs([], { anything: 'goes' }), { errors: [] });
    assert.deepEqual(parseInputPair('a=b=c'), ['a', 'b=c']);
    assert.deepEqual(parseInputPair('=x'), { error: 'an input is NAME=VALUE, not "=x"' });
  });

  it('takes tokens from GITHUB_TOKEN / GH_TOKEN / GITLAB_TOKEN; Buildbot gets none', async () => {
    const t = envTokenProvider({ GH_TOKEN: 'gh', GITLAB_TOKEN: ' gl ', GITHUB_TOKEN: '' });
    assert.deepEqual([await t('github', 'github.com'), await t('gitlab', 'gitlab.com'), await t('buildbot', '127.0.0.1:8010')], ['gh', 'gl', undefined]);
  });

  it('maps Buildbot results, force-scheduler fields and stored logs', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 9].map((results) => buildbotStatus({ complete: true, results, started: true }).status),
      ['success', 'success', 'failed', 'skipped', 'failed', 'queued', 'cancelled', 'unknown'],
    );
    assert.deepEqual(buildbotStatus({ complete: false, results: null, started: false }), { status: 'queued', raw: 'pending' });
    assert.deepEqual(buildbotStatus({ complete: false, results: null, started: true }), { status: 'running', raw: 'building' });
    const field = (o: Partial<BuildbotField>): BuildbotField => ({ name: '', fullName: null, type: 'text', label: null, default: '', required: false, hide: false, choices: null, fields: null, ...o });
    const fields = [
      field({ type: 'nested', fields: [field({ name: 'branch', fullName: 'branch', default: 'main' }), field({ name: 'repository', fullName: 'repository', type: 'fixed', hide: true })] }),
      field({ name: 'env', fullName: 'env', type: 'list', label: 'Environment', choices: ['dev', 'prod'], default: 'dev' }),
      field({ name: 'n', fullName: 'n', type: 'int', default: 0, required: true }),
      field({ name: 'go', fullName: 'go', type: 'bool', default: false }),
    ];
    assert.deepEqual(buildbotInputs(fields), [
      { name: 'env', type: 'choice', description: 'Environment', required: false, default: 'dev', options: ['dev', 'prod'] },
      { name: 'n', type: 'number', description: null, required: true, default: '0', options: [] },
      { name: 'go', type: 'boolean', description: null, required: false, default: 'false', options: [] },
    ]);
    assert.deepEqual(buildbotRefField(fields), { settable: true, fixedValue: null });
    assert.deepEqual(buildbotRefField([field({ fullName: 'branch', type: 'fixed', default: 'main' })]), { settable: false, fixedValue: 'main' });
    assert.equal(buildbotRefField([]), null);
    const stdio = ['hbash -c make', 'h environment:', 'h  SECRET=hunter2', 'h  PATH=/bin', 'h using PTY: False', 'obuilding', 'ewarning: x', 'hprogram finished with exit code 0'];
    assert.equal(buildbotLogText(stdio, 's'), 'bash -c make\n using PTY: False\nbuilding\nwarning: x\nprogram finished with exit code 0\n');
    assert.equal(buildbotLogText(['<b>x</b>'], 'h'), '');
    assert.equal(buildbotLogText(['plain'], 't'), 'plain\n');
  });
});
