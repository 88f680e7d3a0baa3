// Turns a delivery.yml pipeline into a run plan.
import * as path from 'node:path';
import type { PipelineDef } from '../../shared/model';
import type { PlannedJob, RunPlan } from './plan';
import { shellCommand } from './shell';
import { selectJobs, type RunRequest } from './select';
import type { PlanContext } from '../sources';
import type { ProblemMatcherRef } from '../problems/matchers';

export function planDeliveryPipeline(
  pipeline: PipelineDef,
  folder: string,
  request: RunRequest = {},
  ws: Pick<PlanContext, 'workspace' | 'workspaceFor'> = {},
): RunPlan | { error: string } {
  if (pipeline.jobs.length === 0 && pipeline.remote) {
    return { error: `pipeline "${pipeline.id}" has no local jobs: it runs on ${pipeline.remote.engine} (delivery remote trigger ${pipeline.id})` };
  }
  const selection = selectJobs(pipeline.jobs, request);
  if ('error' in selection) return selection;
  const jobs: PlannedJob[] = selection.jobs.map(({ job, deps, forced }) => {
    // A job's own workspace when the run or the job asks for one; its artifacts go to the jobs that need it.
    const isolated = (ws.workspace ?? job.workspace ?? 'shared') === 'isolated';
    const own = isolated ? (ws.workspaceFor?.(job.id) ?? null) : null;
    const root = own ?? folder;
    const cwd = job.cwd ? path.resolve(root, job.cwd) : root;
    const baseEnv = {
      ...pipeline.env,
      ...job.env,
      DELIVERY: 'true',
      DELIVERY_PIPELINE: pipeline.id,
      DELIVERY_JOB: job.id,
      DELIVERY_WORKSPACE: root,
    };
    return {
      id: job.id,
      name: job.name,
      stage: job.stage,
      deps,
      after: [],
      when: forced && job.when === 'manual' ? 'on_success' : (job.when ?? 'on_success'),
      allowFailure: job.allowFailure,
      retries: job.retries,
      timeoutMs: job.timeoutMs,
      unsupported: job.unsupported,
      junit: job.reports.junit,
      artifacts: job.artifacts,
      ...(job.problemMatchers?.length ? { problemMatchers: job.problemMatchers as ProblemMatcherRef[] } : {}),
      cwd,
      ...(own ? { workspace: { source: folder, path: own, artifactsFrom: deps } } : {}),
      steps: job.steps.map((step, i) => ({
        name: step.name ?? (job.steps.length === 1 ? job.name : `step ${i + 1}`),
        when: 'on_success' as const,
        continueOnError: false,
        timeoutMs: null,
        run: step.unsupported !== null ? { kind: 'unsupported' as const, reason: step.unsupported } : { kind: 'command' as const, command: shellCommand(job.shell, step.script ?? '', cwd, baseEnv) },
      })),
    };
  });
  return { pipelineId: pipeline.id, pipelineName: pipeline.name, source: pipeline.source, stages: pipeline.stages, jobs };
}
