// Plans a local run of a GitHub Actions workflow: matrices expanded into jobs, `if:` conditions on jobs and steps,
// and steps whose commands are built when they start — so `steps.*.outputs`, `needs.*.outputs`, GITHUB_ENV,
// GITHUB_PATH and GITHUB_OUTPUT behave as on GitHub. What cannot run here (containers, services, remote actions,
// reusable workflows) is planned as unsupported with the reason.
import type { JobDef } from '../../shared/model';
import type { PlannedJob, RunPlan } from '../engine/plan';
import { selectJobs, type RunRequest } from '../engine/select';
import type { PlanContext } from '../sources';
import { runFacts, type GithubRunOptions } from './context';
import { evaluateTemplate, parseCached, references, splitTemplate } from './expressions';
import { JobRun, WorkflowRun } from './job';
import { expandMatrix, type Combination } from './matrix';
import type { Workflow, WorkflowJob } from './workflow';

export function planWorkflow(
  wf: Workflow,
  defs: readonly JobDef[],
  request: RunRequest,
  ctx: PlanContext,
  opts: GithubRunOptions = {},
): RunPlan | { error: string } {
  const selection = selectJobs(defs, request);
  if ('error' in selection) return selection;
  const variables = { ...ctx.variables, ...request.variables };
  const run = new WorkflowRun(wf, ctx, request, runFacts(wf, ctx, variables, opts, String(ctx.now)));
  // First the job ids every workflow job becomes (needs may point at jobs written further down).
  const expanded = new Map<string, { combos: Combination[] | null; trusted: boolean } | 'dynamic'>();
  for (const { job } of selection.jobs) {
    const wj = wf.jobs.find((j) => j.id === job.id)!;
    if (wj.matrix === null || wj.uses !== null) {
      run.expansions.set(wj.id, [wj.id]);
      expanded.set(wj.id, { combos: null, trusted: true });
      continue;
    }
    if (matrixNeedsJobs(wj.matrix)) {
      run.expansions.set(wj.id, [wj.id]);
      expanded.set(wj.id, 'dynamic');
      continue;
    }
    const m = expandMatrix(wj.matrix, (s) => evaluateTemplate(s, run.planScope(null)));
    if ('error' in m) return { error: `${wf.file}: job "${wj.id}": ${m.error}` };
    const ids = uniqueIds(wj.id, m.combinations);
    run.expansions.set(wj.id, ids);
    expanded.set(wj.id, { combos: m.combinations, trusted: !m.tainted });
  }
  const jobs: PlannedJob[] = [];
  try {
    for (const { job, deps } of selection.jobs) {
      const wj = wf.jobs.find((j) => j.id === job.id)!;
      const depIds = deps.flatMap((d) => run.expansions.get(d) ?? [d]);
      const e = expanded.get(wj.id)!;
      if (e === 'dynamic') {
        jobs.push(dynamicMatrixJob(run, wj, deps, depIds));
        continue;
      }
      if (!e.combos) {
        jobs.push(new JobRun(run, wj, wj.id, null, true, { index: 0, total: 1 }, deps).planned(depIds));
        continue;
      }
      const ids = run.expansions.get(wj.id)!;
      e.combos.forEach((c, i) => jobs.push(new JobRun(run, wj, ids[i], c, e.trusted, { index: i, total: e.combos!.length }, deps).planned(depIds)));
    }
  } catch (err) {
    return { error: (err as Error).message };
  }
  return { pipelineId: wf.id, pipelineName: wf.name, source: { kind: 'github', file: wf.file }, stages: null, jobs };
}

function uniqueIds(jobId: string, combos: Combination[]): string[] {
  const seen = new Set<string>();
  return combos.map((c, i) => {
    let id = `${jobId} (${c.label})`;
    if (seen.has(id)) id = `${jobId} (${c.label}) #${i + 1}`;
    seen.add(id);
    return id;
  });
}

/** A matrix that reads a needed job's outputs: it is known only once that job has run. */
function matrixNeedsJobs(raw: unknown): boolean {
  const strings: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(raw);
  return strings.some((s) => {
    try {
      return (splitTemplate(s) ?? []).some((p) => 'expr' in p && references(parseCached(p.expr)).contexts.some((c) => c.name === 'needs'));
    } catch {
      return false;
    }
  });
}

function dynamicMatrixJob(run: WorkflowRun, wj: WorkflowJob, needIds: string[], depIds: string[]): PlannedJob {
  const group = new JobRun(run, wj, wj.id, null, false, { index: 0, total: 1 }, needIds);
  const planned = group.planned(depIds);
  return {
    ...planned,
    steps: [],
    expand: (deps) => {
      const m = expandMatrix(wj.matrix, (s) => evaluateTemplate(s, run.planScope(null, run.needsContext(wj.needs, deps))));
      if ('error' in m) return { error: `job "${wj.id}": ${m.error}` };
      const ids = uniqueIds(wj.id, m.combinations);
      run.expansions.set(wj.id, [wj.id]);
      try {
        return {
          jobs: m.combinations.map((c, i) => {
            return new JobRun(run, wj, ids[i], c, !m.tainted, { index: i, total: m.combinations.length }, needIds).planned(depIds);
          }),
        };
      } catch (err) {
        return { error: (err as Error).message };
      }
    },
  };
}
