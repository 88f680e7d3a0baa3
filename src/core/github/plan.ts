// Plans a local run of a GitHub Actions workflow: matrices expanded into jobs, `if:` conditions on jobs and steps,
// and steps whose commands are built when they start — so `steps.*.outputs`, `needs.*.outputs`, GITHUB_ENV,
// GITHUB_PATH and GITHUB_OUTPUT behave as on GitHub. Jobs that call a reusable workflow (of this repository, or of
// another one fetched from the actions host) become the called workflow's jobs (reusable.ts). What cannot run here
// (a called workflow that cannot be fetched, …) is planned as unsupported with the reason.
import type { JobDef } from '../../shared/model';
import type { PlannedJob, RunPlan } from '../engine/plan';
import { selectJobs, type RunRequest, type SelectedJob } from '../engine/select';
import type { PlanContext } from '../sources';
import { runFacts, type GithubRunOptions } from './context';
import { checkEventName, checkRunInputs, DEFAULT_EVENT, payloadInputs } from './runInputs';
import { evaluateTemplate, parseCached, references, splitTemplate, toText } from './expressions';
import { JobRun, WorkflowRun, readsMatrix } from './job';
import { expandMatrix, type Combination } from './matrix';
import { callSite, calledFrom, calledWorkflow, loadCalledWorkflows, type CalledWorkflows } from './reusable';
import type { Workflow, WorkflowJob } from './workflow';
import type { GithubProgram } from './planData';

export async function planWorkflow(
  wf: Workflow,
  defs: readonly JobDef[],
  request: RunRequest,
  ctx: PlanContext,
  opts: GithubRunOptions = {},
): Promise<RunPlan | { error: string }> {
  const given = runOptions(wf, request, opts);
  if ('error' in given) return given;
  const variables = { ...ctx.variables, ...request.variables };
  // The workspaces given to the jobs, so the run's runtime gives each the same one (planData.ts: GithubProgram).
  const workspaces: Record<string, string | null> = {};
  const workspaceFor = ctx.workspaceFor;
  const planCtx: PlanContext = workspaceFor ? { ...ctx, workspaceFor: (id) => (workspaces[id] = workspaceFor(id)) } : ctx;
  const run = new WorkflowRun(wf, planCtx, request, runFacts(wf, planCtx, variables, given, String(ctx.now)));
  // One matrix leg is named as the planner names it ("test (16)"): its job is selected, its other legs dropped.
  const named = namedLegs(run, defs, request.jobs ?? []);
  if ('error' in named) return named;
  const selection = selectJobs(defs, { ...request, jobs: named.jobs });
  if ('error' in selection) return selection;
  const entries = selection.jobs.map(({ job, deps }) => ({ wj: wf.jobs.find((j) => j.id === job.id)!, deps }));
  const called = await loadCalledWorkflows(wf, entries.map((e) => e.wj), ctx);
  if ('error' in called) return called;
  try {
    const jobs = onlyNamedLegs(planJobs(run, entries, called), run, named.legs, selection.jobs);
    const program: GithubProgram = {
      workflow: wf,
      called: calledData(called),
      entries: entries.map((e) => ({ job: e.wj.id, deps: e.deps })),
      request,
      options: given,
      variables,
      context: {
        folder: ctx.folder,
        now: ctx.now,
        host: ctx.host,
        ...(ctx.git ? { git: ctx.git } : {}),
        ...(ctx.variables ? { variables: ctx.variables } : {}),
        ...(ctx.workspace ? { workspace: ctx.workspace } : {}),
      },
      ...(workspaceFor ? { workspaces } : {}),
    };
    return { pipelineId: wf.id, pipelineName: wf.name, source: { kind: 'github', file: wf.file }, stages: null, jobs, github: program };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * The run's options: the importer's, with the request's event, inputs and secrets over them. The event's name and
 * the inputs (the payload's and the request's) are checked here, before anything runs.
 */
function runOptions(wf: Workflow, request: RunRequest, opts: GithubRunOptions): GithubRunOptions | { error: string } {
  const event = request.event ?? opts.event;
  const name = event?.name ?? DEFAULT_EVENT;
  if (request.event) {
    const bad = checkEventName(name);
    if (bad) return { error: bad };
  }
  const errors = checkRunInputs(wf, name, { ...payloadInputs(event?.payload), ...(request.inputs ?? {}) });
  if (errors.length) return { error: `the inputs of ${wf.file} do not fit; nothing was run:\n  ${errors.join('\n  ')}` };
  return {
    ...opts,
    ...(event ? { event } : {}),
    ...(request.inputs ? { inputs: request.inputs } : {}),
    ...(request.secrets ? { givenSecrets: { ...opts.givenSecrets, ...request.secrets } } : {}),
  };
}

export interface Entry {
  wj: WorkflowJob;
  /** Its needs that are part of this run. */
  deps: string[];
}

/**
 * The planned jobs of one workflow run (the top one, or a called one): each workflow job after the jobs it needs
 * (their planned ids must be known), listed in the file's order.
 */
/** The called workflows as data (GithubProgram.called), and back. */
function calledData(called: CalledWorkflows): GithubProgram['called'] {
  const workflows = Object.fromEntries(called.byKey);
  const origins: GithubProgram['called']['origins'] = {};
  for (const [key, wf] of called.byKey) {
    const origin = 'unavailable' in wf ? undefined : called.origins.get(wf);
    if (origin) origins[key] = origin;
  }
  return { workflows, origins };
}

export function calledWorkflows(data: GithubProgram['called']): CalledWorkflows {
  const byKey = new Map(Object.entries(data.workflows));
  const origins: CalledWorkflows['origins'] = new Map();
  for (const [key, origin] of Object.entries(data.origins)) {
    const wf = byKey.get(key);
    if (wf && !('unavailable' in wf)) origins.set(wf, origin);
  }
  return { byKey, origins };
}

export function planJobs(run: WorkflowRun, entries: Entry[], called: CalledWorkflows): PlannedJob[] {
  const byId = new Map(entries.map((e) => [e.wj.id, e]));
  const planned = new Map<string, PlannedJob[]>();
  const outer = run.site?.outerDeps ?? [];
  const visit = (id: string) => {
    if (planned.has(id)) return;
    const e = byId.get(id);
    if (!e) return;
    planned.set(id, []);
    for (const d of e.deps) visit(d);
    const depIds = [...new Set([...e.deps.flatMap((d) => run.expansions.get(d) ?? [`${run.site?.idPrefix ?? ''}${d}`]), ...outer])];
    planned.set(id, planJob(run, e.wj, e.deps, depIds, called));
  };
  for (const e of entries) visit(e.wj.id);
  return entries.flatMap((e) => planned.get(e.wj.id) ?? []);
}

function planJob(run: WorkflowRun, wj: WorkflowJob, needIds: string[], depIds: string[], called: CalledWorkflows): PlannedJob[] {
  const prefix = run.site?.idPrefix ?? '';
  if (wj.uses !== null) return planCall(run, wj, needIds, depIds, called);
  if (wj.matrix === null || wj.uses !== null) {
    run.expansions.set(wj.id, [prefix + wj.id]);
    return [new JobRun(run, wj, prefix + wj.id, null, true, { index: 0, total: 1 }, needIds).planned(depIds)];
  }
  if (matrixIsDynamic(wj.matrix, run.site?.runtimeInputs)) {
    run.expansions.set(wj.id, [prefix + wj.id]);
    return [dynamicMatrixJob(run, wj, needIds, depIds)];
  }
  const m = expandMatrix(wj.matrix, (s) => evaluateTemplate(s, run.planScope(null)));
  if ('error' in m) throw new Error(`${run.wf.file}: job "${wj.id}": ${m.error}`);
  const ids = uniqueIds(wj.id, m.combinations).map((id) => prefix + id);
  run.expansions.set(wj.id, ids);
  return m.combinations.map((c, i) => new JobRun(run, wj, ids[i], c, !m.tainted, { index: i, total: m.combinations.length }, needIds).planned(depIds));
}

/** A job that calls a local reusable workflow: the called workflow's jobs, once per matrix combination of the caller. */
function planCall(run: WorkflowRun, wj: WorkflowJob, needIds: string[], depIds: string[], called: CalledWorkflows): PlannedJob[] {
  const prefix = run.site?.idPrefix ?? '';
  const chain = run.site?.chain ?? [];
  const target = calledWorkflow(called, run.wf, wj, chain);
  const unsupported = (why: string): PlannedJob[] => {
    run.expansions.set(wj.id, [prefix + wj.id]);
    return [{ ...new JobRun(run, wj, prefix + wj.id, null, true, { index: 0, total: 1 }, needIds).planned(depIds), unsupported: why }];
  };
  if ('unsupported' in target) return unsupported(target.unsupported);
  let instances: { id: string; combo: Combination | null; trusted: boolean }[];
  if (wj.matrix === null) instances = [{ id: prefix + wj.id, combo: null, trusted: true }];
  else if (matrixIsDynamic(wj.matrix, run.site?.runtimeInputs)) {
    return unsupported(`its matrix reads needs, so the calls of ${wj.uses} are known only on GitHub (a local run plans them before it starts)`);
  } else {
    const m = expandMatrix(wj.matrix, (s) => evaluateTemplate(s, run.planScope(null)));
    if ('error' in m) throw new Error(`${run.wf.file}: job "${wj.id}": ${m.error}`);
    const ids = uniqueIds(wj.id, m.combinations);
    instances = m.combinations.map((c, i) => ({ id: prefix + ids[i], combo: c, trusted: !m.tainted }));
  }
  const file = target.file;
  const jobs: PlannedJob[] = [];
  const runs: WorkflowRun[] = [];
  instances.forEach((inst, i) => {
    const caller = new JobRun(run, wj, inst.id, inst.combo, inst.trusted, { index: i, total: instances.length }, needIds);
    const site = callSite(run, caller, target, depIds, [...chain, file]);
    const child = new WorkflowRun(target, run.ctx, run.request, site.facts, site, run);
    jobs.push(...planJobs(child, target.jobs.map((j) => ({ wj: j, deps: j.needs })), called));
    runs.push(child);
  });
  // A workflow of another repository: each of its jobs' logs says where it came from.
  const from = calledFrom(called, target);
  if (from) for (const j of jobs) if (!j.notes?.includes(from)) j.notes = [from, ...(j.notes ?? [])];
  run.expansions.set(wj.id, jobs.map((j) => j.id));
  run.calls.set(wj.id, runs);
  return jobs;
}

/**
 * The legs of the workflow's matrix jobs known before the run (their ids, as planJob makes them), by job id. A
 * matrix that reads needed jobs' outputs, or one that cannot be expanded, has none here.
 */
function staticLegs(run: WorkflowRun): Map<string, string[]> {
  const legs = new Map<string, string[]>();
  for (const [id, list] of legNames(run)) legs.set(id, list.map((l) => l.id));
  return legs;
}

/** Each leg's id and the name GitHub shows for it (`name: Node.js ${{ matrix.node }}` → "Node.js 14"). */
function legNames(run: WorkflowRun): Map<string, { id: string; display: string }[]> {
  const legs = new Map<string, { id: string; display: string }[]>();
  for (const wj of run.wf.jobs) {
    if (wj.matrix === null || wj.uses !== null || matrixIsDynamic(wj.matrix, undefined)) continue;
    try {
      const m = expandMatrix(wj.matrix, (s) => evaluateTemplate(s, run.planScope(null)));
      if ('error' in m) continue;
      const ids = uniqueIds(wj.id, m.combinations);
      legs.set(
        wj.id,
        m.combinations.map((c, i) => {
          let display = ids[i];
          if (wj.name !== null) {
            try {
              const shown = toText(evaluateTemplate(wj.name, run.planScope(c.values)).value);
              display = readsMatrix(wj.name) ? shown : `${shown} (${c.label})`;
            } catch {
              // Known only at run time: the id stands for it.
            }
          }
          return { id: ids[i], display };
        }),
      );
    } catch {
      // Not expandable before the run: the job is named as a whole.
    }
  }
  return legs;
}

/**
 * The requested names with each matrix leg ("test (16)") replaced by its job, and the legs asked for per job; an
 * error naming the jobs and legs when a name is neither.
 */
function namedLegs(run: WorkflowRun, defs: readonly JobDef[], names: readonly string[]): { jobs: string[]; legs: Map<string, Set<string>> } | { error: string } {
  const ids = new Set(defs.map((d) => d.id));
  const legs = new Map<string, Set<string>>();
  const jobs: string[] = [];
  let index: Map<string, string[]> | null = null;
  let shown: Map<string, { id: string; display: string }[]> | null = null;
  const unknown: string[] = [];
  for (const name of names) {
    if (ids.has(name)) {
      jobs.push(name);
      continue;
    }
    index ??= staticLegs(run);
    const owner = [...index].find(([, list]) => list.includes(name))?.[0];
    if (owner !== undefined) {
      jobs.push(owner);
      const set = legs.get(owner) ?? new Set<string>();
      set.add(name);
      legs.set(owner, set);
      continue;
    }
    // The name GitHub shows: a leg's ("Node.js 14"), or a job's (`name: Build`) when only one job has it.
    shown ??= legNames(run);
    const byDisplay = [...shown].flatMap(([id, list]) => list.filter((l) => l.display === name).map((l) => ({ owner: id, leg: l.id })));
    if (byDisplay.length > 0) {
      for (const { owner: o, leg } of byDisplay) {
        jobs.push(o);
        const set = legs.get(o) ?? new Set<string>();
        set.add(leg);
        legs.set(o, set);
      }
      continue;
    }
    const named = defs.filter((d) => !d.matrix && d.name === name);
    if (named.length === 1) {
      jobs.push(named[0].id);
      continue;
    }
    // A leg of a matrix known only once the jobs it needs have run: say so rather than "no job".
    const dynamic = defs.find((d) => d.matrix && name.startsWith(`${d.id} (`) && !index!.has(d.id));
    if (dynamic) return { error: `"${name}": the matrix of job "${dynamic.id}" is known only when the run reaches it, so one of its legs cannot be named; run "${dynamic.id}"` };
    unknown.push(name);
  }
  if (unknown.length) {
    const all = [...(index ?? staticLegs(run)).values()].flat();
    const legList = all.length ? `; matrix legs: ${all.slice(0, 30).join(', ')}${all.length > 30 ? `, … (${all.length - 30} more)` : ''}` : '';
    return { error: `no job named ${unknown.map((u) => `"${u}"`).join(', ')} (jobs: ${defs.map((d) => d.id).join(', ')}${legList})` };
  }
  return { jobs: [...new Set(jobs)], legs };
}

/**
 * Drops the legs of a job that were not asked for, unless the job was also named whole or another job of the run
 * needs it (then all its legs run, as that job waits for all of them).
 */
function onlyNamedLegs(jobs: PlannedJob[], run: WorkflowRun, legs: Map<string, Set<string>>, selected: readonly SelectedJob[]): PlannedJob[] {
  if (legs.size === 0) return jobs;
  const named = new Set(run.request.jobs ?? []);
  const drop = new Set<string>();
  for (const [jobId, keep] of legs) {
    if (named.has(jobId)) continue;
    const dependents = selected.filter((s) => s.deps.includes(jobId)).map((s) => s.job.id);
    if (dependents.length > 0) {
      // A job that needs this one waits for all of its legs, as on GitHub: they all run, and its log says why.
      const all = run.expansions.get(jobId) ?? [];
      const note = `needs every leg of ${jobId} (${all.length}), so all of them run, not only ${[...keep].join(', ')}`;
      for (const j of jobs) if (dependents.includes(j.id) || dependents.some((d) => run.expansions.get(d)?.includes(j.id))) j.notes = [...(j.notes ?? []), note];
      continue;
    }
    for (const id of run.expansions.get(jobId) ?? []) if (!keep.has(id)) drop.add(id);
  }
  return jobs.filter((j) => !drop.has(j.id));
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

/**
 * A matrix known only once the job is due: it reads a needed job's outputs, or an input of a called workflow
 * whose value reads them.
 */
function matrixIsDynamic(raw: unknown, runtimeInputs: Set<string> | undefined): boolean {
  const strings: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(raw);
  const late = new Set([...(runtimeInputs ?? [])].map((k) => k.toLowerCase()));
  return strings.some((s) => {
    try {
      return (splitTemplate(s) ?? []).some(
        (p) =>
          'expr' in p &&
          references(parseCached(p.expr)).contexts.some((c) => c.name === 'needs' || (c.name === 'inputs' && late.size > 0 && (c.key === null || late.has(c.key.toLowerCase())))),
      );
    } catch {
      return false;
    }
  });
}

function dynamicMatrixJob(run: WorkflowRun, wj: WorkflowJob, needIds: string[], depIds: string[]): PlannedJob {
  const prefix = run.site?.idPrefix ?? '';
  const group = new JobRun(run, wj, prefix + wj.id, null, false, { index: 0, total: 1 }, needIds);
  // The group runs nothing itself: each job it becomes has its own workspace.
  const planned = group.planned(depIds);
  delete planned.workspace;
  run.root.groups.set(group.id, (deps) => {
    const needs = run.needsContext(wj.needs, deps);
    const m = expandMatrix(wj.matrix, (s) => evaluateTemplate(s, run.planScope(null, needs)));
    if ('error' in m) return { error: `job "${wj.id}": ${m.error}` };
    const ids = uniqueIds(wj.id, m.combinations).map((id) => prefix + id);
    run.expansions.set(wj.id, [prefix + wj.id]);
    try {
      return {
        jobs: m.combinations.map((c, i) => {
          return new JobRun(run, wj, ids[i], c, !m.tainted, { index: i, total: m.combinations.length }, needIds, needs).planned(depIds);
        }),
      };
    } catch (err) {
      return { error: (err as Error).message };
    }
  });
  return {
    ...planned,
    // A name that reads the needed jobs' outputs is known per combination only: the group is named by its id.
    name: planned.name.includes('${{') ? `${run.site?.namePrefix ?? ''}${wj.id}` : planned.name,
    steps: [],
    expand: { kind: 'github-matrix' },
  };
}
