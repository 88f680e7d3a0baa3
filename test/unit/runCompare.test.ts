// Two runs compared job by job: the changed ones marked, with their reason.
import * as assert from 'node:assert/strict';
import { compareRuns } from '../../src/core/runCompare';
import type { JobRecord, RunRecord } from '../../src/shared/model';

const job = (id: string, status: JobRecord['status'], reason: string | null = null, extra: Partial<JobRecord> = {}): JobRecord => ({
  id, name: id, stage: null, deps: [], status, allowFailure: false, exitCode: null, startedAt: 1, durationMs: 1500, attempts: 1, reason, steps: [], tests: null, artifacts: [], logFile: null, ...extra,
});
const run = (id: string, jobs: JobRecord[], extra: Partial<RunRecord> = {}): RunRecord => ({
  id, folder: '/w', pipelineId: 'ci', pipelineName: 'CI', source: { kind: 'delivery', file: 'delivery.yml' }, stages: null, status: 'success', startedAt: 0, finishedAt: 1, durationMs: 2000, trigger: 'vscode', sha: 'a'.repeat(40), pid: 1, jobs, ...extra,
});

describe('compare two runs', () => {
  it('lists every job of both, marks the ones whose result changed, with the reason', () => {
    const a = run('r1', [job('build', 'failed', 'step "compile" exited with code 2'), job('lint', 'success'), job('old', 'success')], { status: 'failed' });
    const b = run('r2', [job('build', 'success'), job('lint', 'success', null, { carriedFrom: 'r1' }), job('new', 'failed', 'exited with code 1')], { attempt: 2 });
    const text = compareRuns(a, b);
    assert.match(text, /^# CI: two runs compared/);
    assert.match(text, /- A: run r1 at aaaaaaa, failed \(1 of 3 jobs failed\)/);
    assert.match(text, /- B: run r2 \(attempt 2\) at aaaaaaa, success/);
    assert.match(text, /3 of 4 jobs changed result\./);
    assert.match(text, /\| \*\*build\*\* \| failed 1\.5s \| success 1\.5s \| changed \| step "compile" exited with code 2 \|/);
    assert.match(text, /\| lint \| success 1\.5s \| success 1\.5s \(kept\) \| {2}\| {2}\|/);
    assert.match(text, /\| \*\*old\*\* \| success 1\.5s \| — \| changed \|/);
    assert.match(text, /\| \*\*new\*\* \| — \| failed 1\.5s \| changed \| exited with code 1 \|/);
  });
});
