// Pipeline targeting (core/targeting.ts): which pipeline a name or key means, which problems block it, one run per
// pipeline at a time, and the history pruning policy. Pure logic with in-memory fakes.
import * as assert from 'node:assert/strict';
import {
  blockingProblems,
  describeBlocked,
  historyLimit,
  HISTORY_MAX_RUNS,
  pipelineBlocked,
  pipelineByKeyOrName,
  pipelineByName,
  pipelineKey,
  problemLine,
  pruneHistory,
  qualifiedName,
  RunGuard,
  runPipelineKey,
  targetPipeline,
} from '../../src/core/targeting';
import type { PipelineDef, Problem, Severity, SourceKind } from '../../src/shared/model';

function pipeline(kind: SourceKind, file: string, id: string): { def: PipelineDef } {
  return { def: { id, name: id, source: { kind, file }, stages: null, env: {}, jobs: [], location: { file, line: 1, column: 1 } } };
}

function problem(file: string, severity: Severity, message = `${severity} in ${file}`, line = 3): Problem {
  return { file, line, column: 5, endLine: line, endColumn: 9, severity, message };
}

const build = pipeline('delivery', 'delivery.yml', 'build');
const ciDelivery = pipeline('delivery', 'delivery.yml', 'ci');
const ciGithub = pipeline('github', '.github/workflows/ci.yml', 'ci');
const gitlab = pipeline('gitlab', '.gitlab-ci.yml', 'pipeline');
const all = [build, ciDelivery, ciGithub, gitlab];

describe('pipeline targeting (core)', () => {
  it('names a pipeline by id, by <source>:<id> and by key', () => {
    assert.equal(pipelineKey(ciGithub), '.github/workflows/ci.yml#ci');
    assert.equal(qualifiedName(ciGithub), 'github:ci');
    assert.equal(runPipelineKey({ source: ciGithub.def.source, pipelineId: 'ci' }), pipelineKey(ciGithub), 'a run record keys like its pipeline');
    assert.deepEqual(pipelineByName(all, 'build'), { pipeline: build });
    assert.deepEqual(pipelineByName(all, 'github:ci'), { pipeline: ciGithub });
    assert.deepEqual(pipelineByKeyOrName(all, '.github/workflows/ci.yml#ci'), { pipeline: ciGithub });
    assert.deepEqual(pipelineByKeyOrName(all, 'gitlab:pipeline'), { pipeline: gitlab });
  });

  it('refuses an ambiguous name, listing the candidates, instead of taking the first match', () => {
    assert.deepEqual(pipelineByName(all, 'ci'), { error: '"ci" is ambiguous: delivery:ci (delivery.yml), github:ci (.github/workflows/ci.yml)' });
    assert.deepEqual(pipelineByKeyOrName(all, 'ci'), pipelineByName(all, 'ci'));
    assert.deepEqual(pipelineByName(all, 'deploy'), { error: 'no pipeline "deploy" (pipelines: delivery:build, delivery:ci, github:ci, gitlab:pipeline)' });
    assert.deepEqual(pipelineByName([], 'x'), { error: 'no pipeline "x" (pipelines: none)' });
  });

  it('takes a name without regard to case when nothing matches exactly, and lists names with their ids', () => {
    const main = { def: { ...pipeline('github', '.github/workflows/main.yml', 'main').def, name: 'CI' } };
    assert.deepEqual(pipelineByName([main, build], 'ci'), { pipeline: main }, 'typing_extensions: `run ci` for the workflow named CI');
    assert.deepEqual(pipelineByName([main, build], 'MAIN'), { pipeline: main });
    assert.deepEqual(pipelineByName([main, build], 'github:Main'), { pipeline: main });
    assert.deepEqual(pipelineByName([main, build], 'gitlab:main'), { error: 'no pipeline "gitlab:main" (pipelines: github:main "CI", delivery:build)' });
  });

  it('blocks a pipeline on the errors of its own file only; warnings and other files do not', () => {
    const problems = [problem('delivery.yml', 'warning'), problem('delivery.yml', 'info'), problem('.gitlab-ci.yml', 'error'), problem('.gitlab-ci.yml', 'error', 'second', 9)];
    assert.equal(pipelineBlocked(problems, build), null);
    const blocked = pipelineBlocked(problems, gitlab);
    assert.deepEqual(blocked?.errors.map((p) => p.message), ['error in .gitlab-ci.yml', 'second']);
    assert.equal(describeBlocked(blocked!), '.gitlab-ci.yml has 2 errors');
    assert.equal(describeBlocked({ file: 'delivery.yml', errors: [problem('delivery.yml', 'error')] }), 'delivery.yml has 1 error');
    assert.equal(problemLine(problems[2]), '.gitlab-ci.yml:3:5: error: error in .gitlab-ci.yml');
    assert.deepEqual(blockingProblems(problems).length, 2);
    assert.deepEqual(blockingProblems(problems, (f) => f.startsWith('delivery')), [], 'a predicate picks the files');
  });

  it('targets a pipeline for a run: found, blocked by its file, or not found with the errors that may hide it', () => {
    const problems = [problem('.github/workflows/ci.yml', 'error'), problem('delivery.yml', 'warning')];
    assert.deepEqual(targetPipeline({ pipelines: all, problems }, 'build'), { pipeline: build });
    const blocked = targetPipeline({ pipelines: all, problems }, 'github:ci');
    assert.ok('blocked' in blocked && blocked.pipeline === ciGithub && blocked.blocked.errors.length === 1);
    // A file that could not be read has no pipelines: its errors explain the unknown name.
    const unknown = targetPipeline({ pipelines: [build], problems: [problem('.gitlab-ci.yml', 'error')] }, 'gitlab:pipeline');
    assert.deepEqual(unknown, { notFound: 'no pipeline "gitlab:pipeline" (pipelines: delivery:build)', unreadable: [problem('.gitlab-ci.yml', 'error')] });
    // An ambiguous name is a usage error, whatever else is wrong.
    const ambiguous = targetPipeline({ pipelines: all, problems: [problem('.gitlab-ci.yml', 'error')] }, 'ci');
    assert.ok('notFound' in ambiguous && ambiguous.notFound.includes('is ambiguous') && ambiguous.unreadable.length === 0);
  });

  it('guards one run per pipeline: claimed while starting, held by the run, free once released', () => {
    const guard = new RunGuard<{ id: string }>();
    const first = guard.claim('/w', 'delivery.yml#build');
    assert.ok('hold' in first);
    assert.deepEqual(guard.claim('/w', 'delivery.yml#build'), { busy: null }, 'a second start while the first is still planning is refused');
    assert.equal(guard.holder('/w', 'delivery.yml#build'), undefined);
    first.hold({ id: 'run-1' });
    assert.deepEqual(guard.claim('/w', 'delivery.yml#build'), { busy: { id: 'run-1' } });
    assert.deepEqual(guard.holder('/w', 'delivery.yml#build'), { id: 'run-1' });
    assert.ok('hold' in guard.claim('/w', 'delivery.yml#ci'), 'another pipeline runs alongside');
    assert.ok('hold' in guard.claim('/other', 'delivery.yml#build'), 'the same pipeline of another folder runs alongside');
    first.release();
    assert.equal(guard.holder('/w', 'delivery.yml#build'), undefined);
    const second = guard.claim('/w', 'delivery.yml#build');
    assert.ok('hold' in second);
    first.release(); // a late second release of the old claim must not free the new one
    assert.deepEqual(guard.claim('/w', 'delivery.yml#build'), { busy: null });
  });

  it('prunes the history with one policy: the limit a setting gives, else 200; the store deletes; failures never fail a run', async () => {
    const asked: number[] = [];
    const store = { prune: async (keep: number) => (asked.push(keep), 3) };
    assert.equal(await pruneHistory(store), 3);
    assert.equal(await pruneHistory(store, 50), 3);
    assert.deepEqual(asked, [HISTORY_MAX_RUNS, 50]);
    assert.equal(HISTORY_MAX_RUNS, 200);
    assert.deepEqual([historyLimit(500), historyLimit(undefined), historyLimit(0), historyLimit(2.5), historyLimit('9')], [500, 200, 200, 200, 200]);
    assert.equal(await pruneHistory({ prune: async () => Promise.reject(new Error('EACCES')) }), null);
  });
});
