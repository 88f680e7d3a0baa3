import * as assert from 'node:assert/strict';
import { parseDeliveryConfig } from '../../src/core/config/delivery';

const base = 'version: 1\npipelines:\n  ci:\n    jobs:\n      build: { run: make }\nenvironments:\n';

function parse(envs: string) {
  const cfg = parseDeliveryConfig(base + envs);
  return { envs: cfg.environments, problems: cfg.problems.map((p) => `${p.line}:${p.column} ${p.message}`) };
}

describe('environments in delivery.yml', () => {
  it('reads every version source', () => {
    const { envs, problems } = parse(`  a: { version: { http: "http://127.0.0.1:1/version", json: sha, timeout: 2s } }
  b: { version: { command: ./ver.sh, regex: "rev=([0-9a-f]+)" } }
  c: { version: { git: { remote: deploy, ref: refs/heads/main } } }
  d: { version: { git: v1.2.3 } }
  e: { version: { ssh: { host: 127.0.0.1, port: 2222, user: deploy, identityFile: ~/.ssh/id, command: cat /srv/VERSION } } }
  f: { version: { docker: { image: "127.0.0.1:5000/app" } } }
`);
    assert.deepEqual(problems, []);
    assert.deepEqual(envs.map((e) => e.version?.kind), ['http', 'command', 'git', 'git', 'ssh', 'docker']);
    assert.deepEqual(envs[0].version, { kind: 'http', url: 'http://127.0.0.1:1/version', headers: {}, json: 'sha', regex: null, timeoutMs: 2000 });
    assert.deepEqual(envs[3].version, { kind: 'git', remote: null, ref: 'v1.2.3', timeoutMs: 10000 });
    const e = envs[4].version;
    assert.ok(e?.kind === 'ssh');
    assert.equal(e.command, 'cat /srv/VERSION');
    assert.deepEqual(e.ssh, { host: '127.0.0.1', port: 2222, user: 'deploy', identityFile: '~/.ssh/id', knownHostsFile: null, strictHostKeyChecking: 'yes', connectTimeoutSec: 10 });
    assert.deepEqual(envs[5].version, { kind: 'docker', image: '127.0.0.1:5000/app', container: null, label: 'org.opencontainers.image.revision', timeoutMs: 10000 });
  });

  it('reads every deploy kind and the health check', () => {
    const { envs, problems } = parse(`  a:
    deploy:
      pipeline: ci
      ssh: { host: 127.0.0.1, port: 2222, user: deploy }
      upload: { from: dist/, to: "/srv/app/releases/\${DELIVERY_SHA}" }
      run: "/srv/app/activate.sh \${DELIVERY_SHA}"
    health: { http: "http://127.0.0.1:1/health", expect: 200, timeout: 30s }
  b: { deploy: { command: ./scripts/deploy.sh } }
  c: { deploy: { gitPush: { remote: "ssh://deploy@127.0.0.1:2222/srv/app.git", branch: main } } }
  d: { deploy: { http: { url: "https://example.invalid/hook?key=\${secret:HOOK_KEY}", status: { url: "https://example.invalid/s", json: state, success: [live], failure: [failed] } } } }
  e: { deploy: { docker: { build: ., image: "127.0.0.1:5000/app", push: true, run: { name: app, args: [--network, host] } } } }
`);
    assert.deepEqual(problems, []);
    assert.deepEqual(envs.map((e) => e.deploy?.method.kind), ['ssh', 'command', 'gitPush', 'http', 'docker']);
    const a = envs[0].deploy!;
    assert.equal(a.pipeline, 'ci');
    assert.ok(a.method.kind === 'ssh');
    assert.deepEqual(a.method.upload, { from: 'dist/', to: '/srv/app/releases/${DELIVERY_SHA}', delete: true, exclude: [] });
    assert.equal(a.method.run, '/srv/app/activate.sh ${DELIVERY_SHA}');
    assert.deepEqual(envs[0].health, { url: 'http://127.0.0.1:1/health', expect: 200, contains: null, timeoutMs: 30000, intervalMs: 500 });
    const d = envs[3].deploy!.method;
    assert.ok(d.kind === 'http');
    assert.equal(d.method, 'POST');
    assert.deepEqual(d.status?.success, ['live']);
  });

  it('locates mistakes: two kinds, none, bad URLs, regex without a group, unknown pipeline', () => {
    const { problems } = parse(`  a: { version: { http: "http://x/v", command: ./v.sh } }
  b: { version: { json: sha } }
  c: { version: { http: "ftp://x/v" } }
  d: { version: { command: ./v.sh, regex: "[0-9a-f]+" } }
  e: { deploy: { pipeline: nope, command: ./d.sh } }
  f: { deploy: { ssh: { host: "h; rm -rf /" }, run: x } }
  g: { deploy: { gitPush: { remote: r, branch: "a b" } } }
`);
    assert.deepEqual(problems, [
      '7:39 environment "a": version: use exactly one of http, command, git, ssh, docker, not http and command',
      '8:17 environment "b": version: say how, with exactly one of http, command, git, ssh, docker',
      '9:25 environment "c": version: "http" must be an http:// or https:// URL, not "ftp://x/v"',
      '10:43 environment "d": version: "regex" needs one capture group around the commit, e.g. "rev=([0-9a-f]+)"',
      '11:3 environment "e": deploy pipeline "nope" is not a pipeline in delivery.yml',
      '12:31 environment "f": deploy: ssh: "host" is not a valid host name: "h; rm -rf /"',
      '13:48 environment "g": deploy: gitPush branch "a b" is not a valid branch name',
    ]);
  });
});
