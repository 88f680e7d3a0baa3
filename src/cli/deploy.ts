// delivery deploy / rollback / promote. The CLI never prompts: --yes stands for every confirmation (typing a
// protected environment's name, deploying over uncommitted changes, reverting deployed commits); without it such a
// deploy is refused with the reasons.
import { changedFiles } from '../adapters/deploy/git';
import {
  prepareDeploy,
  preparePromote,
  prepareRollback,
  startDeploy,
  type DeployPreparation,
  type DeployServices,
} from '../adapters/deploy/runner';
import { folderStateDir } from '../adapters/stateDir';
import { formatDuration } from '../core/duration';
import { ciSummary, confirmAll } from '../core/environments/deploy';
import { deployPreflight } from '../core/environments/deployService';
import { describeHolder } from '../core/environments/teamState';
import { jsonText, terminalText } from '../core/sanitize';
import { envSecretResolver } from '../core/secrets';
import { cliMasker } from './output';
import type { DeployAction, DeployRecord, DeployStepRecord, Health, Verification } from '../shared/model';
import { loadFolder, printProblems, UsageError, type CliCommand, type CliContext } from './context';

/** `--json` output of deploy, rollback and promote (README: "CLI JSON contracts"). */
export interface DeployJson {
  environment: string;
  action: DeployAction;
  sha: string;
  ref: string;
  previousSha: string | null;
  /** `unverified`: deployed, but its verification could not decide (exit status 3). */
  status: 'success' | 'failed' | 'cancelled' | 'unverified';
  durationMs: number;
  /** Result of the health check; null when the environment has none (or it did not run). */
  health: Health | null;
  reason: string | null;
  deployId: string;
  logFile: string | null;
  steps: { name: string; status: DeployStepRecord['status']; durationMs: number; reason: string | null }[];
  /** What the verification after the deploy found; null without `verify:` (or when it did not run). */
  verification: Verification | null;
  /** The commit an automatic rollback (verify.onFailure: rollback) deployed again; null when none did. */
  rolledBackTo: string | null;
}

export function deployJson(r: DeployRecord): DeployJson {
  return {
    environment: r.environment,
    action: r.action,
    sha: r.sha,
    ref: r.ref,
    previousSha: r.previousSha,
    status: r.status === 'success' || r.status === 'failed' || r.status === 'unverified' ? r.status : 'cancelled',
    durationMs: r.durationMs,
    health: r.health,
    reason: r.reason,
    deployId: r.id,
    logFile: r.logFile,
    steps: r.steps.map((s) => ({ name: s.name, status: s.status, durationMs: s.durationMs, reason: s.reason })),
    verification: r.verification ?? null,
    rolledBackTo: r.rolledBackTo ?? null,
  };
}

export const deployCommand: CliCommand = (ctx) => deployLike(ctx, 'deploy');
export const rollbackCommand: CliCommand = (ctx) => deployLike(ctx, 'rollback');
export const promoteCommand: CliCommand = (ctx) => deployLike(ctx, 'promote');

async function deployLike(ctx: CliContext, action: DeployAction): Promise<number> {
  const [name, ...rest] = ctx.args;
  if (!name) throw new UsageError(`${action}: name the environment`);
  if (rest.length) throw new UsageError(`${action}: unexpected argument "${rest[0]}"`);
  if (action !== 'deploy' && ctx.options.ref !== undefined) throw new UsageError(`${action}: --ref applies to deploy only${action === 'rollback' ? ' (use --to)' : ''}`);
  if (action !== 'rollback' && ctx.options.to !== undefined) throw new UsageError(`${action}: --to applies to rollback only`);
  const snapshot = await loadFolder(ctx.folder);
  const pre = deployPreflight(snapshot, name);
  if (!pre.ok) {
    if (pre.reason === 'unknown-environment') throw new UsageError(pre.message);
    printProblems({ ...snapshot, problems: pre.problems }, ctx.stderr);
    ctx.stderr.write(`delivery: ${pre.message}\n`);
    return 2;
  }
  const env = pre.environment;
  const services: DeployServices = { stateDir: folderStateDir(ctx.folder), secrets: envSecretResolver(ctx.env), masker: cliMasker(ctx.env), deployer: ctx.env.DELIVERY_USER?.trim() || undefined };
  const base = { folder: ctx.folder, environment: env, trigger: 'cli' as const, pipelines: snapshot.pipelines };
  const prep =
    action === 'rollback'
      ? await prepareRollback(base, services, ctx.options.to)
      : action === 'promote'
        ? await preparePromote(base, snapshot.environments, services)
        : await prepareDeploy({ ...base, ref: ctx.options.ref }, services);
  if ('error' in prep) {
    // The CLI's way to name another commit.
    const hint = action === 'rollback' && ctx.options.to === undefined && /to roll back to$/.test(prep.error) ? '; name a commit with --to SHA' : '';
    ctx.stderr.write(`delivery: ${prep.error}${hint}\n`);
    return 2;
  }
  await describe(ctx, prep);
  if (prep.reasons.length > 0 && !ctx.options.yes) {
    ctx.stderr.write(`delivery: refusing to ${action} "${env.id}" without --yes:\n${prep.reasons.map((r) => `  - ${r.message}\n`).join('')}re-run with --yes to confirm\n`);
    return 2;
  }
  const started = await startDeploy(prep, services, { confirmed: ctx.options.yes ? confirmAll(env) : undefined, message: ctx.options.message });
  if (!started.ok) {
    ctx.stderr.write(terminalText(`delivery: ${started.message}\n`));
    return started.kind === 'locked' || started.kind === 'store' ? 1 : 2;
  }
  const { handle } = started;
  // Deploy output comes from the deploy's commands, ssh and the target's answers: printed inert, no colours.
  const out = inert(ctx.progress);
  handle.onEvent((e) => {
    if (e.type === 'line') out.write(e.stream === 'system' ? `${e.text}\n` : `  ${e.text}\n`);
    else if (e.type === 'step' && e.step.status !== 'running' && e.step.status !== 'pending') {
      const mark = e.step.status === 'success' ? '✓' : e.step.status === 'skipped' ? '○' : '✗';
      out.write(`${mark} ${e.step.name} ${e.step.status} (${formatDuration(e.step.durationMs)})${e.step.reason && e.step.status !== 'success' ? `: ${e.step.reason}` : ''}\n`);
    }
  });
  const onAbort = () => handle.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const record = await handle.done;
  ctx.signal.removeEventListener('abort', onAbort);
  if (ctx.options.json) ctx.stdout.write(`${jsonText(deployJson(record))}\n`);
  else {
    inert(ctx.stdout).write(
      `${record.action} of ${record.sha.slice(0, 7)} to ${record.environment}: ${record.status} in ${formatDuration(record.durationMs)}` +
        `${record.health ? `, health ${record.health}` : ''}${record.reason ? ` (${record.reason})` : ''}\nlog: ${record.logFile}\n`,
    );
  }
  if (ctx.signal.aborted) return 130;
  return record.status === 'success' ? 0 : record.status === 'unverified' ? 3 : 1;
}

/** What is about to happen: the commit, what runs now, and (for a revert) the commits and files it takes back. */
async function describe(ctx: CliContext, prep: DeployPreparation): Promise<void> {
  // The note may quote a version probe's answer; subjects and file names come from the repository.
  const out = inert(ctx.progress);
  const short = (s: string | null) => (s ? s.slice(0, 7) : 'unknown');
  out.write(`${prep.action} ${prep.environment.id}: ${short(prep.sha)} (${prep.ref}); running now: ${short(prep.previousSha)} (${prep.previousNote})\n`);
  if (prep.reverts && prep.reverts.length > 0 && prep.previousSha) {
    out.write(`commits that ${prep.action === 'rollback' ? 'the rollback takes back' : 'this reverts'}:\n`);
    for (const c of prep.reverts.slice(0, 20)) out.write(`  - ${c.sha.slice(0, 7)} ${c.subject}\n`);
    if (prep.reverts.length > 20) out.write(`  … and ${prep.reverts.length - 20} more\n`);
    const files = await changedFiles(prep.folder, prep.previousSha, prep.sha);
    if (files.length) {
      out.write(`files changed by going from ${short(prep.previousSha)} to ${short(prep.sha)}:\n`);
      for (const f of files.slice(0, 30)) out.write(`  ${f}\n`);
      if (files.length > 30) out.write(`  … and ${files.length - 30} more\n`);
    }
  }
  if (prep.ci) out.write(`${prep.ci.status === 'success' ? '' : 'warning: '}${ciSummary(prep.ci, prep.sha)}\n`);
  if (prep.lockedBy) out.write(`note: ${describeHolder(prep.environment.id, prep.lockedBy)}\n`);
  if (prep.lockError) out.write(`note: the deploy lock of ${prep.environment.id} could not be read: ${prep.lockError}\n`);
  if (prep.verifyWarning) out.write(`note: ${prep.verifyWarning}\n`);
}

/** Writes text from targets and the repository with control characters made visible (core/sanitize.ts). */
function inert(stream: NodeJS.WritableStream): { write(text: string): void } {
  return { write: (text) => stream.write(terminalText(text)) };
}
