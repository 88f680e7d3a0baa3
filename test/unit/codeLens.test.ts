// The CodeLens of pipeline files (core/codeLens.ts): where they go, what they say and which command they run, from
// files parsed by the real importers; and positions followed through unsaved edits (core/editTracking.ts).
import * as assert from 'node:assert/strict';
import { lastResult, pipelineFileLenses, recordsByJob, type LensInput, type LensSpec } from '../../src/core/codeLens';
import { shiftThrough, type TextEdit } from '../../src/core/editTracking';
import { parseDeliveryConfig } from '../../src/core/config/delivery';
import { importWorkflow } from '../../src/core/github/importer';
import { importGitlabCi } from '../../src/core/gitlab/importer';
import { sourceOf } from '../../src/core/importers';
import type { ImportContext } from '../../src/core/sources';
import { pipelineKey } from '../../src/core/targeting';
import type { JobRecord, PipelineDef, RunRecord } from '../../src/shared/model';

const FOLDER = '/w';

/** 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `a line contains ${needle}`);
  return i + 1;
}

const brief = (l: LensSpec) => [l.line, l.title, l.command?.id ?? null, l.command ? l.command.arg : null];

function input(file: string, defs: PipelineDef[], runs: Record<string, RunRecord> = {}, environments: LensInput['environments'] = []): LensInput {
  return {
    file,
    folder: FOLDER,
    pipelines: defs.map((def) => {
      const key = pipelineKey({ def });
      return { def, key, lastRun: runs[def.id], stagesOrderJobs: sourceOf(def.source.kind).stagesOrderJobs };
    }),
    environments,
  };
}

function record(id: string, status: JobRecord['status'], startedAt: number | null, durationMs: number, extra: Partial<JobRecord> = {}): JobRecord {
  return { id, name: id, stage: null, deps: [], status, allowFailure: false, exitCode: null, startedAt, durationMs, attempts: 1, reason: null, steps: [], tests: null, artifacts: [], logFile: `/logs/${id}.log`, ...extra };
}

function run(id: string, jobs: JobRecord[]): RunRecord {
  return { id, folder: FOLDER, pipelineId: 'ci', pipelineName: 'CI', source: { kind: 'delivery', file: 'delivery.yml' }, stages: null, status: 'failed', startedAt: 0, finishedAt: 1, durationMs: 1, trigger: 'vscode', sha: null, pid: 1, jobs };
}

const DELIVERY = `version: 1
pipelines:
  ci:
    name: CI
    jobs:
      build:
        run: echo build
      lint:
        needs: [build]
        run: echo lint
environments:
  staging:
    url: http://127.0.0.1:1
    deploy: { command: ./deploy.sh }
  production:
    url: http://127.0.0.1:2
`;

describe('CodeLens of pipeline files', () => {
  it('delivery.yml: Run pipeline, Run job (with needs when it has some), last result, Deploy and Diff, at their keys', () => {
    const cfg = parseDeliveryConfig(DELIVERY);
    assert.deepEqual(cfg.problems, []);
    const key = 'delivery.yml#ci';
    const last = run('r1', [record('build', 'success', 1000, 12_000), record('lint', 'failed', 13_000, 800)]);
    const lenses = pipelineFileLenses(input('delivery.yml', cfg.pipelines, { ci: last }, cfg.environments));
    const ref = { folder: FOLDER, pipelineKey: key };
    assert.deepEqual(lenses.map(brief), [
      [lineOf(DELIVERY, '  ci:'), '$(play) Run pipeline', 'delivery.pipeline.run', ref],
      [lineOf(DELIVERY, 'build:'), '$(play) Run job', 'delivery.job.run', { ...ref, jobs: ['build'] }],
      [lineOf(DELIVERY, 'build:'), 'last: $(pass-filled) 12s', 'delivery.run.showLog', { logFile: '/logs/build.log' }],
      [lineOf(DELIVERY, 'lint:'), '$(play) Run job', 'delivery.job.run', { ...ref, jobs: ['lint'] }],
      [lineOf(DELIVERY, 'lint:'), '$(play) with needs', 'delivery.job.run', { ...ref, jobs: ['lint'], withNeeds: true }],
      [lineOf(DELIVERY, 'lint:'), 'last: $(error) failed 800ms', 'delivery.run.showLog', { logFile: '/logs/lint.log' }],
      [lineOf(DELIVERY, 'staging:'), '$(rocket) Deploy', 'delivery.environment.deploy', { folder: FOLDER, environment: 'staging' }],
      [lineOf(DELIVERY, 'staging:'), '$(diff) Diff', 'delivery.environment.diff', { folder: FOLDER, environment: 'staging' }],
      // Nothing says how to deploy production: only its diff.
      [lineOf(DELIVERY, 'production:'), '$(diff) Diff', 'delivery.environment.diff', { folder: FOLDER, environment: 'production' }],
    ]);
    assert.ok(lenses.every((l) => l.column >= 1));
    // A job that did not run says so, without a duration; no log, nothing to open.
    const skipped = run('r3', [record('build', 'failed', 0, 300), record('lint', 'skipped', null, 0, { logFile: null })]);
    const lint = pipelineFileLenses(input('delivery.yml', cfg.pipelines, { ci: skipped })).filter((l) => l.title.startsWith('last:'));
    assert.deepEqual(lint.map(brief), [
      [lineOf(DELIVERY, 'build:'), 'last: $(error) failed 300ms', 'delivery.run.showLog', { logFile: '/logs/build.log' }],
      [lineOf(DELIVERY, 'lint:'), 'last: $(debug-step-over) skipped', null, null],
    ]);
    // Without a run: no "last:".
    assert.equal(pipelineFileLenses(input('delivery.yml', cfg.pipelines, {}, cfg.environments)).filter((l) => l.title.startsWith('last:')).length, 0);
    // Another file of the folder gets none of them.
    assert.deepEqual(pipelineFileLenses(input('other.yml', cfg.pipelines, { ci: last }, cfg.environments)), []);
  });

  it('a GitHub workflow: one lens for a matrix job (all its legs), a job that cannot run here says so and runs nothing', async () => {
    const text = `name: Checks
on: push
jobs:
  test:
    strategy: { fail-fast: false, matrix: { node: [18, 20] } }
    runs-on: ubuntu-latest
    steps: [{ run: echo test }]
  db:
    needs: test
    runs-on: ubuntu-latest
    services: { postgres: { image: 'postgres:16' } }
    steps: [{ run: echo db }]
`;
    const file = '.github/workflows/checks.yml';
    const result = await importWorkflow({ path: file, text }, { readFile: async () => null, listFiles: async () => [] });
    const [def] = result.pipelines.map((p) => p.def);
    const legs = run('r2', [record('test (18)', 'success', 0, 5000), record('test (20)', 'failed', 1000, 7000, { logFile: '/logs/t20.log' }), record('db', 'skipped', null, 0)]);
    const lenses = pipelineFileLenses(input(file, [def], { [def.id]: legs }));
    const ref = { folder: FOLDER, pipelineKey: pipelineKey({ def }) };
    assert.deepEqual(lenses.map(brief), [
      [def.location.line, '$(play) Run pipeline', 'delivery.pipeline.run', ref],
      [lineOf(text, '  test:'), '$(play) Run job', 'delivery.job.run', { ...ref, jobs: ['test'] }],
      // The legs together: the worst result, from the first start to the last end, the failed leg's log.
      [lineOf(text, '  test:'), 'last: $(error) failed 8.0s', 'delivery.run.showLog', { logFile: '/logs/t20.log' }],
      [lineOf(text, '  db:'), '$(circle-slash) Unsupported locally', null, null],
    ]);
    assert.match(lenses[3].tooltip, /needs service container postgres:16/);
  });

  it('GitLab CI: lenses in a local include, one per parallel job, "with needs" from the stage order', async () => {
    const files: Record<string, string> = {
      '.gitlab-ci.yml': 'stages: [build, test]\ninclude:\n  - local: ci/jobs.yml\n',
      'ci/jobs.yml': 'compile:\n  stage: build\n  script: [echo compile]\n\nunit:\n  stage: test\n  parallel: 2\n  script: [echo unit]\n',
    };
    const ctx: ImportContext = { readFile: async (rel) => files[rel] ?? null, listFiles: async () => [] };
    const result = await importGitlabCi({ path: '.gitlab-ci.yml', text: files['.gitlab-ci.yml'] }, ctx);
    assert.deepEqual(result.problems.filter((p) => p.severity === 'error'), []);
    const [def] = result.pipelines.map((p) => p.def);
    const ref = { folder: FOLDER, pipelineKey: pipelineKey({ def }) };
    const unitIds = def.jobs.filter((j) => j.id.startsWith('unit')).map((j) => j.id);
    assert.equal(unitIds.length, 2);
    assert.deepEqual(pipelineFileLenses(input('.gitlab-ci.yml', [def])).map(brief), [[1, '$(play) Run pipeline', 'delivery.pipeline.run', ref]]);
    assert.deepEqual(pipelineFileLenses(input('ci/jobs.yml', [def])).map(brief), [
      [1, '$(play) Run job', 'delivery.job.run', { ...ref, jobs: ['compile'] }],
      [5, '$(play) Run job', 'delivery.job.run', { ...ref, jobs: unitIds }],
      [5, '$(play) with needs', 'delivery.job.run', { ...ref, jobs: unitIds, withNeeds: true }],
    ]);
  });

  it("a job's last result: running while a leg runs, a failure allowed to fail is a success, absent when the run skipped the job", () => {
    const ids = ['test', 'build'];
    const legs = (r: RunRecord) => recordsByJob(r, ids).get('test') ?? [];
    assert.deepEqual([...recordsByJob(run('r', [record('test (1)', 'success', 0, 10), record('build', 'success', 0, 10), record('test (2)', 'running', 0, 0)]), ids).entries()].map(([id, rs]) => [id, rs.map((r) => r.id)]), [
      ['test', ['test (1)', 'test (2)']],
      ['build', ['build']],
    ]);
    assert.equal(lastResult(legs(run('r', [record('test (1)', 'success', 0, 10), record('test (2)', 'running', 0, 0)])))?.status, 'running');
    assert.deepEqual(lastResult(legs(run('r', [record('test', 'failed', 0, 10, { allowFailure: true })]))), { status: 'success', durationMs: 10, logFile: '/logs/test.log' });
    assert.equal(lastResult(legs(run('r', [record('build', 'success', 0, 10)]))), undefined);
  });
});

describe('positions through unsaved edits', () => {
  const key = { line: 4, character: 2 };
  const edit = (sl: number, sc: number, el: number, ec: number, text: string): TextEdit => ({ start: { line: sl, character: sc }, end: { line: el, character: ec }, text });

  it('moves with lines added or removed above, stays for edits below or after it on its line', () => {
    assert.deepEqual(shiftThrough(key, [edit(1, 0, 1, 0, 'a: 1\nb: 2\n')]), { line: 6, character: 2 });
    assert.deepEqual(shiftThrough(key, [edit(1, 0, 3, 0, '')]), { line: 2, character: 2 });
    assert.deepEqual(shiftThrough(key, [edit(7, 0, 7, 0, 'x\n')]), key);
    assert.deepEqual(shiftThrough(key, [edit(4, 9, 4, 9, ' # note')]), key);
  });

  it('moves along its line when text is typed before it, and follows several edits in order', () => {
    assert.deepEqual(shiftThrough(key, [edit(4, 0, 4, 0, '  ')]), { line: 4, character: 4 });
    assert.deepEqual(shiftThrough(key, [edit(4, 2, 4, 2, 'x:\n  ')]), { line: 5, character: 2 });
    assert.deepEqual(shiftThrough(key, [edit(0, 0, 0, 0, '\n'), edit(5, 0, 5, 2, '')]), { line: 5, character: 0 });
  });

  it('is gone when the edit rewrote it', () => {
    assert.equal(shiftThrough(key, [edit(4, 2, 4, 7, 'renamed')]), null);
    assert.equal(shiftThrough(key, [edit(2, 0, 6, 0, '')]), null);
  });
});
