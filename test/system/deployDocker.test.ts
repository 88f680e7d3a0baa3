// A docker deploy against a private dockerd and registry on this machine: build with the revision label, push,
// replace the running container; /version of the new container reports the commit.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { BASE_IMAGE, dockerUnavailable, REVISION_LABEL, startDockerd, type Dockerd } from '../support/targets/docker';
import { freePort } from '../support/targets/common';
import { registryUnavailable, startRegistry, type Registry } from '../support/targets/registry';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir } from '../support/tmp';
import { appRepo, commit, deployer, getJson, readLog } from '../support/deploySupport';

describe('docker deploy (private dockerd + registry)', function () {
  this.timeout(180_000);
  let dockerd: Dockerd | undefined;
  let registry: Registry | undefined;
  before(async function () {
    requireTool(this, dockerUnavailable() ?? registryUnavailable());
    registry = await startRegistry(path.join(tempDir(), 'registry'));
    dockerd = await startDockerd(path.join(tempDir('dockerd-'), 'd'), { insecureRegistries: [registry.address] });
    dockerd.baseImage();
  });
  after(async () => {
    await dockerd?.stop();
    await registry?.stop();
    cleanupTempDirs();
  });

  it('builds image:<sha> with the revision label, pushes it, replaces the container; /version turns to the commit', async () => {
    const d = dockerd!;
    const port = await freePort();
    const name = `deploy-test-${port}`;
    const image = `${registry!.address}/app`;
    const repo = appRepo(
      `version: 1
environments:
  box:
    deploy:
      docker:
        build: .
        image: "${image}"
        push: true
        host: "${d.host}"
        buildArgs: { REVISION: "\${DELIVERY_SHA}" }
        run: { name: ${name}, args: [--network, host], command: [httpd, -f, -p, "127.0.0.1:${port}", -h, /www] }
    version: { http: "http://127.0.0.1:${port}/version", json: sha }
    health: { http: "http://127.0.0.1:${port}/version", contains: sha, timeout: 20s, interval: 100ms }
`,
      {
        Dockerfile: `FROM ${BASE_IMAGE}\nARG REVISION\nRUN mkdir -p /www && echo "{\\"sha\\":\\"$REVISION\\"}" > /www/version\n`,
        '.dockerignore': '.git\n',
      },
    );
    const dep = deployer(repo, {}, { DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' });
    try {
      const sha1 = git(repo, 'rev-parse', 'HEAD');
      const first = (await dep.deploy('box')).record;
      assert.equal(first.status, 'success', `${first.reason}\n${readLog(first)}`);
      assert.deepEqual(first.steps.map((s) => s.name), [`docker build ${image}`, `docker push ${image}`, `docker run ${name}`, 'check the deployed version', 'health check']);
      assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha1);
      const sha2 = commit(repo, 'NOTES', 'two', 'second');
      const second = (await dep.deploy('box')).record;
      assert.equal(second.status, 'success', `${second.reason}\n${readLog(second)}`);
      assert.equal(second.previousSha, sha1);
      assert.equal((await getJson(`http://127.0.0.1:${port}/version`)).sha, sha2);
      assert.equal(d.docker(['inspect', '--format', `{{ index .Config.Labels "${REVISION_LABEL}" }}`, `${image}:${sha2}`]), sha2);
      assert.equal(d.docker(['inspect', '--format', `{{ index .Config.Labels "${REVISION_LABEL}" }}`, name]), sha2);
      assert.deepEqual((await registry!.tags('app')).sort(), [sha1, sha2].sort());
      assert.equal(d.docker(['ps', '-q', '--filter', `name=^${name}$`]).split('\n').filter(Boolean).length, 1, 'one container of that name');
    } finally {
      try {
        d.docker(['rm', '-f', name]);
      } catch {
        // not created
      }
    }
  });
});
