// The `workflow:` deploy kind: trigger a run of a remote pipeline (a Buildbot build, a GitHub workflow, a GitLab
// pipeline) with the deploy's inputs, then follow it to its end, its logs going into the deploy log. Cancelling
// or timing out the deploy cancels the remote run. The version probe and health check that follow are the
// deploy's usual steps.
import type { DeployMethod } from '../../core/environments/config';
import type { DeployStepIO, DeployStepOutcome } from '../../core/environments/deployRun';
import { describeTarget } from '../../core/remote/engines';
import { followRun, runFailure } from '../../core/remote/follow';
import type { BackoffPolicy, Clock } from '../../core/remote/poll';
import type { RemoteEngine, RemoteRun, RemoteTarget } from '../../core/remote/types';
import { systemClock } from '../clock';

/** What a workflow deploy needs from outside: the engine of a named pipeline, and the ref to run on. */
export interface RemoteDeployPort {
  resolve(pipeline: string, signal: AbortSignal): Promise<{ engine: RemoteEngine & { dispose?(): void }; target: RemoteTarget } | { error: string }>;
  /** The branch or tag to run on when `workflow.ref` is not given; null when there is none to name. */
  defaultRef(signal: AbortSignal): Promise<string | null>;
  clock?: Clock;
  backoff?: BackoffPolicy;
}

type WorkflowMethod = Extract<DeployMethod, { kind: 'workflow' }>;

const CANCEL_TIMEOUT_MS = 15_000;

export class WorkflowDeploy {
  private started: { engine: RemoteEngine & { dispose?(): void }; target: RemoteTarget; run: RemoteRun } | null = null;

  constructor(private readonly port: RemoteDeployPort | undefined) {}

  async dispatch(m: WorkflowMethod, io: DeployStepIO): Promise<DeployStepOutcome> {
    if (!this.port) return { status: 'failed', reason: 'remote engines are not available to this deploy' };
    const found = await this.port.resolve(m.pipeline, io.signal);
    if ('error' in found) return { status: 'failed', reason: found.error };
    const { engine, target } = found;
    try {
      const ref = m.ref ?? (await this.port.defaultRef(io.signal));
      if (!ref) {
        engine.dispose?.();
        return { status: 'failed', reason: `no branch to run ${m.pipeline} on (the deploy is of a commit, not a branch): set "ref" in the workflow deploy` };
      }
      const shown = Object.entries(m.inputs).map(([k, v]) => `${k}=${v}`).join(' ');
      io.line('system', `trigger ${describeTarget(target)} on ${ref}${shown ? ` with ${shown}` : ''}`);
      const run = await engine.trigger({ ref, inputs: m.inputs, signal: io.signal });
      this.started = { engine, target, run };
      io.line('stdout', `run ${label(run)} ${run.status}${run.url ? `: ${run.url}` : ''}`);
      return { status: 'success', reason: `run ${label(run)}` };
    } catch (e) {
      engine.dispose?.();
      return { status: 'failed', reason: `could not trigger ${m.pipeline}: ${(e as Error).message}` };
    }
  }

  async follow(io: DeployStepIO): Promise<DeployStepOutcome> {
    const s = this.started;
    if (!s) return { status: 'failed', reason: 'no remote run was started' };
    const partial = new Map<string, string>();
    const emit = (job: string, text: string) => {
      const lines = ((partial.get(job) ?? '') + text).split('\n');
      partial.set(job, lines.pop() ?? '');
      for (const l of lines) io.line('stdout', `[${job}] ${l}`);
    };
    const seen = new Map<string, string>();
    try {
      const final = await followRun(s.engine, s.run.id, {
        signal: io.signal,
        clock: this.port?.clock ?? systemClock,
        backoff: this.port?.backoff,
        onUpdate: ({ run, jobs }) => {
          for (const j of [{ id: '', name: `run ${label(run)}`, status: run.status }, ...jobs]) {
            if (seen.get(j.id) !== j.status) io.line('system', `${j.name}: ${j.status}`);
            seen.set(j.id, j.status);
          }
        },
        onLog: (job, text) => emit(job.name, text),
        onRetry: (e, ms) => io.line('system', `${(e as Error).message}; trying again in ${Math.round(ms / 1000)} s`),
      });
      for (const [job, rest] of partial) if (rest) io.line('stdout', `[${job}] ${rest}`);
      const failure = runFailure(final);
      if (failure === null) return { status: 'success', reason: `run ${label(final.run)} ${final.run.status}` };
      return { status: 'failed', reason: `run ${label(final.run)} ${final.run.status}: ${failure}` };
    } catch (e) {
      if (io.signal.aborted) {
        await this.cancelRemote(io);
        return { status: 'failed', reason: 'cancelled' };
      }
      return { status: 'failed', reason: `lost track of run ${label(s.run)}: ${(e as Error).message}` };
    } finally {
      s.engine.dispose?.();
    }
  }

  /** The deploy stopped: stop the remote run too (on a fresh signal: the deploy's own has fired). */
  private async cancelRemote(io: DeployStepIO): Promise<void> {
    const s = this.started!;
    try {
      await s.engine.cancel(s.run.id, AbortSignal.timeout(CANCEL_TIMEOUT_MS));
      io.line('system', `cancelled run ${label(s.run)} on ${describeTarget(s.target)}`);
    } catch (e) {
      io.line('system', `could not cancel run ${label(s.run)}: ${(e as Error).message}`);
    }
  }
}

function label(run: RemoteRun): string {
  return run.number !== null ? `#${run.number} (${run.id})` : run.id;
}
