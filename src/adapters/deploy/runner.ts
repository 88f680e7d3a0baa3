// Deploys for the VS Code extension and the CLI: builds the core deploy service's ports for a folder (the history
// and lock files of its state directory, git, the version probe, the health check, the step executor, the clock and
// timers, user@host) and calls the service (src/core/environments/deployService.ts), which makes every decision.
//   prepareDeploy / prepareRollback / preparePromote  -> what would be deployed, and what must be confirmed
//   startDeploy(prep, services, { confirmed })        -> checks the answers, takes the lock, runs the steps
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CiRun, DeployConfirmation } from '../../core/environments/deploy';
import { acquireManualLock, lockStatus, releaseLock, type TeamStateStore } from '../../core/environments/teamState';
import * as service from '../../core/environments/deployService';
import type { DeployPorts, DeployPreparation, DeployRequest, DeployStart, DeployStepsRequest, EnvironmentHistory, VersionReader } from '../../core/environments/deployService';
import type { DeployStepIO } from '../../core/environments/deployRun';
import type { ProcessRunner } from '../../core/engine/ports';
import type { Masker, SecretResolver } from '../../core/secrets';
import type { DeployRecord } from '../../shared/model';
import type { EnvironmentConfig } from '../../core/config/delivery';
import { headInfo } from '../git';
import { startLocalRun } from '../localRuns';
import { readRepoText } from '../files';
import { deliveryImporter, type ImportedPipeline } from '../../core/sources';
import { DELIVERY_FILE } from '../../core/config/delivery';
import { blockingProblems } from '../../core/targeting';
import { LocalProcessRunner, orphanMark } from '../processRunner';
import { FileRunStore } from '../runStore';
import { LocalDeployExecutor, type PipelineRunner } from './executor';
import { checkoutCommit, resolveCommit, revertedCommits } from './git';
import { FileDeployStore, newDeployId } from './history';
import { deployerName, environmentStore, lockHere } from './state';
import { SshMux } from './sshMux';
import { probeVersionReader } from './version';
import { remoteDeployPort, type RemoteEngineOptions } from '../remote';
import { envTokenProvider, parseTrustedApiHosts } from '../../core/remote/tokens';
import { checkHealth } from '../environments/http';
import { httpProber, prometheusMetrics } from '../environments/prometheus';
import type { MetricsPort } from '../../core/environments/metrics';
import { systemClock } from '../clock';

export type { DeployPreparation, DeployRequest, DeployStart } from '../../core/environments/deployService';

export interface DeployServices {
  /** The folder's state directory (folderStateDir(folder)): history, logs, locks. */
  stateDir: string;
  /** Where `${secret:NAME}` values come from (VS Code SecretStorage; the CLI: DELIVERY_SECRET_NAME). */
  secrets: SecretResolver;
  /**
   * Secrets known besides those the deploy's own settings name (the CLI: every DELIVERY_SECRET_*; VS Code: every
   * secret read this session): masked in the deploy's log, record and events too, e.g. when a version or health
   * endpoint echoes its header back.
   */
  masker?: Masker;
  runner?: ProcessRunner;
  /** How to read what an environment runs (default: its `version` probe). */
  readVersion?: VersionReader;
  /** Where verify: reads its Prometheus queries (default: over HTTP). */
  metrics?: MetricsPort;
  /** Who deploys (default: user@host of this process). */
  user?: string;
  /** Who deploys as the team's lock and history name them (default: DELIVERY_USER, git user.name, login name). */
  deployer?: string;
  /** Variables for the processes the team store runs (e.g. DOCKER_HOST of a test engine). */
  storeEnv?: Record<string, string>;
  /** Remote engines for `workflow` deploys: their tokens (default: GITHUB_TOKEN / GITLAB_TOKEN of this process). */
  remote?: RemoteEngineOptions;
}

/** The service's ports for one folder: its state directory's history, the team's stores, its git, this process. */
export async function deployPorts(folder: string, services: DeployServices, mux?: SshMux, warm?: Promise<unknown>): Promise<DeployPorts> {
  const store = new FileDeployStore(services.stateDir);
  const deployer = services.deployer ?? (await deployerName(folder));
  const readVersion = services.readVersion ?? probeVersionReader(folder, services.secrets);
  return {
    history: {
      list: (environment, limit) => store.list(environment, limit),
      save: (record) => store.save(record),
      openLog: (environment, id) => store.openLog(environment, id),
      discard: (environment, id) => fs.promises.rm(store.dir(environment, id), { recursive: true, force: true }),
      newId: newDeployId,
    },
    team: {
      store: (env) => afterWarmUp(environmentStore(mux ? sharingSsh(env, mux) : env, { folder, stateDir: services.stateDir, env: services.storeEnv }), warm),
      here: lockHere(deployer),
    },
    git: {
      resolveCommit: (ref, signal) => resolveCommit(folder, ref, signal),
      head: (signal) => headInfo(folder, signal),
      reverted: (target, deployed) => revertedCommits(folder, target, deployed),
      checkout: (sha) => checkoutCommit(folder, sha, path.join(services.stateDir, 'checkouts')),
    },
    readVersion,
    secrets: services.secrets,
    masker: services.masker,
    executor: (req) => executor(mux && req.method.kind === 'ssh' ? { ...req, method: { ...req.method, ssh: mux.target(req.method.ssh) } } : req, services),
    checkHealth: (spec, signal) => checkHealth(spec, signal, services.secrets),
    metrics: services.metrics ?? prometheusMetrics(folder, services.secrets),
    probe: httpProber(services.secrets),
    clock: systemClock,
    host: { user: services.user ?? whoAmI(), pid: process.pid },
    runs: { lastAt: (sha, pipelineId) => lastRunAt(services.stateDir, sha, pipelineId) },
  };
}

/** The newest finished local run at `sha` (of `pipelineId` when given), as the confirmation shows it. */
async function lastRunAt(stateDir: string, sha: string, pipelineId: string | null): Promise<CiRun | null> {
  const runs = await new FileRunStore(stateDir).list(200, pipelineId ?? undefined);
  const r = runs.find((x) => x.sha === sha && x.status !== 'running');
  if (!r) return null;
  return {
    id: r.id,
    pipelineId: r.pipelineId,
    pipelineName: r.pipelineName,
    status: r.status,
    failedJobs: r.jobs.filter((j) => (j.status === 'failed' || j.status === 'unsupported') && !j.allowFailure).length,
    totalJobs: r.jobs.length,
    finishedAt: r.finishedAt,
  };
}

function executor(req: DeployStepsRequest, services: DeployServices): LocalDeployExecutor {
  const { prep, dir, masker, user } = req;
  const env = prep.environment;
  return new LocalDeployExecutor({
    dir,
    env,
    method: req.method,
    sha: prep.sha,
    vars: req.vars,
    deployEnv: req.deployEnv,
    runner: services.runner ?? new LocalProcessRunner({ ownerMark: orphanMark('deploy', req.deployId), masker }),
    runPipeline: pipelineRunner(prep, dir, services.stateDir, masker),
    remote: remoteDeployPort(prep.folder, prep.pipelines, prep.ref, services.remote ?? { tokens: envTokenProvider(process.env), trustedApiHosts: parseTrustedApiHosts(process.env.DELIVERY_TRUSTED_API_HOSTS), actor: user }),
  });
}

export function prepareDeploy(req: DeployRequest, services: DeployServices, signal?: AbortSignal): Promise<DeployPreparation | { error: string }> {
  return preparing(req.folder, req.environment, services, (p) => service.prepareDeploy(req, p, signal));
}

/** Rollback: `to` (a SHA or ref), else the last successful deploy before the one the environment runs. */
export function prepareRollback(req: Omit<DeployRequest, 'ref' | 'action'>, services: DeployServices, to?: string): Promise<DeployPreparation | { error: string }> {
  return preparing(req.folder, req.environment, services, (p) => service.prepareRollback(req, p, to));
}

/** Promote: deploy what the `promotesFrom` environment runs. */
export function preparePromote(req: Omit<DeployRequest, 'ref' | 'action'>, environments: readonly EnvironmentConfig[], services: DeployServices): Promise<DeployPreparation | { error: string }> {
  return preparing(req.folder, req.environment, services, (p) => service.preparePromote(req, environments, p));
}

/** `delivery verify`: the environment's checks, once, now (see the service's verifyEnvironment). */
export async function verifyEnvironment(folder: string, env: EnvironmentConfig, services: DeployServices, signal: AbortSignal): ReturnType<typeof service.verifyEnvironment> {
  return service.verifyEnvironment(env, await deployPorts(folder, services), signal);
}

// ---- one ssh connection per host, from prepare to the end of the deploy ----

/**
 * The shared connections of a folder and environment: made by prepare (which reads the lock and the history on
 * the host), reused by the start that follows, closed when the deploy ends — or a minute after a prepare that no
 * start followed (the user declined), or when the process exits.
 */
const muxes = new Map<string, { mux: SshMux; users: number; idle: ReturnType<typeof setTimeout> | null }>();
const MUX_IDLE_MS = 60_000;
let exitHooked = false;

function muxKey(folder: string, env: EnvironmentConfig): string {
  return `${folder}\u0000${env.id}`;
}

/** The connections of this folder and environment, in use until giveMux (a prepare, a deploy: each counts). */
function takeMux(folder: string, env: EnvironmentConfig): SshMux {
  const key = muxKey(folder, env);
  let entry = muxes.get(key);
  if (!entry) {
    entry = { mux: new SshMux(), users: 0, idle: null };
    muxes.set(key, entry);
    if (!exitHooked) process.once('exit', closeAllSync);
    exitHooked = true;
  }
  if (entry.idle) clearTimeout(entry.idle);
  entry.idle = null;
  entry.users++;
  return entry.mux;
}

/**
 * One user is done. When nobody uses them any more the connections close — at once after a deploy, a minute later
 * after a prepare (for the deploy that may follow). A deploy in progress keeps them whatever a prepare does.
 */
async function giveMux(folder: string, env: EnvironmentConfig, linger: boolean): Promise<void> {
  const key = muxKey(folder, env);
  const entry = muxes.get(key);
  if (!entry || --entry.users > 0) return;
  const close = async () => {
    if (muxes.get(key) !== entry || entry.users > 0) return;
    muxes.delete(key);
    await entry.mux.close();
  };
  if (!linger) return close();
  entry.idle = setTimeout(() => void close(), MUX_IDLE_MS);
  entry.idle.unref();
}

function closeAllSync(): void {
  for (const { mux } of muxes.values()) mux.closeSync();
  muxes.clear();
}

/** The shared connections of the deploy's hosts come up first: then every session rides on them. */
async function warmUp(mux: SshMux, env: EnvironmentConfig): Promise<void> {
  const hosts = [env.deploy?.method.kind === 'ssh' ? env.deploy.method.ssh : null, env.state.spec.kind === 'ssh' ? env.state.spec.ssh : null];
  await Promise.all(hosts.filter((t): t is NonNullable<typeof t> => t !== null).map((t) => mux.ready(t)));
}

/**
 * The store, its calls waiting for the shared connections first (they ride on them), so that what needs no host —
 * git, the local history — goes on while they come up.
 */
function afterWarmUp(store: TeamStateStore, warm: Promise<unknown> | undefined): TeamStateStore {
  if (!warm) return store;
  return {
    kind: store.kind,
    where: store.where,
    readLock: async (signal) => {
      await warm;
      return store.readLock(signal);
    },
    createLock: async (holder, signal) => {
      await warm;
      return store.createLock(holder, signal);
    },
    swapLock: async (token, next, signal) => {
      await warm;
      return store.swapLock(token, next, signal);
    },
    append: async (event, signal) => {
      await warm;
      return store.append(event, signal);
    },
    readHistory: async (signal) => {
      await warm;
      return store.readHistory(signal);
    },
  };
}

async function preparing<T>(folder: string, env: EnvironmentConfig, services: DeployServices, fn: (ports: DeployPorts) => Promise<T>): Promise<T> {
  const mux = takeMux(folder, env);
  try {
    const warm = warmUp(mux, env);
    return await fn(await deployPorts(folder, services, mux, warm));
  } finally {
    await giveMux(folder, env, true);
  }
}

/** Starts a prepared deploy (see the service's startDeploy); its ssh sessions to one host share one connection. */
export async function startDeploy(prep: DeployPreparation, services: DeployServices, opts: { confirmed?: DeployConfirmation; message?: string } = {}): Promise<DeployStart> {
  const env = prep.environment;
  const mux = takeMux(prep.folder, env);
  let started: DeployStart;
  try {
    await warmUp(mux, env);
    started = await service.startDeploy(prep, await deployPorts(prep.folder, services, mux), opts);
  } catch (e) {
    await giveMux(prep.folder, env, false);
    throw e;
  }
  if (!started.ok) {
    await giveMux(prep.folder, env, false);
    return started;
  }
  const done = started.handle.done.finally(() => giveMux(prep.folder, env, false));
  return { ok: true, handle: { ...started.handle, done } };
}

/** The environment with its ssh store's sessions on the deploy's shared connection. */
function sharingSsh(env: EnvironmentConfig, mux: SshMux): EnvironmentConfig {
  const spec = env.state.spec;
  return spec.kind === 'ssh' ? { ...env, state: { ...env.state, spec: { ...spec, ssh: mux.target(spec.ssh) } } } : env;
}

function pipelineRunner(prep: DeployPreparation, dir: string, stateDir: string, masker: Masker): PipelineRunner | null {
  const id = prep.environment.deploy?.pipeline;
  if (!id) return null;
  if (!prep.pipelines.some((p) => p.def.id === id && p.def.source.kind === 'delivery')) return null;
  return async (io: DeployStepIO) => {
    // The build is the commit's: its delivery.yml (not the working tree's, which may have uncommitted changes)
    // runs in its checkout.
    const fromCommit = await commitPipeline(dir, id);
    if ('error' in fromCommit) return { ok: false, runId: null, reason: fromCommit.error };
    io.line('system', `build pipeline "${id}" from ${DELIVERY_FILE} at ${prep.sha.slice(0, 12)} (the commit deployed), in its checkout`);
    const pipeline = fromCommit.pipeline;
    const handle = await startLocalRun(pipeline, {}, { folder: dir, store: new FileRunStore(stateDir), trigger: prep.trigger, masker });
    if ('error' in handle) return { ok: false, runId: null, reason: handle.error };
    io.line('system', `pipeline run ${handle.run.id}`);
    handle.onEvent((e) => {
      if (e.type === 'line') io.line(e.stream === 'system' ? 'system' : e.stream, `[${e.jobId}] ${e.text}`);
    });
    const onAbort = () => handle.cancel();
    io.signal.addEventListener('abort', onAbort, { once: true });
    const run = await handle.done;
    io.signal.removeEventListener('abort', onAbort);
    const failed = run.jobs.filter((j) => j.status === 'failed' && !j.allowFailure).map((j) => `${j.id}: ${j.reason ?? 'failed'}`);
    // The run's id is in the record (buildRunId) and the log; the reason says what failed, in words.
    return { ok: run.status === 'success', runId: run.id, reason: run.status === 'success' ? null : failed.length ? failed.join('; ') : `its run ended ${run.status}` };
  };
}

/** Pipeline `id` as the delivery.yml of a checkout defines it; why not when it cannot be run. */
async function commitPipeline(dir: string, id: string): Promise<{ pipeline: ImportedPipeline } | { error: string }> {
  let text: string | null;
  try {
    text = await readRepoText(dir, DELIVERY_FILE);
  } catch (e) {
    return { error: `${DELIVERY_FILE} of the commit cannot be read: ${(e as Error).message}` };
  }
  if (text === null) return { error: `the commit has no ${DELIVERY_FILE}, so it has no build pipeline "${id}"` };
  const parsed = await deliveryImporter.parse({ path: DELIVERY_FILE, text }, { readFile: async () => null, listFiles: async () => [] });
  const errors = blockingProblems(parsed.problems);
  if (errors.length > 0) return { error: `${DELIVERY_FILE} of the commit has errors (${errors.slice(0, 3).map((p) => `${p.line}:${p.column}: ${p.message}`).join('; ')}); nothing was built` };
  const pipeline = parsed.pipelines.find((p) => p.def.id === id);
  if (!pipeline) return { error: `${DELIVERY_FILE} of the commit has no pipeline "${id}" (it is only in your working tree?); nothing was built` };
  return { pipeline };
}

function whoAmI(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `${process.env.USER ?? 'unknown'}@${os.hostname()}`;
  }
}

/** The environment's history: the team's store merged with this machine's records (see environmentHistory). */
export async function environmentHistory(folder: string, env: EnvironmentConfig, services: DeployServices, opts: { limit?: number; signal?: AbortSignal } = {}): Promise<EnvironmentHistory> {
  return service.environmentHistory(env, await deployPorts(folder, services), opts);
}

/** The commit an environment runs and the commits a rollback may go to (the service's rollbackOptions). */
export async function rollbackOptions(folder: string, env: EnvironmentConfig, services: DeployServices, signal?: AbortSignal): ReturnType<typeof service.rollbackOptions> {
  return service.rollbackOptions(env, await deployPorts(folder, services), signal);
}

/** This machine's deploy records of an environment (steps, logs), newest first. */
export function deployHistory(stateDir: string, environment: string, limit = 50): Promise<DeployRecord[]> {
  return new FileDeployStore(stateDir).list(environment, limit);
}

/** The team lock's status, taken by hand, released (teamState.ts). */
export async function teamLock(folder: string, env: EnvironmentConfig, services: DeployServices) {
  const ports = await deployPorts(folder, services);
  const store = ports.team.store(env);
  const here = ports.team.here;
  return {
    store,
    here,
    status: (signal?: AbortSignal) => lockStatus(store, env.id, here, signal),
    acquire: (message: string | null, signal?: AbortSignal) => acquireManualLock(store, env.id, here, message, signal),
    release: (opts: { force?: boolean; message?: string | null }, signal?: AbortSignal) => releaseLock(store, env.id, here, opts, signal),
  };
}
