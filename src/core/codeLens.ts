// What the CodeLens above a pipeline file's pipelines, jobs and environments say and do: pure, so the editor only
// places them. Positions are the ones the sources already give (SourceLocation), titles use codicons.
import type { CommandArgs } from '../shared/commandArgs';
import { formatDuration } from '../shared/duration';
import type { EnvironmentDef, JobDef, JobRecord, JobStatus, PipelineDef, RunRecord, SourceLocation } from '../shared/model';
import { jobOf } from './rerun';
import { plainText } from './sanitize';

/** A lens that runs one of the extension's commands with the argument a tree row would give it. */
export type LensCommand = { [K in LensCommandId]: { id: K; arg: CommandArgs[K] } }[LensCommandId];
type LensCommandId = 'delivery.pipeline.run' | 'delivery.job.run' | 'delivery.run.showLog' | 'delivery.environment.deploy' | 'delivery.environment.diff';

export interface LensSpec {
  /** 1-based, as in SourceLocation. */
  line: number;
  column: number;
  title: string;
  tooltip: string;
  /** Null: a label only (a job that cannot run here, a last result without a log). */
  command: LensCommand | null;
}

export interface LensPipeline {
  def: PipelineDef;
  /** Its key in the folder (`file#id`), what the commands take. */
  key: string;
  /** The run the Pipelines tree shows for it (the newest). */
  lastRun: RunRecord | undefined;
  /** A job without `needs` waits for the jobs of earlier stages (the source's rule). */
  stagesOrderJobs: boolean;
}

export interface LensInput {
  /** The document, relative to its folder with forward slashes (SourceLocation.file). */
  file: string;
  folder: string;
  pipelines: readonly LensPipeline[];
  environments: readonly (EnvironmentDef & { deploy?: unknown })[];
}

const STATUS_ICON: Record<JobStatus, string> = {
  success: '$(pass-filled)',
  failed: '$(error)',
  cancelled: '$(circle-slash)',
  skipped: '$(debug-step-over)',
  running: '$(sync~spin)',
  queued: '$(circle-outline)',
  manual: '$(debug-pause)',
  unsupported: '$(circle-large-outline)',
};

/** The lenses of one file, in document order. */
export function pipelineFileLenses(input: LensInput): LensSpec[] {
  const out: LensSpec[] = [];
  for (const p of input.pipelines) {
    const ref = { folder: input.folder, pipelineKey: p.key };
    if (p.def.location.file === input.file) {
      out.push(at(p.def.location, '$(play) Run pipeline', `Run ${p.def.name} (${p.def.jobs.length} job${p.def.jobs.length === 1 ? '' : 's'})`, { id: 'delivery.pipeline.run', arg: ref }));
    }
    const groups = jobGroups(p.def.jobs.filter((j) => j.location.file === input.file));
    if (groups.length === 0) continue;
    const records = p.lastRun ? recordsByJob(p.lastRun, p.def.jobs.map((j) => j.id)) : null;
    for (const group of groups) {
      out.push(...jobLenses(p, group, ref));
      // A job that cannot run here says only that.
      const last = p.lastRun && records && !unsupportedReason(group) && lastResult(group.flatMap((j) => records.get(j.id) ?? []));
      if (p.lastRun && last) out.push(lastLens(group, p.lastRun.id, last));
    }
  }
  for (const e of input.environments) {
    if (e.location.file !== input.file) continue;
    const arg = { folder: input.folder, environment: e.id };
    if (e.deploy) out.push(at(e.location, '$(rocket) Deploy', `Deploy to ${e.name}`, { id: 'delivery.environment.deploy', arg }));
    out.push(at(e.location, '$(diff) Diff', `What deploying to ${e.name} would change`, { id: 'delivery.environment.diff', arg }));
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function at(loc: SourceLocation, title: string, tooltip: string, command: LensCommand | null): LensSpec {
  return { line: loc.line, column: loc.column, title, tooltip: plainText(tooltip), command };
}

/** Jobs written once in the file (a GitLab `parallel:` job lists one JobDef per instance at the same place): one lens each. */
function jobGroups(jobs: readonly JobDef[]): JobDef[][] {
  const byPlace = new Map<string, JobDef[]>();
  for (const j of jobs) {
    const place = `${j.location.line}:${j.location.column}`;
    const group = byPlace.get(place);
    if (group) group.push(j);
    else byPlace.set(place, [j]);
  }
  return [...byPlace.values()];
}

function groupName(group: readonly JobDef[]): string {
  return group.length > 1 ? `${group[0].name} (${group.length} jobs)` : group[0].name;
}

function jobLenses(p: LensPipeline, group: readonly JobDef[], ref: { folder: string; pipelineKey: string }): LensSpec[] {
  const [first] = group;
  const name = groupName(group);
  const unsupported = unsupportedReason(group);
  if (unsupported) return [at(first.location, '$(circle-slash) Unsupported locally', `${name} does not run on this machine: ${unsupported}`, null)];
  const jobs = group.map((j) => j.id);
  const out = [at(first.location, '$(play) Run job', `Run ${name}${first.matrix ? ', every leg of its matrix' : ''}`, { id: 'delivery.job.run', arg: { ...ref, jobs } })];
  if (hasUpstream(p, group)) {
    out.push(at(first.location, '$(play) with needs', `Run ${name} and the jobs it needs first`, { id: 'delivery.job.run', arg: { ...ref, jobs, withNeeds: true } }));
  }
  return out;
}

function unsupportedReason(group: readonly JobDef[]): string | null {
  return group.find((j) => j.unsupported !== null)?.unsupported ?? null;
}

/** "last: ✓ 12s": the job's result in the pipeline's last run; it opens the log. */
function lastLens(group: readonly JobDef[], runId: string, last: LastResult): LensSpec {
  const took = formatDuration(last.durationMs);
  // Success says only how long it took; the rest say what happened (and how long, when it ran).
  const title = last.status === 'success' ? `last: ${STATUS_ICON.success} ${took}` : `last: ${STATUS_ICON[last.status]} ${last.status}${last.status === 'running' || last.durationMs === 0 ? '' : ` ${took}`}`;
  const when = last.status === 'running' ? 'is running' : `${last.status} in ${took}`;
  const command: LensCommand | null = last.logFile ? { id: 'delivery.run.showLog', arg: { logFile: last.logFile } } : null;
  return at(group[0].location, title, `Last run ${runId}: ${groupName(group)} ${when}${last.logFile ? ' — open its log' : ''}`, command);
}

/** Whether "with needs" runs more than the job: it needs jobs, or (stages ordering jobs) a stage before its own has jobs. */
function hasUpstream(p: LensPipeline, group: readonly JobDef[]): boolean {
  if (group.some((j) => j.needs.length > 0)) return true;
  const stages = p.def.stages;
  const stage = group[0].stage;
  if (!p.stagesOrderJobs || !stages || stage === null) return false;
  const index = stages.indexOf(stage);
  return p.def.jobs.some((j) => j.stage !== null && stages.indexOf(j.stage) >= 0 && stages.indexOf(j.stage) < index);
}

/** The run's records by the pipeline job they belong to (matrix legs and parallel instances under their job). */
export function recordsByJob(run: Pick<RunRecord, 'jobs'>, jobIds: readonly string[]): Map<string, JobRecord[]> {
  const out = new Map<string, JobRecord[]>();
  for (const r of run.jobs) {
    const id = jobOf(r.id, jobIds);
    if (id === undefined) continue;
    const list = out.get(id);
    if (list) list.push(r);
    else out.set(id, [r]);
  }
  return out;
}

export interface LastResult {
  status: JobStatus;
  durationMs: number;
  logFile: string | null;
}

/**
 * A job's result over its records (matrix legs, parallel instances): running while one runs, else the worst of them
 * (a failure allowed to fail counts as a success); the time from the first start to the last end. Undefined: no
 * record (the run did not include it).
 */
export function lastResult(records: readonly JobRecord[]): LastResult | undefined {
  if (records.length === 0) return undefined;
  const status = worst(records);
  const started = records.filter((r) => r.startedAt !== null);
  const durationMs = started.length > 1 ? Math.max(...started.map((r) => (r.startedAt ?? 0) + r.durationMs)) - Math.min(...started.map((r) => r.startedAt ?? 0)) : Math.max(...records.map((r) => r.durationMs));
  // The log worth opening: the first failed record's, else the first with a log.
  const logFile = (records.find((r) => r.status === 'failed' && r.logFile) ?? records.find((r) => r.logFile))?.logFile ?? null;
  return { status, durationMs, logFile };
}

const SEVERITY: readonly JobStatus[] = ['running', 'failed', 'cancelled', 'unsupported', 'queued', 'manual', 'skipped', 'success'];

function worst(records: readonly Pick<JobRecord, 'status' | 'allowFailure'>[]): JobStatus {
  const statuses = records.map((r) => (r.status === 'failed' && r.allowFailure ? 'success' : r.status));
  return SEVERITY.find((s) => statuses.includes(s)) ?? 'success';
}
