// delivery remote runs|trigger|logs|cancel|rerun|inputs: pipelines on their remote engines (Buildbot, GitHub
// Actions, GitLab CI). A pipeline is named as for `run`; a run as `<pipeline>#<id>` (what `remote runs` prints),
// or its bare id with --pipeline. Tokens come from GITHUB_TOKEN / GITLAB_TOKEN; Buildbot needs none. A token goes
// to an API host that delivery.yml names only with --trust-api-host HOST or DELIVERY_TRUSTED_API_HOSTS.
import * as os from 'node:os';
import { createRemoteEngine, remotePipeline } from '../adapters/remote';
import { headInfo } from '../adapters/git';
import { formatDuration } from '../core/duration';
import { describeTarget } from '../core/remote/engines';
import { followRun, readLogs, runFailure, type RunState } from '../core/remote/follow';
import { checkInputs, parseInputPair } from '../core/remote/inputs';
import { describeBlocked, pipelineBlocked, pipelineByName } from '../core/targeting';
import { cliTokenHint, envTokenProvider, parseTrustedApiHosts } from '../core/remote/tokens';
import { isFinished, type RemoteEngine, type RemoteJob, type RemoteRun, type RemoteStatus, type RemoteTarget } from '../core/remote/types';
import { loadFolder, printProblems, UsageError, type CliCommand, type CliContext } from './context';
import { systemClock } from '../adapters/clock';

/** One run in `remote runs --json` and `remote trigger --json` (README: "CLI JSON contracts"). */
export interface RemoteRunJson {
  /** The engine's id of the run; `<pipeline>#<id>` names it to the other remote commands. */
  id: string;
  number: number | null;
  status: RemoteStatus;
  branch: string | null;
  sha: string | null;
  actor: string | null;
  event: string | null;
  url: string | null;
  /** ISO 8601 times, null when unknown. */
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** finishedAt − startedAt; null until both are known. */
  durationMs: number | null;
}

export interface RemoteStepJson {
  name: string;
  number: number;
  status: RemoteStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface RemoteJobJson {
  id: string;
  name: string;
  stage: string | null;
  status: RemoteStatus;
  url: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  steps: RemoteStepJson[];
}

/** `remote trigger --wait --json` and `remote rerun --wait --json`: the run's final state. */
export interface RemoteRunStateJson extends RemoteRunJson {
  jobs: RemoteJobJson[];
  /** Why it did not succeed (the failing job and step); null on success. */
  reason: string | null;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const span = (a: number | null, b: number | null) => (a !== null && b !== null ? Math.max(0, b - a) : null);

export function remoteRunJson(r: RemoteRun): RemoteRunJson {
  return {
    id: r.id,
    number: r.number,
    status: r.status,
    branch: r.branch,
    sha: r.sha,
    actor: r.actor,
    event: r.event,
    url: r.url,
    createdAt: iso(r.createdAt),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: span(r.startedAt, r.finishedAt),
  };
}

export function remoteJobJson(j: RemoteJob): RemoteJobJson {
  return {
    id: j.id,
    name: j.name,
    stage: j.stage,
    status: j.status,
    url: j.url,
    startedAt: iso(j.startedAt),
    finishedAt: iso(j.finishedAt),
    durationMs: span(j.startedAt, j.finishedAt),
    steps: j.steps.map((s) => ({ name: s.name, number: s.number, status: s.status, startedAt: iso(s.startedAt), finishedAt: iso(s.finishedAt), durationMs: span(s.startedAt, s.finishedAt) })),
  };
}

export function remoteStateJson(s: RunState): RemoteRunStateJson {
  return { ...remoteRunJson(s.run), jobs: s.jobs.map(remoteJobJson), reason: runFailure(s) };
}

const SUBCOMMANDS = ['runs', 'trigger', 'logs', 'cancel', 'rerun', 'inputs'] as const;
const CANCEL_WAIT_MS = 60_000;

export const remoteCommand: CliCommand = async (ctx) => {
  const [sub, name, ...rest] = ctx.args;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`remote: say what to do: ${SUBCOMMANDS.join(', ')}`);
  if (!name) throw new UsageError(`remote ${sub}: name the ${sub === 'logs' || sub === 'cancel' || sub === 'rerun' ? 'run (<pipeline>#<id>)' : 'pipeline'}`);
  if (rest.length) throw new UsageError(`remote ${sub}: unexpected argument "${rest[0]}"`);
  const o = ctx.options;
  const misplaced = (flag: string, given: unknown, allowed: readonly string[]) => {
    if (given && !allowed.includes(sub)) throw new UsageError(`remote ${sub}: ${flag} applies to remote ${allowed.join('/')}`);
  };
  misplaced('--input', o.inputs?.length, ['trigger']);
  misplaced('--ref', o.ref !== undefined, ['trigger']);
  misplaced('--wait', o.wait, ['trigger', 'rerun']);
  misplaced('--follow', o.follow, ['logs']);
  misplaced('--limit', o.limit !== undefined, ['runs']);
  misplaced('--branch', o.branch !== undefined, ['runs']);
  misplaced('--pipeline', o.pipeline !== undefined, ['logs', 'cancel', 'rerun']);
  misplaced('--json', o.json, ['runs', 'trigger', 'cancel', 'rerun', 'inputs']);

  let pipelineName = name;
  let runId: string | null = null;
  if (sub === 'logs' || sub === 'cancel' || sub === 'rerun') {
    const named = parseRunName(name, o.pipeline);
    pipelineName = named.pipeline;
    runId = named.id;
  }
  const opened = await openEngine(ctx, pipelineName);
  if (typeof opened === 'number') return opened;
  const { engine, target, label } = opened;
  try {
    switch (sub) {
      case 'runs':
        return await listRuns(ctx, engine, label);
      case 'inputs':
        return await showInputs(ctx, engine);
      case 'trigger':
        return await trigger(ctx, engine, target, label);
      case 'logs':
        return await logs(ctx, engine, runId!);
      case 'cancel':
        return await cancel(ctx, engine, label, runId!);
      case 'rerun': {
        const run = await engine.rerunFailed(runId!, ctx.signal);
        return await afterStart(ctx, engine, label, run);
      }
    }
    return 2;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (ctx.signal.aborted) return 130;
    const kind = (e as { kind?: unknown }).kind;
    ctx.stderr.write(`delivery: ${(e as Error).message}\n`);
    return kind === 'invalid' ? 2 : 1;
  } finally {
    engine.dispose();
  }
};

/** `<pipeline>#<id>`, or a bare id with --pipeline. The pipeline part may be `<source>:<id>`. */
export function parseRunName(text: string, pipeline: string | undefined): { pipeline: string; id: string } {
  const hash = text.lastIndexOf('#');
  if (hash > 0 && hash < text.length - 1) {
    if (pipeline !== undefined) throw new UsageError(`"${text}" already names its pipeline; drop --pipeline`);
    return { pipeline: text.slice(0, hash), id: text.slice(hash + 1) };
  }
  if (hash === -1 && pipeline !== undefined) return { pipeline, id: text };
  throw new UsageError(`name a run as <pipeline>#<id> (e.g. deploy#12, as "delivery remote runs" prints it), or give --pipeline`);
}

async function openEngine(ctx: CliContext, name: string): Promise<{ engine: RemoteEngine & { dispose(): void }; target: RemoteTarget; label: string } | number> {
  const snapshot = await loadFolder(ctx.folder);
  const named = pipelineByName(snapshot.pipelines, name);
  if ('error' in named) throw new UsageError(named.error);
  const blocked = pipelineBlocked(snapshot.problems, named.pipeline);
  const found = await remotePipeline(ctx.folder, named.pipeline, ctx.signal);
  if ('error' in found) {
    // The file's errors first: its `remote:` may be what is wrong.
    if (blocked) printProblems({ ...snapshot, problems: blocked.errors }, ctx.stderr);
    ctx.stderr.write(`delivery: ${found.error}\n`);
    return 2;
  }
  if (blocked) {
    printProblems({ ...snapshot, problems: blocked.errors }, ctx.stderr);
    ctx.stderr.write(`delivery: ${describeBlocked(blocked)}; nothing was sent\n`);
    return 2;
  }
  try {
    const engine = createRemoteEngine(found.target, {
      tokens: envTokenProvider(ctx.env),
      origin: found.origin,
      trustedApiHosts: parseTrustedApiHosts(ctx.env.DELIVERY_TRUSTED_API_HOSTS, ...(ctx.options.trustApiHosts ?? [])),
      actor: whoAmI(),
      tokenHint: cliTokenHint,
    });
    return { engine, target: found.target, label: name };
  } catch (e) {
    ctx.stderr.write(`delivery: ${(e as Error).message}\n`);
    return 1;
  }
}

async function listRuns(ctx: CliContext, engine: RemoteEngine, label: string): Promise<number> {
  const runs = await engine.runs({ branch: ctx.options.branch, limit: ctx.options.limit ?? 20, signal: ctx.signal });
  if (ctx.options.json) {
    ctx.stdout.write(`${JSON.stringify({ runs: runs.map(remoteRunJson) })}\n`);
    return 0;
  }
  if (runs.length === 0) ctx.stdout.write(`no runs of ${label}\n`);
  for (const r of runs) {
    const d = span(r.startedAt, r.finishedAt);
    ctx.stdout.write(
      `${label}#${r.id}  ${r.number !== null ? `#${r.number}  ` : ''}${r.status}  ${r.branch ?? '-'}  ${r.sha ? r.sha.slice(0, 7) : '-'}` +
        `  ${iso(r.createdAt) ?? '-'}${d !== null ? `  ${formatDuration(d)}` : ''}${r.actor ? `  ${r.actor}` : ''}${r.url ? `  ${r.url}` : ''}\n`,
    );
  }
  return 0;
}

async function showInputs(ctx: CliContext, engine: RemoteEngine): Promise<number> {
  const inputs = await engine.inputs(ctx.signal);
  if (ctx.options.json) {
    ctx.stdout.write(`${JSON.stringify({ inputs })}\n`);
    return 0;
  }
  if (inputs.length === 0) ctx.stdout.write('no declared inputs\n');
  for (const i of inputs) {
    const opts = i.options.length ? ` (${i.options.join(' | ')})` : '';
    ctx.stdout.write(`${i.name}: ${i.type}${opts}${i.required ? ', required' : ''}${i.default !== null && i.default !== '' ? `, default ${i.default}` : ''}${i.description ? `  — ${i.description}` : ''}\n`);
  }
  return 0;
}

async function trigger(ctx: CliContext, engine: RemoteEngine, target: RemoteTarget, label: string): Promise<number> {
  const inputs: Record<string, string> = {};
  for (const text of ctx.options.inputs ?? []) {
    const kv = parseInputPair(text);
    if ('error' in kv) throw new UsageError(`--input: ${kv.error}`);
    inputs[kv[0]] = kv[1];
  }
  const { errors } = checkInputs(await engine.inputs(ctx.signal), inputs);
  if (errors.length) {
    for (const e of errors) ctx.stderr.write(`delivery: ${e}\n`);
    ctx.stderr.write(`delivery: nothing was triggered (delivery remote inputs ${label} lists the inputs)\n`);
    return 2;
  }
  let ref = ctx.options.ref;
  if (ref === undefined) {
    ref = (await headInfo(ctx.folder, ctx.signal).catch(() => null))?.branch ?? undefined;
    if (!ref) throw new UsageError('remote trigger: HEAD is not on a branch; name the branch or tag to run with --ref');
  }
  ctx.progress.write(`triggering ${describeTarget(target)} on ${ref}\n`);
  const run = await engine.trigger({ ref, inputs, signal: ctx.signal });
  return afterStart(ctx, engine, label, run);
}

/** A run was started (trigger, rerun): print it, or with --wait follow it to its end. */
async function afterStart(ctx: CliContext, engine: RemoteEngine, label: string, run: RemoteRun): Promise<number> {
  ctx.progress.write(`started ${label}#${run.id}${run.url ? ` ${run.url}` : ''}\n`);
  if (!ctx.options.wait) {
    if (ctx.options.json) ctx.stdout.write(`${JSON.stringify(remoteRunJson(run))}\n`);
    else ctx.stdout.write(`${label}#${run.id} ${run.status}\n`);
    return 0;
  }
  const seen = new Map<string, RemoteStatus>();
  let final: RunState;
  try {
    final = await followRun(engine, run.id, {
      signal: ctx.signal,
      clock: systemClock,
      onUpdate: ({ run: r, jobs }) => {
        for (const j of [{ id: '', name: `${label}#${r.id}`, status: r.status }, ...jobs]) {
          if (seen.get(j.id) !== j.status) ctx.progress.write(`${j.name}: ${j.status}\n`);
          seen.set(j.id, j.status);
        }
      },
      onRetry: (e, ms) => ctx.progress.write(`${(e as Error).message}; trying again in ${Math.round(ms / 1000)} s\n`),
    });
  } catch (e) {
    if (ctx.signal.aborted) {
      ctx.stderr.write(`delivery: stopped waiting; ${label}#${run.id} goes on (delivery remote cancel ${label}#${run.id} stops it)\n`);
      return 130;
    }
    throw e;
  }
  const reason = runFailure(final);
  if (ctx.options.json) ctx.stdout.write(`${JSON.stringify(remoteStateJson(final))}\n`);
  else {
    const d = span(final.run.startedAt, final.run.finishedAt);
    ctx.stdout.write(`${label}#${final.run.id}: ${final.run.status}${d !== null ? ` in ${formatDuration(d)}` : ''}${reason ? ` (${reason})` : ''}\n`);
  }
  return final.run.status === 'success' ? 0 : 1;
}

/** Asks the engine to cancel, then waits until the run has really ended (engines stop builds asynchronously). */
async function cancel(ctx: CliContext, engine: RemoteEngine, label: string, runId: string): Promise<number> {
  await engine.cancel(runId, ctx.signal);
  ctx.progress.write(`asked to cancel ${label}#${runId}; waiting for it to stop\n`);
  const final = await followRun(engine, runId, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(CANCEL_WAIT_MS)]), clock: systemClock }).catch((e: unknown) => {
    if (ctx.signal.aborted) throw e;
    return null;
  });
  if (ctx.options.json) ctx.stdout.write(`${JSON.stringify(final ? remoteStateJson(final) : { ...remoteRunJson((await engine.run(runId, ctx.signal)).run), jobs: [], reason: null })}\n`);
  else if (!final) ctx.stdout.write(`${label}#${runId} has not stopped after ${CANCEL_WAIT_MS / 1000} s; it may still be running\n`);
  else if (final.run.status === 'cancelled') ctx.stdout.write(`cancelled ${label}#${runId}\n`);
  else ctx.stdout.write(`${label}#${runId} ended ${final.run.status} before it could be cancelled\n`);
  return final?.run.status === 'cancelled' ? 0 : 1;
}

async function logs(ctx: CliContext, engine: RemoteEngine, runId: string): Promise<number> {
  let current: string | null = null;
  const print = (job: RemoteJob, text: string) => {
    if (current !== job.id) ctx.stdout.write(`==> ${job.name}\n`);
    current = job.id;
    ctx.stdout.write(text);
  };
  if (!ctx.options.follow) {
    const state = await engine.run(runId, ctx.signal);
    await readLogs(engine, state, ctx.signal, print);
    if (!isFinished(state.run.status)) ctx.stderr.write(`delivery: the run is ${state.run.status}; --follow shows the rest as it comes\n`);
    return 0;
  }
  try {
    const final = await followRun(engine, runId, { signal: ctx.signal, clock: systemClock, onLog: print });
    const reason = runFailure(final);
    ctx.stderr.write(`run ${runId}: ${final.run.status}${reason ? ` (${reason})` : ''}\n`);
    return final.run.status === 'success' ? 0 : 1;
  } catch (e) {
    if (ctx.signal.aborted) return 130;
    throw e;
  }
}

function whoAmI(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return 'delivery';
  }
}
