// Turns a resolved GitLab pipeline into a run plan for the local shell (gitlab-ci-local's shell executor):
// which jobs run (names, --needs, --manual), in what order (needs, else stage order), and how each job runs —
// before_script + script in one bash, each command echoed as `$ cmd` first, after_script in its own bash.
import type { PipelineSource } from '../../shared/model';
import type { PlannedJob, PlannedStep, RunPlan } from '../engine/plan';
import type { CommandSpec } from '../engine/ports';
import type { RunRequest } from '../engine/select';
import { normalInstanceName } from './job';
import { expandKnown } from './variables';
import type { ResolvedJob } from './resolve';

/**
 * The bash program that runs a job's commands. The commands are its arguments (each one argv element, exactly as
 * written in the pipeline file); it echoes each as `$ command` and evaluates it in the same shell, so `cd`,
 * variables and functions carry over between lines as they do in GitLab. Nothing is spliced into this text.
 */
const RUN_COMMANDS = [
  '__delivery_commands=("$@"); set --',
  'for __delivery_command in "${__delivery_commands[@]}"; do',
  "  printf '$ %s\\n' \"${__delivery_command%$'\\n'}\"",
  '  eval "$__delivery_command"',
  'done',
].join('\n');

export function commandsSpec(commands: readonly string[], cwd: string, env: Record<string, string>): CommandSpec {
  return { command: 'bash', args: ['--noprofile', '--norc', '-eo', 'pipefail', '-c', RUN_COMMANDS, 'gitlab-job', ...commands], cwd, env };
}

export interface SelectedJob {
  job: ResolvedJob;
  deps: string[];
  after: string[];
  /** A manual job that runs because it was named. */
  enabled: boolean;
}

/** Which jobs a run includes and what each waits for; an error for requests that cannot run as asked. */
export function selectJobs(all: readonly ResolvedJob[], request: RunRequest): { jobs: SelectedJob[] } | { error: string } {
  const byName = (name: string): ResolvedJob[] => {
    const exact = all.filter((j) => j.id === name || normalInstanceName(j.id) === normalInstanceName(name));
    return exact.length ? exact : all.filter((j) => j.job.name === name);
  };
  const expand = (names: readonly string[] | undefined): { ids: Set<string>; unknown: string[] } => {
    const ids = new Set<string>();
    const unknown: string[] = [];
    for (const n of names ?? []) {
      const found = byName(n);
      if (found.length === 0) unknown.push(n);
      for (const j of found) ids.add(j.id);
    }
    return { ids, unknown };
  };
  const chosen = expand(request.jobs);
  const manual = expand(request.manual);
  const unknown = [...chosen.unknown, ...manual.unknown];
  if (unknown.length) {
    return { error: `no job named ${unknown.map((u) => `"${u}"`).join(', ')} in this pipeline (jobs: ${[...new Set(all.map((j) => j.job.name))].join(', ')})` };
  }
  const byId = new Map(all.map((j) => [j.id, j]));
  const include = chosen.ids.size ? new Set(chosen.ids) : new Set(all.map((j) => j.id));
  const enabled = new Set([...chosen.ids, ...manual.ids]);
  if (chosen.ids.size && request.withNeeds) {
    // What a job waits for, as gitlab-ci-local's --needs follows it: its needs, or (without `needs:`) every job of the
    // earlier stages that runs (rules keep it, and a manual one only when named).
    const upstream = (job: ResolvedJob): string[] =>
      job.needs !== null
        ? job.needs.map((n) => n.id)
        : all.filter((o) => o.stageIndex < job.stageIndex && !o.excluded && (o.when !== 'manual' || enabled.has(o.id))).map((o) => o.id);
    const stack = [...include];
    while (stack.length) {
      const job = byId.get(stack.pop()!);
      for (const id of job ? upstream(job) : []) {
        const t = byId.get(id);
        if (t && !t.excluded && !include.has(id)) {
          include.add(id);
          stack.push(id);
        }
      }
    }
  }
  const jobs: SelectedJob[] = [];
  for (const job of all) {
    if (!include.has(job.id)) continue;
    const deps: string[] = [];
    const runs = !job.excluded && (job.when !== 'manual' || enabled.has(job.id));
    for (const need of job.needs ?? []) {
      const t = byId.get(need.id)!;
      if (t.excluded) {
        if (need.optional || job.excluded) continue;
        return { error: `"${job.id}" needs "${t.id}", which is not in this pipeline (${t.excluded}); make the need optional: true or change the rules` };
      }
      if (!include.has(t.id)) continue;
      if (runs && t.when === 'manual' && !enabled.has(t.id)) {
        return { error: `${t.id} is a manual job and ${job.id} needs it: run it too by naming it as a manual job to run (--manual "${t.id}"), or run "${job.id}" on its own` };
      }
      deps.push(t.id);
    }
    const after = job.needs === null ? all.filter((o) => include.has(o.id) && !o.excluded && o.stageIndex < job.stageIndex).map((o) => o.id) : [];
    jobs.push({ job, deps, after, enabled: job.when === 'manual' && enabled.has(job.id) });
  }
  return { jobs };
}

export interface PlanOptions {
  folder: string;
  pipelineId: string;
  pipelineName: string;
  source: PipelineSource;
  stages: string[];
  allowImages: boolean;
  /** Paths of the files written for `type: file` project variables, per job id and variable. */
  fileVariablePaths: Map<string, Record<string, string>>;
}

export function buildPlan(selected: readonly SelectedJob[], opts: PlanOptions): RunPlan {
  const jobs = selected.map(({ job: r, deps, after, enabled }): PlannedJob => {
    const job = r.job;
    const env = { ...r.env, ...opts.fileVariablePaths.get(r.id), DELIVERY: 'true', DELIVERY_PIPELINE: opts.pipelineId, DELIVERY_JOB: r.id };
    const steps: PlannedStep[] = [];
    // A variable the job does not have stays as written: the image is still one we cannot run here.
    const expand = (s: string) => expandKnown(s, r.env);
    const needsImage = job.delegated ? null : imageReason(job.image && expand(job.image), job.services.map(expand));
    if (needsImage && opts.allowImages) {
      steps.push({ name: 'image', when: 'on_success', command: null, unsupported: null, continueOnError: false, noop: `${needsImage}: running in the local shell instead, as asked` });
    }
    const commands = [...job.beforeScript, ...job.script].map((l) => l.text);
    if (!job.delegated && !job.incomplete) steps.push({ name: 'script', when: 'on_success', command: commandsSpec(commands, opts.folder, env), unsupported: null, noop: null, continueOnError: false });
    if (job.afterScript.length > 0 && !job.delegated) {
      const lines = job.afterScript.map((l) => l.text);
      steps.push({
        name: 'after_script',
        // GitLab runs after_script whatever happened before, in a new shell; its failure only warns.
        when: 'always',
        command: (ctx) => commandsSpec(lines, opts.folder, { ...env, CI_JOB_STATUS: ctx.cancelled ? 'canceled' : ctx.failed ? 'failed' : 'success' }),
        unsupported: null,
        noop: null,
        continueOnError: true,
      });
    }
    if (job.release) {
      steps.push({ name: 'release', when: 'on_success', command: null, unsupported: 'release: creates a GitLab release through the GitLab API', noop: null, continueOnError: false });
    }
    let unsupported = job.delegated ?? job.incomplete;
    if (!unsupported && needsImage && !opts.allowImages) unsupported = `${needsImage} (jobs with an image run only when you allow them in the local shell)`;
    if (r.excluded) unsupported = null; // skipped by its rules: whether it could run does not matter
    return {
      id: r.id,
      name: r.id,
      stage: job.stage,
      deps,
      after,
      when: enabled ? 'on_success' : r.when,
      allowFailure: r.allowFailure,
      allowFailureExitCodes: r.allowFailureExitCodes,
      retries: job.retries,
      timeoutMs: job.timeoutMs,
      steps,
      unsupported,
      condition: r.excluded ? () => ({ run: false, reason: r.excluded! }) : undefined,
      junit: job.junit,
      artifacts: job.artifacts,
      cwd: opts.folder,
    };
  });
  return { pipelineId: opts.pipelineId, pipelineName: opts.pipelineName, source: opts.source, stages: opts.stages, jobs };
}

/** Why a job needs containers ("needs Docker image node:20"), or null when it runs in a shell as it is. */
export function imageReason(image: string | null, services: readonly string[]): string | null {
  const parts: string[] = [];
  if (image) parts.push(`Docker image ${image}`);
  if (services.length) parts.push(`service container${services.length === 1 ? '' : 's'} ${services.join(', ')}`);
  return parts.length ? `needs ${parts.join(' and ')}` : null;
}
