// Plans are data (issue #10 item 0): plans of every source hold no functions, class instances or Maps and survive
// a JSON round trip unchanged; their steps and jobs name what they run by kind.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { planFacts } from '../../src/adapters/clock';
import { FolderSources } from '../../src/adapters/folderSources';
import type { RunPlan, StepKind } from '../../src/core/engine/plan';
import { assertData, EVERY_KIND } from '../support/planData';
import { cleanupTempDirs, tempDir, testPlanIO, writeFiles } from '../support/tmp';

const FIXTURES = path.join(__dirname, '../../../test/fixtures');

async function plans(folder: string): Promise<Map<string, RunPlan>> {
  const snapshot = await new FolderSources(folder).loadAll();
  const out = new Map<string, RunPlan>();
  for (const p of snapshot.pipelines) {
    if (p.def.remote && p.def.jobs.length === 0) continue;
    const plan = await p.plan({}, { ...planFacts(), folder, io: testPlanIO, workspaceFor: (id) => path.join(folder, '.ws', id), git: { sha: null, ref: null, branch: null } });
    assert.ok(!('error' in plan), `${p.def.source.file} ${p.def.id}: ${'error' in plan ? plan.error : ''}`);
    out.set(`${p.def.source.kind}:${p.def.source.file}:${p.def.id}`, plan);
  }
  return out;
}

const kinds = (plan: RunPlan): Set<StepKind> => new Set(plan.jobs.flatMap((j) => j.steps.map((s) => s.run.kind)));

describe('plans are data', () => {
  after(cleanupTempDirs);

  it('plans every GitHub step and job kind, a GitLab after_script and delivery.yml jobs as JSON data', async () => {
    const folder = tempDir();
    writeFiles(folder, EVERY_KIND);
    const all = await plans(folder);
    assert.deepEqual([...all.keys()].sort(), ['delivery:delivery.yml:local', 'github:.github/workflows/called.yml:called', 'github:.github/workflows/every.yml:every', 'gitlab:.gitlab-ci.yml:gitlab-ci'].sort());
    for (const [key, plan] of all) assertData(plan, key);

    const every = all.get('github:.github/workflows/every.yml:every')!;
    assert.deepEqual([...kinds(every)].sort(), ['github-action', 'github-docker', 'github-inert', 'github-run', 'github-setup']);
    const job = (id: string) => every.jobs.find((j) => j.id === id)!;
    assert.deepEqual(job('legs').expand, { kind: 'github-matrix' }, 'a matrix from needs expands when the run reaches it');
    assert.deepEqual(job('elsewhere').gate, { kind: 'github' });
    assert.deepEqual(job('call / inner').deps, ['setup'], 'a reusable workflow call becomes its jobs');
    const remote = job('elsewhere').steps[0].run;
    assert.ok(remote.kind === 'github-action' && remote.source.kind === 'remote' && remote.source.ref.repo === 'node-tool', JSON.stringify(remote));
    const run = job('setup').steps.find((s) => s.run.kind === 'github-run' && s.run.step.if !== null)!.run;
    assert.ok(run.kind === 'github-run' && run.step.if === "env.FROM_SETUP == 'yes'", 'the if: is an expression to evaluate when the step is due');
    assert.ok(every.github && every.github.workspaces && Object.keys(every.github.workspaces).length > 0, 'the workspaces given to the jobs are in the plan');

    const gitlab = all.get('gitlab:.gitlab-ci.yml:gitlab-ci')!;
    assert.deepEqual([...kinds(gitlab)].sort(), ['command', 'gitlab-after-script']);
    const after = gitlab.jobs.find((j) => j.id === 'build')!.steps.find((s) => s.name === 'after_script')!.run;
    assert.ok(after.kind === 'gitlab-after-script' && after.statusVariable === 'CI_JOB_STATUS');
    assert.deepEqual(gitlab.jobs.find((j) => j.id === 'excluded')?.gate?.kind, 'skip');
    assert.deepEqual([...kinds(all.get('delivery:delivery.yml:local')!)], ['command']);
  });

  it('plans the fixture repositories as JSON data', async () => {
    for (const dir of ['github/repo', 'multi-source', 'gitlab/templates', 'gitlab/matrix', 'gitlab/includes', 'workspace']) {
      const all = await plans(path.join(FIXTURES, dir));
      assert.ok(all.size > 0, dir);
      for (const [key, plan] of all) assertData(plan, `${dir} ${key}`);
    }
  });
});
