// Deploy, rollback and promote in VS Code: prepare (what would be deployed, what must be confirmed), ask
// (typed name for protected environments; a warning for a dirty tree or commits a deploy would revert), start,
// follow with progress, and report with "Show Log" / "Show Diff". The answers are the user's own: a command
// argument or a webview message never confirms a protected deploy.
import * as vscode from 'vscode';
import type { DeployPreparation, DeployServices } from '../../adapters/deploy/runner';
import { features } from '../lazy';
import { ciSummary, verifyStepName, type DeployConfirmation } from '../../core/environments/deploy';
import { deployPreflight, locatedProblem } from '../../core/environments/deployService';
import { describeHolder } from '../../core/environments/teamState';
import { shortSha } from '../../core/environments/diff';
import { formatDuration } from '../../core/duration';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { DeployAction, DeployRecord } from '../../shared/model';
import { notificationText } from '../../core/sanitize';
import { verificationNotice } from '../../core/environments/verifyNotice';
import type { Log } from '../log';
import { requireTrust } from '../trust';
import type { FolderState } from '../workspaceModel';
import type { EnvironmentService } from './environmentService';
import type { ApiHostTrust } from '../remote/apiHostTrust';
import { tokenHint, vscodeTokenProvider } from '../remote/tokens';

export interface DeployTarget {
  state: FolderState;
  env: EnvironmentConfig;
}

export interface DeployFlowDeps {
  envs: EnvironmentService;
  log: Log;
  /** Opens the diff view for an environment (before a rollback, or from a notification). */
  showDiff(state: FolderState, envId: string, ref?: string): Promise<void>;
  /** Confirms, once per workspace, an API host a delivery.yml names before a `workflow:` deploy sends it a token. */
  apiHosts?: ApiHostTrust;
}

const VERB: Record<DeployAction, string> = { deploy: 'Deploy', rollback: 'Roll back', promote: 'Promote' };

export async function deployFlow(
  deps: DeployFlowDeps,
  target: DeployTarget,
  action: DeployAction,
  opts: { ref?: string; to?: string } = {},
): Promise<DeployRecord | undefined> {
  if (!requireTrust('deploy')) return undefined;
  const { state, env } = target;
  const folder = state.folder.uri.fsPath;
  // The same pre-flight as the CLI: an invalid delivery.yml, an unknown environment or no `deploy:` is refused.
  const pre = deployPreflight({ environments: state.snapshot?.environments ?? [], problems: state.snapshot?.problems ?? [] }, env.id);
  if (!pre.ok) {
    const where = pre.problems.slice(0, 3).map(locatedProblem);
    const more = pre.problems.length > where.length ? ` (and ${pre.problems.length - where.length} more)` : '';
    void vscode.window.showErrorMessage(notificationText(`Cannot ${VERB[action].toLowerCase()} ${env.name}: ${pre.message}${where.length ? `. ${where.join('; ')}${more}` : ''}`));
    deps.log.info(`${action} ${env.id} refused: ${pre.message}${where.map((w) => `\n  ${w}`).join('')}`);
    return undefined;
  }
  const running = deps.envs.activeDeploy(folder, env.id);
  if (running) {
    void vscode.window.showWarningMessage(notificationText(`${env.name} is already being deployed (${running.step}).`));
    return undefined;
  }
  const { prepareDeploy, preparePromote, prepareRollback, startDeploy } = await features();
  const services: DeployServices = {
    stateDir: state.store.stateDir,
    secrets: deps.envs.secrets.resolver,
    masker: deps.envs.secrets.masker,
    // `workflow:` deploys dispatch through a remote engine with the same tokens as the Pipelines tree.
    remote: { tokens: vscodeTokenProvider(deps.envs.secrets), tokenHint, trustedApiHosts: deps.apiHosts?.trusted(), confirmApiHost: deps.apiHosts?.confirm, trustHint: deps.apiHosts?.hint },
  };
  const request = { folder, environment: pre.environment, trigger: 'vscode' as const, pipelines: state.snapshot?.pipelines ?? [] };
  const prep = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `${VERB[action]} ${env.name}: checking what is deployed…` },
    () =>
      action === 'rollback'
        ? prepareRollback(request, services, opts.to)
        : action === 'promote'
          ? preparePromote(request, state.snapshot?.environments ?? [], services)
          : prepareDeploy({ ...request, ref: opts.ref, action }, services),
  );
  if ('error' in prep) {
    void vscode.window.showErrorMessage(notificationText(`Cannot ${VERB[action].toLowerCase()} ${env.name}: ${prep.error}`));
    return undefined;
  }
  if (prep.lockedBy) {
    offerWhenFree(deps, target, action, opts, services, describeHolder(env.id, prep.lockedBy));
    return undefined;
  }
  if (action === 'rollback') await deps.showDiff(state, env.id, prep.sha);
  const confirmed = await confirm(prep, action);
  if (!confirmed) return undefined;
  const started = await startDeploy(prep, services, { confirmed });
  if (!started.ok && started.kind === 'locked') {
    offerWhenFree(deps, target, action, opts, services, started.message);
    return undefined;
  }
  if (!started.ok) {
    void vscode.window.showErrorMessage(notificationText(`${VERB[action]} ${env.name}: ${started.message}`));
    return undefined;
  }
  const handle = started.handle;
  deps.envs.track(state, env.id, handle);
  deps.log.info(`${action} ${prep.sha} (${prep.ref}) to ${env.id}: started (${handle.record.id})`);
  handle.onEvent((e) => {
    if (e.type === 'line') deps.log.lines([`[deploy ${env.id}] ${e.text}`]);
  });
  const record = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `${VERB[action]} ${shortSha(prep.sha)} to ${env.name}`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => handle.cancel());
      const total = handle.record.steps.length || 1;
      const verifyStep = env.verify ? verifyStepName(env.verify) : null;
      const sub = handle.onEvent((e) => {
        if (e.type !== 'step') return;
        if (e.step.status === 'running') progress.report({ message: e.step.name === verifyStep ? `verifying against its metrics for ${formatDuration(env.verify!.windowMs)}` : e.step.name });
        else progress.report({ increment: 100 / total, message: `${e.step.name}: ${e.step.status}` });
      });
      const r = await handle.done;
      sub();
      return r;
    },
  );
  report(deps, target, record);
  return record;
}

const WAIT_POLL_MS = 5000;
const waiting = new Set<string>();

/**
 * The environment is locked (by a teammate, a CI job, a lock taken by hand): say who holds it, and offer to wait.
 * "Deploy When Free" watches the lock (the team's store, every 5 s, cancellable) and, once it is
 * released, says so and starts the same deploy again — through the same confirmations.
 */
function offerWhenFree(deps: DeployFlowDeps, target: DeployTarget, action: DeployAction, opts: { ref?: string; to?: string }, services: DeployServices, held: string): void {
  const env = target.env;
  const wait = `${VERB[action]} When Free`;
  void vscode.window.showWarningMessage(notificationText(`${env.name} is locked: ${held}`), wait).then(async (choice) => {
    if (choice !== wait) return;
    const key = `${target.state.folder.uri.fsPath}\u0000${env.id}`;
    if (waiting.has(key)) return;
    waiting.add(key);
    try {
      const { teamLock } = await features();
      const lock = await teamLock(target.state.folder.uri.fsPath, env, services);
      const freed = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Waiting for ${env.name}'s deploy lock to be released…`, cancellable: true },
        async (_p, token) => {
          let last = 'unknown';
          while (!token.isCancellationRequested) {
            const s = await lock.status().catch(() => null);
            if (s && !s.locked) return last;
            if (s?.holder) last = s.holder.user;
            await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
          }
          return null;
        },
      );
      if (freed === null) return;
      deps.log.info(`${env.id}: the deploy lock (held by ${freed}) was released`);
      void vscode.window.showInformationMessage(notificationText(`${env.name} is free: the lock held by ${freed} was released. Starting the ${VERB[action].toLowerCase()}.`));
      await deployFlow(deps, target, action, opts);
    } finally {
      waiting.delete(key);
    }
  });
}

/** Asks what must be asked; returns the answers, or undefined when the user declined. */
async function confirm(prep: DeployPreparation, action: DeployAction): Promise<DeployConfirmation | undefined> {
  const env = prep.environment;
  const answers: DeployConfirmation = {};
  const warnings = prep.reasons.filter((r) => r.kind !== 'protected');
  const what = `${VERB[action].toLowerCase()} ${shortSha(prep.sha)}${prep.ref !== prep.sha && prep.ref !== 'HEAD' ? ` (${prep.ref})` : ''} to ${env.name}`;
  const facts = whatItReceives(prep);
  const answer = () => {
    for (const w of warnings) {
      if (w.kind === 'dirty') answers.dirty = true;
      if (w.kind === 'reverts') answers.reverts = true;
      if (w.kind === 'ci') answers.ci = true;
    }
  };
  if (prep.reasons.some((r) => r.kind === 'protected')) {
    // One step: what it will receive and what to know, then the name typed. The title keeps naming the commit
    // while a wrong entry shows its message; the placeholder is not the name (it would look filled in).
    const notes = [...warnings.map((w) => `⚠ ${w.message}`), ...facts];
    const typed = await vscode.window.showInputBox({
      title: notificationText(`${VERB[action]} ${env.name} (protected): ${what}`),
      prompt: notificationText(`${notes.join(' · ')} — type "${env.id}" to confirm`),
      placeHolder: 'the environment id, to confirm',
      ignoreFocusOut: true,
      validateInput: (v) => (v === '' || v === env.id ? null : notificationText(`Type exactly "${env.id}" to ${what}`)),
    });
    if (typed !== env.id) return undefined;
    answers.environmentName = typed;
    answer();
    return answers;
  }
  if (warnings.length > 0) {
    const go = `${VERB[action]} Anyway`;
    const choice = await vscode.window.showWarningMessage(
      notificationText(`Really ${what}?`),
      { modal: true, detail: [...warnings.map((w) => `• ${w.message}`), ...facts.map((f) => `  ${f}`)].join('\n') },
      go,
    );
    if (choice !== go) return undefined;
    answer();
  }
  return answers;
}

/** What the environment will receive: the commits, how (its method's steps), and what CI said about the commit. */
function whatItReceives(prep: DeployPreparation): string[] {
  const out: string[] = [];
  if (prep.previousSha && prep.toDeploy) {
    const n = prep.toDeploy.length;
    const list = prep.toDeploy.slice(0, 3).map((c) => `${c.sha.slice(0, 7)} ${c.subject}`).join('; ');
    out.push(n === 0 ? `no new commits over ${shortSha(prep.previousSha)}` : `${n} commit${n === 1 ? '' : 's'} over ${shortSha(prep.previousSha)}: ${list}${n > 3 ? `; and ${n - 3} more` : ''}`);
  } else out.push(`it runs ${prep.previousSha ? shortSha(prep.previousSha) : 'an unknown commit'} now`);
  out.push(`by ${prep.steps.map((s) => s.name).join(', ')}`);
  if (prep.ci?.status === 'success') out.push(ciSummary(prep.ci, prep.sha));
  else if (!prep.ci) out.push(`no local run at ${shortSha(prep.sha)}`);
  return out;
}

function report(deps: DeployFlowDeps, target: DeployTarget, r: DeployRecord): void {
  const env = target.env;
  const showLog = 'Show Log';
  const showDiff = 'Show Diff';
  const onChoice = (choice: string | undefined) => {
    if (choice === showLog && r.logFile) void vscode.commands.executeCommand('delivery.run.showLog', { logFile: r.logFile });
    if (choice === showDiff) void deps.showDiff(target.state, env.id);
  };
  const took = formatDuration(r.durationMs);
  // A verification that failed (and the rollback it started) or could not decide: said in its own words.
  const verified = verificationNotice(r, env.name);
  if (verified) {
    deps.log.info(verified.text);
    const text = notificationText(verified.text);
    void (verified.severity === 'error' ? vscode.window.showErrorMessage(text, showLog, showDiff) : vscode.window.showWarningMessage(text, showLog, showDiff)).then(onChoice);
    return;
  }
  if (r.status === 'success') {
    const checks = r.verification?.status === 'passed' ? `, verified (${r.verification.checks.length} check${r.verification.checks.length === 1 ? '' : 's'})` : '';
    void vscode.window
      .showInformationMessage(notificationText(`${VERB[r.action]} ${shortSha(r.sha)} to ${env.name}: done in ${took}${r.health === 'up' ? ', healthy' : ''}${checks}.`), showLog, showDiff)
      .then(onChoice);
  } else if (r.status === 'cancelled') {
    void vscode.window.showWarningMessage(notificationText(`${VERB[r.action]} to ${env.name} was cancelled${r.reason ? `: ${r.reason}` : ''}.`), showLog).then(onChoice);
  } else {
    // A failed build pipeline: its run opens on the board (the run's id stays out of the message).
    const showRun = 'Show Build Run';
    const buildFailed = r.buildRunId && r.steps.some((s) => s.name.startsWith('build pipeline ') && s.status === 'failed');
    const folder = target.state.folder.uri.fsPath;
    void vscode.window
      .showErrorMessage(notificationText(`${VERB[r.action]} ${shortSha(r.sha)} to ${env.name} failed: ${r.reason ?? 'see the log'}`), ...(buildFailed ? [showRun] : []), showLog, showDiff)
      .then((choice) => (choice === showRun && r.buildRunId ? void vscode.commands.executeCommand('delivery.run.show', { folder, runId: r.buildRunId }) : onChoice(choice)));
  }
}
