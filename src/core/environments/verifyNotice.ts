// What the editor says when a deploy with `verify:` ends: a failed verification (and the rollback it started, or
// why none happened), or a verification that could not decide. Pure; the editor passes the text through
// notificationText before showing it (it quotes check names and reasons from delivery.yml and Prometheus).
import type { DeployAction, DeployRecord, VerificationCheck } from '../../shared/model';
import { shortSha } from './diff';
import { formatValue, verificationSummary } from './verification';

const NOUN: Record<DeployAction, string> = { deploy: 'Deploy', rollback: 'Rollback', promote: 'Promotion' };

/** "error rate 0.25 > 0.01": the value and the bound it broke (the bound's ≤ / ≥ turned around). */
export function brokenBound(c: VerificationCheck): string {
  const bound = c.bound.replace(/^≤/, '>').replace(/^≥/, '<');
  return `${c.name} ${c.value === null ? '—' : formatValue(c.value)} ${bound}`;
}

/**
 * The notification for a deploy whose verification failed or could not decide; null for any other end (the usual
 * "done" / "failed" / "cancelled" notifications apply).
 */
export function verificationNotice(r: DeployRecord, envName: string): { severity: 'warning' | 'error'; text: string } | null {
  const v = r.verification;
  if (!v) return null;
  const what = `${NOUN[r.action]} of ${shortSha(r.sha)} to ${envName}`;
  if (r.status === 'unverified') {
    const open = v.checks.filter((c) => c.ok === null).map((c) => `${c.name}: ${c.reason ?? 'could not be decided'}`);
    return { severity: 'warning', text: `${what} is unverified (${open.join('; ') || 'no checks'}): the release stays deployed, but its metrics did not say whether it is good.` };
  }
  if (r.status !== 'failed' || v.status !== 'failed') return null;
  const failed = v.checks.filter((c) => c.ok === false).map(brokenBound).join('; ');
  return { severity: 'error', text: `${what} failed verification (${failed}); ${r.rolledBackTo ? `rolled back to ${shortSha(r.rolledBackTo)}` : afterFailure(r)}` };
}

/** What happened after the failed verification when nothing was rolled back, from the record's reason. */
function afterFailure(r: DeployRecord): string {
  const summary = verificationSummary(r.verification!);
  const rest = r.reason?.startsWith(summary) ? r.reason.slice(summary.length).trim() : '';
  const said = rest
    .replace(/^[;:,]\s*/, '')
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  return said || 'the new release stays deployed';
}
