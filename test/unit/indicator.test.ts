import * as assert from 'node:assert/strict';
import { deployIndicator, deployProgressText, formatTimeLeft, verifyTimeLeft } from '../../src/core/environments/indicator';
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
  it('counts down the bake time while verifying, in whole seconds', () => {
    const since = 1_000_000;
    const left = verifyTimeLeft(since, 120_000, since + 40_000);
    assert.equal(left, 80_000);
    const m = deployIndicator(env, status(), { step: 'verify for 2m 00s: 1 Prometheus check', sha: B, verify: { leftMs: left } }, null);
    assert.equal(m.text, '$(sync~spin) verifying staging 1m 20s left');
    assert.equal(m.tone, 'normal');
    assert.match(m.tooltip, /Deployed `b1b2c3d`, verifying it against its metrics: 1m 20s left/);
    assert.deepEqual([formatTimeLeft(8000), formatTimeLeft(7200), formatTimeLeft(200), formatTimeLeft(0), formatTimeLeft(-5), formatTimeLeft(3_700_000)], ['8s', '8s', '1s', '0s', '0s', '1h 01m']);
    assert.equal(verifyTimeLeft(since, 8000, since + 9000), 0);
    assert.equal(verifyTimeLeft(since, 8000, since - 500), 8000);
    assert.equal(deployProgressText({ step: 'x', sha: B, verify: { leftMs: 5000 } }), 'verifying · 5s left');
    assert.equal(deployProgressText({ step: 'health check', sha: B }), 'deploying: health check');
  });
  it('says when a failed verification is being rolled back', () => {
    const m = deployIndicator(env, status(), { step: 'verify', sha: B, verify: { leftMs: 0 }, rollingBackTo: A }, null);
    assert.equal(m.text, '$(sync~spin) staging: rolling back to a1b2c3d');
    assert.equal(m.tone, 'warning');
    assert.equal(deployProgressText({ step: 'x', sha: B, verify: { leftMs: 0 }, rollingBackTo: A }), 'rolling back to a1b2c3d');
  });
  it('marks a deploy its verification could not decide with its own icon', () => {
    const m = deployIndicator(env, status(), null, deploy({ status: 'unverified', message: 'unverified: error rate: no data' }));
    assert.equal(m.text, '$(question) staging a1b2c3d ↓3');
    assert.equal(m.tone, 'warning');
    assert.match(m.tooltip, /Unverified: the metrics could not say whether the release is good/);
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
