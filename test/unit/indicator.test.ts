import * as assert from 'node:assert/strict';
import { deployIndicator } from '../../src/core/environments/indicator';
import type { DeployHistoryItem, EnvironmentStatus } from '../../src/shared/model';

const A = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const B = 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const env = { id: 'staging', name: 'Staging' };

function status(over: Partial<EnvironmentStatus> = {}): EnvironmentStatus {
  return {
    id: 'staging', name: 'Staging', url: null,
    deployed: { sha: A, error: null, raw: null, checkedAt: 1 },
    local: { sha: B, branch: 'main', dirty: false },
    ahead: 3, behind: 0, health: 'up', healthDetail: null, ...over,
  };
}

function deploy(over: Partial<DeployHistoryItem> = {}): DeployHistoryItem {
  return {
    id: 'd', action: 'deploy', sha: A, fromSha: null, ref: 'HEAD', status: 'success', startedAt: Date.UTC(2026, 10, 27, 6, 0), durationMs: 1,
    user: 'ann', host: 'box', logFile: null, message: null, origin: 'shared', ...over,
  };
}

describe('status-bar deploy indicator', () => {
  it('shows the deployed commit and the commits to deploy', () => {
    const m = deployIndicator(env, status(), null, null);
    assert.equal(m.text, '$(rocket) staging a1b2c3d ↓3');
    assert.equal(m.tone, 'normal');
    assert.match(m.tooltip, /3 commits to deploy/);
  });
  it('warns about commits a deploy would revert', () => {
    const m = deployIndicator(env, status({ ahead: 0, behind: 2 }), null, null);
    assert.equal(m.text, '$(rocket) staging a1b2c3d ↺2');
    assert.equal(m.tone, 'warning');
    assert.match(m.tooltip, /\*\*revert\*\*/);
  });
  it('is up to date, plainly', () => {
    assert.equal(deployIndicator(env, status({ ahead: 0, behind: 0 }), null, null).text, '$(rocket) staging a1b2c3d');
  });
  it('spins with the step while deploying', () => {
    const m = deployIndicator(env, status(), { step: 'health check', sha: B }, null);
    assert.equal(m.text, '$(sync~spin) staging: health check');
    assert.match(m.tooltip, /Deploying `b1b2c3d`/);
  });
  it('turns red after a failed deploy or when the health check fails', () => {
    const failed = deployIndicator(env, status(), null, deploy({ status: 'failed', message: 'exit 3' }));
    assert.equal(failed.tone, 'error');
    assert.match(failed.text, /^\$\(error\) staging/);
    assert.match(failed.tooltip, /Reason: exit 3/);
    const down = deployIndicator(env, status({ health: 'down', healthDetail: 'HTTP 503' }), null, deploy());
    assert.equal(down.tone, 'error');
    assert.match(down.tooltip, /Health check failing: HTTP 503/);
  });
  it('says when the version is unknown, and stays neutral when there is no version source', () => {
    const unknown = deployIndicator(env, status({ deployed: { sha: null, error: 'no answer within 3s', raw: null, checkedAt: 1 } }), null, null);
    assert.equal(unknown.text, '$(rocket) staging ?');
    assert.equal(unknown.tone, 'warning');
    const none = deployIndicator(env, status({ deployed: { sha: null, error: null, raw: null, checkedAt: 1 }, health: 'unknown' }), null, null);
    assert.equal(none.text, '$(rocket) staging');
    assert.equal(none.tone, 'normal');
    assert.equal(deployIndicator(env, null, null, null).text, '$(rocket) staging …');
  });
});
