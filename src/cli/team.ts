// delivery lock status|acquire|release <env> and delivery history <env>: the team's lock and deploy history of an
// environment, kept where every deployer reaches it (the ssh host, the git remote, the registry; see teamState.ts).
import { environmentHistory, teamLock, type DeployServices } from '../adapters/deploy/runner';
import { folderStateDir } from '../adapters/stateDir';
import { formatDuration } from '../core/duration';
import { shortSha } from '../core/environments/diff';
import type { HistoryEntry } from '../core/environments/deployService';
import { formatSince, type LockHolder, type LockStatus, type StateStoreKind } from '../core/environments/teamState';
import { jsonText, terminalText } from '../core/sanitize';
import { envSecretResolver } from '../core/secrets';
import type { EnvironmentConfig } from '../core/config/delivery';
import { loadEnvironments } from './envs';
import { cliMasker } from './output';
import { UsageError, type CliCommand, type CliContext } from './context';

/** `delivery lock status <env> --json` (README: "CLI JSON contracts"). */
export interface LockJson {
  environment: string;
  locked: boolean;
  holder: { user: string; host: string; pid: number; deployId: string | null; message: string | null; since: string } | null;
  store: StateStoreKind;
}

/** `delivery history <env> --json` (README: "CLI JSON contracts"); records newest first. */
export interface HistoryJson {
  environment: string;
  store: StateStoreKind;
  records: {
    id: string;
    action: string;
    user: string;
    host: string;
    fromSha: string | null;
    toSha: string | null;
    status: string;
    startedAt: string;
    durationMs: number | null;
    message: string | null;
  }[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function lockJson(s: LockStatus): LockJson {
  const h = s.locked ? s.holder : null;
  return {
    environment: s.environment,
    locked: s.locked,
    holder: h ? { user: h.user, host: h.host, pid: h.pid, deployId: h.deployId, message: h.message, since: iso(h.since) } : null,
    store: s.store,
  };
}

export function historyJson(environment: string, store: StateStoreKind, entries: readonly HistoryEntry[]): HistoryJson {
  return {
    environment,
    store,
    records: entries.map((r) => ({
      id: r.id,
      action: r.action,
      user: r.user,
      host: r.host,
      fromSha: r.fromSha,
      toSha: r.toSha,
      status: r.status,
      startedAt: iso(r.startedAt),
      durationMs: r.durationMs,
      message: r.message,
    })),
  };
}

async function environmentOf(ctx: CliContext, command: string, name: string | undefined): Promise<EnvironmentConfig | null> {
  if (!name) throw new UsageError(`${command}: name the environment`);
  const snapshot = await loadEnvironments(ctx);
  if (!snapshot) return null;
  const env = snapshot.environments.find((e) => e.id === name);
  if (!env) throw new UsageError(`no environment "${name}" (environments: ${snapshot.environments.map((e) => e.id).join(', ') || 'none'})`);
  return env;
}

function services(ctx: CliContext): DeployServices {
  return { stateDir: folderStateDir(ctx.folder), secrets: envSecretResolver(ctx.env), masker: cliMasker(ctx.env), deployer: ctx.env.DELIVERY_USER?.trim() || undefined };
}

function holderText(h: LockHolder): string {
  return `${h.user} on ${h.host}${h.deployId ? `, deploy ${h.deployId}${h.sha ? ` of ${shortSha(h.sha)}` : ''}` : ''}, pid ${h.pid}, since ${formatSince(h.since)}${h.message ? `: "${h.message}"` : ''}`;
}

export const lockCommand: CliCommand = async (ctx) => {
  const [sub, name, ...rest] = ctx.args;
  if (sub !== 'status' && sub !== 'acquire' && sub !== 'release') throw new UsageError(`lock: say status, acquire or release (got ${sub === undefined ? 'nothing' : `"${sub}"`})`);
  if (rest.length) throw new UsageError(`lock ${sub}: unexpected argument "${rest[0]}"`);
  if (ctx.options.message !== undefined && sub === 'status') throw new UsageError('lock status: --message applies to acquire and release');
  if (ctx.options.force && sub !== 'release') throw new UsageError(`lock ${sub}: --force applies to release only`);
  const env = await environmentOf(ctx, `lock ${sub}`, name);
  if (!env) return 2;
  const lock = await teamLock(ctx.folder, env, services(ctx));
  const out = (text: string) => ctx.stdout.write(terminalText(text));
  try {
    if (sub === 'status') {
      const s = await lock.status(ctx.signal);
      if (ctx.options.json) ctx.stdout.write(`${jsonText(lockJson(s))}\n`);
      else if (s.locked && s.holder) out(`${env.id}: locked by ${holderText(s.holder)}\n  store: ${s.where}\n`);
      else out(`${env.id}: free${s.stale && s.holder ? ` (a lock left by ${s.holder.user} on ${s.holder.host} no longer counts: ${s.stale})` : ''}\n  store: ${s.where}\n`);
      return 0;
    }
    if (sub === 'acquire') {
      const r = await lock.acquire(ctx.options.message ?? null, ctx.signal);
      const s = await lock.status(ctx.signal);
      if (ctx.options.json) ctx.stdout.write(`${jsonText(lockJson(s))}\n`);
      if (!r.ok) {
        ctx.stderr.write(terminalText(`delivery: ${r.message}\n`));
        return 1;
      }
      if (!ctx.options.json) out(`${env.id}: locked by ${holderText(r.holder)}\n  store: ${s.where}\n  release it with: delivery lock release ${env.id}\n`);
      return 0;
    }
    const r = await lock.release({ force: ctx.options.force, message: ctx.options.message ?? null }, ctx.signal);
    const s = await lock.status(ctx.signal);
    if (ctx.options.json) ctx.stdout.write(`${jsonText(lockJson(s))}\n`);
    if (!r.ok) {
      ctx.stderr.write(terminalText(`delivery: ${r.message}\n`));
      return 1;
    }
    if (!ctx.options.json) out(r.released ? `${env.id}: released the lock of ${holderText(r.released)}\n` : `${env.id}: was not locked\n`);
    return 0;
  } catch (e) {
    ctx.stderr.write(terminalText(`delivery: the lock of "${env.id}" (${lock.store.where}): ${(e as Error).message}\n`));
    return 1;
  }
};

export const historyCommand: CliCommand = async (ctx) => {
  const [name, ...rest] = ctx.args;
  if (rest.length) throw new UsageError(`history: unexpected argument "${rest[0]}"`);
  const env = await environmentOf(ctx, 'history', name);
  if (!env) return 2;
  const h = await environmentHistory(ctx.folder, env, services(ctx), { limit: ctx.options.limit ?? 20, signal: ctx.signal });
  if (ctx.options.json) ctx.stdout.write(`${jsonText(historyJson(env.id, h.store, h.entries))}\n`);
  const out = (text: string) => ctx.stdout.write(terminalText(text));
  if (!ctx.options.json) {
    out(`${env.id}: history at ${h.where}${h.store === 'local' ? ' (local only: deploys from other machines are not here)' : ''}\n`);
    if (h.lock?.locked && h.lock.holder) out(`  locked by ${holderText(h.lock.holder)}\n`);
    if (h.entries.length === 0) out('  no deploys yet\n');
    for (const r of h.entries) out(`  ${historyLine(r)}\n`);
  }
  if (h.error) ctx.stderr.write(terminalText(`delivery: ${h.error}; showing this machine's records only\n`));
  return h.error ? 1 : 0;
};

export function historyLine(r: HistoryEntry): string {
  const when = formatSince(r.startedAt);
  const what =
    r.action === 'lock' || r.action === 'unlock'
      ? `${r.action.padEnd(8)} ${''.padEnd(26)}`
      : `${r.action.padEnd(8)} ${r.fromSha ? shortSha(r.fromSha) : '(unknown)'.padEnd(12)} -> ${r.toSha ? shortSha(r.toSha) : '?'}`;
  const took = r.durationMs !== null ? ` in ${formatDuration(r.durationMs)}` : '';
  return `${when}  ${what}  ${r.status}${took}  by ${r.user}${r.host ? ` on ${r.host}` : ''}${r.origin === 'local' ? ' (local record)' : ''}${r.message ? `  ${r.message}` : ''}`;
}
