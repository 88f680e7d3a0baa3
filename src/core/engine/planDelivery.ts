// Turns a delivery.yml pipeline into a run plan.
import * as path from 'node:path';
import type { PipelineDef } from '../../shared/model';
import type { PlannedJob, RunPlan } from './plan';
import { shellCommand } from './shell';
import { selectJobs, type RunRequest } from './select';

export function planDeliveryPipeline(pipeline: PipelineDef, folder: string, request: RunRequest = {}): RunPlan | { error: string } {
  if (pipeline.jobs.length === 0 && pipeline.remote) {
    return { error: `pipeline "${pipeline.id}" has no local jobs: it runs on ${pipeline.remote.engine} (delivery remote trigger ${pipeline.id})` };
  }
  const selection = selectJobs(pipeline.jobs, request);
  if ('error' in selection) return selection;
  const jobs: PlannedJob[] = selection.jobs.map(({ job, deps, forced }) => {
    const cwd = job.cwd ? path.resolve(folder, job.cwd) : folder;
    const baseEnv = {
      ...pipeline.env,
      ...job.env,
      DELIVERY: 'true',
      DELIVERY_PIPELINE: pipeline.id,
      DELIVERY_JOB: job.id,
      DELIVERY_WORKSPACE: folder,
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
      cwd,
      steps: job.steps.map((step, i) => ({
        name: step.name ?? (job.steps.length === 1 ? job.name : `step ${i + 1}`),
        when: 'on_success' as const,
        command: shellCommand(job.shell, step.script ?? '', cwd, baseEnv),
        unsupported: step.unsupported,
        noop: null,
        continueOnError: false,
      })),
    };
  });
  return { pipelineId: pipeline.id, pipelineName: pipeline.name, source: pipeline.source, stages: pipeline.stages, jobs };
}
