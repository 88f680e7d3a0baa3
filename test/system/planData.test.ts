// Plans are data (issue #10 item 0): a plan that went through JSON.stringify/parse runs as the plan itself does —
// the same jobs (a matrix from needs' outputs, a reusable workflow's jobs, a job whose if: is false), the same
// steps and results (GITHUB_ENV, step outputs, a composite action, continue-on-error, GitLab after_script with
// CI_JOB_STATUS, delivery.yml needs).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planFacts, systemClock } from '../../src/adapters/clock';
import { LocalWorkspaceFiles } from '../../src/adapters/files';
import { FolderSources } from '../../src/adapters/folderSources';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { runWorkspaces } from '../../src/adapters/workspaces';
import { startRun } from '../../src/core/engine/engine';
import type { RunPlan } from '../../src/core/engine/plan';
import type { RunRecord } from '../../src/shared/model';
import { assertData, EVERY_KIND } from '../support/planData';
import { cleanupTempDirs, tempDir, testPlanIO, writeFiles } from '../support/tmp';

/** What a run gave, job by job and step by step. */
function results(run: RunRecord): unknown {
  return {
    status: run.status,
    jobs: run.jobs.map((j) => ({ id: j.id, name: j.name, status: j.status, reason: j.reason, exitCode: j.exitCode, steps: j.steps.map((s) => [s.name, s.status, s.reason, s.exitCode]) })),
  };
}

describe('plans are data: a plan after a JSON round trip runs as the plan itself', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  it('gives the same job and step results for GitHub, GitLab and delivery.yml plans', async () => {
    const folder = tempDir();
    writeFiles(folder, EVERY_KIND);
    const workspaces = tempDir('delivery-plan-ws-');
    const workspaceFor = (id: string) => path.join(workspaces, id.replace(/[^A-Za-z0-9._-]+/g, '-'));
    const snapshot = await new FolderSources(folder).loadAll();
    const planned: { key: string; plan: RunPlan }[] = [];
    for (const p of snapshot.pipelines) {
      if (p.def.id === 'called') continue; // a reusable workflow: run by its caller
      const plan = await p.plan({}, { ...planFacts(), folder, io: testPlanIO, workspaceFor, git: { sha: null, ref: null, branch: null } });
      assert.ok(!('error' in plan), `${p.def.id}: ${'error' in plan ? plan.error : ''}`);
      planned.push({ key: `${p.def.source.kind} ${p.def.id}`, plan });
    }
    assert.equal(planned.length, 3);
    const run = async (plan: RunPlan) => {
      for (const f of fs.readdirSync(folder)) if (f.endsWith('.out')) fs.rmSync(path.join(folder, f));
      const handle = startRun(plan, { id: newRunId(), folder, trigger: 'cli', sha: null, pid: process.pid }, {
        runner: new LocalProcessRunner({ killGraceMs: 300 }),
        clock: systemClock,
        store: new FileRunStore(path.join(tempDir('delivery-plan-state-'), 'state')),
        workspaces: runWorkspaces(),
        files: new LocalWorkspaceFiles(folder),
        parallelism: 2,
        ports: { io: testPlanIO, workspaceFor },
      });
      const record = await handle.done;
      const outs = Object.fromEntries(fs.readdirSync(folder).filter((f) => f.endsWith('.out')).sort().map((f) => [f, fs.readFileSync(path.join(folder, f), 'utf8')]));
      return { results: results(record), outs, record };
    };
    for (const { key, plan } of planned) {
      assertData(plan, key);
      const copy = JSON.parse(JSON.stringify(plan)) as RunPlan;
      const original = await run(plan);
      const again = await run(copy);
      assert.deepEqual(again.results, original.results, `${key}: the round-tripped plan ran differently`);
      assert.deepEqual(again.outs, original.outs, `${key}: the round-tripped plan wrote different files`);

      // What the plans do, so that "the same" is not "nothing at all".
      const rec = again.record;
      const status = (id: string) => rec.jobs.find((j) => j.id === id)?.status;
      if (key === 'github every') {
        assert.equal(rec.status, 'success', JSON.stringify(again.results, null, 1));
        assert.deepEqual(
          rec.jobs.map((j) => [j.id, j.status]),
          [
            ['setup', 'success'],
            ['legs', 'success'],
            ['legs (a)', 'success'],
            ['legs (b)', 'success'],
            ['call / inner', 'success'],
            ['elsewhere', 'skipped'],
          ],
        );
        const setup = rec.jobs.find((j) => j.id === 'setup')!;
        assert.deepEqual(setup.steps.filter((s) => s.status !== 'success').map((s) => [s.name, s.status]), [['Run exit 3', 'failed']], 'only the step that may fail failed; the if: on env ran');
      } else if (key === 'gitlab gitlab-ci') {
        assert.deepEqual([status('build'), status('test'), status('excluded')], ['success', 'failed', 'skipped']);
        assert.equal(again.outs['after.out'], 'after build success\nafter test failed\n');
      } else {
        assert.equal(rec.status, 'success');
        assert.equal(again.outs['audit.out'], 'formatted\n');
      }
    }
  });
});
