// The CLI's JSON contracts (documented in README.md, "CLI JSON contracts"); tests pin these shapes.
import type { FolderSnapshot } from '../adapters/folderSources';
import type { JobStatus, RunRecord, RunStatus, SourceKind } from '../shared/model';
import { unsupportedSteps } from '../core/board';

export interface PipelinesJson {
  pipelines: {
    id: string;
    name: string;
    source: { kind: SourceKind; file: string };
    stages: string[] | null;
    jobs: {
      id: string;
      name: string;
      stage: string | null;
      needs: string[];
      when: string | null;
      matrix: boolean;
      uses: string | null;
      environment: { name: string; url: string | null } | null;
      steps: { name: string | null; kind: 'run' | 'uses' | 'script' }[];
      /** Why the job cannot run on this machine, or null. */
      unsupported: string | null;
      /** A failure of the job does not fail the run (allow_failure, allowFailure, continue-on-error: true). */
      allowFailure: boolean;
      /** The job's condition as written (GitHub `if:`), or null. */
      if: string | null;
    }[];
  }[];
  problems: { file: string; line: number; column: number; severity: string; message: string }[];
}

export function pipelinesJson(snapshot: FolderSnapshot): PipelinesJson {
  return {
    pipelines: snapshot.pipelines.map(({ def }) => ({
      id: def.id,
      name: def.name,
      source: { kind: def.source.kind, file: def.source.file },
      stages: def.stages,
      jobs: def.jobs.map((j) => ({
        id: j.id,
        name: j.name,
        stage: j.stage,
        needs: j.needs,
        when: j.when,
        matrix: j.matrix,
        uses: j.uses,
        environment: j.environment ? { name: j.environment.name, url: j.environment.url } : null,
        steps: j.steps.map((s) => ({ name: s.name, kind: s.kind })),
        unsupported: j.unsupported,
        allowFailure: j.allowFailure,
        if: j.if ?? null,
      })),
    })),
    problems: snapshot.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, severity: p.severity, message: p.message })),
  };
}

export type RunJsonJobStatus = Exclude<JobStatus, 'queued' | 'running'>;

export interface RunJson {
  pipeline: string;
  status: Exclude<RunStatus, 'running' | 'interrupted'>;
  durationMs: number;
  jobs: Record<
    string,
    {
      status: RunJsonJobStatus;
      exitCode: number | null;
      durationMs: number;
      attempts: number;
      reason: string | null;
      /** Present when steps of the job did not run, being unsupported locally: the job passed only partly. */
      unsupportedSteps?: { name: string; reason: string | null }[];
      /** Where the job's own workspace was kept (it did not succeed); absent: it ran in the folder, or it was removed. */
      workspace?: string;
    }
  >;
}

export function runJson(run: RunRecord): RunJson {
  const jobs: RunJson['jobs'] = {};
  for (const j of run.jobs) {
    jobs[j.id] = {
      status: j.status === 'queued' || j.status === 'running' ? 'cancelled' : j.status,
      exitCode: j.exitCode,
      durationMs: j.durationMs,
      attempts: j.attempts,
      reason: j.reason,
    };
    const partial = unsupportedSteps(j);
    if (partial.length > 0) jobs[j.id].unsupportedSteps = partial;
    if (j.workspace) jobs[j.id].workspace = j.workspace;
  }
  const status = run.status === 'running' || run.status === 'interrupted' ? 'cancelled' : run.status;
  return { pipeline: run.pipelineId, status, durationMs: run.durationMs, jobs };
}
