// After a deploy's own steps: wait until the environment reports the deployed commit (its version probe), then until
// its health check answers. The waiting is decided here; one probe, one health check, the clock and the waits are
// ports (adapters: probes, HTTP, Date.now, timers), so both are tested without a server or a clock.
import type { Health } from '../../shared/model';
import type { EnvironmentConfig } from '../config/delivery';
import type { HealthSpec } from './config';
import { versionMatches } from './deploy';
import type { DeployStepIO, DeployStepOutcome } from './deployRun';
import type { Clock } from '../clock';

export interface DeployedVersion {
  sha: string | null;
  raw: string | null;
  error: string | null;
}

export type VersionReader = (env: EnvironmentConfig, signal: AbortSignal) => Promise<DeployedVersion>;

export interface WaitPorts {
  clock: Pick<Clock, 'now' | 'sleep'>;
}

/** Polls the version probe until it reports `sha` (a restart may take a moment), for at most `waitMs`. */
export async function verifyVersion(env: EnvironmentConfig, sha: string, waitMs: number, io: DeployStepIO, ports: WaitPorts & { readVersion: VersionReader }): Promise<DeployStepOutcome> {
  const t0 = ports.clock.now();
  let last: DeployedVersion | null = null;
  while (!io.signal.aborted) {
    const v = await ports.readVersion(env, io.signal);
    const reported = v.sha ?? v.raw;
    if (reported && (v.sha === sha || versionMatches(reported, sha))) return { status: 'success', reason: `the environment runs ${sha.slice(0, 7)}` };
    if (last?.raw !== v.raw || last?.error !== v.error) io.line('stdout', v.error ? `version probe: ${v.error}` : `the environment reports ${reported ?? 'nothing'}`);
    last = v;
    if (ports.clock.now() - t0 >= waitMs) break;
    await ports.clock.sleep(500, io.signal);
  }
  if (last?.error) return { status: 'failed', reason: `could not read the deployed version: ${last.error}` };
  return { status: 'failed', reason: `the environment reports ${last?.sha ?? last?.raw ?? 'nothing'}, not ${sha.slice(0, 12)}` };
}

export type HealthChecker = (spec: HealthSpec, signal: AbortSignal) => Promise<{ health: Health; detail: string | null }>;

/** Checks health every intervalMs until it is up or timeoutMs has passed. */
export async function waitHealthy(h: HealthSpec, io: DeployStepIO, ports: WaitPorts & { checkHealth: HealthChecker }): Promise<DeployStepOutcome> {
  const t0 = ports.clock.now();
  let last: string | null = null;
  while (!io.signal.aborted) {
    const r = await ports.checkHealth(h, io.signal);
    if (r.health === 'up') return { status: 'success', health: 'up', reason: `GET ${h.url}: ${r.detail ?? 'up'}` };
    const detail = `GET ${h.url}: ${r.detail ?? r.health}`;
    if (detail !== last) io.line('stdout', `not healthy yet: ${detail}`);
    last = detail;
    if (ports.clock.now() - t0 >= h.timeoutMs) break;
    await ports.clock.sleep(h.intervalMs, io.signal);
  }
  return { status: 'failed', health: 'down', reason: `${last ?? 'not checked'} (still after ${Math.round((ports.clock.now() - t0) / 1000)} s)` };
}
