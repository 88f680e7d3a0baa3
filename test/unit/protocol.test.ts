import * as assert from 'node:assert/strict';
import { parseHostMessage, parseWebviewMessage } from '../../src/shared/protocol';

describe('webview protocol', () => {
  it('accepts each well-formed webview message', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'cancelRun', runId: 'r1' }), { type: 'cancelRun', runId: 'r1' });
    assert.deepEqual(parseWebviewMessage({ type: 'rerun', runId: 'r1', failedOnly: true }), { type: 'rerun', runId: 'r1', failedOnly: true });
    assert.deepEqual(parseWebviewMessage({ type: 'openLog', runId: 'r', jobId: 'j' }), { type: 'openLog', runId: 'r', jobId: 'j' });
    assert.deepEqual(parseWebviewMessage({ type: 'openFileRef', runId: 'r', jobId: 'j', file: 'src/a.ts', line: 2, column: 7 }), { type: 'openFileRef', runId: 'r', jobId: 'j', file: 'src/a.ts', line: 2, column: 7 });
    assert.deepEqual(parseWebviewMessage({ type: 'openFileRef', runId: 'r', jobId: 'j', file: 'a.c', line: 9, column: null }), { type: 'openFileRef', runId: 'r', jobId: 'j', file: 'a.c', line: 9, column: null });
    assert.deepEqual(parseWebviewMessage({ type: 'runPipeline', folder: '/w', pipelineId: 'delivery.yml#ci' }), {
      type: 'runPipeline', folder: '/w', pipelineId: 'delivery.yml#ci',
    });
  });
  it('accepts the environment messages, with an optional second environment for a diff', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'showDiff', folder: '/w', environment: 'prod' }), { type: 'showDiff', folder: '/w', environment: 'prod' });
    assert.deepEqual(parseWebviewMessage({ type: 'showDiff', folder: '/w', environment: 'prod', to: 'staging' }), { type: 'showDiff', folder: '/w', environment: 'prod', to: 'staging' });
    assert.deepEqual(parseWebviewMessage({ type: 'deployEnvironment', folder: '/w', environment: 'prod' }), { type: 'deployEnvironment', folder: '/w', environment: 'prod' });
    assert.equal(parseWebviewMessage({ type: 'deployEnvironment', folder: '/w', environment: 'prod', confirmed: true }), null);
    assert.deepEqual(parseWebviewMessage({ type: 'openFileDiff', path: 'src/a b.ts' }), { type: 'openFileDiff', path: 'src/a b.ts' });
    assert.equal(parseWebviewMessage({ type: 'loadHunks', path: 'a\u0000b' }), null);
    assert.equal(parseWebviewMessage({ type: 'showView', view: 'secrets' }), null);
  });

  it('rejects unknown types, missing, extra and mistyped fields', () => {
    for (const bad of [
      null, 'ready', [], { type: 'nope' }, { type: 'cancelRun' }, { type: 'cancelRun', runId: 3 }, { type: 'cancelRun', runId: '' },
      { type: 'ready', extra: 1 }, { type: 'rerun', runId: 'r', failedOnly: 'yes' }, { type: 'openLog', runId: 'r' },
      { type: 'cancelRun', runId: 'x'.repeat(600) }, { type: 'runPipeline', folder: '/w', pipelineId: 'ci', env: 'prod' },
      { type: 'openFileRef', runId: 'r', jobId: 'j', file: 'a.ts', line: 0, column: null }, { type: 'openFileRef', runId: 'r', jobId: 'j', file: 'a.ts', line: 1.5, column: null },
      { type: 'openFileRef', runId: 'r', jobId: 'j', file: 'a.ts', line: 1 }, { type: 'openFileRef', runId: 'r', jobId: 'j', file: '', line: 1, column: null },
      { type: 'openFileRef', runId: 'r', jobId: 'j', file: 'a.ts', line: 1, column: '3' },
    ]) {
      assert.equal(parseWebviewMessage(bad), null, JSON.stringify(bad));
    }
  });
  it('checks host messages too', () => {
    assert.ok(parseHostMessage({ type: 'state', state: { run: null, pipelines: [], trusted: true } }));
    assert.ok(parseHostMessage({ type: 'patch', patch: { runId: 'r', status: 'running', durationMs: 1, jobs: [] } }));
    assert.equal(parseHostMessage({ type: 'state', state: { run: null } }), null);
    assert.equal(parseHostMessage({ type: 'patch', patch: { status: 'x' } }), null);
  });
  it('checks the health charts field by field (the page draws every number)', () => {
    const view = {
      folder: '/w', environment: 'staging', name: 'Staging', startMs: 1000, endMs: 61_000, stepMs: 1000,
      series: [
        { name: 'error rate', points: [[1000, 0], [2000, 0.25]], limit: { op: '≤', value: 0.01 }, boundText: '≤ 0.01', error: null },
        { name: 'p95', points: [], limit: null, boundText: '≤ baseline + 25%', error: 'Prometheus at http://p cannot be reached' },
      ],
      markers: [{ id: 'd1', t: 1500, sha: 'abc1234', action: 'deploy', status: 'failed' }],
    };
    assert.ok(parseHostMessage({ type: 'environmentHealth', health: [view], loading: false }));
    assert.ok(parseHostMessage({ type: 'environmentHealth', health: [], loading: true }));
    const broken = [
      { ...view, stepMs: 0 },
      { ...view, endMs: 0 },
      { ...view, series: [{ ...view.series[0], points: [[1000, Number.NaN]] }] },
      { ...view, series: [{ ...view.series[0], points: [[1000]] }] },
      { ...view, series: [{ ...view.series[0], limit: { op: '<', value: 1 } }] },
      { ...view, series: [{ ...view.series[0], error: 3 }] },
      { ...view, markers: [{ id: 'd1', t: '1500', sha: null, action: 'deploy', status: 'failed' }] },
      { ...view, folder: '' },
      { ...view, series: [{ ...view.series[0], points: Array.from({ length: 2001 }, (_, i) => [i, 0]) }] },
    ];
    for (const bad of broken) assert.equal(parseHostMessage({ type: 'environmentHealth', health: [bad], loading: false }), null, JSON.stringify(bad).slice(0, 200));
    assert.equal(parseHostMessage({ type: 'environmentHealth', health: [view] }), null);
  });
});
