// `delivery`: the same pipelines and runs as the VS Code extension, in a terminal or in CI.
// Exit status: 0 success, 1 a run or check failed, 2 bad usage or invalid configuration, 130 interrupted.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FolderSources, type FolderSnapshot } from '../adapters/folderSources';
import { startLocalRun } from '../adapters/localRuns';
import { FileRunStore } from '../adapters/runStore';
import { folderStateDir } from '../adapters/stateDir';
import type { ImportedPipeline } from '../core/sources';
import type { RunRecord } from '../shared/model';
import { pipelinesJson, runJson } from './json';
import { formatDuration } from '../core/duration';

const VERSION = '0.1.0';

const USAGE = `usage: delivery <command> [options]

commands:
  pipelines                         list the pipelines of the folder and any problems in their files
  run <pipeline> [<job>...]         run a pipeline locally (or only the named jobs)

options:
  --cwd DIR      the workspace folder (default: the current directory)
  --json         print the result as JSON (the documented contract) on stdout; logs go to stderr
  --needs        with job names: also run the jobs they need
  --parallel N   jobs running at once (default: the number of CPUs)
  -h, --help     this help
  --version      the version

A pipeline is named by its id, or <source>:<id> when ids repeat across sources (delivery, github, gitlab).`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cwd: { type: 'string' },
        json: { type: 'boolean', default: false },
        needs: { type: 'boolean', default: false },
        parallel: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`delivery: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const folder = path.resolve(values.cwd ?? process.cwd());
  try {
    switch (command) {
      case 'pipelines':
        return await pipelines(folder, values.json);
      case 'run': {
        const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
        if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1)) throw new UsageError('--parallel must be a whole number ≥ 1');
        return await run(folder, rest, { json: values.json, needs: values.needs, parallel });
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`delivery: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

async function load(folder: string): Promise<FolderSnapshot> {
  return new FolderSources(folder).loadAll();
}

function printProblems(snapshot: FolderSnapshot, stream: NodeJS.WriteStream): void {
  for (const p of snapshot.problems) {
    stream.write(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}\n`);
  }
}

async function pipelines(folder: string, json: boolean): Promise<number> {
  const snapshot = await load(folder);
  if (json) {
    process.stdout.write(`${JSON.stringify(pipelinesJson(snapshot))}\n`);
  } else {
    if (snapshot.pipelines.length === 0) process.stdout.write(`no pipelines in ${folder}\n`);
    for (const { def } of snapshot.pipelines) {
      process.stdout.write(`${def.source.kind}:${def.id}  ${def.name}  (${def.source.file}, ${def.jobs.length} job${def.jobs.length === 1 ? '' : 's'})\n`);
      for (const j of def.jobs) {
        const needs = j.needs.length ? `  needs: ${j.needs.join(', ')}` : '';
        process.stdout.write(`  ${j.id}${j.stage ? `  [${j.stage}]` : ''}${needs}${j.unsupported ? `  (unsupported locally: ${j.unsupported})` : ''}\n`);
      }
    }
    printProblems(snapshot, process.stderr);
  }
  return snapshot.problems.some((p) => p.severity === 'error') ? 1 : 0;
}

function findPipeline(snapshot: FolderSnapshot, name: string): ImportedPipeline {
  const [kind, id] = name.includes(':') ? (name.split(':', 2) as [string, string]) : [null, name];
  const matches = snapshot.pipelines.filter((p) => p.def.id === id && (kind === null || p.def.source.kind === kind));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new UsageError(`"${name}" is ambiguous: ${matches.map((m) => `${m.def.source.kind}:${m.def.id} (${m.def.source.file})`).join(', ')}`);
  }
  const known = snapshot.pipelines.map((p) => `${p.def.source.kind}:${p.def.id}`).join(', ') || 'none';
  throw new UsageError(`no pipeline "${name}" (pipelines: ${known})`);
}

async function run(folder: string, args: string[], opts: { json: boolean; needs: boolean; parallel?: number }): Promise<number> {
  const [name, ...jobs] = args;
  if (!name) throw new UsageError('run: name the pipeline');
  const snapshot = await load(folder);
  const pipeline = findPipeline(snapshot, name);
  const errors = snapshot.problems.filter((p) => p.file === pipeline.def.source.file && p.severity === 'error');
  if (errors.length > 0) {
    printProblems({ ...snapshot, problems: errors }, process.stderr);
    process.stderr.write(`delivery: ${pipeline.def.source.file} has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was run\n`);
    return 2;
  }
  const store = new FileRunStore(folderStateDir(folder));
  const handle = await startLocalRun(pipeline, { jobs, withNeeds: opts.needs }, { folder, store, trigger: 'cli', parallelism: opts.parallel });
  if ('error' in handle) {
    process.stderr.write(`delivery: ${handle.error}\n`);
    return 2;
  }
  const out = opts.json ? process.stderr : process.stdout;
  const width = Math.min(30, Math.max(...handle.run.jobs.map((j) => j.id.length), 1));
  handle.onEvent((e) => {
    if (e.type === 'line') out.write(`${e.jobId.padEnd(width)} ${e.stream === 'system' ? '|' : '>'} ${e.text}\n`);
    else if (e.type === 'job' && isFinal(e.job.status)) {
      out.write(`${e.job.id.padEnd(width)} ${statusWord(e.job.status, e.job.allowFailure)}${e.job.reason ? ` (${e.job.reason})` : ''}\n`);
    }
  });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    handle.cancel();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const result = await handle.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (opts.json) process.stdout.write(`${JSON.stringify(runJson(result))}\n`);
  else printSummary(result);
  if (interrupted) return 130;
  return result.status === 'success' ? 0 : 1;
}

function isFinal(s: string): boolean {
  return s !== 'queued' && s !== 'running';
}

function statusWord(status: string, allowFailure: boolean): string {
  if (status === 'failed' && allowFailure) return 'WARN (failed, allowed)';
  return { success: 'PASS', failed: 'FAIL', skipped: 'SKIP', manual: 'MANUAL', unsupported: 'UNSUPPORTED', cancelled: 'CANCELLED' }[status] ?? status;
}

function printSummary(run: RunRecord): void {
  process.stdout.write(`\n${run.pipelineName}: ${run.status} in ${formatDuration(run.durationMs)}\n`);
  for (const j of run.jobs) {
    process.stdout.write(`  ${statusWord(j.status, j.allowFailure).padEnd(12)} ${j.id}  ${formatDuration(j.durationMs)}${j.reason ? `  ${j.reason}` : ''}\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`delivery: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
