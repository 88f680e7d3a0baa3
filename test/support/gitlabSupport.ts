// Helpers for the GitLab CI tests: import a folder's pipeline file and run it for real (bash, LocalProcessRunner,
// FileRunStore), collecting each job's output lines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { globFiles, LocalWorkspaceFiles } from '../../src/adapters/files';
import { headInfo } from '../../src/adapters/git';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { startRun } from '../../src/core/engine/engine';
import type { RunRequest } from '../../src/core/engine/select';
import { importGitlabCi, type GitlabPipeline, type PreparedRun } from '../../src/core/gitlab/importer';
import type { ImportContext, PlanContext } from '../../src/core/sources';
import type { JobRecord, RunRecord } from '../../src/shared/model';
import { git, tempDir, testPlanIO, writeFiles } from './tmp';
import { planFacts, systemClock } from '../../src/adapters/clock';

export const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/gitlab');

export function importContext(folder: string): ImportContext {
  return {
    readFile: async (rel) => {
      try {
        return fs.readFileSync(path.join(folder, rel), 'utf8');
      } catch {
        return null;
      }
    },
    listFiles: (glob) => globFiles(folder, [glob]),
  };
}

export async function importFolder(folder: string, file = '.gitlab-ci.yml') {
  const result = await importGitlabCi({ path: file, text: fs.readFileSync(path.join(folder, file), 'utf8') }, importContext(folder));
  const errors = result.problems.filter((p) => p.severity === 'error');
  return { ...result, errors, pipeline: result.pipelines[0] as GitlabPipeline | undefined };
}

/** A copy of a fixture folder as a git repository on `branch`, with extra files. */
export function fixtureRepo(name: string, branch = 'main', extra: Record<string, string> = {}): string {
  const dir = tempDir('gitlab-fixture-');
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true });
  return commitAll(dir, extra, branch);
}

/** A folder holding the given files, as a git repository on `branch`. */
export function repoWith(files: Record<string, string>, branch = 'main'): string {
  return commitAll(tempDir('gitlab-repo-'), files, branch);
}

function commitAll(dir: string, files: Record<string, string>, branch: string): string {
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', branch);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'files');
  return dir;
}

export interface GitlabRun {
  run: RunRecord;
  prepared: PreparedRun;
  job(id: string): JobRecord;
  /** stdout and stderr lines of a job, in order (not the runner's own system lines). */
  output(id: string): string[];
}

/** The folder's git facts as a run would see them, with overrides (a tag, another default branch...). */
export async function gitFacts(folder: string, overrides: Partial<NonNullable<PlanContext['git']>> = {}): Promise<NonNullable<PlanContext['git']>> {
  const h = await headInfo(folder);
  return { sha: h?.sha ?? null, ref: h?.ref ?? null, branch: h?.branch ?? null, defaultBranch: h?.defaultBranch ?? null, remoteUrl: h?.remoteUrl ?? null, author: h?.author ?? null, ...overrides };
}

/** Imports and runs the folder's pipeline; throws when it cannot start (with the reason). */
export async function runGitlab(
  folder: string,
  opts: { request?: RunRequest; git?: Partial<NonNullable<PlanContext['git']>>; file?: string; variables?: Record<string, string> } = {},
): Promise<GitlabRun> {
  const { pipeline, errors } = await importFolder(folder, opts.file);
  if (!pipeline || errors.length) throw new Error(`import failed: ${errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join('\n')}`);
  const prepared = await pipeline.prepare(opts.request ?? {}, { ...planFacts(), folder, git: await gitFacts(folder, opts.git), variables: opts.variables, io: testPlanIO });
  if ('error' in prepared) throw new Error(prepared.error);
  const store = new FileRunStore(path.join(tempDir('gitlab-state-'), 'state'));
  const handle = startRun(prepared.plan, { id: newRunId(), folder, trigger: 'cli', sha: null, pid: process.pid }, {
    runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock,
    store,
    files: new LocalWorkspaceFiles(),
    parallelism: 4,
  });
  const lines = new Map<string, string[]>();
  handle.onEvent((e) => {
    if (e.type === 'line' && e.stream !== 'system') lines.set(e.jobId, [...(lines.get(e.jobId) ?? []), e.text]);
  });
  const run = await handle.done;
  return {
    run,
    prepared,
    job: (id) => {
      const j = run.jobs.find((x) => x.id === id);
      if (!j) throw new Error(`no job "${id}" in the run (jobs: ${run.jobs.map((x) => x.id).join(', ')})`);
      return j;
    },
    output: (id) => lines.get(id) ?? [],
  };
}
