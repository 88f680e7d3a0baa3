import * as assert from 'node:assert/strict';
import { jobRow, runStatusBar, stagesOf } from '../../src/core/board';
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
  it('shows a matrix job\'s row by the leg that needs a look, with how its legs ended', () => {
    const legs = (...st: JobRecord['status'][]) => run(st.map((x, i) => ({ ...job(`build (${i})`, [], null, x), logFile: `/l/${i}.log` })), { status: 'failed' });
    // The first leg passed, the others could not run here: the row is not "success".
    const cmake = jobRow(legs('success', 'unsupported', 'unsupported'), 'build');
    assert.equal(cmake?.record.id, 'build (1)');
    assert.equal(cmake?.legs, '2 unsupported, 1 success');
    // A leg that never started has no log: the row opens the log of a leg that has one.
    const started = run([job('build (0)', []), { ...job('build (1)', [], null, 'unsupported'), logFile: null }]);
    assert.deepEqual([jobRow(started, 'build')?.record.status, jobRow(started, 'build')?.record.logFile], ['unsupported', null]);
    const logged = run([{ ...job('build (0)', []), logFile: '/l/0.log' }, { ...job('build (1)', [], null, 'unsupported'), logFile: null }]);
    assert.deepEqual([jobRow(logged, 'build')?.record.status, jobRow(logged, 'build')?.record.logFile], ['unsupported', '/l/0.log']);
    // A failed leg after unsupported ones is the one shown (its log opens from the row).
    const tomli = jobRow(legs('unsupported', 'unsupported', 'failed', 'skipped'), 'build');
    assert.equal(tomli?.record.logFile, '/l/2.log');
    assert.equal(tomli?.legs, '1 failed, 2 unsupported, 1 skipped');
    // A leg that may fail (continue-on-error) does not hide a leg that could not run.
    const allowed = run([{ ...job('t (a)', [], null, 'failed'), allowFailure: true }, job('t (b)', [], null, 'unsupported')]);
    assert.equal(jobRow(allowed, 't')?.record.id, 't (b)');
    // GitLab parallel copies; a job of its own is itself, whatever other jobs start with its name.
    assert.equal(jobRow(run([job('unit: [1/2]', []), job('unit: [2/2]', [], null, 'failed')]), 'unit')?.record.id, 'unit: [2/2]');
    assert.deepEqual(jobRow(run([job('test', []), job('test (x)', [], null, 'failed')]), 'test'), { record: job('test', []), legs: null });
    assert.equal(jobRow(run([job('lint', [])]), 'test'), undefined);
    assert.equal(jobRow(run([job('test (3.11)', [])]), 'test')?.legs, null, 'one leg run alone: its own status');
  });
});
