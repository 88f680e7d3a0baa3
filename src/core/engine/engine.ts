// The run engine: executes a RunPlan as a DAG with bounded parallelism, retries, timeouts, `when` rules and
// allowed failures; streams output line by line; keeps a bounded tail in memory and the full log on disk
// (through the RunStore port); records the run as it goes. No I/O of its own: processes and files are ports.
import type { JobRecord, JobStatus, RunRecord, RunStatus, StepRecord } from '../../shared/model';
import type { DepState, LiveStep, PlannedJob, RunPlan, StepContext } from './plan';
import { RunRuntime, type RuntimePorts } from './interpreters';
import type { CommandSpec, JobExecutors, JobLog, JobSession, LongLine, OutputStream, ProcessResult, ProcessRunner, RunStore, WorkspaceFiles, WorkspacePort } from './ports';
import { maskTests, parseJunitReport, sumCounts, testCounts } from './junit';
import { locateTests } from './testLocation';
import { MAX_DURATION_MS } from '../duration';
import type { Masker } from '../secrets';
import type { Clock, TimerHandle } from '../clock';

export type RunEvent =
  | { type: 'job'; run: RunRecord; job: JobRecord }
  | { type: 'line'; run: RunRecord; jobId: string; stream: OutputStream | 'system'; text: string; t: number }
  | { type: 'end'; run: RunRecord };

/**
 * What a listener that takes output in blocks hears (onEvent(l, { lineBlocks: true })): `lines` instead of a `line`
 * event per line where a process's output came as whole lines at once (ProcessIO.onLines) — `text` is the lines
 * joined by \n, each as a `line` event would have had it. A flood of output then costs a listener one call per
 * chunk read.
 */
export type RunBlockEvent = RunEvent | { type: 'lines'; run: RunRecord; jobId: string; stream: OutputStream; text: string; t: number };

export interface EngineOptions {
  /** Runs the steps of jobs on this machine when there are no `executors`. */
  runner: ProcessRunner;
  /**
   * Opens a session per job attempt for the executor its plan names (host processes, containers). Without it,
   * every job runs through `runner` and what a step leaves running is the runner's business.
   */
  executors?: JobExecutors;
  /** Makes and removes job workspaces (PlannedJob.workspace); a job that asks for one fails without it. */
  workspaces?: WorkspacePort;
  store: RunStore;
  /** Jobs running at once (>= 1). */
  parallelism: number;
  files?: WorkspaceFiles;
  /** Lines kept in memory per job. */
  tailLines?: number;
  /** Time and timers (adapters: systemClock). */
  clock: Clock;
  /**
   * Secrets to mask: on each process's output stream (before it is split into lines), then in every line and
   * reason before it is logged, kept, recorded or emitted.
   */
  masker?: Masker;
  /** Aborting it cancels the run (the same as RunHandle.cancel()). */
  signal?: AbortSignal;
  /**
   * What the plan's interpreters need at run time (GitHub step files, actions, workspaces of jobs made while the run
   * goes): the ports the plan was made with.
   */
  ports?: RuntimePorts;
}

export interface RunMeta {
  id: string;
  folder: string;
  trigger: RunRecord['trigger'];
  sha: string | null;
  pid: number;
  /**
   * A new attempt of `previous` (a rerun of its failed jobs): the record lists every job of it in its order, the
   * ones not planned again with the result they had there.
   */
  rerunOf?: RunRecord;
}

export interface RunHandle {
  readonly run: RunRecord;
  readonly done: Promise<RunRecord>;
  cancel(): void;
  /** The last lines of a job's output. */
  tail(jobId: string): readonly string[];
  /** What the plan says of a job (where it runs, its problem matchers), the jobs made at run time too. */
  job(jobId: string): Readonly<PlannedJob> | undefined;
  onEvent(listener: (e: RunEvent) => void): () => void;
  onEvent(listener: (e: RunBlockEvent) => void, opts: { lineBlocks: true }): () => void;
}

/** Longest line kept in memory and sent to listeners; the log file gets the whole line. */
export const MAX_LINE_IN_MEMORY = 8192;
const SAVE_INTERVAL_MS = 250;

export function startRun(plan: RunPlan, meta: RunMeta, opts: EngineOptions): RunHandle {
  return new Run(plan, meta, opts).start();
}

/** Characters (or bytes) a tail may hold before it drops what is older than its last lines (see Tail). */
const TAIL_SLACK = 64 * 1024;
const UTF8 = new TextDecoder();

/**
 * The last `max` lines of a job. Output comes a line at a time or in blocks of lines whose lines are not counted as
 * they come: what is older than the last `max` lines is dropped when the tail holds twice `max` entries, or more
 * than twice what it held after the last trim (at least TAIL_SLACK) — so a trim counts at most `max` lines, and
 * comes after at least as many lines or characters are added. A block read with its bytes is kept as those bytes
 * (outside the JavaScript heap, where the young generation's collector would copy it each time it runs); a
 * block's text is decoded when the tail is read.
 */
class Tail {
  /** Oldest first: a line, lines joined by \n (`block`), or lines' bytes, each line with its newline. */
  private entries: { text: string | Uint8Array; block: boolean }[] = [];
  private size = 0;
  private limit = TAIL_SLACK;
  constructor(private readonly max: number) {}
  push(text: string | Uint8Array, block = false): void {
    this.entries.push({ text, block });
    this.size += text.length;
    if (this.entries.length > 2 * this.max || this.size > this.limit) this.trim();
  }
  lines(): string[] {
    const out: string[] = [];
    for (const e of this.entries) {
      if (typeof e.text !== 'string') out.push(...UTF8.decode(e.text.subarray(0, -1)).split('\n'));
      else if (e.block) out.push(...e.text.split('\n'));
      else out.push(e.text);
    }
    return out.length > this.max ? out.slice(out.length - this.max) : out;
  }
  /** Drops the entries older than the last `max` lines. */
  private trim(): void {
    let lines = 0;
    let i = this.entries.length;
    while (i > 0 && lines < this.max) {
      const e = this.entries[--i];
      lines += e.block ? countLines(e.text, this.max - lines) : 1;
    }
    if (i > 0) {
      for (const e of this.entries.splice(0, i)) this.size -= e.text.length;
    }
    this.limit = Math.max(TAIL_SLACK, 2 * this.size);
  }
}

/** Lines in a block (joined by \n, or bytes with a newline after each line), counted from its end up to `upTo`. */
function countLines(block: string | Uint8Array, upTo: number): number {
  let n = 1;
  if (typeof block === 'string') {
    let at = block.length;
    while (n < upTo && at > 0 && (at = block.lastIndexOf('\n', at - 1)) >= 0) n++;
  } else {
    let at = block.length - 1; // its last newline ends its last line
    while (n < upTo && at > 0 && (at = block.lastIndexOf(10, at - 1)) >= 0) n++;
  }
  return n;
}

class Run {
  readonly record: RunRecord;
  private readonly listeners = new Set<(e: RunEvent) => void>();
  /** Listeners that take output in blocks (RunBlockEvent). */
  private readonly blockListeners = new Set<(e: RunBlockEvent) => void>();
  private readonly controller = new AbortController();
  private readonly jobs = new Map<string, PlannedJob>();
  private readonly records = new Map<string, JobRecord>();
  private readonly tails = new Map<string, Tail>();
  private readonly outputs = new Map<string, Record<string, string>>();
  private readonly upstreamFailed = new Set<string>();
  /** Job id -> the folder its artifacts were kept in (jobs in workspaces of their own). */
  private readonly keptArtifacts = new Map<string, string>();
  /** Jobs expanded at run time (PlannedJob.expand): group id -> the ids of the jobs that replaced it, and back. */
  private readonly groups = new Map<string, string[]>();
  private readonly groupOf = new Map<string, string>();
  private running = 0;
  private finished = 0;
  private resolveDone!: (r: RunRecord) => void;
  readonly done: Promise<RunRecord>;
  private saveTimer: TimerHandle | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly redact: (s: string) => string;
  private readonly masker: Masker | undefined;
  /** The plan's runtime: interprets its steps, gates and expansions (made when the run starts). */
  private readonly runtime: RunRuntime;

  constructor(
    private readonly plan: RunPlan,
    meta: RunMeta,
    private readonly opts: EngineOptions,
  ) {
    this.now = () => opts.clock.now();
    this.masker = opts.masker && !opts.masker.empty ? opts.masker : undefined;
    this.redact = this.masker ? this.masker.mask : (s) => s;
    this.done = new Promise((r) => (this.resolveDone = r));
    this.runtime = new RunRuntime(plan, opts.ports ?? {});
    this.record = {
      id: meta.id,
      folder: meta.folder,
      pipelineId: plan.pipelineId,
      pipelineName: plan.pipelineName,
      source: plan.source,
      stages: plan.stages,
      status: 'running',
      startedAt: this.now(),
      finishedAt: null,
      durationMs: 0,
      trigger: meta.trigger,
      sha: meta.sha,
      pid: meta.pid,
      jobs: plan.jobs.map((j) => newJobRecord(j)),
    };
    const previous = meta.rerunOf;
    if (previous) {
      // The whole pipeline, as the attempt before: what runs again is new, the rest keeps its result.
      const fresh = new Map(this.record.jobs.map((r) => [r.id, r]));
      // Only a result carries over: a job the earlier attempt left queued or running (it was interrupted) is shown
      // as cancelled there, not as running here.
      const carried = (p: JobRecord): JobRecord =>
        p.status === 'queued' || p.status === 'running' ? { ...p, status: 'cancelled', reason: 'not finished in the earlier attempt', carriedFrom: p.carriedFrom ?? previous.id } : { ...p, carriedFrom: p.carriedFrom ?? previous.id };
      const merged: JobRecord[] = previous.jobs.map((p) => fresh.get(p.id) ?? carried(p));
      for (const r of this.record.jobs) if (!previous.jobs.some((p) => p.id === r.id)) merged.push(r);
      this.record.jobs = merged;
      this.record.attempt = (previous.attempt ?? 1) + 1;
      this.record.rerunOf = previous.id;
    }
    for (const j of plan.jobs) this.jobs.set(j.id, j);
    for (const r of this.record.jobs) {
      this.records.set(r.id, r);
      this.tails.set(r.id, new Tail(opts.tailLines ?? 200));
    }
  }

  start(): RunHandle {
    const handle: RunHandle = {
      run: this.record,
      done: this.done,
      cancel: () => this.controller.abort(),
      tail: (jobId) => this.tails.get(jobId)?.lines() ?? [],
      job: (jobId) => this.jobs.get(jobId),
      onEvent: ((l: (e: RunBlockEvent) => void, opts?: { lineBlocks: true }) => {
        // A listener without lineBlocks never hears a `lines` event: it is in the other set.
        const set = opts?.lineBlocks ? this.blockListeners : (this.listeners as Set<(e: RunBlockEvent) => void>);
        set.add(l);
        return () => set.delete(l);
      }) as RunHandle['onEvent'],
    };
    this.controller.signal.addEventListener('abort', () => this.pump(), { once: true });
    const outer = this.opts.signal;
    if (outer) {
      if (outer.aborted) this.controller.abort();
      else {
        const onAbort = () => this.controller.abort();
        outer.addEventListener('abort', onAbort, { once: true });
        void this.done.then(() => outer.removeEventListener('abort', onAbort));
      }
    }
    void this.persist().then(() => this.pump());
    if (this.plan.jobs.length === 0) queueMicrotask(() => this.pump());
    return handle;
  }

  private emit(e: RunEvent): void {
    emitTo(this.listeners, e);
    emitTo(this.blockListeners, e);
  }

  private persist(): Promise<void> {
    this.saving = this.saving.then(() => this.opts.store.save(this.record)).catch(() => undefined);
    return this.saving;
  }

  private persistSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = this.opts.clock.setTimer(SAVE_INTERVAL_MS, () => {
      this.saveTimer = null;
      void this.persist();
    });
  }

  private setJob(job: JobRecord, patch: Partial<JobRecord>): void {
    Object.assign(job, patch, patch.reason ? { reason: this.redact(patch.reason) } : {});
    this.emit({ type: 'job', run: this.record, job });
    this.persistSoon();
  }

  private isFinal(s: JobStatus): boolean {
    return s !== 'queued' && s !== 'running';
  }

  private depStates(job: PlannedJob): Record<string, DepState> {
    const out: Record<string, DepState> = {};
    for (const id of [...job.deps, ...job.after]) {
      const r = this.records.get(id);
      if (r) out[id] = { status: r.status, allowFailure: r.allowFailure, outputs: this.outputs.get(id) ?? {} };
    }
    return out;
  }

  /** Starts every job whose dependencies have finished, up to the parallelism limit. */
  private pump(): void {
    const cancelled = this.controller.signal.aborted;
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const job of this.plan.jobs) {
        const rec = this.records.get(job.id)!;
        if (rec.status !== 'queued') continue;
        if (cancelled) {
          this.finishJob(rec, { status: 'cancelled', reason: 'run cancelled before the job started' });
          progressed = true;
          continue;
        }
        const waits = [...job.deps, ...job.after].map((d) => this.records.get(d)).filter((d): d is JobRecord => !!d);
        if (waits.some((d) => !this.isFinal(d.status))) continue;
        const decision = this.decide(job, waits);
        if (decision.run && job.expand) {
          this.expandJob(job, rec);
          progressed = true;
          continue;
        }
        if (decision.run) {
          if (this.running >= Math.max(1, this.opts.parallelism)) return;
          this.running++;
          void this.execute(job, rec);
        } else {
          if (decision.propagateFailure) this.upstreamFailed.add(job.id);
          this.finishJob(rec, { status: decision.status, reason: decision.reason });
          progressed = true;
        }
      }
    }
    if (this.finished === this.plan.jobs.length && this.running === 0 && this.record.status === 'running') void this.end();
  }

  private failedHard(id: string): boolean {
    const r = this.records.get(id);
    if (!r) return false;
    return ((r.status === 'failed' || r.status === 'unsupported') && !r.allowFailure) || this.upstreamFailed.has(id);
  }

  private decide(
    job: PlannedJob,
    waits: JobRecord[],
  ): { run: true } | { run: false; status: JobStatus; reason: string; propagateFailure: boolean } {
    const anyFailed = [...job.deps, ...job.after].some((d) => this.failedHard(d));
    // The gate comes first: a job that would not run anyway is skipped, not reported as unsupported.
    const c = this.runtime.gate(job, this.depStates(job));
    if (c) {
      if ('error' in c) return { run: false, status: 'failed', reason: c.error, propagateFailure: !job.allowFailure };
      if (!c.run) return { run: false, status: 'skipped', reason: c.reason, propagateFailure: anyFailed };
    }
    if (job.unsupported) {
      return { run: false, status: 'unsupported', reason: job.unsupported, propagateFailure: !job.allowFailure };
    }
    if (c) return { run: true };
    if (job.when === 'manual') {
      return { run: false, status: 'manual', reason: 'manual job: start it on its own', propagateFailure: false };
    }
    if (job.when === 'always') return { run: true };
    if (job.when === 'on_failure') {
      return anyFailed
        ? { run: true }
        : { run: false, status: 'skipped', reason: 'runs only when an earlier job failed', propagateFailure: false };
    }
    // on_success
    const blocking = waits.find((d) => job.deps.includes(d.id) && !(d.status === 'success' || (d.status === 'failed' && d.allowFailure)));
    if (blocking) {
      return { run: false, status: 'skipped', reason: `needs "${blocking.id}", which ended ${blocking.status}`, propagateFailure: anyFailed };
    }
    const failedBefore = job.after.find((d) => this.failedHard(d));
    if (failedBefore) {
      return { run: false, status: 'skipped', reason: `an earlier job ("${failedBefore}") failed`, propagateFailure: true };
    }
    return { run: true };
  }

  private finishJob(rec: JobRecord, patch: Partial<JobRecord>): void {
    this.finished++;
    this.setJob(rec, patch);
    const group = this.groupOf.get(rec.id);
    if (group) this.finishGroupIfDone(group);
  }

  /** Replaces a job by the jobs its `expand` returns; its record stays as the group until they have all ended. */
  private expandJob(job: PlannedJob, rec: JobRecord): void {
    let r = this.runtime.expand(job, this.depStates(job));
    // Names made at run time can hold a secret (a matrix value): masked as the plan's are.
    if ('jobs' in r) r = { jobs: r.jobs.map((c) => ({ ...c, name: this.redact(c.name), steps: c.steps.map((s) => ({ ...s, name: this.redact(s.name) })) })) };
    const dup = 'jobs' in r ? r.jobs.find((c) => this.jobs.has(c.id)) : undefined;
    if (dup) r = { error: `job id "${dup.id}" is already used in this run` };
    if ('error' in r) {
      if (!job.allowFailure) this.upstreamFailed.add(job.id);
      this.finishJob(rec, { status: 'failed', reason: r.error });
      return;
    }
    const children = r.jobs;
    this.plan.jobs.splice(this.plan.jobs.indexOf(job) + 1, 0, ...children);
    const recs = children.map((c) => newJobRecord(c));
    this.record.jobs.splice(this.record.jobs.indexOf(rec) + 1, 0, ...recs);
    children.forEach((c, i) => {
      this.jobs.set(c.id, c);
      this.records.set(c.id, recs[i]);
      this.tails.set(c.id, new Tail(this.opts.tailLines ?? 200));
      this.groupOf.set(c.id, job.id);
    });
    this.groups.set(job.id, children.map((c) => c.id));
    this.setJob(rec, { status: 'running', startedAt: this.now(), reason: `expanded into ${children.length} job${children.length === 1 ? '' : 's'}` });
    this.finishGroupIfDone(job.id);
  }

  private finishGroupIfDone(groupId: string): void {
    const rec = this.records.get(groupId)!;
    if (rec.status !== 'running') return;
    const kids = (this.groups.get(groupId) ?? []).map((id) => this.records.get(id)!);
    if (kids.some((k) => !this.isFinal(k.status))) return;
    const failed = kids.filter((k) => this.failedHard(k.id));
    const outputs: Record<string, string> = {};
    for (const k of kids) Object.assign(outputs, this.outputs.get(k.id));
    this.outputs.set(groupId, outputs);
    let status: JobStatus = 'success';
    if (failed.length > 0) status = 'failed';
    else if (kids.some((k) => k.status === 'cancelled')) status = 'cancelled';
    else if (kids.length > 0 && kids.every((k) => k.status === 'skipped')) status = 'skipped';
    if (status === 'failed' && !rec.allowFailure) this.upstreamFailed.add(groupId);
    this.finishJob(rec, {
      status,
      reason: failed.length ? `${failed.map((k) => `"${k.id}"`).join(', ')} failed` : rec.reason,
      durationMs: this.now() - (rec.startedAt ?? this.now()),
    });
  }

  private line(rec: JobRecord, log: JobLog | null, stream: OutputStream | 'system', raw: string, long?: LongLine): void {
    const text = this.redact(raw);
    let kept: string;
    if (long && !this.masker) {
      // Its bytes go to the log file as they came; memory and listeners get its head.
      log?.write(stream, text, long);
      kept = `${text.slice(0, MAX_LINE_IN_MEMORY)}… [${long.bytes - long.headBytes} more bytes in the log file]`;
    } else {
      log?.write(stream, text);
      kept = text.length > MAX_LINE_IN_MEMORY ? `${text.slice(0, MAX_LINE_IN_MEMORY)}… [${text.length - MAX_LINE_IN_MEMORY} more characters in the log file]` : text;
    }
    this.tails.get(rec.id)!.push(kept);
    if (this.listeners.size + this.blockListeners.size > 0) this.emit({ type: 'line', run: this.record, jobId: rec.id, stream, text: kept, t: this.now() });
  }

  /**
   * Whole lines at once (ProcessIO.onLines: no secrets to mask, none too long to keep): logged, kept and heard as
   * `line` would each of them, at the cost of one call per block.
   */
  private lines(rec: JobRecord, log: JobLog | null, stream: OutputStream, text: string, utf8?: Uint8Array): void {
    log?.write(stream, text, undefined, utf8); // the same bytes as the lines one by one
    this.tails.get(rec.id)!.push(utf8 ?? text, true);
    if (this.listeners.size + this.blockListeners.size === 0) return;
    const t = this.now();
    emitTo(this.blockListeners, { type: 'lines', run: this.record, jobId: rec.id, stream, text, t });
    if (this.listeners.size > 0) {
      for (const line of text.split('\n')) emitTo(this.listeners, { type: 'line', run: this.record, jobId: rec.id, stream, text: line, t });
    }
  }

  private async execute(job: PlannedJob, rec: JobRecord): Promise<void> {
    const started = this.now();
    let log: JobLog | null = null;
    try {
      log = this.opts.store.openLog(this.record, job.id);
      this.setJob(rec, { status: 'running', startedAt: started, logFile: log.path });
    } catch (e) {
      this.setJob(rec, { status: 'running', startedAt: started });
      this.line(rec, null, 'system', `cannot write the log file: ${(e as Error).message}`);
    }
    let status: JobStatus = 'failed';
    let exitCode: number | null = null;
    let reason: string | null = null;
    const runSignal = this.controller.signal;
    const outputs: Record<string, string> = {};
    this.outputs.set(job.id, outputs);
    const maxAttempts = job.retries + 1;
    // The job's report globs and those its last attempt's steps named (StepContext.reports).
    let junit = job.junit;
    const workspace = await this.makeWorkspace(job, rec, log, runSignal);
    for (let attempt = 1; attempt <= maxAttempts && workspace.ok; attempt++) {
      rec.attempts = attempt;
      if (attempt > 1) {
        this.line(rec, log, 'system', `── retry ${attempt - 1} of ${job.retries} ──`);
        rec.steps = job.steps.map((s) => ({ name: s.name, status: 'pending', exitCode: null, durationMs: 0, reason: null }));
        this.setJob(rec, {});
      }
      const attemptCtl = new AbortController();
      const onRunAbort = () => attemptCtl.abort('cancelled');
      runSignal.addEventListener('abort', onRunAbort, { once: true });
      if (runSignal.aborted) attemptCtl.abort('cancelled');
      let timer: TimerHandle | null = null;
      if (job.timeoutMs !== null) timer = this.opts.clock.setTimer(Math.min(job.timeoutMs, MAX_DURATION_MS), () => attemptCtl.abort('timeout'));
      const opened = await this.openSession(job, rec, log, attemptCtl.signal);
      if ('unsupported' in opened || 'error' in opened) {
        if (timer) this.opts.clock.clearTimer(timer);
        runSignal.removeEventListener('abort', onRunAbort);
        if (runSignal.aborted) {
          status = 'cancelled';
          reason = 'run cancelled';
          break;
        }
        const why = 'unsupported' in opened ? opened.unsupported : opened.error;
        this.line(rec, log, 'system', 'unsupported' in opened ? `unsupported locally: ${why}` : why);
        status = 'unsupported' in opened ? 'unsupported' : 'failed';
        reason = why;
        rec.steps = rec.steps.map((s) => ({ ...s, status: 'skipped', reason: 'the job did not start' }));
        if (status === 'unsupported') break;
        continue;
      }
      let result: Awaited<ReturnType<Run['runSteps']>>;
      const ended: (() => void)[] = [];
      try {
        result = await this.runSteps(job, rec, log, attemptCtl.signal, outputs, attempt, opened.session, ended);
      } finally {
        const closed = await opened.session.close().catch(() => ({ leftovers: 0, notes: [] as string[] }));
        for (const note of closed.notes) this.line(rec, log, 'system', note);
        if (closed.leftovers > 0) this.line(rec, log, 'system', `killed ${closed.leftovers} process${closed.leftovers === 1 ? '' : 'es'} the job left running`);
        // Its processes are gone: what the attempt's interpreters held (scratch folders) may serve later jobs.
        for (const f of ended) f();
      }
      if (timer) this.opts.clock.clearTimer(timer);
      runSignal.removeEventListener('abort', onRunAbort);
      exitCode = result.exitCode;
      junit = [...new Set([...job.junit, ...result.reports])];
      if (attemptCtl.signal.aborted && attemptCtl.signal.reason === 'timeout') {
        status = 'failed';
        reason = `timed out after ${formatMs(job.timeoutMs ?? 0)}`;
        this.line(rec, log, 'system', `job ${reason}; its processes were killed`);
      } else if (runSignal.aborted) {
        status = 'cancelled';
        reason = 'run cancelled';
        break;
      } else {
        status = result.failed ? 'failed' : result.unsupported ? 'unsupported' : 'success';
        reason = result.reason;
      }
      if (status === 'success' || status === 'unsupported') break;
    }
    if (!workspace.ok) {
      status = runSignal.aborted ? 'cancelled' : workspace.status;
      reason = runSignal.aborted ? 'run cancelled' : workspace.reason;
      rec.steps = rec.steps.map((s) => ({ ...s, status: 'skipped', reason: 'the job did not start' }));
    }
    if (junit.length > 0 && this.opts.files) {
      try {
        const files = await this.opts.files.glob(job.cwd, junit, (why) => this.line(rec, log, 'system', `JUnit reports: ${why}`), job.workspace?.path);
        const reports = (await Promise.all(files.map(async (f) => parseJunitReport(await this.opts.files!.readText(f, job.workspace?.path))))).filter((r) => r !== null);
        rec.tests = sumCounts(reports.map(testCounts));
        if (files.length === 0) this.line(rec, log, 'system', `no JUnit report matched ${junit.join(', ')}`);
        const suites = reports.flatMap((r) => r.suites);
        if (suites.length > 0 && this.opts.store.saveTests) {
          // Their texts come from the job like its output does: masked the same way before they are kept.
          const located = locateTests({ suites }, { folder: this.record.folder, cwd: job.cwd, workspace: job.workspace?.path });
          rec.testReport = await this.opts.store.saveTests(this.record, job.id, this.masker ? maskTests(located, this.redact) : located);
        }
      } catch (e) {
        this.line(rec, log, 'system', `could not read JUnit reports: ${(e as Error).message}`);
      }
    }
    if (job.artifacts.length > 0 && this.opts.files) {
      try {
        rec.artifacts = await this.opts.files.glob(job.cwd, job.artifacts, (why) => this.line(rec, log, 'system', `artifacts: ${why}`), job.workspace?.path);
        if (job.workspace && workspace.ok && rec.artifacts.length > 0 && this.opts.workspaces) {
          // Kept beside the workspace (which goes when the job succeeds), for the jobs that take its artifacts.
          const into = `${job.workspace.path}.artifacts`;
          rec.artifacts = await this.opts.workspaces.keep(job.workspace.path, rec.artifacts, into);
          this.keptArtifacts.set(job.id, into);
        }
      } catch (e) {
        this.line(rec, log, 'system', `could not list artifacts: ${(e as Error).message}`);
      }
    }
    if (status === 'failed' && !job.allowFailure && exitCode !== null && job.allowFailureExitCodes?.includes(exitCode)) {
      rec.allowFailure = true; // the record is what later decisions read
      this.line(rec, log, 'system', `exit code ${exitCode} is an allowed failure`);
    } else if (status === 'failed' && rec.allowFailure) this.line(rec, log, 'system', 'job failed, which is allowed');
    if (status === 'failed' && !rec.allowFailure) this.upstreamFailed.add(job.id);
    if (job.workspace && workspace.ok) {
      // A failed job's workspace stays for a look at what it left; a job that succeeded leaves nothing behind.
      if (status === 'success') await this.opts.workspaces?.remove(job.workspace.path);
      else {
        rec.workspace = job.workspace.path;
        this.line(rec, log, 'system', `its workspace is kept: ${job.workspace.path}`);
      }
    }
    await log?.close().catch(() => undefined);
    this.running--;
    this.finishJob(rec, { status, exitCode, reason, durationMs: this.now() - started });
    this.pump();
  }

  /** Makes the job's workspace when it has one; why the job cannot run when it cannot be made. */
  private async makeWorkspace(
    job: PlannedJob,
    rec: JobRecord,
    log: JobLog | null,
    signal: AbortSignal,
  ): Promise<{ ok: true } | { ok: false; status: JobStatus; reason: string }> {
    if (!job.workspace) return { ok: true };
    const port = this.opts.workspaces;
    if (!port) return { ok: false, status: 'unsupported', reason: 'it runs in a workspace of its own, and this run cannot make one' };
    const t0 = this.now();
    try {
      const overlays = (job.workspace.artifactsFrom ?? []).flatMap((id) => this.keptArtifacts.get(id) ?? []);
      const made = await port.prepare(job.workspace.source, job.workspace.path, signal, overlays);
      if (overlays.length > 0) this.line(rec, log, 'system', `artifacts of ${(job.workspace.artifactsFrom ?? []).filter((id) => this.keptArtifacts.has(id)).join(', ')} copied in`);
      for (const note of made.notes) this.line(rec, log, 'system', note);
      const what = made.reused ? 'the copy an earlier job ran in and changed nothing in' : 'a copy of the folder as it is now';
      this.line(rec, log, 'system', `workspace: ${what} (${this.now() - t0} ms): ${job.workspace.path}`);
      return { ok: true };
    } catch (e) {
      const reason = `could not make the job's workspace: ${(e as Error).message}`;
      this.line(rec, log, 'system', reason);
      await port.remove(job.workspace.path);
      return { ok: false, status: 'failed', reason };
    }
  }

  /** The session the job's steps run in: its executor's, or the runner's when the engine has no executors. */
  private async openSession(
    job: PlannedJob,
    rec: JobRecord,
    log: JobLog | null,
    signal: AbortSignal,
  ): Promise<{ session: JobSession } | { unsupported: string } | { error: string }> {
    const executors = this.opts.executors;
    if (!executors) {
      if (job.executor?.kind === 'container') return { unsupported: `runs in image ${job.executor.image}, and this run has no executor for it` };
      const runner = this.opts.runner;
      return { session: { run: (spec, io) => runner.run(spec, io), close: async () => ({ leftovers: 0, notes: [] }) } };
    }
    try {
      const opened = await executors.open({
        runId: this.record.id,
        jobId: job.id,
        executor: job.executor ?? { kind: 'host' },
        signal,
        log: (text) => this.line(rec, log, 'system', text),
      });
      if ('session' in opened) for (const note of [...(opened.notes ?? []), ...(job.notes ?? [])]) this.line(rec, log, 'system', note);
      return opened;
    } catch (e) {
      return { error: `could not start the job: ${(e as Error).message}` };
    }
  }

  private async runSteps(
    job: PlannedJob,
    rec: JobRecord,
    log: JobLog | null,
    signal: AbortSignal,
    outputs: Record<string, string>,
    attempt: number,
    session: JobSession,
    ended: (() => void)[],
  ): Promise<{ failed: boolean; exitCode: number | null; reason: string | null; unsupported?: boolean; reports: string[] }> {
    const ctx: StepContext = { failed: false, cancelled: false, deps: this.depStates(job), outputs, attempt, post: [], reports: [] };
    const reports = ctx.reports!;
    const st: StepsState = { rec, log, signal, ctx, exitCode: 0, reason: null, unsupported: [], session, stopped: null };
    let opened: Awaited<ReturnType<RunRuntime['openJob']>>;
    try {
      opened = await this.runtime.openJob(job, ctx);
    } catch (e) {
      const why = `could not set up the job: ${(e as Error).message}`;
      this.line(rec, log, 'system', why);
      rec.steps = rec.steps.map((s) => ({ ...s, status: 'skipped', reason: 'the job did not start' }));
      this.setJob(rec, {});
      return { failed: true, exitCode: null, reason: why, reports };
    }
    ended.push(opened.close);
    const list = opened.steps.map((step, i) => ({ step, sr: rec.steps[i] }));
    // Set up job: what its interpreters did before the first step (actions fetched), then the steps they put first
    // (GitHub runs every action's `pre:` at the start of the job, in step order).
    for (const note of opened.setup.notes) this.line(rec, log, 'system', note);
    if (opened.setup.steps.length > 0) {
      const pre = opened.setup.steps.map((step) => ({ step, sr: { name: this.redact(step.name), status: 'pending' as const, exitCode: null, durationMs: 0, reason: null } }));
      rec.steps.unshift(...pre.map((x) => x.sr));
      this.setJob(rec, {});
      await this.runStepList(pre, st);
    }
    await this.runStepList(list, st);
    // Post steps the steps left (newest first); each has its own condition.
    const post = (ctx.post ?? []).splice(0).reverse();
    if (post.length > 0 && !st.stopped) {
      const subs = post.map((step) => ({ step, sr: { name: this.redact(step.name), status: 'pending' as const, exitCode: null, durationMs: 0, reason: null } }));
      rec.steps.push(...subs.map((x) => x.sr));
      this.setJob(rec, {});
      await this.runStepList(subs, st);
    }
    if (!ctx.failed && st.stopped) return { failed: false, exitCode: null, reason: st.stopped, unsupported: true, reports };
    if (!ctx.failed && st.unsupported.length > 0) {
      st.reason = `${st.unsupported.length} step${st.unsupported.length === 1 ? '' : 's'} unsupported locally: ${st.unsupported.join(', ')}`;
    }
    return { failed: ctx.failed, exitCode: ctx.failed ? st.exitCode : 0, reason: st.reason, reports };
  }

  /** Runs steps in order; true when one of them failed (without continue-on-error). */
  private async runStepList(list: { step: LiveStep; sr: StepRecord }[], st: StepsState): Promise<boolean> {
    const { rec, log, signal, ctx } = st;
    let anyFailed = false;
    const fail = (step: LiveStep, exitCode: number | null, reason: string) => {
      if (step.continueOnError) return;
      anyFailed = true;
      ctx.failed = true;
      st.exitCode = exitCode;
      st.reason = reason;
    };
    for (const { step, sr } of list) {
      ctx.cancelled = signal.aborted;
      if (st.stopped) {
        this.setStep(rec, sr, { status: 'skipped', reason: 'not run: the job is unsupported locally' });
        continue;
      }
      const skip = this.stepSkip(step, ctx);
      if (skip !== null) {
        // Said in the log when its own condition skips it (an `if:` that is false), as CI lists it; after a failure
        // the steps skipped for it are not listed, so the failure stays at the end of the log's tail.
        if (!signal.aborted && !ctx.failed) this.line(rec, log, 'system', `▷ ${step.name}: skipped (${skip})`);
        this.setStep(rec, sr, { status: signal.aborted ? 'cancelled' : 'skipped', reason: skip });
        continue;
      }
      if (step.unsupported) {
        st.unsupported.push(step.name);
        this.line(rec, log, 'system', `▷ ${step.name}: unsupported locally: ${step.unsupported}`);
        this.setStep(rec, sr, { status: 'unsupported', reason: step.unsupported });
        continue;
      }
      if (step.expand) {
        if (await this.runExpanded(step, sr, st)) anyFailed = true;
        continue;
      }
      if (step.noop || step.command === null) {
        this.line(rec, log, 'system', `▷ ${step.name}: ${step.noop ?? 'nothing to run'}`);
        this.setStep(rec, sr, { status: 'success', reason: step.noop });
        continue;
      }
      let spec: CommandSpec;
      if (typeof step.command === 'function') {
        let built: Awaited<ReturnType<typeof step.command>>;
        try {
          built = await step.command(ctx);
        } catch (e) {
          built = { error: (e as Error).message };
        }
        if ('skip' in built) {
          this.setStep(rec, sr, { status: 'skipped', reason: built.skip });
          continue;
        }
        if ('error' in built) {
          this.line(rec, log, 'system', `▷ ${step.name}: ${built.error}`);
          this.setStep(rec, sr, { status: 'failed', reason: built.error });
          fail(step, null, `step "${step.name}": ${built.error}`);
          continue;
        }
        const { notes, ...command } = built;
        spec = command;
        for (const note of notes ?? []) this.line(rec, log, 'system', `▷ ${step.name}: ${note}`);
      } else spec = step.command;
      this.line(rec, log, 'system', `▶ ${step.name}`);
      const t0 = this.now();
      this.setStep(rec, sr, { status: 'running' });
      // A step timeout aborts only this step; the job's signal still aborts it too.
      let stepSignal = signal;
      let stepCtl: AbortController | null = null;
      let timer: TimerHandle | null = null;
      const onJobAbort = () => stepCtl?.abort(signal.reason);
      if (step.timeoutMs) {
        stepCtl = new AbortController();
        signal.addEventListener('abort', onJobAbort, { once: true });
        timer = this.opts.clock.setTimer(Math.min(step.timeoutMs, MAX_DURATION_MS), () => stepCtl!.abort('step timeout'));
        stepSignal = stepCtl.signal;
      }
      const hook = (stream: OutputStream, text: string) => {
        try {
          step.onLine?.(stream, text, ctx);
        } catch {
          // A hook's failure must not stop the output.
        }
      };
      const result = await st.session.run(spec, {
        signal: stepSignal,
        masker: this.masker,
        onLine: (stream, text, long) => {
          this.line(rec, log, stream, text, long);
          hook(stream, text);
        },
        // Lines in blocks only when nothing has to be masked in each (see line()).
        ...(this.masker
          ? {}
          : {
              onLines: (stream: OutputStream, text: string, utf8?: Uint8Array) => {
                this.lines(rec, log, stream, text, utf8);
                if (step.onLine) for (const line of text.split('\n')) hook(stream, line);
              },
            }),
      });
      if (timer) this.opts.clock.clearTimer(timer);
      signal.removeEventListener('abort', onJobAbort);
      const durationMs = this.now() - t0;
      if (result.leftovers > 0) {
        this.line(rec, log, 'system', `killed ${result.leftovers} process${result.leftovers === 1 ? '' : 'es'} the step left running`);
      }
      if (result.error) this.line(rec, log, 'system', result.error);
      const afterError = (await step.after?.(result, ctx)) ?? null;
      if (signal.aborted) {
        this.setStep(rec, sr, { status: 'cancelled', exitCode: result.exitCode, durationMs, reason: String(signal.reason ?? 'cancelled') });
        ctx.failed = true;
        anyFailed = true;
        st.exitCode = result.exitCode;
        continue;
      }
      const timedOut = stepCtl?.signal.aborted === true;
      const ok = result.exitCode === 0 && !timedOut && !afterError;
      const why = timedOut
        ? `timed out after ${formatMs(step.timeoutMs ?? 0)}`
        : (result.error ?? (result.signal ? `killed by ${result.signal}` : result.exitCode !== 0 ? `exited with code ${result.exitCode}` : afterError));
      this.setStep(rec, sr, { status: ok ? 'success' : 'failed', exitCode: result.exitCode, durationMs, reason: why });
      if (!ok) {
        this.line(rec, log, 'system', `✗ ${step.name}: ${why}${step.continueOnError ? ' (continuing: the step may fail)' : ''}`);
        fail(step, result.exitCode, `step "${step.name}" ${why}`);
      }
    }
    return anyFailed;
  }

  /** Runs a step that expands into sub-steps (PlannedStep.expand); true when it failed the job. */
  private async runExpanded(step: LiveStep, sr: StepRecord, st: StepsState): Promise<boolean> {
    const { rec, log, signal, ctx } = st;
    const t0 = this.now();
    this.setStep(rec, sr, { status: 'running' });
    let expansion: Awaited<ReturnType<NonNullable<LiveStep['expand']>>>;
    try {
      expansion = await step.expand!(ctx);
    } catch (e) {
      expansion = { error: (e as Error).message };
    }
    if ('error' in expansion) {
      this.line(rec, log, 'system', `✗ ${step.name}: ${expansion.error}${step.continueOnError ? ' (continuing: the step may fail)' : ''}`);
      this.setStep(rec, sr, { status: 'failed', durationMs: this.now() - t0, reason: expansion.error });
      if (step.continueOnError) return false;
      ctx.failed = true;
      st.exitCode = null;
      st.reason = `step "${step.name}": ${expansion.error}`;
      return true;
    }
    if ('notes' in expansion) for (const note of expansion.notes ?? []) this.line(rec, log, 'system', `▷ ${step.name}: ${note}`);
    if ('replace' in expansion) return this.runStepList([{ step: expansion.replace, sr }], st);
    if ('unsupported' in expansion) {
      st.unsupported.push(step.name);
      this.line(rec, log, 'system', `▷ ${step.name}: unsupported locally: ${expansion.unsupported}`);
      this.setStep(rec, sr, { status: 'unsupported', reason: expansion.unsupported });
      if (expansion.stopsJob) {
        st.stopped = `${step.name}: ${expansion.unsupported}`;
        this.line(rec, log, 'system', 'the later steps do not run: they would not answer for the job CI runs');
      }
      return false;
    }
    this.line(rec, log, 'system', `▶ ${step.name}`);
    const subs = expansion.steps.map((s) => ({
      step: s,
      sr: { name: this.redact(`${sr.name} › ${s.name}`), status: 'pending' as const, exitCode: null, durationMs: 0, reason: null },
    }));
    rec.steps.splice(rec.steps.indexOf(sr) + 1, 0, ...subs.map((x) => x.sr));
    this.setJob(rec, {});
    const before = { failed: ctx.failed, exitCode: st.exitCode, reason: st.reason };
    const failed = await this.runStepList(subs, st);
    const result: ProcessResult = { exitCode: failed ? 1 : 0, signal: null, error: null, leftovers: 0 };
    const afterError = (await step.after?.(result, ctx)) ?? null;
    if (afterError) this.line(rec, log, 'system', `✗ ${step.name}: ${afterError}`);
    const durationMs = this.now() - t0;
    if (signal.aborted) {
      this.setStep(rec, sr, { status: 'cancelled', durationMs, reason: String(signal.reason ?? 'cancelled') });
      return false;
    }
    if (afterError && !failed && !step.continueOnError) {
      ctx.failed = true;
      st.exitCode = null;
      st.reason = `step "${step.name}": ${afterError}`;
    }
    this.setStep(rec, sr, { status: failed || afterError ? 'failed' : 'success', exitCode: failed || afterError ? 1 : 0, durationMs, reason: failed ? 'one of its steps failed' : afterError });
    if (afterError && !failed) return !step.continueOnError;
    if (failed && step.continueOnError) {
      // The sub-step's failure marked the job; the step may fail, so the job goes on as before.
      ctx.failed = before.failed;
      st.exitCode = before.exitCode;
      st.reason = before.reason;
      this.line(rec, log, 'system', `✗ ${step.name}: one of its steps failed (continuing: the step may fail)`);
      return false;
    }
    return failed;
  }

  /** Null when the step should run, else why it is skipped. */
  private stepSkip(step: LiveStep, ctx: StepContext): string | null {
    if (ctx.cancelled) return 'cancelled';
    if (step.condition) {
      const c = step.condition(ctx);
      if (typeof c === 'string') return c;
      return c ? null : 'condition is false';
    }
    if (step.when === 'always') return null;
    if (step.when === 'on_failure') return ctx.failed ? null : 'runs only after a failure';
    return ctx.failed ? 'an earlier step failed' : null;
  }

  private setStep(rec: JobRecord, sr: StepRecord, patch: Partial<StepRecord>): void {
    Object.assign(sr, patch, patch.reason ? { reason: this.redact(patch.reason) } : {});
    this.emit({ type: 'job', run: this.record, job: rec });
  }

  private async end(): Promise<void> {
    const jobs = this.record.jobs;
    let status: RunStatus = 'success';
    if (this.controller.signal.aborted && jobs.some((j) => j.status === 'cancelled')) status = 'cancelled';
    else if (jobs.some((j) => (j.status === 'failed' || j.status === 'unsupported') && !j.allowFailure)) status = 'failed';
    this.record.status = status;
    this.record.finishedAt = this.now();
    this.record.durationMs = this.record.finishedAt - this.record.startedAt;
    if (this.saveTimer) {
      this.opts.clock.clearTimer(this.saveTimer);
      this.saveTimer = null;
    }
    await this.persist();
    this.emit({ type: 'end', run: this.record });
    this.listeners.clear();
    this.blockListeners.clear();
    this.resolveDone(this.record);
  }
}

interface StepsState {
  rec: JobRecord;
  log: JobLog | null;
  signal: AbortSignal;
  ctx: StepContext;
  exitCode: number | null;
  reason: string | null;
  unsupported: string[];
  session: JobSession;
  /** Why the job's later steps do not run (a step made it unsupported locally), or null. */
  stopped: string | null;
}

function emitTo<E>(listeners: Set<(e: E) => void>, e: E): void {
  for (const l of listeners) {
    try {
      l(e);
    } catch {
      // A listener's failure must not stop the run.
    }
  }
}

function newJobRecord(j: PlannedJob): JobRecord {
  return {
    id: j.id,
    name: j.name,
    stage: j.stage,
    deps: [...new Set([...j.deps, ...j.after])],
    status: 'queued',
    allowFailure: j.allowFailure,
    exitCode: null,
    startedAt: null,
    durationMs: 0,
    attempts: 0,
    reason: null,
    steps: j.steps.map((s) => ({ name: s.name, status: 'pending', exitCode: null, durationMs: 0, reason: null })),
    tests: null,
    artifacts: [],
    logFile: null,
  };
}

function formatMs(ms: number): string {
  return ms % 60000 === 0 ? `${ms / 60000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
