// Starting a deploy, shared by the VS Code extension and the CLI:
//   prepareDeploy / prepareRollback / preparePromote  -> what would be deployed, and what must be confirmed
//   startDeploy(prep, services, { confirmed })        -> checks the answers, takes the lock, runs the steps
// The lock is released and the checkout removed when the deploy ends, whatever the outcome.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { DeployMethod } from '../../core/environments/config';
import {
  deployVariables,
  expandDeliveryVariables,
  needsConfirmation,
  planDeploySteps,
  unconfirmed,
  type ConfirmationReason,
  type DeployConfirmation,
  type DeployLockInfo,
  type DeployStepPlan,
} from '../../core/environments/deploy';
import { newDeployRecord, startDeployRun, type DeployHandle, type DeployStepIO } from '../../core/environments/deployRun';
import type { ProcessRunner } from '../../core/engine/ports';
import { expandSecrets, expandSecretsIn, Masker, MissingSecretError, type SecretResolver } from '../../core/secrets';
import type { ImportedPipeline } from '../../core/sources';
import type { DeployAction, DeployRecord } from '../../shared/model';
import { headInfo } from '../git';
import { startLocalRun } from '../localRuns';
import { LocalProcessRunner, orphanMark } from '../processRunner';
import { FileRunStore } from '../runStore';
import { LocalDeployExecutor, type PipelineRunner, type VersionReader } from './executor';
import { checkoutCommit, resolveCommit, revertedCommits } from './git';
import { FileDeployStore, newDeployId } from './history';
import { DeployLocks } from './lock';
import { probeVersionReader } from './version';
import { remoteDeployPort, type RemoteEngineOptions } from '../remote';
import { envTokenProvider, parseTrustedApiHosts } from '../../core/remote/tokens';
import { DEFAULT_HEALTH_TIMEOUT_MS } from '../../core/environments/config';

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
  /** Who deploys (default: user@host of this process). */
  user?: string;
  /** Remote engines for `workflow` deploys: their tokens (default: GITHUB_TOKEN / GITLAB_TOKEN of this process). */
  remote?: RemoteEngineOptions;
}

export interface DeployRequest {
  folder: string;
  environment: EnvironmentConfig;
  trigger: DeployRecord['trigger'];
  /** Commit, branch or tag (default HEAD). */
  ref?: string;
  action?: DeployAction;
  /** The folder's pipelines, for `deploy.pipeline`. */
  pipelines?: readonly ImportedPipeline[];
}

export interface DeployPreparation {
  folder: string;
  environment: EnvironmentConfig;
  trigger: DeployRecord['trigger'];
  action: DeployAction;
  ref: string;
  /** The commit to deploy (full SHA). */
  sha: string;
  /** What the environment runs now, if known (full SHA). */
  previousSha: string | null;
  /** How previousSha was learnt, or why it is unknown. */
  previousNote: string;
  /** HEAD of the folder and whether its working tree has uncommitted changes. */
  head: { sha: string | null; dirty: boolean };
  /** Deployed commits the target does not contain; null when unknown. */
  reverts: { sha: string; subject: string }[] | null;
  /** What the user must confirm; pass the answers to startDeploy. */
  reasons: ConfirmationReason[];
  steps: DeployStepPlan[];
  /** Who holds the environment's deploy lock now (null: free). */
  lockedBy: DeployLockInfo | null;
  pipelines: readonly ImportedPipeline[];
}

export type DeployStart =
  | { ok: true; handle: DeployHandle }
  | { ok: false; kind: 'confirm'; message: string; reasons: ConfirmationReason[] }
  | { ok: false; kind: 'locked'; message: string; holder: DeployLockInfo }
  | { ok: false; kind: 'error'; message: string };

function versionReader(services: DeployServices, folder: string): VersionReader {
  return services.readVersion ?? probeVersionReader(folder, services.secrets);
}

/**
 * What the environment runs: its version probe, else the history's last successful deploy. `probeOnly`: when the
 * environment has a probe, trust nothing else (promote must not ship what the history merely remembers).
 */
export async function deployedCommit(
  folder: string,
  env: EnvironmentConfig,
  services: DeployServices,
  opts: { signal?: AbortSignal; probeOnly?: boolean } = {},
): Promise<{ sha: string | null; note: string }> {
  let probeNote = 'no version probe';
  if (env.version) {
    const v = await versionReader(services, folder)(env, opts.signal ?? new AbortController().signal);
    if (v.sha) return { sha: v.sha, note: `from the version probe (${env.version.kind})` };
    probeNote = v.error ? `version probe failed: ${v.error}` : `the version probe reports ${v.raw}, which is not a commit here`;
    if (opts.probeOnly) return { sha: null, note: probeNote };
  }
  const last = await new FileDeployStore(services.stateDir).lastSuccess(env.id);
  if (last) return { sha: last.sha, note: `from the deploy history (${probeNote})` };
  return { sha: null, note: `unknown (${probeNote}; no successful deploy in the history)` };
}

export async function prepareDeploy(req: DeployRequest, services: DeployServices, signal?: AbortSignal): Promise<DeployPreparation | { error: string }> {
  const env = req.environment;
  const steps = planDeploySteps(env);
  if ('error' in steps) return steps;
  const ref = req.ref ?? 'HEAD';
  const commit = await resolveCommit(req.folder, ref, signal);
  if ('error' in commit) return commit;
  const head = await headInfo(req.folder, signal).catch(() => null);
  const previous = await deployedCommit(req.folder, env, services, { signal });
  const reverts = previous.sha ? await revertedCommits(req.folder, commit.sha, previous.sha) : null;
  const action = req.action ?? 'deploy';
  const lock = await new DeployLocks(services.stateDir).status(env.id);
  return {
    folder: req.folder,
    environment: env,
    trigger: req.trigger,
    action,
    ref,
    sha: commit.sha,
    previousSha: previous.sha,
    previousNote: previous.note,
    head: { sha: head?.sha ?? null, dirty: head?.dirty ?? false },
    reverts,
    reasons: needsConfirmation(env, { action, dirty: head?.dirty ?? false, reverts }),
    steps,
    lockedBy: lock && lock.stale === null ? lock : null,
    pipelines: req.pipelines ?? [],
  };
}

/** Rollback: `to` (a SHA or ref), else the last successful deploy before the one the environment runs. */
export async function prepareRollback(req: Omit<DeployRequest, 'ref' | 'action'>, services: DeployServices, to?: string): Promise<DeployPreparation | { error: string }> {
  const env = req.environment;
  if (to !== undefined) return prepareDeploy({ ...req, ref: to, action: 'rollback' }, services);
  const current = await deployedCommit(req.folder, env, services);
  const history = (await new FileDeployStore(services.stateDir).list(env.id, 1000)).filter((d) => d.status === 'success');
  const at = current.sha ? history.findIndex((d) => d.sha === current.sha) : 0;
  const target = history.slice(Math.max(0, at)).find((d) => d.sha !== current.sha);
  if (!target) {
    return { error: `no earlier successful deploy of "${env.id}" in this folder's history to roll back to; name a commit with --to SHA` };
  }
  return prepareDeploy({ ...req, ref: target.sha, action: 'rollback' }, services);
}

/** Promote: deploy what the `promotesFrom` environment runs. */
export async function preparePromote(
  req: Omit<DeployRequest, 'ref' | 'action'>,
  environments: readonly EnvironmentConfig[],
  services: DeployServices,
): Promise<DeployPreparation | { error: string }> {
  const env = req.environment;
  if (!env.promotesFrom) return { error: `environment "${env.id}" has no "promotesFrom" in delivery.yml` };
  const from = environments.find((e) => e.id === env.promotesFrom);
  if (!from) return { error: `environment "${env.id}" promotes from "${env.promotesFrom}", which is not defined` };
  const source = await deployedCommit(req.folder, from, services, { probeOnly: true });
  if (!source.sha) return { error: `cannot tell which commit "${from.id}" runs: ${source.note}` };
  return prepareDeploy({ ...req, ref: source.sha, action: 'promote' }, services);
}

interface Expanded {
  method: DeployMethod;
  deployEnv: Record<string, string>;
  uploadTo: string | null;
  masker: Masker;
}

/** Secrets and ${DELIVERY_*} where each is allowed; the masker masks every secret value found (and `known`). */
async function expand(env: EnvironmentConfig, vars: Record<string, string>, secrets: SecretResolver, known: Masker | undefined): Promise<Expanded | { error: string }> {
  const found = new Set<string>();
  const deploy = env.deploy!;
  const sec = (t: string) => expandSecrets(t, secrets, found);
  const data = async (t: string): Promise<string> => {
    const r = expandDeliveryVariables(await sec(t), vars);
    if ('error' in r) throw new Error(r.error);
    return r.value;
  };
  try {
    const deployEnv = await expandSecretsIn(deploy.env, secrets, found);
    let method: DeployMethod = deploy.method;
    let uploadTo: string | null = null;
    switch (method.kind) {
      case 'command':
        method = { ...method, env: await expandSecretsIn(method.env, secrets, found) };
        break;
      case 'ssh':
        if (method.upload) {
          const r = expandDeliveryVariables(method.upload.to, vars, { path: true });
          if ('error' in r) return { error: `upload "to": ${r.error}` };
          // ~/x means x in the remote home: ssh sessions and rsync's remote paths start there, and no remote
          // shell is asked to expand the tilde.
          uploadTo = r.value.startsWith('~') ? r.value.replace(/^~\/*/, '') || '.' : r.value;
        }
        break;
      case 'http': {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(method.headers)) headers[k] = await data(v);
        const status = method.status ? { ...method.status, url: await data(method.status.url) } : null;
        method = { ...method, url: await data(method.url), headers, body: method.body === null ? null : await data(method.body), status };
        break;
      }
      case 'docker': {
        const buildArgs: Record<string, string> = {};
        for (const [k, v] of Object.entries(method.buildArgs)) buildArgs[k] = await data(v);
        method = { ...method, buildArgs };
        break;
      }
      case 'gitPush':
        break;
      case 'workflow': {
        const inputs: Record<string, string> = {};
        for (const [k, v] of Object.entries(method.inputs)) inputs[k] = await data(v);
        method = { ...method, inputs, ref: method.ref === null ? null : await data(method.ref) };
        break;
      }
    }
    return { method, deployEnv, uploadTo, masker: new Masker(found).with(known) };
  } catch (e) {
    if (e instanceof MissingSecretError) return { error: e.message };
    return { error: (e as Error).message };
  }
}

function pipelineRunner(prep: DeployPreparation, dir: string, stateDir: string, masker: Masker): PipelineRunner | null {
  const id = prep.environment.deploy?.pipeline;
  if (!id) return null;
  const pipeline = prep.pipelines.find((p) => p.def.id === id && p.def.source.kind === 'delivery');
  if (!pipeline) return null;
  return async (io: DeployStepIO) => {
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
    return { ok: run.status === 'success', runId: run.id, reason: run.status === 'success' ? null : `run ${run.id} ended ${run.status}${failed.length ? ` (${failed.join('; ')})` : ''}` };
  };
}

function whoAmI(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `${process.env.USER ?? 'unknown'}@${os.hostname()}`;
  }
}

/**
 * Starts the deploy when every reason of `prep.reasons` is confirmed (a protected environment needs
 * `confirmed.environmentName` equal to its id: what the user typed) and the environment's lock is free.
 */
export async function startDeploy(prep: DeployPreparation, services: DeployServices, opts: { confirmed?: DeployConfirmation } = {}): Promise<DeployStart> {
  const env = prep.environment;
  const open = unconfirmed(env, prep.reasons, opts.confirmed);
  if (open.length > 0) return { ok: false, kind: 'confirm', reasons: open, message: open.map((r) => r.message).join('\n') };
  const vars = deployVariables({ environment: env.id, sha: prep.sha, ref: prep.ref, previousSha: prep.previousSha });
  const x = await expand(env, vars, services.secrets, services.masker);
  if ('error' in x) return { ok: false, kind: 'error', message: `environment "${env.id}": ${x.error}` };

  const store = new FileDeployStore(services.stateDir);
  const id = newDeployId();
  const user = services.user ?? whoAmI();
  const timeoutMs = env.deploy!.timeoutMs;
  let lock;
  try {
    lock = await new DeployLocks(services.stateDir).acquire(env.id, { deployId: id, timeoutMs, user });
  } catch (e) {
    // E.g. a full disk: without a lock and a record nothing may be deployed.
    return { ok: false, kind: 'error', message: `could not take the deploy lock of "${env.id}", so nothing was deployed: ${(e as Error).message}` };
  }
  if (!lock.ok) return { ok: false, kind: 'locked', message: lock.message, holder: lock.holder };

  let checkout: { dir: string; remove(): Promise<void> } | null = null;
  try {
    const m = env.deploy!.method;
    const needsFiles = m.kind === 'command' || m.kind === 'ssh' || m.kind === 'docker' || env.deploy!.pipeline !== null;
    const fromFolder = prep.head.sha === prep.sha && !prep.head.dirty;
    if (needsFiles && !fromFolder) checkout = await checkoutCommit(prep.folder, prep.sha, path.join(services.stateDir, 'checkouts'));
    const dir = checkout?.dir ?? prep.folder;
    const log = store.openLog(env.id, id);
    const record = newDeployRecord(
      { id, environment: env.id, folder: prep.folder, action: prep.action, sha: prep.sha, ref: prep.ref, previousSha: prep.previousSha, user, trigger: prep.trigger, pid: process.pid },
      prep.steps,
      Date.now(),
      log.path,
    );
    // Recorded before anything runs: a deploy the history cannot hold (a full disk) does not start.
    await store.save(record).catch(async (e: unknown) => {
      await log.close().catch(() => undefined);
      await fs.promises.rm(store.dir(env.id, id), { recursive: true, force: true }).catch(() => undefined);
      throw e;
    });
    const executor = new LocalDeployExecutor({
      dir,
      env,
      method: x.method,
      sha: prep.sha,
      vars,
      deployEnv: x.deployEnv,
      uploadTo: x.uploadTo,
      runner: services.runner ?? new LocalProcessRunner({ ownerMark: orphanMark('deploy', id), masker: x.masker }),
      readVersion: versionReader(services, prep.folder),
      runPipeline: pipelineRunner(prep, dir, services.stateDir, x.masker),
      versionWaitMs: env.health?.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
      secrets: services.secrets,
      remote: remoteDeployPort(prep.folder, prep.pipelines, prep.ref, services.remote ?? { tokens: envTokenProvider(process.env), trustedApiHosts: parseTrustedApiHosts(process.env.DELIVERY_TRUSTED_API_HOSTS), actor: user }),
    });
    // The note may quote a version probe's answer: masked like every other line.
    log.write('system', x.masker.mask(`| ${prep.action} ${prep.sha} (${prep.ref}) to ${env.id} by ${user}; previous: ${prep.previousSha ?? 'unknown'} (${prep.previousNote})`));
    if (checkout) log.write('system', x.masker.mask(`| working in a clean checkout of ${prep.sha.slice(0, 12)}: ${checkout.dir}`));
    const handle = startDeployRun(record, prep.steps, { executor, save: (r) => store.save(r), log, timeoutMs, redact: x.masker.mask });
    const cleanup = checkout;
    // `done` resolves after the checkout is gone and the lock released: a caller that awaits it can deploy again.
    const done = handle.done.then(async (r) => {
      await cleanup?.remove().catch(() => undefined);
      await lock.release().catch(() => undefined);
      return r;
    });
    return { ok: true, handle: { ...handle, done } };
  } catch (e) {
    await checkout?.remove().catch(() => undefined);
    await lock.release();
    return { ok: false, kind: 'error', message: `could not start the deploy: ${(e as Error).message}` };
  }
}

/** The deploy history of an environment, newest first. */
export function deployHistory(stateDir: string, environment: string, limit = 50): Promise<DeployRecord[]> {
  return new FileDeployStore(stateDir).list(environment, limit);
}

/** Who holds the environment's deploy lock (with `stale` saying why it no longer counts), or null. */
export function deployLockStatus(stateDir: string, environment: string): Promise<(DeployLockInfo & { stale: string | null }) | null> {
  return new DeployLocks(stateDir).status(environment);
}
