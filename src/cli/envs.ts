// delivery envs: what is deployed where — each environment's deployed commit, its distance to HEAD, and health.
import { environmentStatuses } from '../adapters/environments/status';
import type { FolderSnapshot } from '../adapters/folderSources';
import { shortSha } from '../core/environments/diff';
import { distanceText, revertWarning } from '../core/environments/status';
import { terminalText, jsonText } from '../core/sanitize';
import { envSecretResolver } from '../core/secrets';
import { cliMasker } from './output';
import { deliveryImporter } from '../core/sources';
import { blockingProblems, describeBlocked } from '../core/targeting';
import type { EnvironmentStatus, Health } from '../shared/model';
import { loadFolder, printProblems, UsageError, type CliCommand, type CliContext } from './context';
import { environmentHistory } from '../adapters/deploy/runner';
import { folderStateDir } from '../adapters/stateDir';
import type { EnvironmentHistory } from '../core/environments/deployService';
import { describeHolder, type StateStoreKind } from '../core/environments/teamState';
import { historyJson, historyLine, lockJson, type HistoryJson, type LockJson } from './team';

/** `delivery envs --json` (README: "CLI JSON contracts"). */
export interface EnvsJson {
  environments: {
    id: string;
    name: string;
    url: string | null;
    /** sha: the deployed commit (a full SHA this repository has), or null with the reason in error. */
    deployed: { sha: string | null; error: string | null; raw: string | null };
    local: { sha: string | null; branch: string | null; dirty: boolean };
    /** Commits in HEAD that are not deployed; null when unknown. */
    ahead: number | null;
    /** Deployed commits that are not in HEAD (deploying HEAD reverts them); null when unknown. */
    behind: number | null;
    health: Health;
    healthDetail: string | null;
    /** The team's lock and newest history record (from the environment's store; see `delivery history`). */
    state: {
      store: StateStoreKind;
      where: string;
      locked: boolean;
      holder: LockJson['holder'];
      lastDeploy: HistoryJson['records'][number] | null;
      error: string | null;
    } | null;
  }[];
}

export function envsJson(statuses: readonly EnvironmentStatus[], team: ReadonlyMap<string, EnvironmentHistory> = new Map()): EnvsJson {
  return {
    environments: statuses.map((s) => ({
      id: s.id,
      name: s.name,
      url: s.url,
      deployed: { sha: s.deployed.sha, error: s.deployed.error, raw: s.deployed.raw },
      local: { sha: s.local.sha, branch: s.local.branch, dirty: s.local.dirty },
      ahead: s.ahead,
      behind: s.behind,
      health: s.health,
      healthDetail: s.healthDetail,
      state: stateJson(team.get(s.id)),
    })),
  };
}

function stateJson(h: EnvironmentHistory | undefined): NonNullable<EnvsJson['environments'][number]['state']> | null {
  if (!h) return null;
  const last = h.entries.find((e) => e.action !== 'lock' && e.action !== 'unlock');
  const lock = h.lock ? lockJson(h.lock) : null;
  return {
    store: h.store,
    where: h.where,
    locked: lock?.locked ?? false,
    holder: lock?.holder ?? null,
    lastDeploy: last ? historyJson(h.environment, h.store, [last]).records[0] : null,
    error: h.error,
  };
}

/**
 * The folder's configuration for environment commands; null (after printing the problems) when delivery.yml has
 * errors: nothing is probed from an invalid file (a probe may run a command).
 */
export async function loadEnvironments(ctx: CliContext): Promise<FolderSnapshot | null> {
  const snapshot = await loadFolder(ctx.folder);
  const errors = blockingProblems(snapshot.problems, deliveryImporter.matches);
  if (errors.length === 0) return snapshot;
  printProblems({ ...snapshot, problems: errors }, ctx.stderr);
  ctx.stderr.write(`delivery: ${describeBlocked({ file: errors[0].file, errors })}; nothing was checked\n`);
  return null;
}

export const envsCommand: CliCommand = async (ctx) => {
  if (ctx.args.length > 0) throw new UsageError(`envs takes no arguments (got "${ctx.args[0]}")`);
  const snapshot = await loadEnvironments(ctx);
  if (!snapshot) return 2;
  const services = { stateDir: folderStateDir(ctx.folder), secrets: envSecretResolver(ctx.env), masker: cliMasker(ctx.env), deployer: ctx.env.DELIVERY_USER?.trim() || undefined };
  const [statuses, histories] = await Promise.all([
    environmentStatuses(ctx.folder, snapshot.environments, { signal: ctx.signal, secrets: envSecretResolver(ctx.env), env: ctx.env, masker: cliMasker(ctx.env) }),
    Promise.all(snapshot.environments.map((e) => environmentHistory(ctx.folder, e, services, { limit: 5, signal: ctx.signal }).catch(() => null))),
  ]);
  if (ctx.signal.aborted) return 130;
  const team = new Map<string, EnvironmentHistory>();
  for (const h of histories) if (h) team.set(h.environment, h);
  if (ctx.options.json) ctx.stdout.write(`${jsonText(envsJson(statuses, team))}\n`);
  else if (statuses.length === 0) ctx.stdout.write(`no environments in ${ctx.folder} (see "environments:" in delivery.yml)\n`);
  else for (const s of statuses) printStatus(s, ctx.stdout, team.get(s.id));
  return statuses.some((s) => s.deployed.error !== null) ? 1 : 0;
};

/** One environment, as text. What the target answered (errors, raw answers, health details) is made inert. */
function printStatus(s: EnvironmentStatus, stream: NodeJS.WritableStream, team: EnvironmentHistory | undefined): void {
  const out = { write: (text: string) => stream.write(terminalText(text)) };
  out.write(`${s.id}${s.name !== s.id ? ` (${s.name})` : ''}${s.url ? `  ${s.url}` : ''}\n`);
  const d = s.deployed;
  if (d.sha) out.write(`  deployed  ${shortSha(d.sha)}${d.raw ? ` (reported as ${d.raw})` : ''}\n`);
  else if (d.error) out.write(`  deployed  unknown: ${d.error}\n`);
  else out.write('  deployed  unknown (no "version" in delivery.yml)\n');
  const local = s.local.sha ? `${shortSha(s.local.sha)} ${s.local.branch ? `on ${s.local.branch}` : '(detached)'}` : 'no commit';
  out.write(`  HEAD      ${local}${s.local.dirty ? ', with uncommitted changes' : ''}\n`);
  const dist = distanceText(s);
  if (dist) out.write(`  distance  ${dist}\n`);
  const warning = revertWarning(s);
  if (warning) out.write(`  WARNING   ${warning}\n`);
  out.write(`  health    ${s.health}${s.healthDetail && s.health !== 'up' ? `: ${s.healthDetail}` : ''}\n`);
  if (!team) return;
  if (team.lock?.locked && team.lock.holder) out.write(`  LOCKED    ${describeHolder(s.id, team.lock.holder)}\n`);
  const last = team.entries.find((e) => e.action !== 'lock' && e.action !== 'unlock');
  if (last) out.write(`  last      ${historyLine(last)}\n`);
  out.write(`  history   ${team.store === 'local' ? 'local only (this machine)' : team.where}${team.error ? ` — ${team.error}` : ''}\n`);
}
