// delivery pipelines / delivery run
import { actionSource, checkActionsHost } from '../adapters/actions/gitActions';
import { startLocalRun } from '../adapters/localRuns';
import { FileRunStore } from '../adapters/runStore';
import { folderStateDir } from '../adapters/stateDir';
import { formatDuration } from '../core/duration';
import { unsupportedSteps, whyFailed } from '../core/board';
import { jsonText, terminalText } from '../core/sanitize';
import { parsePlatformEntry } from '../core/github/platforms';
import { blockingProblems, describeBlocked, errorCount, pruneHistory, targetPipeline } from '../core/targeting';
import type { JobDef, RunRecord } from '../shared/model';
import { loadFolder, printProblems, UsageError, type CliCommand } from './context';
import { pipelinesJson, runJson } from './json';
import { cliMasker } from './output';
import { GivenFileError, runParameters } from './runParameters';

export const pipelinesCommand: CliCommand = async (ctx) => {
  const snapshot = await loadFolder(ctx.folder);
  if (ctx.options.json) {
    ctx.stdout.write(`${jsonText(pipelinesJson(snapshot))}\n`);
  } else {
    if (snapshot.pipelines.length === 0) ctx.stdout.write(`no pipelines in ${ctx.folder}\n`);
    for (const { def } of snapshot.pipelines) {
      ctx.stdout.write(`${def.source.kind}:${def.id}  ${def.name}  (${def.source.file}, ${def.jobs.length} job${def.jobs.length === 1 ? '' : 's'})\n`);
      for (const j of def.jobs) ctx.stdout.write(`  ${jobLine(j)}\n`);
    }
    printProblems(snapshot, ctx.stderr);
  }
  // An invalid file is an invalid configuration (as for run): 2, as the README says.
  return blockingProblems(snapshot.problems).length > 0 ? 2 : 0;
};

/** One job of the text listing: what the file says about it (stage, needs, matrix, if, environment) and whether it runs here. */
function jobLine(j: JobDef): string {
  const parts = [j.id];
  if (j.stage) parts.push(`[${j.stage}]`);
  if (j.needs.length) parts.push(`needs: ${j.needs.join(', ')}`);
  if (j.matrix) parts.push('matrix');
  if (j.if) parts.push(`if: ${j.if.trim().replace(/\s+/g, ' ')}`);
  if (j.environment) parts.push(`environment: ${j.environment.name}${j.environment.url ? ` (${j.environment.url})` : ''}`);
  if (j.allowFailure) parts.push('(allowed to fail)');
  if (j.unsupported) parts.push(`(unsupported locally: ${j.unsupported})`);
  return parts.join('  ');
}

export const runCommand: CliCommand = async (ctx) => {
  const [name, ...jobs] = ctx.args;
  if (!name) throw new UsageError('run: name the pipeline');
  const snapshot = await loadFolder(ctx.folder);
  const target = targetPipeline(snapshot, name);
  if ('notFound' in target) {
    // An invalid file yields no pipelines: say where it is wrong rather than only that the name is unknown.
    if (target.unreadable.length === 0) throw new UsageError(target.notFound);
    printProblems({ ...snapshot, problems: target.unreadable }, ctx.stderr);
    ctx.stderr.write(`delivery: no pipeline "${name}" could be read (${errorCount(target.unreadable.length)} above); nothing was run\n`);
    return 2;
  }
  const { pipeline } = target;
  if ('blocked' in target) {
    printProblems({ ...snapshot, problems: target.blocked.errors }, ctx.stderr);
    ctx.stderr.write(`delivery: ${describeBlocked(target.blocked)}; nothing was run\n`);
    return 2;
  }
  const store = new FileRunStore(folderStateDir(ctx.folder));
  const o = ctx.options;
  if (o.stage !== undefined) {
    const inStage = pipeline.def.jobs.filter((j) => j.stage === o.stage).map((j) => j.id);
    if (inStage.length === 0) {
      const stages = [...new Set(pipeline.def.jobs.map((j) => j.stage).filter((s) => s !== null))];
      throw new UsageError(`no job of ${pipeline.def.name} is in stage "${o.stage}" (stages: ${stages.join(', ') || 'none'})`);
    }
    jobs.push(...inStage.filter((id) => !jobs.includes(id)));
  }
  if (o.actionsHost !== undefined) {
    const checked = checkActionsHost(o.actionsHost);
    if ('error' in checked) throw new UsageError(`--actions-host: ${checked.error}`);
  }
  const platforms: Record<string, string> = {};
  for (const entry of o.platforms ?? []) {
    const p = parsePlatformEntry(entry);
    if ('error' in p) throw new UsageError(`--platform ${p.error}`);
    platforms[p.label] = p.value;
  }
  const ws = o.workspace ?? (ctx.env.DELIVERY_WORKSPACE || undefined);
  if (ws !== undefined && ws !== 'shared' && ws !== 'isolated') throw new UsageError(`--workspace must be shared or isolated, not "${ws}"`);
  // The secrets given join what stdout and stderr mask before anything can print them.
  const masker = ctx.masker ?? cliMasker(ctx.env);
  let given;
  try {
    given = runParameters(ctx, pipeline.def, masker);
  } catch (e) {
    if (!(e instanceof GivenFileError)) throw e;
    ctx.stderr.write(`delivery: ${e.message}; nothing was run\n`);
    return 2;
  }
  // Remote actions come from --actions-host, else DELIVERY_ACTIONS_HOST of this command's environment.
  const handle = await startLocalRun(
    pipeline,
    { jobs, withNeeds: o.needs, manual: o.manual, variables: o.variables, unsetVariables: o.unsetVariables, ...given, forceShellExecutor: o.forceShellExecutor, ...(ws ? { workspace: ws } : {}), ...(Object.keys(platforms).length ? { platforms } : {}) },
    { folder: ctx.folder, store, trigger: 'cli', parallelism: o.parallel, masker, actions: actionSource({ host: o.actionsHost, env: ctx.env }) },
  );
  if ('error' in handle) {
    ctx.stderr.write(`delivery: ${handle.error}\n`);
    return 2;
  }
  const out = batchedWriter(ctx.progress);
  const width = Math.min(30, Math.max(...handle.run.jobs.map((j) => j.id.length), 1));
  // `job   > ` and `job   | `, made once per job, not per line (a flood prints millions).
  const prefixes = { output: new Map<string, string>(), system: new Map<string, string>() };
  const prefix = (jobId: string, kind: 'output' | 'system') => {
    let p = prefixes[kind].get(jobId);
    if (p === undefined) prefixes[kind].set(jobId, (p = `${jobId.padEnd(width)} ${kind === 'system' ? '|' : '>'} `));
    return p;
  };
  handle.onEvent((e) => {
    // A job's own colours are kept (safe SGR only, reset at the line's end) and everything else is made visible
    // by ctx.progress itself (SafeOutput: terminalText with colours on each batch), once per batch, not per line.
    if (e.type === 'lines') {
      // A block of the job's lines: each line gets its prefix, with one replace for the block.
      const p = prefix(e.jobId, 'output');
      out.write(`${p}${e.text.replaceAll('\n', `\n${p}`)}\n`);
    } else if (e.type === 'line') {
      const kind = e.stream === 'system' ? 'system' : 'output';
      const p = prefix(e.jobId, kind);
      out.write(kind === 'system' ? `${p}${terminalText(e.text)}\n` : `${p}${e.text}\n`);
    } else if (e.type === 'job' && e.job.status !== 'queued' && e.job.status !== 'running') {
      out.write(terminalText(`${e.job.id.padEnd(width)} ${statusWord(e.job.status, e.job.allowFailure, unsupportedSteps(e.job).length > 0)}${e.job.reason ? ` (${e.job.reason})` : ''}\n`));
    }
  }, { lineBlocks: true });
  const onAbort = () => handle.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const result = await handle.done;
  out.flush();
  ctx.signal.removeEventListener('abort', onAbort);
  await pruneHistory(store);
  if (store.lastSaveError) ctx.stderr.write(`delivery: error: the run could not be recorded in the history (${store.runsDir}): ${store.lastSaveError.message}\n`);
  if (o.json) ctx.stdout.write(`${jsonText(runJson(result))}\n`);
  else printSummary(result, ctx.stdout);
  if (ctx.signal.aborted) return 130;
  return result.status === 'success' ? 0 : 1;
};

/**
 * Progress lines leave in batches: one write per 16 KB or per turn of the event loop, not one per line. A job
 * printing a million lines otherwise costs a million system calls (stdout and stderr are synchronous for files
 * and pipes), several times the job's own time. A block of a job's lines (most of a chunk read) goes out at once:
 * text held for the next turn outlives the young generation's collections, which copy it each time.
 */
const BATCH_CHARS = 16 * 1024;

function batchedWriter(stream: NodeJS.WritableStream): { write(text: string): void; flush(): void } {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    stream.write(pending);
    pending = '';
  };
  return {
    write(text) {
      pending += text;
      if (pending.length >= BATCH_CHARS) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

function statusWord(status: string, allowFailure: boolean, partial = false): string {
  if (status === 'failed' && allowFailure) return 'WARN (failed, allowed)';
  // Passed, but steps did not run here (unsupported locally): not CI's answer.
  if (status === 'success' && partial) return 'PARTIAL';
  return { success: 'PASS', failed: 'FAIL', skipped: 'SKIP', manual: 'MANUAL', unsupported: 'UNSUPPORTED', cancelled: 'CANCELLED' }[status] ?? status;
}

function printSummary(run: RunRecord, out: NodeJS.WritableStream): void {
  const why = run.status === 'failed' ? whyFailed(run).why : '';
  out.write(terminalText(`\n${run.pipelineName}: ${run.status} in ${formatDuration(run.durationMs)}${why ? ` (${why})` : ''}\n`));
  for (const j of run.jobs) {
    const partial = unsupportedSteps(j);
    out.write(terminalText(`  ${statusWord(j.status, j.allowFailure, partial.length > 0).padEnd(12)} ${j.id}  ${formatDuration(j.durationMs)}${j.reason ? `  ${j.reason}` : ''}\n`));
    for (const s of partial) out.write(terminalText(`               ⊘ ${s.name}: ${s.reason ?? 'unsupported locally'}\n`));
  }
}
