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
  }[];
}

export function envsJson(statuses: readonly EnvironmentStatus[]): EnvsJson {
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
    })),
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
  const statuses = await environmentStatuses(ctx.folder, snapshot.environments, { signal: ctx.signal, secrets: envSecretResolver(ctx.env), env: ctx.env, masker: cliMasker(ctx.env) });
  if (ctx.signal.aborted) return 130;
  if (ctx.options.json) ctx.stdout.write(`${jsonText(envsJson(statuses))}\n`);
  else if (statuses.length === 0) ctx.stdout.write(`no environments in ${ctx.folder} (see "environments:" in delivery.yml)\n`);
  else for (const s of statuses) printStatus(s, ctx.stdout);
  return statuses.some((s) => s.deployed.error !== null) ? 1 : 0;
};

/** One environment, as text. What the target answered (errors, raw answers, health details) is made inert. */
function printStatus(s: EnvironmentStatus, stream: NodeJS.WritableStream): void {
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
}
