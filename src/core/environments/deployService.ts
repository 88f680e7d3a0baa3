// The deploy use case, the same for the CLI and the editor: pre-flight (may this environment be deployed at all?),
// prepare (which commit, what runs now, what must be confirmed), start (check the answers, expand secrets, take the
// lock, record, run the steps), and what the history says. Every decision lives here; the I/O comes in through
// ports that the adapters build (src/adapters/deploy/runner.ts): the history store, the lock, git, the version
// probe, the step executor, the clock and who/where this process is.
import type { Problem, DeployAction, DeployHistoryItem, DeployRecord, TeamStateView, Verification } from '../../shared/model';
import type { EnvironmentConfig } from '../config/delivery';
import type { JobLog } from '../engine/ports';
import type { Clock } from '../clock';
import { expandSecrets, expandSecretsIn, Masker, MissingSecretError, type SecretResolver } from '../secrets';
import { deliveryImporter, type ImportedPipeline } from '../sources';
import { blockingProblems } from '../targeting';
import {
  confirmAll,
  type CiRun,
  deployVariables,
  expandDeliveryVariables,
  needsConfirmation,
  planDeploySteps,
  unconfirmed,
  type ConfirmationReason,
  type DeployConfirmation,
  type DeployStepPlan,
} from './deploy';
import {
  acquireLock,
  describeHolder,
  historyEvent,
  historyRecords,
  keepLock,
  lockStatus,
  newHolder,
  type HistoryRecord,
  type HistoryStatus,
  type LockHere,
  type LockHolder,
  type LockStatus,
  type StateStoreKind,
  type TeamStateStore,
} from './teamState';
import { DEPLOY_KINDS, deployKind, type DeployExpandContext, type DeployKind, type DeployKindDef, type DeployMethod } from './deployKinds';
import { DEFAULT_HEALTH_TIMEOUT_MS } from './config';
import { newDeployRecord, startDeployRun, type DeployExecutor, type DeployHandle } from './deployRun';
import { verifyVersion, waitHealthy, type HealthChecker, type VersionReader } from './verify';
import type { HttpProber, MetricsPort } from './metrics';
import { preflightQueries, runVerification, verificationSummary } from './verification';

// ---- ports ----

export type { DeployedVersion, VersionReader } from './verify';

/** The deploy history of the folder. */
export interface DeployHistoryPort {
  /** Deploys of an environment, newest first (a `running` record whose process is gone reads as interrupted). */
  list(environment: string, limit: number): Promise<DeployRecord[]>;
  /** Persists a record (atomically). */
  save(record: DeployRecord): Promise<void>;
  /** The log of a new deploy. */
  openLog(environment: string, deployId: string): JobLog;
  /** Removes what a deploy that could not be recorded left behind. */
  discard(environment: string, deployId: string): Promise<void>;
  newId(): string;
}

/**
 * The team's lock and history of each environment (teamState.ts): a store chosen from the deploy kind or `state:`,
 * and who this process is.
 */
export interface TeamStatePort {
  store(env: EnvironmentConfig): TeamStateStore;
  here: LockHere;
}

/** Git facts of the folder. */
export interface DeployGitPort {
  resolveCommit(ref: string, signal?: AbortSignal): Promise<{ sha: string } | { error: string }>;
  /** HEAD and whether the working tree has uncommitted changes; null when unknown. */
  head(signal?: AbortSignal): Promise<{ sha: string | null; dirty: boolean } | null>;
  /** Commits of `deployed` that `target` does not contain, newest first; null when unknown. */
  reverted(target: string, deployed: string): Promise<{ sha: string; subject: string }[] | null>;
  /** A clean checkout of `sha` to deploy from; remove() takes it away. */
  checkout(sha: string): Promise<{ dir: string; remove(): Promise<void> }>;
}

/** What the step executor of one deploy is built from. */
export interface DeployStepsRequest {
  prep: DeployPreparation;
  deployId: string;
  /** Where the deploy works: the folder, or a clean checkout of the commit. */
  dir: string;
  /** The method with secrets and ${DELIVERY_*} expanded where its kind allows them. */
  method: DeployMethod;
  /** deploy.env with secrets expanded. */
  deployEnv: Record<string, string>;
  /** The DELIVERY_* variables. */
  vars: Record<string, string>;
  masker: Masker;
  user: string;
}

export interface DeployPorts {
  history: DeployHistoryPort;
  team: TeamStatePort;
  git: DeployGitPort;
  readVersion: VersionReader;
  /** Where `${secret:NAME}` values come from. */
  secrets: SecretResolver;
  /** Secrets known besides those the deploy names: masked in its log, record and events too. */
  masker?: Masker;
  /** Runs the build pipeline and the kind's steps (processes, HTTP, remote engines). */
  executor(req: DeployStepsRequest): DeployExecutor;
  /** One look at the environment's health check. */
  checkHealth: HealthChecker;
  /** Prometheus queries of `verify:` (adapters/environments/prometheus.ts). */
  metrics: MetricsPort;
  /** One timed GET of `verify.http`. */
  probe: HttpProber;
  /** The time of the record, the deploy's timeout, the waits of the checks (adapters: systemClock). */
  clock: Clock;
  /** Who deploys (user@host) and the process that drives the deploy. */
  host: { user: string; pid: number };
  /** This folder's local runs: the last one of a pipeline (any, when null) at a commit; absent: not known. */
  runs?: { lastAt(sha: string, pipelineId: string | null): Promise<CiRun | null> };
}

// ---- pre-flight ----

export type DeployRefusalReason = 'invalid-file' | 'unknown-environment' | 'no-deploy';

export type DeployPreflight =
  | { ok: true; environment: EnvironmentConfig }
  | {
      ok: false;
      reason: DeployRefusalReason;
      /** One sentence, the same in the CLI and the editor. */
      message: string;
      /** The located errors that stop the deploy (empty for an unknown environment or a missing `deploy:`). */
      problems: Problem[];
    };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `file:line:column: message`. */
export function locatedProblem(p: Pick<Problem, 'file' | 'line' | 'column' | 'message'>): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

/**
 * May environment `name` of this folder be deployed (rolled back, promoted) at all? Not when its delivery.yml has
 * errors (they are returned, located), when it is unknown, or when it says no `deploy:`.
 */
export function deployPreflight(folder: { environments: readonly EnvironmentConfig[]; problems: readonly Problem[] }, name: string): DeployPreflight {
  const env = folder.environments.find((e) => e.id === name);
  if (!env) {
    // An invalid delivery.yml may yield no environments: say where it is wrong rather than only that the name is unknown.
    const broken = blockingProblems([...folder.problems], (f) => deliveryImporter.matches(f));
    if (broken.length > 0) {
      const files = [...new Set(broken.map((p) => p.file))].join(', ');
      return { ok: false, reason: 'invalid-file', problems: broken, message: `no environment "${name}" could be read (${files}: ${plural(broken.length, 'error')}); nothing was deployed` };
    }
    const known = folder.environments.map((e) => e.id).join(', ') || 'none';
    return { ok: false, reason: 'unknown-environment', problems: [], message: `no environment "${name}" (environments: ${known})` };
  }
  const file = env.location.file;
  const errors = blockingProblems([...folder.problems], file);
  if (errors.length > 0) return { ok: false, reason: 'invalid-file', problems: errors, message: `${file} has ${plural(errors.length, 'error')}; nothing was deployed` };
  if (!env.deploy) {
    const kinds = `${DEPLOY_KINDS.slice(0, -1).join(', ')} or ${DEPLOY_KINDS[DEPLOY_KINDS.length - 1]}`;
    return { ok: false, reason: 'no-deploy', problems: [], message: `environment "${env.id}" has no "deploy" in ${file}; say how to deploy it (${kinds})` };
  }
  return { ok: true, environment: env };
}

// ---- prepare ----

export interface DeployRequest {
  folder: string;
  environment: EnvironmentConfig;
  trigger: DeployRecord['trigger'];
  /** Commit, branch or tag (default HEAD). */
  ref?: string;
  action?: DeployAction;
  /** The folder's pipelines, for `deploy.pipeline` and `workflow:` deploys. */
  pipelines?: readonly ImportedPipeline[];
  /** An automatic rollback after a failed verification: verified only when verify.verifyRollback says so. */
  automatic?: boolean;
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
  /** Commits the target adds to what the environment runs (newest first); null when unknown. */
  toDeploy: { sha: string; subject: string }[] | null;
  /** What the user must confirm; pass the answers to startDeploy. */
  reasons: ConfirmationReason[];
  steps: DeployStepPlan[];
  /** Who holds the environment's deploy lock now (null: free). */
  lockedBy: LockHolder | null;
  /** Why the lock could not be read (the store is unreachable); the deploy itself will then be refused. */
  lockError: string | null;
  /** Where the environment's lock and history live. */
  store: { kind: StateStoreKind; where: string };
  pipelines: readonly ImportedPipeline[];
  /** Why the verification may not be able to decide (its Prometheus cannot be reached now); null: nothing to say. */
  verifyWarning: string | null;
  /** The last local run at the commit (the build pipeline's when the environment has one); null: none. */
  ci: CiRun | null;
  /** An automatic rollback (it runs under the lock of the deploy that failed its verification). */
  automatic: boolean;
}

/**
 * What the environment runs: its version probe, else the history's last successful deploy. `probeOnly`: when the
 * environment has a probe, trust nothing else (promote must not ship what the history merely remembers).
 */
export async function deployedCommit(
  env: EnvironmentConfig,
  ports: Pick<DeployPorts, 'readVersion' | 'history' | 'team'>,
  opts: { signal?: AbortSignal; probeOnly?: boolean } = {},
): Promise<{ sha: string | null; note: string }> {
  let probeNote = 'no version probe';
  if (env.version) {
    const v = await ports.readVersion(env, opts.signal ?? new AbortController().signal);
    if (v.sha) return { sha: v.sha, note: `from the version probe (${env.version.kind})` };
    probeNote = v.error ? `version probe failed: ${v.error}` : `the version probe reports ${v.raw}, which is not a commit here`;
    if (opts.probeOnly) return { sha: null, note: probeNote };
  }
  const last = (await environmentHistory(env, ports, { signal: opts.signal })).entries.find((d) => d.status === 'success' && d.sha);
  if (last) return { sha: last.sha, note: `from the deploy history (${probeNote})` };
  return { sha: null, note: `unknown (${probeNote}; no successful deploy in the history)` };
}

export async function prepareDeploy(req: DeployRequest, ports: DeployPorts, signal?: AbortSignal): Promise<DeployPreparation | { error: string }> {
  const env = req.environment;
  const verify = env.verify !== null && (!req.automatic || env.verify.verifyRollback);
  const steps = planDeploySteps(env, { verify });
  if ('error' in steps) return steps;
  const ref = req.ref ?? 'HEAD';
  // What can be learnt at once is asked at once (each is a git process or a round trip to the team's store).
  const headP = ports.git.head(signal).catch(() => null);
  const commit = await ports.git.resolveCommit(ref, signal);
  if ('error' in commit) return commit;
  // A query Prometheus refuses is an error in delivery.yml: found now, before anything is deployed.
  let verifyWarning: string | null = null;
  if (verify && env.verify) {
    const pre = await preflightQueries(env.verify, ports.metrics, signal ?? new AbortController().signal);
    if (pre.errors.length > 0) return { error: `${pre.errors.join('\n')}\nnothing was deployed: fix the verify checks of "${env.id}"` };
    if (pre.warnings.length > 0) verifyWarning = `the verification may not be able to decide (then the deploy ends "unverified"): ${pre.warnings.join('; ')}`;
  }
  const action = req.action ?? 'deploy';
  const store = ports.team.store(env);
  const lockP = lockStatus(store, env.id, ports.team.here, signal).catch((e: unknown) => (e as Error).message);
  // What CI said about this commit here: the build pipeline's last run, else the last run of any pipeline.
  const ciP = req.automatic ? null : (ports.runs?.lastAt(commit.sha, env.deploy?.pipeline ?? null).catch(() => null) ?? null);
  const previous = await deployedCommit(env, ports, { signal });
  // What deploying reverts, and the other way round: what the target has that the environment does not (what it
  // will receive).
  const [reverts, toDeploy] = previous.sha ? await Promise.all([ports.git.reverted(commit.sha, previous.sha), ports.git.reverted(previous.sha, commit.sha)]) : [null, null];
  const head = await headP;
  const lock = await lockP;
  const ci = (await ciP) ?? null;
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
    toDeploy,
    reasons: needsConfirmation(env, { action, dirty: head?.dirty ?? false, reverts, ci: ci ? { run: ci, sha: commit.sha } : null }),
    steps,
    lockedBy: typeof lock !== 'string' && lock.locked ? lock.holder : null,
    lockError: typeof lock === 'string' ? lock : null,
    store: { kind: store.kind, where: store.where },
    pipelines: req.pipelines ?? [],
    verifyWarning,
    ci,
    automatic: req.automatic ?? false,
  };
}

/**
 * The commit a rollback goes back to: the newest successful deploy older than the one of `current` (the commit the
 * environment runs) with another commit; failed, cancelled and interrupted deploys never count. When the current
 * commit is not in the history, the newest successful deploy of another commit.
 */
export function rollbackTarget<T extends { sha: string | null; status: string }>(history: readonly T[], current: string | null): T | null {
  const successes = history.filter((d) => d.status === 'success');
  const at = current ? successes.findIndex((d) => d.sha === current) : 0;
  return successes.slice(Math.max(0, at)).find((d) => d.sha !== current) ?? null;
}

/**
 * The commits a rollback may go to, newest first: each commit the history deployed successfully, once, but the one
 * the environment runs. The first is what a rollback without a choice takes (rollbackTarget).
 */
export function rollbackChoices<T extends { sha: string | null; status: string }>(history: readonly T[], current: string | null): (T & { sha: string })[] {
  const seen = new Set<string>(current ? [current] : []);
  const first = rollbackTarget(history, current);
  const out: (T & { sha: string })[] = [];
  for (const d of first ? [first, ...history] : history) {
    if (d.status !== 'success' || !d.sha || seen.has(d.sha)) continue;
    seen.add(d.sha);
    out.push(d as T & { sha: string });
  }
  return out;
}

/** What a rollback can choose from: the commit the environment runs and the commits it may go back to. */
export async function rollbackOptions(env: EnvironmentConfig, ports: DeployPorts, signal?: AbortSignal): Promise<{ current: string | null; choices: (HistoryEntry & { sha: string })[] }> {
  const current = await deployedCommit(env, ports, { signal });
  const history = await environmentHistory(env, ports, { signal });
  return { current: current.sha, choices: rollbackChoices(history.entries, current.sha) };
}

/** Rollback: `to` (a SHA or ref), else the last successful deploy before the one the environment runs. */
export async function prepareRollback(req: Omit<DeployRequest, 'ref' | 'action'>, ports: DeployPorts, to?: string): Promise<DeployPreparation | { error: string }> {
  const env = req.environment;
  if (to !== undefined) return prepareDeploy({ ...req, ref: to, action: 'rollback' }, ports);
  const current = await deployedCommit(env, ports);
  const target = rollbackTarget((await environmentHistory(env, ports)).entries, current.sha);
  if (!target?.sha) {
    return { error: `no earlier successful deploy of "${env.id}" in its history to roll back to` };
  }
  return prepareDeploy({ ...req, ref: target.sha, action: 'rollback' }, ports);
}

/** Promote: deploy what the `promotesFrom` environment runs (by its probe alone when it has one). */
export async function preparePromote(
  req: Omit<DeployRequest, 'ref' | 'action'>,
  environments: readonly EnvironmentConfig[],
  ports: DeployPorts,
): Promise<DeployPreparation | { error: string }> {
  const env = req.environment;
  if (!env.promotesFrom) return { error: `environment "${env.id}" has no "promotesFrom" in delivery.yml` };
  if (env.promotesFrom === env.id) return { error: `environment "${env.id}" promotes from itself` };
  const from = environments.find((e) => e.id === env.promotesFrom);
  if (!from) return { error: `environment "${env.id}" promotes from "${env.promotesFrom}", which is not defined` };
  const source = await deployedCommit(from, ports, { probeOnly: true });
  if (!source.sha) return { error: `cannot tell which commit "${from.id}" runs: ${source.note}` };
  return prepareDeploy({ ...req, ref: source.sha, action: 'promote' }, ports);
}

// ---- start ----

export type DeployStart =
  | { ok: true; handle: DeployHandle }
  | { ok: false; kind: 'confirm'; message: string; reasons: ConfirmationReason[] }
  | { ok: false; kind: 'locked'; message: string; holder: LockHolder }
  /** The team's store could not be reached or written: nothing was deployed. */
  | { ok: false; kind: 'store'; message: string }
  | { ok: false; kind: 'error'; message: string };

interface Expanded {
  method: DeployMethod;
  deployEnv: Record<string, string>;
  masker: Masker;
}

/** Secrets and ${DELIVERY_*} where each is allowed; the masker masks every secret value found (and `known`). */
export async function expandDeploy(env: EnvironmentConfig, vars: Record<string, string>, secrets: SecretResolver, known?: Masker): Promise<Expanded | { error: string }> {
  const found = new Set<string>();
  const deploy = env.deploy!;
  const x: DeployExpandContext = {
    vars,
    secrets: (t) => expandSecrets(t, secrets, found),
    secretsIn: (m) => expandSecretsIn(m, secrets, found),
    data: async (t) => {
      const r = expandDeliveryVariables(await expandSecrets(t, secrets, found), vars);
      if ('error' in r) throw new Error(r.error);
      return r.value;
    },
    path: (t) => expandDeliveryVariables(t, vars, { path: true }),
  };
  try {
    const deployEnv = await expandSecretsIn(deploy.env, secrets, found);
    const method = await (deployKind(deploy.method.kind) as DeployKindDef<DeployKind, DeployMethod>).expand(deploy.method, x);
    return { method, deployEnv, masker: new Masker(found).with(known) };
  } catch (e) {
    if (e instanceof MissingSecretError) return { error: e.message };
    return { error: (e as Error).message };
  }
}

/** Does the deploy work on the commit's files (its kind's, or a build pipeline's)? */
export function deployNeedsFiles(env: EnvironmentConfig): boolean {
  const d = env.deploy!;
  return (deployKind(d.method.kind) as DeployKindDef<DeployKind, DeployMethod>).needsFiles(d.method) || d.pipeline !== null;
}

/**
 * Starts the deploy when every reason of `prep.reasons` is confirmed (a protected environment needs
 * `confirmed.environmentName` equal to its id: what the user typed) and the environment's lock is free. The lock is
 * released and the checkout removed when the deploy ends, whatever the outcome; `done` resolves after that.
 */
export async function startDeploy(
  prep: DeployPreparation,
  ports: DeployPorts,
  opts: {
    confirmed?: DeployConfirmation;
    message?: string;
    /** Runs under a lock this process already holds (an automatic rollback inside the deploy that failed): not taken, not released. */
    underLock?: { store: TeamStateStore };
  } = {},
): Promise<DeployStart> {
  const env = prep.environment;
  const open = unconfirmed(env, prep.reasons, opts.confirmed);
  if (open.length > 0) return { ok: false, kind: 'confirm', reasons: open, message: open.map((r) => r.message).join('\n') };
  const vars = deployVariables({ environment: env.id, sha: prep.sha, ref: prep.ref, previousSha: prep.previousSha });
  const x = await expandDeploy(env, vars, ports.secrets, ports.masker);
  if ('error' in x) return { ok: false, kind: 'error', message: `environment "${env.id}": ${x.error}` };

  const id = ports.history.newId();
  const { user, pid } = ports.host;
  const timeoutMs = env.deploy!.timeoutMs;
  const here = ports.team.here;
  let store: TeamStateStore;
  let lock;
  const mine = newHolder(here, { deployId: id, sha: prep.sha, message: opts.message ?? null, expiresAfterMs: env.state.lockExpiryMs });
  // Known as running before the lock names it: another deploy of this process must not judge the lock abandoned.
  here.activeDeploys.add(id);
  try {
    store = opts.underLock?.store ?? ports.team.store(env);
    lock = opts.underLock ? { ok: true as const, tookOver: null } : await acquireLock(store, env.id, mine, here);
  } catch (e) {
    here.activeDeploys.delete(id);
    // An unreachable or full store: without the team's lock nothing may be deployed.
    const elsewhere = env.state.spec.kind !== 'local' ? '; to keep the lock and history elsewhere, set "state:" for this environment in delivery.yml' : '';
    return { ok: false, kind: 'store', message: `could not take the deploy lock of "${env.id}", so nothing was deployed: ${(e as Error).message}${elsewhere}` };
  }
  if (!lock.ok) {
    here.activeDeploys.delete(id);
    return { ok: false, kind: 'locked', message: lock.message, holder: lock.holder };
  }
  let log: JobLog | null = null;
  const keeper = opts.underLock ? null : keepLock(store, mine, ports.clock, (why) => log?.write('system', `| warning: ${why}`));
  const release = async () => {
    if (keeper) {
      keeper.stop();
      await store.swapLock(keeper.current().token, null).catch(() => undefined);
    }
    here.activeDeploys.delete(id);
  };
  const event = (status: HistoryStatus, extra: { durationMs?: number | null; message?: string | null; startedAt?: number } = {}) =>
    historyEvent(here, { id, action: prep.action, status, fromSha: prep.previousSha, toSha: prep.sha, ...extra });

  // Recorded in the team's history before anything runs: a deploy nobody else could see does not start.
  try {
    await store.append(event('running', { message: opts.message ?? null }));
  } catch (e) {
    await release();
    return { ok: false, kind: 'store', message: `the deploy history of "${env.id}" at ${store.where} cannot be written, so nothing was deployed: ${(e as Error).message}` };
  }
  let checkout: { dir: string; remove(): Promise<void> } | null = null;
  try {
    const fromFolder = prep.head.sha === prep.sha && !prep.head.dirty;
    if (deployNeedsFiles(env) && !fromFolder) checkout = await ports.git.checkout(prep.sha);
    const dir = checkout?.dir ?? prep.folder;
    const jobLog = ports.history.openLog(env.id, id);
    log = jobLog;
    const record = newDeployRecord(
      { id, environment: env.id, folder: prep.folder, action: prep.action, sha: prep.sha, ref: prep.ref, previousSha: prep.previousSha, user, trigger: prep.trigger, pid },
      prep.steps,
      ports.clock.now(),
      jobLog.path,
    );
    // Recorded here too (steps, log) before anything runs: a deploy the history cannot hold (a full disk) does not start.
    await ports.history.save(record).catch(async (e: unknown) => {
      await jobLog.close().catch(() => undefined);
      await ports.history.discard(env.id, id).catch(() => undefined);
      throw e;
    });
    const executor = verifying({ prep, deployId: id, store, startedAt: record.startedAt }, ports, ports.executor({ prep, deployId: id, dir, method: x.method, deployEnv: x.deployEnv, vars, masker: x.masker, user }));
    // The note may quote a version probe's answer: masked like every other line.
    jobLog.write('system', x.masker.mask(`| ${prep.action} ${prep.sha} (${prep.ref}) to ${env.id} by ${user}; previous: ${prep.previousSha ?? 'unknown'} (${prep.previousNote})`));
    jobLog.write('system', x.masker.mask(`| lock and history: ${store.kind === 'local' ? 'local only' : store.kind} (${store.where})`));
    if (lock.tookOver) jobLog.write('system', x.masker.mask(`| took over the lock of ${lock.tookOver.holder.user} on ${lock.tookOver.holder.host} because ${lock.tookOver.why}`));
    if (checkout) jobLog.write('system', x.masker.mask(`| working in a clean checkout of ${prep.sha.slice(0, 12)}: ${checkout.dir}`));
    if (prep.verifyWarning) jobLog.write('system', x.masker.mask(`| warning: ${prep.verifyWarning}`));
    const handle = startDeployRun(record, prep.steps, { executor, save: (r) => ports.history.save(r), log: jobLog, timeoutMs, redact: x.masker.mask, clock: ports.clock });
    const cleanup = checkout;
    const done = handle.done.then(async (r) => {
      await cleanup?.remove().catch(() => undefined);
      const final = await store
        .append(event(r.status === 'running' ? 'interrupted' : r.status, { durationMs: r.durationMs, message: r.reason ? x.masker.mask(r.reason) : null, startedAt: r.startedAt }))
        .then(() => null, (e: unknown) => (e as Error).message);
      if (final) jobLog.write('system', `| warning: the result could not be written to the deploy history at ${store.where}: ${final}`);
      await release();
      return r;
    });
    return { ok: true, handle: { ...handle, done } };
  } catch (e) {
    await checkout?.remove().catch(() => undefined);
    await store.append(event('failed', { message: `could not start: ${(e as Error).message}` })).catch(() => undefined);
    await release();
    return { ok: false, kind: 'error', message: `could not start the deploy: ${(e as Error).message}` };
  }
}

// ---- the history of an environment ----

/** A deploy (or lock event) as the front ends show it: the team's record, or an older local one. */
export interface HistoryEntry extends HistoryRecord {
  /** The commit it deployed (toSha). */
  sha: string | null;
  /** Where the record comes from: the team's store, or this machine's history (written by an earlier version). */
  origin: 'shared' | 'local';
  /** The local record with its steps and log, when this machine made the deploy. */
  local: DeployRecord | null;
}

export interface EnvironmentHistory {
  environment: string;
  store: StateStoreKind;
  where: string;
  /** Newest first: the store's records, then records only this machine has (older versions wrote them). */
  entries: HistoryEntry[];
  lock: LockStatus | null;
  /** Why the store could not be read (then only this machine's records are shown). */
  error: string | null;
}

/** The environment's history: the team's store, merged with this machine's records (logs, steps, older versions). */
export async function environmentHistory(
  env: EnvironmentConfig,
  ports: Pick<DeployPorts, 'history' | 'team'>,
  opts: { signal?: AbortSignal; limit?: number } = {},
): Promise<EnvironmentHistory> {
  const store = ports.team.store(env);
  const local = await ports.history.list(env.id, 1000).catch(() => [] as DeployRecord[]);
  const byId = new Map(local.map((r) => [r.id, r]));
  let shared: HistoryRecord[] = [];
  let lock: LockStatus | null = null;
  let error: string | null = null;
  try {
    const [events, l] = await Promise.all([store.readHistory(opts.signal), lockStatus(store, env.id, ports.team.here, opts.signal)]);
    lock = l;
    shared = historyRecords(events, l);
  } catch (e) {
    error = `the deploy history at ${store.where} could not be read: ${(e as Error).message}`;
  }
  const seen = new Set(shared.map((r) => r.id));
  const entries: HistoryEntry[] = [
    ...shared.map((r) => ({ ...r, sha: r.toSha, origin: 'shared' as const, local: byId.get(r.id) ?? null })),
    ...local.filter((r) => !seen.has(r.id)).map(localHistoryEntry),
  ];
  return { environment: env.id, store: store.kind, where: store.where, entries: entries.slice(0, opts.limit ?? Infinity), lock, error };
}

/** A record of this machine's history as a history entry. */
export function localHistoryEntry(r: DeployRecord): HistoryEntry {
  const [user, host] = r.user.includes('@') ? [r.user.slice(0, r.user.lastIndexOf('@')), r.user.slice(r.user.lastIndexOf('@') + 1)] : [r.user, ''];
  return {
    id: r.id,
    action: r.action,
    user,
    host,
    fromSha: r.previousSha,
    toSha: r.sha,
    sha: r.sha,
    status: r.status,
    startedAt: r.startedAt,
    durationMs: r.finishedAt === null ? null : r.durationMs,
    message: r.reason,
    origin: 'local',
    local: r,
  };
}

export { describeHolder };

/** The history as the views show it (JSON only). */
export function historyItems(entries: readonly HistoryEntry[]): DeployHistoryItem[] {
  return entries.map((e) => ({
    id: e.id,
    action: e.action,
    sha: e.sha,
    fromSha: e.fromSha,
    status: e.status,
    user: e.user,
    host: e.host,
    startedAt: e.startedAt,
    durationMs: e.durationMs,
    message: e.message,
    logFile: e.local?.logFile ?? null,
    ref: e.local?.ref ?? null,
    origin: e.origin,
  }));
}

/** The team state as the views show it (JSON only). */
export function teamStateView(h: Pick<EnvironmentHistory, 'store' | 'where' | 'lock' | 'error'>): TeamStateView {
  const l = h.lock?.locked ? h.lock.holder : null;
  return {
    store: h.store,
    where: h.where,
    lockedBy: l ? { user: l.user, host: l.host, pid: l.pid, deployId: l.deployId, sha: l.sha, message: l.message, since: l.since } : null,
    error: h.error,
  };
}

// ---- verify now ----

/**
 * `delivery verify`: the environment's checks evaluated once, now, without deploying; a baseline check compares
 * with the window before the last successful deploy.
 */
export async function verifyEnvironment(
  env: EnvironmentConfig,
  ports: Pick<DeployPorts, 'metrics' | 'probe' | 'clock' | 'history' | 'team'>,
  signal: AbortSignal,
): Promise<{ verification: Verification; lastDeploy: { id: string; sha: string | null; startedAt: number } | null } | { error: string }> {
  if (!env.verify) return { error: `environment "${env.id}" has no "verify" in ${env.location.file}: say which metrics show whether a release is good (prometheus checks or http probes)` };
  const last = (await environmentHistory(env, ports, { signal }).catch(() => null))?.entries.find((e) => e.status === 'success' && e.sha !== null) ?? null;
  const verification = await runVerification(env.verify, ports, { signal, line: () => undefined }, { baselineEndMs: last?.startedAt ?? null, once: true });
  return { verification, lastDeploy: last ? { id: last.id, sha: last.sha, startedAt: last.startedAt } : null };
}

/** The executor's steps, then the checks: the version, the health and the verification are decided here. */
function verifying(d: { prep: DeployPreparation; deployId: string; store: TeamStateStore; startedAt: number }, ports: DeployPorts, steps: DeployExecutor): DeployExecutor {
  const env = d.prep.environment;
  return {
    execute: async (step, io) => {
      if (step.id === 'version') return verifyVersion(env, d.prep.sha, env.health?.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS, io, ports);
      if (step.id === 'health' && env.health) return waitHealthy(env.health, io, ports);
      if (step.id === 'verify' && env.verify) {
        const verification = await runVerification(env.verify, ports, io, { baselineEndMs: d.startedAt });
        const summary = verificationSummary(verification);
        if (io.signal.aborted) return { status: 'failed', reason: 'cancelled while verifying (the release stays deployed)', verification };
        if (verification.status === 'passed') return { status: 'success', reason: summary, verification };
        if (verification.status === 'unverified') return { status: 'success', reason: summary, verification };
        if (env.verify.onFailure !== 'rollback' || d.prep.automatic) return { status: 'failed', reason: `${summary} (the new release stays deployed${d.prep.automatic ? '' : ': roll back to undo it'})`, verification };
        io.line('system', `${summary}: rolling back`);
        const back = await rollBackAfterVerification(d, ports, io, summary);
        return { status: 'failed', reason: `${summary}; ${back.note}`, verification, ...(back.rolledBackTo ? { rolledBackTo: back.rolledBackTo } : {}) };
      }
      return steps.execute(step, io);
    },
  };
}

/**
 * verify.onFailure: rollback — deploys what ran before (the probe's or the history's commit) through this same
 * service, as a rollback of its own in the history, under the lock the failed deploy holds.
 */
async function rollBackAfterVerification(
  d: { prep: DeployPreparation; deployId: string; store: TeamStateStore },
  ports: DeployPorts,
  io: { signal: AbortSignal; line(stream: 'stdout' | 'system', text: string): void; rollbackStarted?(deployId: string, sha: string): void },
  summary: string,
): Promise<{ rolledBackTo?: string; note: string }> {
  const { prep } = d;
  const env = prep.environment;
  let target = prep.previousSha;
  if (!target || target === prep.sha) {
    const h = await environmentHistory(env, ports, { signal: io.signal }).catch(() => null);
    target = rollbackTarget((h?.entries ?? []).filter((e) => e.id !== d.deployId), prep.sha)?.sha ?? null;
  }
  if (!target || target === prep.sha) return { note: 'nothing to roll back to (no earlier successful deploy of another commit); the new release stays deployed' };
  const short = target.slice(0, 7);
  const rp = await prepareDeploy({ folder: prep.folder, environment: env, trigger: prep.trigger, ref: target, action: 'rollback', pipelines: prep.pipelines, automatic: true }, ports, io.signal);
  if ('error' in rp) return { note: `the rollback to ${short} could not start: ${rp.error}; the new release stays deployed` };
  const started = await startDeploy(rp, ports, { confirmed: confirmAll(env), message: `automatic rollback of ${prep.sha.slice(0, 7)}: ${summary}`, underLock: { store: d.store } });
  if (!started.ok) return { note: `the rollback to ${short} could not start: ${started.message}; the new release stays deployed` };
  const { handle } = started;
  io.line('system', `rollback ${handle.record.id} of ${short} started`);
  io.rollbackStarted?.(handle.record.id, target);
  const off = handle.onEvent((e) => {
    if (e.type === 'line') io.line('stdout', `rollback: ${e.text}`);
  });
  const cancel = () => handle.cancel();
  io.signal.addEventListener('abort', cancel, { once: true });
  const r = await handle.done;
  io.signal.removeEventListener('abort', cancel);
  off();
  if (r.status === 'success' || r.status === 'unverified') return { rolledBackTo: target, note: `rolled back to ${short} (deploy ${r.id})` };
  return { note: `the rollback to ${short} ${r.status === 'cancelled' ? 'was cancelled' : 'failed'}${r.reason ? `: ${r.reason}` : ''} (deploy ${r.id})` };
}
