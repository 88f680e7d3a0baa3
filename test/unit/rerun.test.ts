// "Rerun failed" picks its jobs from the run it was asked for: the failed and cancelled ones, or all of them.
import * as assert from 'node:assert/strict';
import { rerunSelection } from '../../src/core/rerun';

const run = (...jobs: [string, string][]) => ({ jobs: jobs.map(([id, status]) => ({ id, status: status as 'failed' })) });
const JOBS = ['build', 'lint', 'test'];

describe('rerun selection', () => {
  it('failed only: the failed and cancelled jobs of that run', () => {
    assert.deepEqual(rerunSelection(run(['build', 'success'], ['lint', 'failed'], ['test', 'cancelled']), JOBS, true), ['lint', 'test']);
    assert.deepEqual(rerunSelection(run(['build', 'success'], ['lint', 'success']), JOBS, true), []);
  });

  it('failed only: jobs an interrupted run left queued or running run again too', () => {
    assert.deepEqual(rerunSelection(run(['build', 'success'], ['lint', 'running'], ['test', 'queued']), JOBS, true), ['lint', 'test']);
  });

  it('failed only: the jobs skipped because one they wait for failed run again too (transitively), as on GitHub', () => {
    const r = { jobs: [
      { id: 'build', status: 'failed' as const, deps: [] },
      { id: 'lint', status: 'skipped' as const, deps: ['build'] },
      { id: 'test', status: 'skipped' as const, deps: ['lint'] },
      { id: 'docs', status: 'skipped' as const, deps: [] },
    ] };
    assert.deepEqual(rerunSelection(r, [...JOBS, 'docs'], true), ['build', 'lint', 'test'], 'docs was skipped for its own reason');
  });

  it('matrix and parallel instances rerun their job, once; jobs no longer defined are dropped', () => {
    assert.deepEqual(rerunSelection(run(['test (18)', 'failed'], ['test (20)', 'failed'], ['build: [1/2]', 'failed'], ['gone', 'failed']), JOBS, true), ['test', 'build']);
  });

  it('all jobs: the jobs that run had, or the whole pipeline when it had them all', () => {
    assert.deepEqual(rerunSelection(run(['lint', 'success']), JOBS, false), ['lint']);
    assert.equal(rerunSelection(run(['build', 'success'], ['lint', 'failed'], ['test', 'success']), JOBS, false), undefined);
  });
});
