// The run engine: executes a RunPlan as a DAG with bounded parallelism, retries, timeouts, `when` rules and
// allowed failures; streams output line by line; keeps a bounded tail in memory and the full log on disk
// (through the RunStore port); records the run as it goes. No I/O of its own: processes and files are ports.
import type { JobRecord, JobStatus, RunRecord, RunStatus, StepRecord } from '../../shared/model';
import type { DepState, PlannedJob, PlannedStep, RunPlan, StepContext } from './plan';
import type { CommandSpec, JobLog, OutputStream, ProcessRunner, RunStore, WorkspaceFiles } from './ports';
import { parseJunit, sumCounts } from './junit';

export type RunEvent =
  | { type: 'job'; run: RunRecord; job: JobRecord }
  | { type: 'line'; run: RunRecord; jobId: string; stream: OutputStream | 'system'; text: string; t: number }
  | { type: 'end'; run: RunRecord };

export interface EngineOptions {
  runner: ProcessRunner;
  store: RunStore;
  /** Jobs running at once (>= 1). */
  parallelism: number;
  files?: WorkspaceFiles;
  /** Lines kept in memory per job. */
  tailLines?: number;
  now?: () => number;
  /** Masks secrets in every line before it is logged, kept or emitted. */
  redact?: (text: string) => string;
}

export interface RunMeta {
  id: string;
  folder: string;
  trigger: RunRecord['trigger'];
  sha: string | null;
  pid: number;
}

export interface RunHandle {
  readonly run: RunRecord;
  readonly done: Promise<RunRecord>;
  cancel(): void;
  /** The last lines of a job's output. */
  tail(jobId: string): readonly string[];
  onEvent(listener: (e: RunEvent) => void): () => void;
}

/** Longest line kept in memory and sent to listeners; the log file gets the whole line. */
export const MAX_LINE_IN_MEMORY = 8192;
const SAVE_INTERVAL_MS = 250;

export function startRun(plan: RunPlan, meta: RunMeta, opts: EngineOptions): RunHandle {
  return new Run(plan, meta, opts).start();
}

class Tail {
  private readonly buf: string[] = [];
  private start = 0;
  constructor(private readonly max: number) {}
  push(line: string): void {
    if (this.buf.length < this.max) this.buf.push(line);
    else {
      this.buf[this.start] = line;
      this.start = (this.start + 1) % this.max;
    }
  }
  lines(): string[] {
    return this.buf.length < this.max ? this.buf.slice() : [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
  }
}

class Run {
  readonly record: RunRecord;
  private readonly listeners = new Set<(e: RunEvent) => void>();
  private readonly controller = new AbortController();
  private readonly jobs = new Map<string, PlannedJob>();
  private readonly records = new Map<string, JobRecord>();
  private readonly tails = new Map<string, Tail>();
  private readonly outputs = new Map<string, Record<string, string>>();
  private readonly upstreamFailed = new Set<string>();
  private running = 0;
  private finished = 0;
  private resolveDone!: (r: RunRecord) => void;
  readonly done: Promise<RunRecord>;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly redact: (s: string) => string;

  constructor(
    private readonly plan: RunPlan,
    meta: RunMeta,
    private readonly opts: EngineOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.redact = opts.redact ?? ((s) => s);
    this.done = new Promise((r) => (this.resolveDone = r));
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
      jobs: plan.jobs.map((j) => ({
        id: j.id,
        name: j.name,
        stage: j.stage,
        deps: [...new Set([...j.deps, ...j.after])],
        status: 'queued' as JobStatus,
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
      })),
    };
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
      onEvent: (l) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
      },
    };
    this.controller.signal.addEventListener('abort', () => this.pump(), { once: true });
    void this.persist().then(() => this.pump());
    if (this.plan.jobs.length === 0) queueMicrotask(() => this.pump());
    return handle;
  }

  private emit(e: RunEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure must not stop the run.
      }
    }
  }

  private persist(): Promise<void> {
    this.saving = this.saving.then(() => this.opts.store.save(this.record)).catch(() => undefined);
    return this.saving;
  }

  private persistSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.persist();
    }, SAVE_INTERVAL_MS);
  }

  private setJob(job: JobRecord, patch: Partial<JobRecord>): void {
    Object.assign(job, patch);
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
    if (job.unsupported) {
      return { run: false, status: 'unsupported', reason: job.unsupported, propagateFailure: !job.allowFailure };
    }
    if (job.condition) {
      const c = job.condition(this.depStates(job));
      if ('error' in c) return { run: false, status: 'failed', reason: c.error, propagateFailure: !job.allowFailure };
      return c.run ? { run: true } : { run: false, status: 'skipped', reason: c.reason, propagateFailure: anyFailed };
    }
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
  }

  private line(rec: JobRecord, log: JobLog | null, stream: OutputStream | 'system', raw: string): void {
    const text = this.redact(raw);
    log?.write(stream, text);
    const kept = text.length > MAX_LINE_IN_MEMORY ? `${text.slice(0, MAX_LINE_IN_MEMORY)}… [${text.length - MAX_LINE_IN_MEMORY} more characters in the log file]` : text;
    this.tails.get(rec.id)!.push(kept);
    if (this.listeners.size > 0) this.emit({ type: 'line', run: this.record, jobId: rec.id, stream, text: kept, t: this.now() });
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
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
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
      let timer: ReturnType<typeof setTimeout> | null = null;
      if (job.timeoutMs !== null) timer = setTimeout(() => attemptCtl.abort('timeout'), job.timeoutMs);
      const result = await this.runSteps(job, rec, log, attemptCtl.signal, outputs, attempt);
      if (timer) clearTimeout(timer);
      runSignal.removeEventListener('abort', onRunAbort);
      exitCode = result.exitCode;
      if (attemptCtl.signal.aborted && attemptCtl.signal.reason === 'timeout') {
        status = 'failed';
        reason = `timed out after ${formatMs(job.timeoutMs ?? 0)}`;
        this.line(rec, log, 'system', `job ${reason}; its processes were killed`);
      } else if (runSignal.aborted) {
        status = 'cancelled';
        reason = 'run cancelled';
        break;
      } else {
        status = result.failed ? 'failed' : 'success';
        reason = result.reason;
      }
      if (status === 'success') break;
    }
    if (job.junit.length > 0 && this.opts.files) {
      try {
        const files = await this.opts.files.glob(job.cwd, job.junit);
        const counts = await Promise.all(files.map(async (f) => parseJunit(await this.opts.files!.readText(f))));
        rec.tests = sumCounts(counts.filter((c) => c !== null));
        if (files.length === 0) this.line(rec, log, 'system', `no JUnit report matched ${job.junit.join(', ')}`);
      } catch (e) {
        this.line(rec, log, 'system', `could not read JUnit reports: ${(e as Error).message}`);
      }
    }
    if (job.artifacts.length > 0 && this.opts.files) {
      try {
        rec.artifacts = await this.opts.files.glob(job.cwd, job.artifacts);
      } catch (e) {
        this.line(rec, log, 'system', `could not list artifacts: ${(e as Error).message}`);
      }
    }
    if (status === 'failed' && !job.allowFailure) this.upstreamFailed.add(job.id);
    if (status === 'failed' && job.allowFailure) this.line(rec, log, 'system', 'job failed, which is allowed');
    await log?.close().catch(() => undefined);
    this.running--;
    this.finishJob(rec, { status, exitCode, reason, durationMs: this.now() - started });
    this.pump();
  }

  private async runSteps(
    job: PlannedJob,
    rec: JobRecord,
    log: JobLog | null,
    signal: AbortSignal,
    outputs: Record<string, string>,
    attempt: number,
  ): Promise<{ failed: boolean; exitCode: number | null; reason: string | null }> {
    const ctx: StepContext = { failed: false, cancelled: false, deps: this.depStates(job), outputs, attempt };
    let exitCode: number | null = 0;
    let reason: string | null = null;
    const unsupported: string[] = [];
    for (let i = 0; i < job.steps.length; i++) {
      const step = job.steps[i];
      const sr = rec.steps[i];
      ctx.cancelled = signal.aborted;
      const skip = this.stepSkip(step, ctx);
      if (skip !== null) {
        this.setStep(rec, sr, { status: signal.aborted ? 'cancelled' : 'skipped', reason: skip });
        continue;
      }
      if (step.unsupported) {
        unsupported.push(step.name);
        this.line(rec, log, 'system', `▷ ${step.name}: unsupported locally: ${step.unsupported}`);
        this.setStep(rec, sr, { status: 'unsupported', reason: step.unsupported });
        continue;
      }
      if (step.noop || step.command === null) {
        this.line(rec, log, 'system', `▷ ${step.name}: ${step.noop ?? 'nothing to run'}`);
        this.setStep(rec, sr, { status: 'success', reason: step.noop });
        continue;
      }
      let spec: CommandSpec;
      if (typeof step.command === 'function') {
        const built = step.command(ctx);
        if ('skip' in built) {
          this.setStep(rec, sr, { status: 'skipped', reason: built.skip });
          continue;
        }
        if ('error' in built) {
          this.line(rec, log, 'system', `▷ ${step.name}: ${built.error}`);
          this.setStep(rec, sr, { status: 'failed', reason: built.error });
          if (!step.continueOnError) {
            ctx.failed = true;
            exitCode = null;
            reason = `step "${step.name}": ${built.error}`;
          }
          continue;
        }
        spec = built;
      } else spec = step.command;
      this.line(rec, log, 'system', `▶ ${step.name}`);
      const t0 = this.now();
      this.setStep(rec, sr, { status: 'running' });
      const result = await this.opts.runner.run(spec, {
        signal,
        onLine: (stream, text) => this.line(rec, log, stream, text),
      });
      const durationMs = this.now() - t0;
      if (result.leftovers > 0) {
        this.line(rec, log, 'system', `killed ${result.leftovers} process${result.leftovers === 1 ? '' : 'es'} the step left running`);
      }
      if (result.error) this.line(rec, log, 'system', result.error);
      await step.after?.(result, ctx);
      if (signal.aborted) {
        this.setStep(rec, sr, { status: 'cancelled', exitCode: result.exitCode, durationMs, reason: String(signal.reason ?? 'cancelled') });
        ctx.failed = true;
        exitCode = result.exitCode;
        continue;
      }
      const ok = result.exitCode === 0;
      const why = result.error ?? (result.signal ? `killed by ${result.signal}` : ok ? null : `exited with code ${result.exitCode}`);
      this.setStep(rec, sr, { status: ok ? 'success' : 'failed', exitCode: result.exitCode, durationMs, reason: why });
      if (!ok) {
        this.line(rec, log, 'system', `✗ ${step.name}: ${why}${step.continueOnError ? ' (continuing: the step may fail)' : ''}`);
        if (!step.continueOnError) {
          ctx.failed = true;
          exitCode = result.exitCode;
          reason = `step "${step.name}" ${why}`;
        }
      }
    }
    if (!ctx.failed && unsupported.length > 0) {
      reason = `${unsupported.length} step${unsupported.length === 1 ? '' : 's'} unsupported locally: ${unsupported.join(', ')}`;
    }
    return { failed: ctx.failed, exitCode: ctx.failed ? exitCode : 0, reason };
  }

  /** Null when the step should run, else why it is skipped. */
  private stepSkip(step: PlannedStep, ctx: StepContext): string | null {
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
    Object.assign(sr, patch);
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
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    await this.persist();
    this.emit({ type: 'end', run: this.record });
    this.listeners.clear();
    this.resolveDone(this.record);
  }
}

function formatMs(ms: number): string {
  return ms % 60000 === 0 ? `${ms / 60000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
