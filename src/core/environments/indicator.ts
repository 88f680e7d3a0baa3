// The status-bar deploy indicator, as a pure function of what is known about one environment:
//   $(rocket) staging a1b2c3d ↓3        deployed commit, 3 local commits not deployed yet
//   $(rocket) staging a1b2c3d ↓3 ↺1     … and 1 deployed commit that HEAD lacks (a deploy would revert it)
//   $(sync~spin) staging: health check  a deploy in progress, at this step
//   error colour: the last deploy failed, or the health check says down; warning: version unknown or reverts.
import type { DeployHistoryItem, EnvironmentStatus, LockView } from '../../shared/model';
import { markdownText } from '../sanitize';
import { shortSha } from './diff';

export interface DeployIndicator {
  text: string;
  /** Markdown. */
  tooltip: string;
  tone: 'normal' | 'warning' | 'error';
}

export function deployIndicator(
  env: { id: string; name: string },
  status: EnvironmentStatus | null,
  deploying: { step: string; sha: string } | null,
  lastDeploy: DeployHistoryItem | null,
  team: { lockedBy: LockView | null; store: string | null; where: string | null } = { lockedBy: null, store: null, where: null },
): DeployIndicator {
  const lines: string[] = [`**${escape(env.name)}** (\`${env.id}\`)`];
  const lock = team.lockedBy;
  if (lock && !deploying) {
    const since = new Date(lock.since).toISOString().replace('T', ' ').slice(0, 16);
    lines.push(`$(lock) Locked by ${escape(lock.user)} on ${escape(lock.host)} since ${since} UTC${lock.deployId ? ` (deploying${lock.sha ? ` \`${shortSha(lock.sha)}\`` : ''})` : ''}${lock.message ? `: “${escape(lock.message)}”` : ''}`);
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
