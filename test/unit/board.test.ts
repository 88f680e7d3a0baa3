import * as assert from 'node:assert/strict';
import { runStatusBar, stagesOf } from '../../src/core/board';
import type { JobRecord, RunRecord } from '../../src/shared/model';

function job(id: string, deps: string[], stage: string | null = null, status: JobRecord['status'] = 'success'): JobRecord {
  return { id, name: id, stage, deps, status, allowFailure: false, exitCode: 0, startedAt: 1, durationMs: 10, attempts: 1, reason: null, steps: [], tests: null, artifacts: [], logFile: null };
}

function run(jobs: JobRecord[], over: Partial<RunRecord> = {}): RunRecord {
  return { id: 'r', folder: '/w', pipelineId: 'ci', pipelineName: 'CI', source: { kind: 'delivery', file: 'delivery.yml' }, stages: null, status: 'success', startedAt: 0, finishedAt: 1500, durationMs: 1500, trigger: 'vscode', sha: null, pid: 1, jobs, ...over };
}

describe('board and status bar models', () => {
  it('groups jobs without stages by dependency depth', () => {
    const cols = stagesOf(run([job('install', []), job('lint', ['install']), job('test', ['install']), job('ship', ['lint', 'test'])]));
    assert.deepEqual(cols.map((c) => [c.name, c.jobs.map((j) => j.id)]), [
      ['stage 1', ['install']], ['stage 2', ['lint', 'test']], ['stage 3', ['ship']],
    ]);
  });
  it('uses declared stages in their order', () => {
    const cols = stagesOf(run([job('d', [], 'deploy'), job('b', [], 'build'), job('t', [], null)], { stages: ['build', 'test', 'deploy'] }));
    assert.deepEqual(cols.map((c) => c.name), ['build', 'test', 'deploy']);
  });
  it('says how the last run went', () => {
    assert.equal(runStatusBar(null, 0).text, '$(rocket) Delivery');
    const ok = runStatusBar(run([job('a', []), job('b', [])]), 0);
    assert.equal(ok.text, '$(pass-filled) CI: passed 2/2');
    assert.equal(ok.tone, 'normal');
    const bad = runStatusBar(run([job('a', []), job('b', [], null, 'failed')], { status: 'failed' }), 0);
    assert.equal(bad.text, '$(error) CI: 1 of 2 jobs failed', 'how many failed, not how many passed');
    assert.equal(bad.tone, 'error');
    assert.match(bad.tooltip, /failed: b/);
    assert.equal(runStatusBar(run([job('a', [], null, 'running')], { status: 'running', startedAt: 0 }), 2000).text, '$(sync~spin) CI: running 0/1');
    // A job that could not run here is not called failed.
    const partly = runStatusBar(run([job('a', []), job('b', [], null, 'unsupported')], { status: 'failed' }), 0);
    assert.equal(partly.text, '$(error) CI: 1 of 2 jobs unsupported locally');
    assert.match(partly.tooltip, /unsupported locally: b/);
    assert.doesNotMatch(partly.tooltip, /failed: /);
    const both = runStatusBar(run([job('a', [], null, 'failed'), job('b', [], null, 'unsupported'), job('c', [])], { status: 'failed' }), 0);
    assert.equal(both.text, '$(error) CI: 1 of 3 jobs failed, 1 unsupported locally');
  });
});
