// The docker version probe against a private Docker engine (Debian's dockerd, state in a temp folder, its own
// socket) and a private registry: the commit label of an image or a container, a commit tag, and the errors.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { probeVersion } from '../../src/adapters/environments/probes';
import { DeployRepo } from '../../src/adapters/environments/repo';
import { environmentStatuses } from '../../src/adapters/environments/status';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import type { VersionSource } from '../../src/core/environments/config';
import { dockerUnavailable, REVISION_LABEL, startDockerd, type Dockerd } from '../support/targets/docker';
import { registryUnavailable, startRegistry, type Registry } from '../support/targets/registry';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, gitRepo, tempDir } from '../support/tmp';

const SHA1 = '1111111111111111111111111111111111111111';
const SHA2 = '2222222222222222222222222222222222222222';

describe('docker version probe (private dockerd + registry)', function () {
  this.timeout(120_000);
  let docker: Dockerd;
  let registry: Registry;
  let folder: string;

  before(async function () {
    requireTool(this, dockerUnavailable() ?? registryUnavailable());
    const state = tempDir('delivery-docker-');
    registry = await startRegistry(path.join(state, 'registry'));
    docker = await startDockerd(path.join(state, 'docker'), { insecureRegistries: [registry.address] });
    folder = tempDir();
  });
  after(async () => {
    await docker?.stop();
    await registry?.stop();
    cleanupTempDirs();
  });

  const probe = (v: Partial<Extract<VersionSource, { kind: 'docker' }>>, env: NodeJS.ProcessEnv = { ...process.env, ...docker.env() }) =>
    probeVersion(
      { id: 'production', version: { kind: 'docker', image: '', container: null, label: REVISION_LABEL, timeoutMs: 15_000, ...v } },
      { folder, signal: new AbortController().signal, env, repo: new DeployRepo(folder) },
    );

  it('reads the revision label of an image (built, pushed to the registry)', async () => {
    const ref = docker.buildAppImage(SHA1, { repo: `${registry.address}/app` });
    docker.docker(['push', ref]);
    assert.deepEqual(await registry.tags('app'), [SHA1]);
    const r = await probe({ image: ref });
    assert.deepEqual(r, { sha: SHA1, raw: `${ref} ${REVISION_LABEL}=${SHA1}`, error: null });
  });

  it('an image named without a tag: the newest image of that repository', async () => {
    docker.buildAppImage(SHA1, { repo: 'localhost/svc' });
    docker.buildAppImage(SHA2, { repo: 'localhost/svc' });
    const r = await probe({ image: 'localhost/svc' });
    assert.equal(r.sha, SHA2, r.error ?? '');
  });

  it('reads a container (its label, else the commit tag of its image) and says when it is not running', async () => {
    const labelled = docker.buildAppImage(SHA1, { repo: 'localhost/web' });
    docker.docker(['run', '-d', '--name', 'web', '--network', 'none', labelled, 'sleep', '300']);
    assert.deepEqual(await probe({ container: 'web' }), { sha: SHA1, raw: `web ${REVISION_LABEL}=${SHA1}`, error: null });
    const unlabelled = docker.buildAppImage(SHA2, { repo: 'localhost/plain', label: false });
    docker.docker(['create', '--name', 'plain', '--network', 'none', unlabelled, 'sleep', '300']);
    assert.deepEqual(await probe({ container: 'plain' }), { sha: SHA2, raw: `plain (tag ${SHA2})`, error: null });
    docker.docker(['rm', '-f', 'web']);
    docker.docker(['create', '--name', 'web', '--network', 'none', labelled, 'sleep', '300']);
    assert.match((await probe({ container: 'web' })).raw ?? '', /\(the container is not running\)$/);
  });

  it('explains a missing container, an image without label or commit tag, and an unreachable daemon', async () => {
    const missing = await probe({ container: 'no-such-app' });
    assert.match(missing.error ?? '', /^container "no-such-app": not found on the Docker host at unix:\/\/.*docker\.sock \(No such container: no-such-app\)$/);
    const latest = docker.buildAppImage(SHA1, { repo: 'localhost/latest', tag: 'latest', label: false });
    assert.equal((await probe({ image: latest })).error, `image "${latest}" has no label "${REVISION_LABEL}" and no tag that is a commit SHA`);
    const down = await probe({ image: 'localhost/app:1' }, { ...process.env, DOCKER_HOST: `unix://${path.join(tempDir(), 'none.sock')}` });
    assert.match(down.error ?? '', /^image "localhost\/app:1": cannot reach the Docker daemon at unix:\/\/.*none\.sock/);
  });

  it('through delivery.yml: the status of an environment whose version is a container label', async () => {
    const repo = gitRepo({ 'a.txt': '1' });
    const sha = git(repo, 'rev-parse', 'HEAD');
    const ref = docker.buildAppImage(sha, { repo: 'localhost/site' });
    docker.docker(['run', '-d', '--name', 'site', '--network', 'none', ref, 'sleep', '300']);
    const cfg = parseDeliveryConfig('version: 1\nenvironments:\n  production: { version: { docker: { container: site } } }\n');
    assert.deepEqual(cfg.problems, []);
    const [s] = await environmentStatuses(repo, cfg.environments, { env: { ...process.env, ...docker.env() } });
    assert.deepEqual([s.deployed.sha, s.deployed.error, s.ahead, s.behind], [sha, null, 0, 0]);
  });
});
