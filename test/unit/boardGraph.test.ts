import * as assert from 'node:assert/strict';
import { stagesOf } from '../../src/core/board';
import { boardGraph, crossings, legGroups } from '../../src/core/boardGraph';
import { criticalPath, previousRun, previousTimes } from '../../src/core/timeline';
import type { JobRecord, RunRecord } from '../../src/shared/model';
import { readyAt } from '../../src/shared/timeline';
import type { GraphView } from '../../src/shared/views';

/** A job that ran from `start` to `end` (ms after the run's start at 1000). */
function job(id: string, deps: string[], start: number | null = 0, end = 10, status: JobRecord['status'] = 'success', stage: string | null = null): JobRecord {
  return { id, name: id, stage, deps, status, allowFailure: false, exitCode: 0, startedAt: start === null ? null : 1000 + start, durationMs: start === null ? 0 : end - start, attempts: 1, reason: null, steps: [], tests: null, artifacts: [], logFile: null };
}

function run(jobs: JobRecord[], over: Partial<RunRecord> = {}): RunRecord {
  return { id: 'r2', folder: '/w', pipelineId: 'ci', pipelineName: 'CI', source: { kind: 'delivery', file: 'delivery.yml' }, stages: null, status: 'success', startedAt: 1000, finishedAt: 2000, durationMs: 1000, trigger: 'vscode', sha: null, pid: 1, jobs, ...over };
}

const graphOf = (r: RunRecord) => boardGraph(r.jobs, stagesOf(r));
const layout = (g: GraphView) => g.columns.map((c) => c.items.map((it) => ('node' in it ? it.node + (it.legs ? `[${it.legs.length}]` : '') : `~${g.edges[it.pass].from}>${g.edges[it.pass].to}`)));

describe('board graph: layout', () => {
  it('draws needs as edges between nodes in dependency columns', () => {
    const g = graphOf(run([job('build', []), job('lint', ['build']), job('test', ['build']), job('ship', ['lint', 'test'])]));
    assert.deepEqual(layout(g), [['build'], ['lint', 'test'], ['ship']]);
    assert.deepEqual(g.edges, [{ from: 'build', to: 'lint' }, { from: 'build', to: 'test' }, { from: 'lint', to: 'ship' }, { from: 'test', to: 'ship' }]);
    assert.deepEqual(g.columns.map((c) => c.name), ['stage 1', 'stage 2', 'stage 3']);
  });

  it('keeps declared stages as columns; an edge over a column passes through it', () => {
    const g = graphOf(run([job('compile', [], 0, 1, 'success', 'build'), job('unit', [], 0, 1, 'success', 'test'), job('deploy', ['compile'], 0, 1, 'success', 'deploy')], { stages: ['build', 'test', 'deploy'] }));
    assert.deepEqual(layout(g), [['compile'], ['unit', '~compile>deploy'], ['deploy']]);
  });

  it('groups matrix legs and parallel copies under their job; whoever needs them gets one edge', () => {
    const g = graphOf(run([job('build', []), job('test (18)', ['build']), job('test (20)', ['build']), job('pack: [1/2]', ['build']), job('pack: [2/2]', ['build']), job('ship', ['test (18)', 'test (20)', 'pack: [1/2]', 'pack: [2/2]'])]));
    assert.deepEqual(layout(g), [['build'], ['test[2]', 'pack[2]'], ['ship']]);
    assert.deepEqual(g.columns[1].items[0], { node: 'test', legs: ['test (18)', 'test (20)'] });
    assert.deepEqual(g.edges, [{ from: 'build', to: 'test' }, { from: 'build', to: 'pack' }, { from: 'test', to: 'ship' }, { from: 'pack', to: 'ship' }]);
  });

  it("a matrix known at run time: the job's own record is the group of its legs", () => {
    const { nodeOf, legs } = legGroups([job('test', ['build']), job('test (a)', ['build']), job('build', [])]);
    assert.deepEqual([...legs], [['test', ['test (a)']]]);
    assert.equal(nodeOf.get('test (a)'), 'test');
    assert.equal(nodeOf.get('test'), 'test');
  });

  it('does not group a lone job whose name only looks like a leg, nor legs that need different jobs', () => {
    const { legs } = legGroups([job('deploy (prod)', []), job('a', []), job('b', []), job('x (1)', ['a']), job('x (2)', ['b'])]);
    assert.deepEqual([...legs], []);
  });

  it('orders each column by its neighbours (barycentre) to cross fewer edges', () => {
    // Declared order crosses: a→y, b→x with x above y.
    const jobs = [job('a', [], 0, 1, 'success', 's1'), job('b', [], 0, 1, 'success', 's1'), job('x', ['b'], 0, 1, 'success', 's2'), job('y', ['a'], 0, 1, 'success', 's2'), job('z', ['a', 'b'], 0, 1, 'success', 's2')];
    const declared: GraphView = { columns: [{ name: 's1', items: [{ node: 'a' }, { node: 'b' }] }, { name: 's2', items: [{ node: 'x' }, { node: 'y' }, { node: 'z' }] }], edges: [{ from: 'b', to: 'x' }, { from: 'a', to: 'y' }, { from: 'a', to: 'z' }, { from: 'b', to: 'z' }] };
    assert.ok(crossings(declared) > 0);
    const g = graphOf(run(jobs, { stages: ['s1', 's2'] }));
    assert.deepEqual(layout(g), [['a', 'b'], ['y', 'z', 'x']]);
    assert.equal(crossings(g), 0);
  });

  it('routes a long edge through the columns between, ordered with the rest', () => {
    const g = graphOf(run([job('a', []), job('b', []), job('c', ['b']), job('d', ['c', 'a'])]));
    assert.deepEqual(layout(g), [['a', 'b'], ['~a>d', 'c'], ['d']]);
    assert.equal(crossings(g), 0);
  });
});

describe('board graph: critical path', () => {
  it('follows, from the job that ended last, the job each one waited for', () => {
    const r = run([job('build', [], 0, 100), job('lint', ['build'], 100, 150), job('test', ['build'], 120, 400), job('ship', ['lint', 'test'], 400, 450)]);
    assert.deepEqual(criticalPath(r), { jobs: ['build', 'test', 'ship'], durationMs: 450, waitMs: 20 });
  });

  it('goes through the matrix leg that ended last', () => {
    const r = run([job('build', [], 0, 10), job('test (18)', ['build'], 10, 50), job('test (20)', ['build'], 10, 90), job('ship', ['test (18)', 'test (20)'], 90, 100)]);
    assert.deepEqual(criticalPath(r)?.jobs, ['build', 'test (20)', 'ship']);
  });

  it('through the legs of a matrix known at run time, not its group record', () => {
    const r = run([job('build', [], 0, 10), job('test', ['build'], 10, 80), job('test (a)', ['build'], 10, 30), job('test (b)', ['build'], 12, 80), job('ship', ['test'], 80, 90)]);
    assert.deepEqual(criticalPath(r), { jobs: ['build', 'test (b)', 'ship'], durationMs: 90, waitMs: 2 });
  });

  it('a failed job ends the path; the jobs skipped after it are not on it', () => {
    const r = run([job('build', [], 0, 10), job('test', ['build'], 10, 70, 'failed'), job('lint', ['build'], 10, 30), job('ship', ['test', 'lint'], null, 0, 'skipped')], { status: 'failed' });
    assert.deepEqual(criticalPath(r)?.jobs, ['build', 'test']);
  });

  it('a job skipped among those needed does not hold the next one', () => {
    const r = run([job('a', [], 0, 40), job('opt', [], null, 0, 'skipped'), job('b', ['a', 'opt'], 40, 60)]);
    assert.deepEqual(criticalPath(r)?.jobs, ['a', 'b']);
  });

  it('jobs kept from an earlier attempt did not run in this one', () => {
    const kept = { ...job('build', [], -500, -400), carriedFrom: 'r1' };
    const r = run([kept, job('test', ['build'], 5, 60)], { attempt: 2, rerunOf: 'r1' });
    assert.deepEqual(criticalPath(r), { jobs: ['test'], durationMs: 60, waitMs: 5 });
  });

  it('none while running, or when no job ran', () => {
    assert.equal(criticalPath(run([job('a', [], 0, 10, 'running')], { status: 'running' })), undefined);
    assert.equal(criticalPath(run([job('a', [], null, 0, 'skipped')])), undefined);
  });
});

describe('board graph: timeline', () => {
  it('a job is ready when the last job it needs ended; not while one runs', () => {
    const jobs = [job('a', [], 0, 40), job('b', [], 0, 70), job('c', ['a', 'b'], 90, 100), job('d', ['c'], null, 0, 'queued'), job('e', ['a', 'x'], null, 0, 'skipped')];
    const byId = new Map(jobs.map((j) => [j.id, j]));
    assert.equal(readyAt(byId.get('a')!, byId, 1000), 1000);
    assert.equal(readyAt(byId.get('c')!, byId, 1000), 1070);
    assert.equal(readyAt({ ...byId.get('d')!, deps: ['c'] }, new Map([...byId, ['c', { ...byId.get('c')!, status: 'running' }]]), 1000), null);
  });

  it('picks the previous ended run of the same pipeline and pairs its jobs by id, legs by leg', () => {
    const prev = run([job('build', [], 0, 300), job('test (18)', ['build'], 300, 500), { ...job('lint', ['build'], 0, 10), carriedFrom: 'r0' }, job('gone', [])], { id: 'r1', startedAt: 500, durationMs: 520 });
    const other = run([job('build', [])], { id: 'o', pipelineId: 'nightly', startedAt: 900 });
    const running = run([job('build', [])], { id: 'r3', status: 'running', startedAt: 800 });
    const later = run([job('build', [])], { id: 'r4', startedAt: 3000 });
    const cur = run([job('build', [], 0, 100), job('test (18)', ['build'], 100, 200), job('test (20)', ['build'], 100, 200), job('lint', ['build'], 100, 120)]);
    const p = previousRun(cur, [later, other, running, prev, cur]);
    assert.equal(p?.id, 'r1');
    assert.deepEqual(previousTimes(cur, p!), {
      runId: 'r1',
      durationMs: 520,
      jobs: { build: { offsetMs: 500, durationMs: 300, status: 'success' }, 'test (18)': { offsetMs: 800, durationMs: 200, status: 'success' } },
    });
  });
});
