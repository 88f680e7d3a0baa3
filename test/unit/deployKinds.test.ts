// Deploy kinds are a registry: the kinds of delivery.yml's `deploy:`, the messages that list them, the editor's
// list, the adapters' executors and the JSON schema all come from (or are checked against) one map.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEPLOY_EXECUTORS } from '../../src/adapters/deploy/kinds';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import { deployKeys } from '../../src/core/environments/config';
import { planDeploySteps } from '../../src/core/environments/deploy';
import { DEPLOY_KIND_REGISTRY, DEPLOY_KINDS } from '../../src/core/environments/deployKinds';
import { deployNeedsFiles } from '../../src/core/environments/deployService';

/** One environment per kind, as a user writes it. */
const EXAMPLES: Record<string, string> = {
  command: '{ command: ./deploy.sh, cwd: app }',
  ssh: '{ ssh: { host: h }, upload: { from: dist, to: /srv/app }, run: ./restart }',
  gitPush: '{ gitPush: { remote: "git@h:app.git" } }',
  http: '{ http: { url: "https://h/hook", status: { url: "https://h/s", json: state, success: [live] } } }',
  docker: '{ docker: { build: ., image: app, push: true, run: { name: app } } }',
  workflow: '{ workflow: { pipeline: deploy } }',
};

describe('deploy kinds (registry)', () => {
  it('the kinds are the registry keys, each module registered under its own kind, each with an executor', () => {
    assert.deepEqual(DEPLOY_KINDS, ['command', 'ssh', 'gitPush', 'http', 'docker', 'workflow']);
    for (const k of DEPLOY_KINDS) assert.equal(DEPLOY_KIND_REGISTRY[k].kind, k);
    assert.deepEqual(Object.keys(DEPLOY_EXECUTORS), DEPLOY_KINDS);
  });

  it('every kind has an example here that it reads, plans with steps named after it, and says whether it needs files', () => {
    assert.deepEqual(Object.keys(EXAMPLES), DEPLOY_KINDS, 'a new kind needs an example in this test');
    const yml = `version: 1\npipelines:\n  deploy:\n    remote: { github: { repo: o/r } }\n    jobs: { a: { run: x } }\nenvironments:\n${DEPLOY_KINDS.map((k) => `  ${k}: { deploy: ${EXAMPLES[k]} }\n`).join('')}`;
    const cfg = parseDeliveryConfig(yml);
    const envProblems = cfg.problems.filter((p) => p.line > 5);
    assert.deepEqual(envProblems, []);
    const seen: Record<string, { steps: string[]; files: boolean }> = {};
    for (const e of cfg.environments) {
      assert.equal(e.deploy?.method.kind, e.id);
      const steps = planDeploySteps(e);
      assert.ok(!('error' in steps));
      for (const s of steps) assert.ok(s.id === e.id || s.id.startsWith(`${e.id}.`), `${s.id} is named after ${e.id}`);
      seen[e.id] = { steps: steps.map((s) => s.id), files: deployNeedsFiles(e) };
    }
    assert.deepEqual(seen, {
      command: { steps: ['command'], files: true },
      ssh: { steps: ['ssh.prepare', 'ssh.upload', 'ssh.run'], files: true },
      gitPush: { steps: ['gitPush'], files: false },
      http: { steps: ['http.hook', 'http.status'], files: false },
      docker: { steps: ['docker.build', 'docker.push', 'docker.run'], files: true },
      workflow: { steps: ['workflow.dispatch', 'workflow.follow'], files: false },
    });
  });

  it('keys a kind owns are errors with another kind, located, in the same words as before', () => {
    const cfg = parseDeliveryConfig('version: 1\nenvironments:\n  a: { deploy: { http: { url: "https://h" }, cwd: x, run: y } }\n');
    assert.deepEqual(cfg.problems.map((p) => `${p.line}:${p.column}: ${p.message}`), [
      '3:46: environment "a": deploy: "cwd" applies to "command" deploys only',
      '3:54: environment "a": deploy: "run" goes with "ssh" deploys',
    ]);
    const none = parseDeliveryConfig('version: 1\nenvironments:\n  a: { deploy: { timeout: 1m } }\n');
    assert.deepEqual(none.problems.map((p) => p.message), ['environment "a": deploy: say how, with exactly one of command, ssh, gitPush, http, docker, workflow']);
  });

  it('the JSON schema describes every key of `deploy:` the reader knows, every kind included', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'media', 'schema', 'delivery.schema.json'), 'utf8'));
    const deploy = schema.properties.environments.additionalProperties.properties.deploy;
    assert.deepEqual(Object.keys(deploy.properties).sort(), deployKeys().sort());
  });
});
