// The pure parts of the GitLab CI remote engine: status mapping and pipeline-variable checks. The engine against a
// server replaying recorded GitLab responses is in test/system/remoteGitlab.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitlabStatus } from '../../src/adapters/remote/gitlab';
import { checkPipelineVariables, pipelineVariables } from '../../src/adapters/remote/gitlabInputs';
import { RECORDED } from '../support/replay';

const CI_YML = fs.readFileSync(path.join(RECORDED, 'gitlab/gitlab-ci.yml'), 'utf8');

describe('GitLab CI engine', () => {
  it('maps GitLab statuses', () => {
    assert.deepEqual(
      ['created', 'waiting_for_resource', 'preparing', 'pending', 'scheduled', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual', 'mystery'].map(gitlabStatus),
      ['queued', 'queued', 'queued', 'queued', 'queued', 'running', 'success', 'failed', 'cancelled', 'skipped', 'manual', 'unknown'],
    );
  });
});

describe('GitLab pipeline variables', () => {
  it('reports a located error in the CI file', () => {
    const r = pipelineVariables('.gitlab-ci.yml', 'variables:\n  "BAD NAME": 1\njob:\n  script: x\n');
    assert.deepEqual(r.inputs, []);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /^\.gitlab-ci\.yml:2:3: variables: "BAD NAME" is not a valid variable name/);
  });

  it('accepts free variables and checks declared options', () => {
    const declared = pipelineVariables('.gitlab-ci.yml', CI_YML).inputs;
    assert.deepEqual(checkPipelineVariables(declared, { DEPLOY_ENVIRONMENT: 'staging', NODE_VERSION: '22' }), {
      variables: [
        { key: 'DEPLOY_ENVIRONMENT', value: 'staging' },
        { key: 'NODE_VERSION', value: '22' },
      ],
    });
  });
});
