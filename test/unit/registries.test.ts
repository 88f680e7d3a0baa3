// The pipeline-source registry (core/importers.ts SOURCES) and the remote-engine registry (core/remote/engines.ts):
// every kind has a descriptor (the compiler checks that); these tests check what the descriptors decide.
// Pure logic.
import * as assert from 'node:assert/strict';
import { globToRegExp } from '../../src/core/glob';
import { IMPORTERS, SOURCES, sourceOf } from '../../src/core/importers';
import { canRunRemotely, remoteEngineOf, remoteNeedsOrigin, remoteTargetFor } from '../../src/core/remote/config';
import { describeTarget, engineOfHost, engineTokens, REMOTE_ENGINE_SPECS, REMOTE_ENGINES, targetHost } from '../../src/core/remote/engines';
import { cliTokenHint, envTokenProvider, originApiHosts, untrustedApiHostMessage } from '../../src/core/remote/tokens';
import type { RemoteTarget } from '../../src/core/remote/types';
import type { PipelineDef, SourceKind } from '../../src/shared/model';

function def(kind: SourceKind, file: string, remote?: RemoteTarget): PipelineDef {
  return { id: 'ci', name: 'ci', source: { kind, file }, stages: null, env: {}, jobs: [], location: { file, line: 1, column: 1 }, remote };
}

const FILES: Record<SourceKind, string> = { delivery: 'delivery.yml', github: '.github/workflows/ci.yml', gitlab: '.gitlab-ci.yml' };

const TARGETS: RemoteTarget[] = [
  { engine: 'github', host: 'github.com', apiUrl: 'https://api.github.com', owner: 'acme', repo: 'shop', workflow: 'ci.yml' },
  { engine: 'gitlab', host: 'gitlab.example.com', apiUrl: 'https://gitlab.example.com/api/v4', project: 'g/p' },
  { engine: 'buildbot', url: 'http://127.0.0.1:8010', builder: 'app', scheduler: 'force' },
];

describe('registries: pipeline sources and remote engines (core)', () => {
  it('each source descriptor owns its importer, whose patterns and matcher agree on the source file', () => {
    assert.deepEqual(Object.keys(SOURCES), ['delivery', 'github', 'gitlab'], 'the order pipelines are listed in');
    assert.deepEqual(IMPORTERS, Object.values(SOURCES).map((s) => s.importer));
    for (const kind of Object.keys(SOURCES) as SourceKind[]) {
      const source = sourceOf(kind);
      assert.equal(source.kind, kind);
      assert.equal(source.importer.kind, kind, `${kind}: the importer reports pipelines of its own source`);
      assert.ok(source.importer.matches(FILES[kind]), `${kind} reads ${FILES[kind]}`);
      assert.ok(source.importer.patterns.some((g) => globToRegExp(g).test(FILES[kind])), `${kind}: a pattern finds ${FILES[kind]}`);
      for (const other of Object.keys(FILES) as SourceKind[]) if (other !== kind) assert.ok(!source.importer.matches(FILES[other]), `${kind} leaves ${FILES[other]} alone`);
      assert.ok(source.label && source.icon && source.pipelineIcon, `${kind}: label and icons for the tree`);
    }
    assert.deepEqual(Object.values(SOURCES).map((s) => s.label), ['delivery.yml', 'GitHub Actions', 'GitLab CI']);
  });

  it('says per source where its pipelines run remotely: the git remote for workflow files, only a remote: for delivery.yml', () => {
    assert.deepEqual((Object.keys(FILES) as SourceKind[]).map((k) => remoteEngineOf(def(k, FILES[k]))), [null, 'github', 'gitlab']);
    assert.deepEqual((Object.keys(FILES) as SourceKind[]).map((k) => canRunRemotely(def(k, FILES[k]))), [false, true, true]);
    // A remote: wins over the source, whatever the source.
    assert.equal(remoteEngineOf(def('delivery', 'delivery.yml', TARGETS[2])), 'buildbot');
    assert.equal(remoteEngineOf(def('github', FILES.github, TARGETS[2])), 'buildbot');
    // The origin is read where it decides the target or vouches for a token's host; Buildbot needs neither.
    assert.deepEqual(
      [def('delivery', 'delivery.yml'), def('delivery', 'delivery.yml', TARGETS[0]), def('delivery', 'delivery.yml', TARGETS[2]), def('gitlab', FILES.gitlab)].map(remoteNeedsOrigin),
      [false, true, false, true],
    );
    assert.deepEqual(remoteTargetFor(def('github', '.github/workflows/deep/../release.yaml'), 'https://acme.ghe.com/acme/shop.git'), {
      engine: 'github', host: 'acme.ghe.com', apiUrl: 'https://api.acme.ghe.com', owner: 'acme', repo: 'shop', workflow: 'release.yaml',
    });
    assert.deepEqual(remoteTargetFor(def('gitlab', FILES.gitlab), 'https://www.gitlab.com/g/sub/p.git'), {
      engine: 'gitlab', host: 'gitlab.com', apiUrl: 'https://gitlab.com/api/v4', project: 'g/sub/p',
    });
    const gitlabOnGithub = remoteTargetFor(def('gitlab', FILES.gitlab), 'git@github.com:a/b.git');
    assert.ok('error' in gitlabOnGithub && gitlabOnGithub.error.includes('which is not a GitLab host (it looks like GitHub)'));
  });

  it('each engine descriptor describes its targets, names the host its token is asked for and reads its own variables', async () => {
    assert.deepEqual(REMOTE_ENGINES, ['github', 'gitlab', 'buildbot']);
    for (const kind of REMOTE_ENGINES) assert.equal(REMOTE_ENGINE_SPECS[kind].kind, kind);
    assert.deepEqual(TARGETS.map(describeTarget), ['GitHub acme/shop workflow ci.yml', 'GitLab gitlab.example.com g/p', 'Buildbot http://127.0.0.1:8010 builder app']);
    assert.deepEqual(TARGETS.map(targetHost), ['github.com', 'gitlab.example.com', '127.0.0.1:8010']);
    const tokens = envTokenProvider({ GH_TOKEN: 'gh', GITLAB_TOKEN: ' gl ', BUILDBOT_TOKEN: 'never' });
    assert.deepEqual(await Promise.all(REMOTE_ENGINES.map((e) => tokens(e, 'x'))), ['gh', 'gl', undefined]);
    assert.deepEqual(REMOTE_ENGINES.map(cliTokenHint), ['set GITHUB_TOKEN', 'set GITLAB_TOKEN', 'no token is used']);
    assert.deepEqual(REMOTE_ENGINES.map((e) => engineTokens(e)?.defaultApiHost ?? null), ['api.github.com', 'gitlab.com', null]);
    assert.match(untrustedApiHostMessage('gitlab', 'evil.example', 'trust it'), /^the GitLab token was not sent to evil\.example: .* neither gitlab\.com nor the host of the "origin" remote; trust it$/);
  });

  it('knows each engine’s git hosts: which host is whose, and which API hosts an origin vouches for', () => {
    assert.deepEqual(['www.github.com', 'altssh.gitlab.com', 'buildbot.example', 'gitlab.corp:8443'].map(engineOfHost), ['github', 'gitlab', null, 'gitlab']);
    assert.deepEqual(originApiHosts('git@ssh.github.com:a/b.git'), ['github.com', 'api.github.com']);
    assert.deepEqual(originApiHosts('ssh://git@altssh.gitlab.com:443/g/p.git'), ['gitlab.com'], 'an ssh port is not the web port');
    assert.deepEqual(originApiHosts('https://ghe.corp:8443/o/r'), ['ghe.corp:8443']);
    assert.deepEqual(originApiHosts('https://acme.ghe.com/o/r'), ['acme.ghe.com', 'api.acme.ghe.com']);
    assert.deepEqual(originApiHosts('/srv/repo.git'), []);
  });
});
