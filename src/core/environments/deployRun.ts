// The deploy state machine: runs the planned steps in order through an executor port, stops at the first failure,
// keeps the DeployRecord up to date (persisted through a store port) and emits events (`step`, `line`, `end`) the
// way the run engine does. Cancellation and the deploy timeout abort the current step's signal, which kills the
// step's process tree. No I/O of its own.
import type { DeployRecord, DeployStatus, DeployStepRecord, Health, Verification } from '../../shared/model';
import type { JobLog, OutputStream } from '../engine/ports';
import type { DeployStepPlan } from './deploy';
import type { Clock } from '../clock';

export type DeployEvent =
  | { type: 'step'; record: DeployRecord; step: DeployStepRecord; index: number }
  | { type: 'line'; record: DeployRecord; stream: OutputStream | 'system'; text: string; t: number }
  /** A failed verification started an automatic rollback (its own deploy `deployId`, to commit `sha`). */
  | { type: 'rollback'; record: DeployRecord; deployId: string; sha: string }
  | { type: 'end'; record: DeployRecord };

export interface DeployStepIO {
  /** Aborted on cancel or timeout: stop and kill what the step started. */
  signal: AbortSignal;
  /** A line of output for the deploy log and the listeners (secrets are masked before it is kept). */
  line(stream: OutputStream | 'system', text: string): void;
  /** Tells the listeners that an automatic rollback started (the verify step). */
  rollbackStarted?(deployId: string, sha: string): void;
}

export interface DeployStepOutcome {
  status: 'success' | 'failed' | 'skipped';
  reason?: string | null;
  /** Set by the health step. */
  health?: Health;
  /** Set by the build pipeline step. */
  buildRunId?: string;
  /** Set by the verify step (an `unverified` one leaves the deploy `unverified`). */
  verification?: Verification;
  /** Set by the verify step when it rolled the release back. */
  rolledBackTo?: string;
}

/** Executes one planned step (adapters implement it with real processes, HTTP and files). */
export interface DeployExecutor {
  execute(step: DeployStepPlan, io: DeployStepIO): Promise<DeployStepOutcome>;
}

export interface DeployRunOptions {
  executor: DeployExecutor;
  /** Persists the record (atomically). */
  save(record: DeployRecord): Promise<void>;
  log: JobLog | null;
  timeoutMs: number;
  /** Masks secrets in every line and reason. */
  redact?: (text: string) => string;
  /** Time and timers (adapters: systemClock). */
  clock: Clock;
  tailLines?: number;
  /** Aborting it cancels the deploy (the same as DeployHandle.cancel()). */
  signal?: AbortSignal;
}

export interface DeployHandle {
  readonly record: DeployRecord;
  readonly done: Promise<DeployRecord>;
  cancel(): void;
  onEvent(listener: (e: DeployEvent) => void): () => void;
  /** The last lines of output. */
  tail(): readonly string[];
}

/** The fields of a new record the caller decides (the rest start empty). */
export type DeployRecordSeed = Pick<DeployRecord, 'id' | 'environment' | 'folder' | 'action' | 'sha' | 'ref' | 'previousSha' | 'user' | 'trigger' | 'pid'>;

export function newDeployRecord(seed: DeployRecordSeed, steps: readonly DeployStepPlan[], startedAt: number, logFile: string | null): DeployRecord {
  return {
    ...seed,
    status: 'running',
    startedAt,
    finishedAt: null,
    durationMs: 0,
    steps: steps.map((s) => ({ name: s.name, status: 'pending', durationMs: 0, reason: null })),
    health: null,
    buildRunId: null,
    logFile,
    reason: null,
    verification: null,
    rolledBackTo: null,
  };
}

const MAX_LINE = 8192;

export function startDeployRun(record: DeployRecord, steps: readonly DeployStepPlan[], opts: DeployRunOptions): DeployHandle {
  const now = () => opts.clock.now();
  const redact = opts.redact ?? ((s: string) => s);
  const listeners = new Set<(e: DeployEvent) => void>();
  const controller = new AbortController();
  if (opts.signal?.aborted) controller.abort();
  else opts.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const tail: string[] = [];
  const maxTail = opts.tailLines ?? 200;
  let saving: Promise<void> = Promise.resolve();

  const emit = (e: DeployEvent) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure must not stop the deploy.
      }
    }
  };
  const persist = () => (saving = saving.then(() => opts.save(record)).catch(() => undefined));
  const line = (stream: OutputStream | 'system', raw: string) => {
    const text = redact(raw);
    opts.log?.write(stream, stream === 'system' ? `| ${text}` : text);
    const kept = text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)}… [more in the log file]` : text;
    tail.push(kept);
    if (tail.length > maxTail) tail.shift();
    if (listeners.size) emit({ type: 'line', record, stream, text: kept, t: now() });
  };
  const setStep = (index: number, patch: Partial<DeployStepRecord>) => {
    const step = record.steps[index];
    Object.assign(step, patch, patch.reason ? { reason: redact(patch.reason) } : {});
    emit({ type: 'step', record, step, index });
    void persist();
  };

  const run = async (): Promise<DeployRecord> => {
    await persist();
    const timer = opts.clock.setTimer(opts.timeoutMs, () => controller.abort('timeout'));
    let failure: string | null = null;
    try {
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (controller.signal.aborted) {
          setStep(i, { status: 'cancelled', reason: controller.signal.reason === 'timeout' ? 'the deploy timed out' : 'deploy cancelled' });
          continue;
        }
        if (failure !== null) {
          setStep(i, { status: 'skipped', reason: 'an earlier step failed' });
          continue;
        }
        line('system', `▶ ${step.name}`);
        const t0 = now();
        setStep(i, { status: 'running' });
        let outcome: DeployStepOutcome;
        try {
          outcome = await opts.executor.execute(step, { signal: controller.signal, line, rollbackStarted: (deployId, sha) => emit({ type: 'rollback', record, deployId, sha }) });
        } catch (e) {
          outcome = { status: 'failed', reason: (e as Error)?.message ?? String(e) };
        }
        const durationMs = now() - t0;
        if (outcome.buildRunId) record.buildRunId = outcome.buildRunId;
        if (outcome.health) record.health = outcome.health;
        if (outcome.verification) record.verification = outcome.verification;
        if (outcome.rolledBackTo) record.rolledBackTo = outcome.rolledBackTo;
        if (controller.signal.aborted) {
          const why = controller.signal.reason === 'timeout' ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : 'cancelled';
          setStep(i, { status: 'cancelled', durationMs, reason: why });
          line('system', `✗ ${step.name}: ${why}`);
          continue;
        }
        setStep(i, { status: outcome.status, durationMs, reason: outcome.reason ?? null });
        if (outcome.status === 'failed') {
          failure = failureReason(step, outcome.reason ?? 'failed');
          line('system', `✗ ${failure}`);
        } else if (outcome.reason) line('system', `${outcome.status === 'skipped' ? '○' : '✓'} ${step.name}: ${outcome.reason}`);
      }
    } finally {
      opts.clock.clearTimer(timer);
    }
    let status: DeployStatus = 'success';
    if (controller.signal.aborted) {
      const timedOut = controller.signal.reason === 'timeout';
      status = timedOut ? 'failed' : 'cancelled';
      record.reason = timedOut ? `the deploy timed out after ${Math.round(opts.timeoutMs / 1000)} s; its processes were stopped` : 'the deploy was cancelled';
    } else if (failure !== null) {
      status = 'failed';
      record.reason = redact(failure);
    } else if (record.verification?.status === 'unverified') {
      // Deployed, but nobody can say it is good: never `success`, and nothing is rolled back on missing data.
      status = 'unverified';
      record.reason = redact(record.steps.find((s) => s.status === 'success' && s.reason?.startsWith('unverified'))?.reason ?? 'the verification could not decide');
    }
    record.status = status;
    record.finishedAt = now();
    record.durationMs = record.finishedAt - record.startedAt;
    line('system', status === 'success' ? `deployed ${record.sha.slice(0, 7)} to ${record.environment}` : status === 'unverified' ? `deployed ${record.sha.slice(0, 7)} to ${record.environment}, unverified: ${record.reason}` : `deploy ${status}: ${record.reason}`);
    await opts.log?.close().catch(() => undefined);
    await persist();
    emit({ type: 'end', record });
    listeners.clear();
    return record;
  };

  const done = run();
  return {
    record,
    done,
    cancel: () => controller.abort('cancelled'),
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    tail: () => tail.slice(),
  };
}

function failureReason(step: DeployStepPlan, reason: string): string {
  switch (step.id) {
    case 'health':
      return `health check failed: ${reason} (the new release stays deployed: roll back to undo it)`;
    case 'version':
      return `version check failed: ${reason} (the release may be deployed only in part)`;
    case 'pipeline':
      return `${step.name} failed: ${reason}; nothing was deployed`;
    case 'verify':
      return reason;
    default:
      return `${step.name} failed: ${reason}`;
  }
}
