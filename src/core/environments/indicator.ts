// The status-bar deploy indicator, as a pure function of what is known about one environment:
//   $(rocket) staging a1b2c3d ↓3        deployed commit, 3 local commits not deployed yet
//   $(rocket) staging a1b2c3d ↓3 ↺1     … and 1 deployed commit that HEAD lacks (a deploy would revert it)
//   $(sync~spin) staging: health check  a deploy in progress, at this step
//   $(sync~spin) verifying staging 1m 20s left   … watching its metrics (verify:), with the bake time left
//   $(sync~spin) staging: rolling back to d4e5f6a  … undoing a release that failed its verification
//   error colour: the last deploy failed, or the health check says down; warning: version unknown or reverts.
import type { DeployHistoryItem, EnvironmentStatus, LockView } from '../../shared/model';
import { markdownText } from '../sanitize';
import { shortSha } from './diff';

/**
 * Where a deploy in progress is: at a step, verifying (the bake time left, from the verify step's start and
 * verify.window), or rolling back after a failed verification.
 */
export interface DeployProgress {
  step: string;
  sha: string;
  /** Set while the verify step runs. */
  verify?: { leftMs: number } | null;
  /** Set once an automatic rollback (verify.onFailure: rollback) has started: the commit it deploys. */
  rollingBackTo?: string | null;
}

/** The bake time left: the verify step started at `since` and watches for `windowMs`. */
export function verifyTimeLeft(since: number, windowMs: number, now: number): number {
  return Math.max(0, windowMs - Math.max(0, now - since));
}

/** Whole seconds, rounded up: `1m 20s`, `45s`, `0s` (a countdown does not show tenths). */
export function formatTimeLeft(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** What a tree row or the overview says about a deploy in progress: `verifying · 1m 20s left`, `deploying: health check`. */
export function deployProgressText(p: DeployProgress): string {
  if (p.rollingBackTo) return `rolling back to ${shortSha(p.rollingBackTo)}`;
  if (p.verify) return `verifying · ${formatTimeLeft(p.verify.leftMs)} left`;
  return `deploying: ${p.step}`;
}

export interface DeployIndicator {
  text: string;
  /** Markdown. */
  tooltip: string;
  tone: 'normal' | 'warning' | 'error';
}

export function deployIndicator(
  env: { id: string; name: string },
  status: EnvironmentStatus | null,
  deploying: DeployProgress | null,
  lastDeploy: DeployHistoryItem | null,
  team: { lockedBy: LockView | null; store: string | null; where: string | null } = { lockedBy: null, store: null, where: null },
): DeployIndicator {
  const lines: string[] = [`**${escape(env.name)}** (\`${env.id}\`)`];
  const lock = team.lockedBy;
  if (lock && !deploying) {
    const since = new Date(lock.since).toISOString().replace('T', ' ').slice(0, 16);
    lines.push(`$(lock) Locked by ${escape(lock.user)} on ${escape(lock.host)} since ${since} UTC${lock.deployId ? ` (deploying${lock.sha ? ` \`${shortSha(lock.sha)}\`` : ''})` : ''}${lock.message ? `: “${escape(lock.message)}”` : ''}`);
  }
  if (deploying?.rollingBackTo) {
    lines.push(`$(sync~spin) \`${shortSha(deploying.sha)}\` failed its verification: rolling back to \`${shortSha(deploying.rollingBackTo)}\``);
    return { text: `$(sync~spin) ${env.id}: rolling back to ${shortSha(deploying.rollingBackTo)}`, tooltip: lines.join('\n\n'), tone: 'warning' };
  }
  if (deploying?.verify) {
    const left = formatTimeLeft(deploying.verify.leftMs);
    lines.push(`$(sync~spin) Deployed \`${shortSha(deploying.sha)}\`, verifying it against its metrics: ${left} left`, escape(deploying.step));
    return { text: `$(sync~spin) verifying ${env.id} ${left} left`, tooltip: lines.join('\n\n'), tone: 'normal' };
  }
  if (deploying) {
    lines.push(`$(sync~spin) Deploying \`${shortSha(deploying.sha)}\`: ${escape(deploying.step)}`);
    return { text: `$(sync~spin) ${env.id}: ${deploying.step}`, tooltip: lines.join('\n\n'), tone: 'normal' };
  }
  let tone: DeployIndicator['tone'] = 'normal';
  let text: string;
  if (!status) {
    text = `$(rocket) ${env.id} …`;
    lines.push('Checking what is deployed…');
  } else if (status.deployed.sha) {
    const parts = [`$(rocket) ${env.id} ${shortSha(status.deployed.sha)}`];
    if (status.ahead) parts.push(`↓${status.ahead}`);
    if (status.behind) parts.push(`↺${status.behind}`);
    text = parts.join(' ');
    lines.push(`Deployed: \`${shortSha(status.deployed.sha)}\``);
    if (status.local.sha) {
      lines.push(`Local HEAD: \`${shortSha(status.local.sha)}\`${status.local.branch ? ` on ${escape(status.local.branch)}` : ' (detached)'}${status.local.dirty ? ', with uncommitted changes' : ''}`);
    }
    if (status.ahead === 0 && status.behind === 0) lines.push('Up to date with HEAD');
    if (status.ahead) lines.push(`↓ ${status.ahead} commit${status.ahead === 1 ? '' : 's'} to deploy`);
    if (status.behind) {
      tone = 'warning';
      lines.push(`$(warning) ↺ ${status.behind} deployed commit${status.behind === 1 ? '' : 's'} not in HEAD: deploying HEAD would **revert** ${status.behind === 1 ? 'it' : 'them'}`);
    }
  } else if (status.deployed.error === null) {
    text = `$(rocket) ${env.id}`;
    lines.push('No `version` in delivery.yml: what runs there is not known');
  } else {
    text = `$(rocket) ${env.id} ?`;
    tone = 'warning';
    lines.push(`$(question) Deployed version unknown: ${escape(status.deployed.error)}`);
  }
  if (status?.health === 'down') {
    tone = 'error';
    text += ' $(error)';
    lines.push(`$(error) Health check failing${status.healthDetail ? `: ${escape(status.healthDetail)}` : ''}`);
  } else if (status?.health === 'up') lines.push('$(pass) Healthy');
  if (lastDeploy) {
    const when = new Date(lastDeploy.startedAt).toISOString().replace('T', ' ').slice(0, 16);
    const who = `${escape(lastDeploy.user)}${lastDeploy.host ? ` on ${escape(lastDeploy.host)}` : ''}`;
    lines.push(`Last ${lastDeploy.action}: \`${lastDeploy.sha ? shortSha(lastDeploy.sha) : '?'}\` **${lastDeploy.status}** by ${who}, ${when} UTC`);
    if (lastDeploy.status === 'failed') {
      tone = 'error';
      text = text.replace('$(rocket)', '$(error)');
      if (lastDeploy.message) lines.push(`Reason: ${escape(lastDeploy.message)}`);
    } else if (lastDeploy.status === 'unverified') {
      // Deployed, but its verification could not decide: not a pass, not a failure.
      if (tone === 'normal') tone = 'warning';
      text = text.replace('$(rocket)', '$(question)');
      lines.push(`$(question) Unverified: the metrics could not say whether the release is good${lastDeploy.message ? ` (${escape(lastDeploy.message)})` : ''}`);
    }
  }
  if (lock && !deploying) {
    text = text.replace('$(rocket)', '$(lock)');
    if (tone === 'normal') tone = 'warning';
  }
  if (team.store) lines.push(team.store === 'local' ? 'Deploy history and lock: this machine only' : `Deploy history and lock: ${escape(team.where ?? team.store)}`);
  return { text, tooltip: lines.join('\n\n'), tone };
}

/** Target and repository text in the Markdown tooltip: shown as it is, never as markup, icons or links. */
function escape(s: string): string {
  return markdownText(s);
}
