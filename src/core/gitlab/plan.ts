// Turns a resolved GitLab pipeline into a run plan for the local shell (gitlab-ci-local's shell executor):
// which jobs run (names, --needs, --manual), in what order (needs, else stage order), and how each job runs —
// before_script + script in one bash, each command echoed as `$ cmd` first, after_script in its own bash.
import type { PipelineSource } from '../../shared/model';
import type { PlannedJob, PlannedStep, RunPlan } from '../engine/plan';
import type { CommandSpec, ContainerExecutorSpec } from '../engine/ports';
import type { RunRequest } from '../engine/select';
import { normalInstanceName, serviceAliases } from './job';
import { expandKnown } from './variables';
import type { ResolvedJob } from './resolve';

/**
 * The bash program that runs a job's commands. The commands are its arguments (each one argv element, exactly as
 * written in the pipeline file); it echoes each as `$ command` and evaluates it in the same shell, so `cd`,
 * variables and functions carry over between lines as they do in GitLab. Nothing is spliced into this text.
 * Each line is evaluated followed by `:` on a line of its own: a line that is an AND/OR list (`false && exit 1`)
 * does not stop the job when its first command fails — as when GitLab writes the line into its script — while a
 * failing simple command still does (errexit applies inside eval).
 */
const RUN_COMMANDS = [
  '__delivery_commands=("$@"); set --',
  'for __delivery_command in "${__delivery_commands[@]}"; do',
  "  printf '$ %s\\n' \"${__delivery_command%$'\\n'}\"",
  "  eval \"$__delivery_command\"$'\\n:'",
  'done',
].join('\n');

export function commandsSpec(commands: readonly string[], cwd: string, env: Record<string, string>, inContainer = false): CommandSpec {
  if (inContainer) return { command: 'sh', args: ['-c', RUN_IN_IMAGE, 'gitlab-job', ...commands], cwd, env };
  return { command: 'bash', args: ['--noprofile', '--norc', '-eo', 'pipefail', '-c', RUN_COMMANDS, 'gitlab-job', ...commands], cwd, env };
}

/**
 * In an image, as GitLab's runner does: bash when the image has it, else sh (Alpine, busybox) with the same echo
 * and evaluation in one shell. RUN_COMMANDS is our constant, quoted here once; the commands stay arguments.
 */
const RUN_IN_IMAGE = [
  `if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc -eo pipefail -c '${RUN_COMMANDS.split("'").join(`'\\''`)}' "$0" "$@"; fi`,
  'set -e',
  "__delivery_nl='",
  "'",
  'for __delivery_command do',
  "  printf '$ %s\\n' \"$__delivery_command\"",
  '  eval "$__delivery_command$__delivery_nl:"',
  'done',
].join('\n');

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
    // One instance by its full name ("build: [aws, app1]", "job: [2/3]") or GitLab's "job 2/3".
    const full = normalInstanceName(name.replace(/^(.+) (\d+)\/(\d+)$/, '$1: [$2/$3]'));
    const exact = all.filter((j) => j.id === name || normalInstanceName(j.id) === full);
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
    const instances = all.filter((j) => j.id !== j.job.name).map((j) => j.id);
    const list = instances.length ? `; parallel jobs: ${instances.slice(0, 30).join(', ')}${instances.length > 30 ? `, … (${instances.length - 30} more)` : ''}` : '';
    return { error: `no job named ${unknown.map((u) => `"${u}"`).join(', ')} in this pipeline (jobs: ${[...new Set(all.map((j) => j.job.name))].join(', ')}${list})` };
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
  /** Run jobs that name an image in the local shell (gitlab-ci-local's --force-shell-executor). */
  forceShellExecutor: boolean;
  /** Paths of the files written for `type: file` project variables, per job id and variable. */
  fileVariablePaths: Map<string, Record<string, string>>;
  /** Each job in a workspace of its own (a copy of the folder), its artifacts passed on; absent: the folder. */
  workspaceFor?: (jobId: string) => string | null;
}

export function buildPlan(selected: readonly SelectedJob[], opts: PlanOptions): RunPlan {
  const ids = selected.map((s) => s.job.id);
  const jobs = selected.map(({ job: r, deps, after, enabled }): PlannedJob => {
    const job = r.job;
    const own = opts.workspaceFor?.(r.id) ?? null;
    const folder = own ?? opts.folder;
    const env = {
      ...r.env,
      ...(own ? { CI_PROJECT_DIR: own, CI_BUILDS_DIR: dirOf(own) } : {}),
      ...opts.fileVariablePaths.get(r.id),
      DELIVERY: 'true',
      DELIVERY_PIPELINE: opts.pipelineId,
      DELIVERY_JOB: r.id,
    };
    const steps: PlannedStep[] = [];
    // GitLab expands the job's variables in image and service names (`image: $FEDORA_IMAGE`).
    const expand = (v: string) => expandKnown(v, r.env);
    const image = job.image && expand(job.image);
    const needsImage = job.delegated ? null : imageReason(image, job.services.map((sv) => expand(sv.name)));
    let executor: ContainerExecutorSpec | null = null;
    let noImage: string | null = null;
    if (needsImage && opts.forceShellExecutor) {
      steps.push({ name: 'image', when: 'on_success', continueOnError: false, timeoutMs: null, run: { kind: 'noop', note: `${needsImage}: running in the local shell instead, as asked (--force-shell-executor)` } });
    } else if (needsImage && !image) {
      noImage = `${needsImage}, but names no image to run in (GitLab uses its runner's default image; name one with image:, or run it in the local shell with --force-shell-executor)`;
    } else if (needsImage && image) {
      const files = Object.values(opts.fileVariablePaths.get(r.id) ?? {}).map(dirOf);
      executor = {
        kind: 'container',
        what: 'GitLab image',
        image,
        env: {},
        // GitLab gives services the job's variables too, then their own.
        services: job.services.map((sv) => ({ image: expand(sv.name), aliases: serviceAliases(sv), entrypoint: sv.entrypoint, command: sv.command, env: { ...env, ...sv.variables }, healthCmd: null, optional: true })),
        mounts: [folder, ...files],
      };
      if (job.imageEntrypoint) {
        steps.push({ name: 'image', when: 'on_success', continueOnError: false, timeoutMs: null, run: { kind: 'noop', note: `entrypoint ${JSON.stringify(job.imageEntrypoint)}: the job's shell runs in the container without it` } });
      }
    }
    const inContainer = executor !== null;
    const commands = [...job.beforeScript, ...job.script].map((l) => l.text);
    if (!job.delegated && !job.incomplete) steps.push({ name: 'script', when: 'on_success', continueOnError: false, timeoutMs: null, run: { kind: 'command', command: commandsSpec(commands, folder, env, inContainer) } });
    if (job.afterScript.length > 0 && !job.delegated) {
      const lines = job.afterScript.map((l) => l.text);
      steps.push({
        name: 'after_script',
        // GitLab runs after_script whatever happened before, in a new shell; its failure only warns.
        when: 'always',
        continueOnError: true,
        timeoutMs: null,
        // CI_JOB_STATUS is the job's status when it starts (success, failed, canceled): known only then.
        run: { kind: 'gitlab-after-script', command: commandsSpec(lines, folder, env, inContainer), statusVariable: 'CI_JOB_STATUS' },
      });
    }
    if (job.release) {
      steps.push({ name: 'release', when: 'on_success', continueOnError: false, timeoutMs: null, run: { kind: 'unsupported', reason: 'release: creates a GitLab release through the GitLab API' } });
    }
    const unsupported = r.excluded ? null : (job.delegated ?? job.incomplete ?? noImage);
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
      ...(r.excluded ? { gate: { kind: 'skip' as const, reason: r.excluded } } : {}),
      junit: job.junit,
      artifacts: job.artifacts,
      cwd: folder,
      ...(executor ? { executor } : {}),
      ...(own ? { workspace: { source: opts.folder, path: own, artifactsFrom: artifactSources(r.job.dependencies, deps, after, ids) } } : {}),
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

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i > 0 ? p.slice(0, i) : p;
}

/**
 * Whose artifacts a job gets, as GitLab decides: the jobs `dependencies:` names, else those it `needs`, else every
 * job of the earlier stages.
 */
function artifactSources(dependencies: string[] | null, deps: string[], after: string[], ids: string[]): string[] {
  if (dependencies) return ids.filter((id) => dependencies.some((d) => id === d || normalInstanceName(id).startsWith(`${normalInstanceName(d)}:`) || id.startsWith(`${d} `)));
  return deps.length > 0 ? deps : after;
}
