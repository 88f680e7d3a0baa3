// What a deploy is, decided without I/O: the DELIVERY_* variables, the steps of a deploy, the questions a user must
// answer before it starts, and when a deploy lock is stale. VS Code and the CLI ask the same questions because both
// take them from here.
import type { DeployAction, EnvironmentDef } from '../../shared/model';
import type { EnvironmentConfig } from '../config/delivery';
import { deployKind, type DeployKind, type DeployKindDef, type DeployMethod } from './deployKinds';
import { formatDuration } from '../duration';

export const DELIVERY_VARIABLES = ['DELIVERY_ENV', 'DELIVERY_SHA', 'DELIVERY_SHORT_SHA', 'DELIVERY_REF', 'DELIVERY_PREVIOUS_SHA'] as const;
export type DeliveryVariable = (typeof DELIVERY_VARIABLES)[number];

export interface DeployTarget {
  environment: string;
  /** Full SHA of the commit to deploy. */
  sha: string;
  /** What the user asked for (a branch, tag, SHA or HEAD). */
  ref: string;
  previousSha: string | null;
}

/** The variables every deploy step receives (as environment variables, never inside a shell string). */
export function deployVariables(t: DeployTarget): Record<DeliveryVariable, string> {
  return {
    DELIVERY_ENV: t.environment,
    DELIVERY_SHA: t.sha,
    DELIVERY_SHORT_SHA: t.sha.slice(0, 7),
    DELIVERY_REF: t.ref,
    DELIVERY_PREVIOUS_SHA: t.previousSha ?? '',
  };
}

/**
 * Expands `${DELIVERY_*}` in a value that is data, not code (a path such as upload.to). Unknown variables and
 * results with line breaks or NUL are errors, so a ref cannot smuggle a second line into a path. With `path`, a
 * substituted value may not climb out of where the file put it (a `..` segment, or a leading `/` or `~`).
 */
export function expandDeliveryVariables(text: string, vars: Record<string, string>, opts: { path?: boolean } = {}): { value: string } | { error: string } {
  let error: string | null = null;
  const value = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    if (!name.startsWith('DELIVERY_')) return whole;
    const v = vars[name];
    if (v === undefined) {
      error ??= `unknown variable \${${name}} (known: ${DELIVERY_VARIABLES.join(', ')})`;
      return whole;
    }
    if (opts.path && (v.split(/[\\/]/).includes('..') || /^[/~]/.test(v))) {
      error ??= `\${${name}} is "${v}", which would leave the path "${text}"`;
      return whole;
    }
    return v;
  });
  if (error) return { error };
  if (/[\n\r\u0000]/.test(value)) return { error: `"${text}" expands to a value with a line break` };
  return { value };
}

// ---- steps ----

/** A step of a deploy: the build pipeline, a kind's own steps (`ssh.upload`: named after the kind), the checks. */
export type DeployStepId = 'pipeline' | DeployKind | `${DeployKind}.${string}` | 'version' | 'health' | 'verify';

export interface DeployStepPlan {
  id: DeployStepId;
  name: string;
}

/** The steps of a method, as its kind plans them. */
export function methodSteps(m: DeployMethod): DeployStepPlan[] {
  return (deployKind(m.kind) as DeployKindDef<DeployKind, DeployMethod>).steps(m);
}

/**
 * Build pipeline → the method's steps → read the deployed version → health check → watch the metrics (verify:).
 * `verify: false` leaves the verification out (an automatic rollback, unless verify.verifyRollback).
 */
export function planDeploySteps(env: EnvironmentConfig, opts: { verify?: boolean } = {}): DeployStepPlan[] | { error: string } {
  if (!env.deploy) return { error: `environment "${env.id}" has no "deploy" in delivery.yml` };
  const steps: DeployStepPlan[] = [];
  if (env.deploy.pipeline) steps.push({ id: 'pipeline', name: `build pipeline ${env.deploy.pipeline}` });
  steps.push(...methodSteps(env.deploy.method));
  if (env.version) steps.push({ id: 'version', name: 'check the deployed version' });
  if (env.health) steps.push({ id: 'health', name: 'health check' });
  if (env.verify && opts.verify !== false) steps.push({ id: 'verify', name: verifyStepName(env.verify) });
  return steps;
}

/** "verify for 2m: 2 Prometheus checks" / "verify for 1m: HTTP probes every 5s". */
export function verifyStepName(v: NonNullable<EnvironmentConfig['verify']>): string {
  const what = v.source.kind === 'http' ? `HTTP probes every ${formatDuration(v.intervalMs)}` : `${v.checks.length} Prometheus check${v.checks.length === 1 ? '' : 's'}`;
  return `verify for ${formatDuration(v.windowMs)}: ${what}`;
}

// ---- confirmation ----

export type ConfirmationKind = 'protected' | 'dirty' | 'reverts' | 'ci';

/** The last local run of a pipeline at the commit to deploy (what CI said about it here). */
export interface CiRun {
  id: string;
  pipelineId: string;
  pipelineName: string;
  status: 'success' | 'failed' | 'cancelled' | 'interrupted' | 'running';
  failedJobs: number;
  totalJobs: number;
  finishedAt: number | null;
}

/** "CI: build passed at abc1234" / "the last run of build at abc1234 failed: 1 of 3 jobs failed (run …)". */
export function ciSummary(ci: CiRun, sha: string): string {
  const at = sha.slice(0, 7);
  if (ci.status === 'success') return `CI: ${ci.pipelineName} passed at ${at} (run ${ci.id})`;
  const jobs = ci.status === 'failed' ? `: ${ci.failedJobs} of ${ci.totalJobs} job${ci.totalJobs === 1 ? '' : 's'} failed` : '';
  return `the last run of ${ci.pipelineName} at ${at} ${ci.status === 'failed' ? 'failed' : `was ${ci.status}`}${jobs} (run ${ci.id})`;
}

export interface ConfirmationReason {
  kind: ConfirmationKind;
  message: string;
}

export interface DeployFacts {
  action: DeployAction;
  /** Uncommitted changes in the working tree (they are not part of the deploy). */
  dirty: boolean;
  /** Deployed commits the target does not contain (deploying it reverts them); null when unknown. */
  reverts: { sha: string; subject: string }[] | null;
  /** The last local run at the commit deployed, when there is one (a failed one must be confirmed). */
  ci?: { run: CiRun; sha: string } | null;
}

/** What the user must confirm before this deploy starts (empty: nothing). */
export function needsConfirmation(env: Pick<EnvironmentDef, 'id' | 'name' | 'protected'>, facts: DeployFacts): ConfirmationReason[] {
  const out: ConfirmationReason[] = [];
  if (env.protected) {
    out.push({ kind: 'protected', message: `"${env.id}" is a protected environment: type its name ("${env.id}") to ${facts.action} it` });
  }
  if (facts.dirty && facts.action === 'deploy') {
    out.push({ kind: 'dirty', message: 'the working tree has uncommitted changes; they are not part of the deploy (only committed work is deployed)' });
  }
  if (facts.ci && facts.ci.run.status !== 'success' && facts.ci.run.status !== 'running') {
    out.push({ kind: 'ci', message: ciSummary(facts.ci.run, facts.ci.sha) });
  }
  if (facts.reverts && facts.reverts.length > 0) {
    const n = facts.reverts.length;
    const list = facts.reverts.slice(0, 5).map((c) => `${c.sha.slice(0, 7)} ${c.subject}`).join('; ');
    out.push({
      kind: 'reverts',
      message: `this ${facts.action} reverts ${n} deployed commit${n === 1 ? '' : 's'} of "${env.id}" that the target does not contain: ${list}${n > 5 ? `; and ${n - 5} more` : ''}`,
    });
  }
  return out;
}

/**
 * The caller's answers. `environmentName` must be what the user typed (equal to the environment id): a flag or a
 * message alone does not confirm a protected deploy.
 */
export interface DeployConfirmation {
  environmentName?: string;
  dirty?: boolean;
  reverts?: boolean;
  /** Deploy although the last run at the commit did not pass. */
  ci?: boolean;
}

/** Null when every reason is confirmed, else the ones that are not. */
export function unconfirmed(env: Pick<EnvironmentDef, 'id'>, reasons: readonly ConfirmationReason[], c: DeployConfirmation | undefined): ConfirmationReason[] {
  return reasons.filter((r) => {
    switch (r.kind) {
      case 'protected':
        return c?.environmentName !== env.id;
      case 'dirty':
        return c?.dirty !== true;
      case 'reverts':
        return c?.reverts !== true;
      case 'ci':
        return c?.ci !== true;
    }
  });
}

/** Every confirmation at once (the CLI's --yes, which stands for typing the name). */
export function confirmAll(env: Pick<EnvironmentDef, 'id'>): DeployConfirmation {
  return { environmentName: env.id, dirty: true, reverts: true, ci: true };
}

// ---- locks ----

// ---- small helpers shared by the executors ----

/** Does a reported version (full SHA, short SHA) name this commit? */
export function versionMatches(reported: string, sha: string): boolean {
  const r = reported.trim().toLowerCase();
  return r.length >= 7 && /^[0-9a-f]+$/.test(r) && sha.toLowerCase().startsWith(r);
}

/** Lines a `git push --porcelain` printed, turned into one clear reason when the push was refused. */
export function gitPushRejection(lines: readonly string[]): string | null {
  const rejected = lines.find((l) => l.startsWith('!\t'));
  const remote = lines
    .filter((l) => l.startsWith('remote: '))
    .map((l) => l.slice('remote: '.length).trim())
    .filter((l) => l.length > 0);
  const said = remote.length ? `; the remote said: ${remote.join(' / ')}` : '';
  if (!rejected) return null;
  const why = /\[([^\]]+)\]\s*(?:\((.*)\))?\s*$/.exec(rejected);
  const kind = why?.[1] ?? 'rejected';
  const detail = why?.[2] ?? '';
  if (/non-fast-forward|fetch first|stale info/.test(detail)) {
    return `git push rejected (${detail}): the branch holds commits this deploy does not contain; set "force: true" in gitPush to replace them${said}`;
  }
  return `git push ${kind}${detail ? ` (${detail})` : ''}${said}`;
}
