// delivery verify <env>: the environment's verify: checks evaluated once, now, without deploying.
import { verifyEnvironment } from '../adapters/deploy/runner';
import { folderStateDir } from '../adapters/stateDir';
import { deployPreflight } from '../core/environments/deployService';
import { formatValue } from '../core/environments/verification';
import { jsonText, terminalText } from '../core/sanitize';
import { envSecretResolver } from '../core/secrets';
import type { Verification } from '../shared/model';
import { loadFolder, printProblems, UsageError, type CliCommand } from './context';
import { cliMasker } from './output';

/** `delivery verify --json` (README: "CLI JSON contracts"): the same object as `verification` of `deploy --json`. */
export interface VerifyJson {
  environment: string;
  verification: Verification;
  /** The deploy whose window before it is the baseline of `compare: baseline` checks; null when none succeeded. */
  lastDeploy: { id: string; sha: string | null; startedAt: string } | null;
}

export const verifyCommand: CliCommand = async (ctx) => {
  const [name, ...rest] = ctx.args;
  if (!name) throw new UsageError('verify: name the environment');
  if (rest.length) throw new UsageError(`verify: unexpected argument "${rest[0]}"`);
  const snapshot = await loadFolder(ctx.folder);
  const pre = deployPreflight(snapshot, name);
  if (!pre.ok && pre.reason === 'unknown-environment') throw new UsageError(pre.message);
  if (!pre.ok && pre.reason === 'invalid-file') {
    printProblems({ ...snapshot, problems: pre.problems }, ctx.stderr);
    ctx.stderr.write(`delivery: ${pre.message.replace('nothing was deployed', 'nothing was verified')}\n`);
    return 2;
  }
  const env = snapshot.environments.find((e) => e.id === name)!;
  const services = { stateDir: folderStateDir(ctx.folder), secrets: envSecretResolver(ctx.env), masker: cliMasker(ctx.env), deployer: ctx.env.DELIVERY_USER?.trim() || undefined };
  const r = await verifyEnvironment(ctx.folder, env, services, ctx.signal);
  if ('error' in r) {
    ctx.stderr.write(`delivery: ${r.error}\n`);
    return 2;
  }
  const { verification: v } = r;
  if (ctx.options.json) {
    const out: VerifyJson = { environment: env.id, verification: v, lastDeploy: r.lastDeploy ? { ...r.lastDeploy, startedAt: new Date(r.lastDeploy.startedAt).toISOString() } : null };
    ctx.stdout.write(`${jsonText(out)}\n`);
  } else {
    // Values and reasons quote Prometheus's answers: printed inert.
    const lines = v.checks.map((c) => `  ${c.ok === true ? '✓' : c.ok === false ? '✗' : '?'} ${c.name}: ${c.value === null ? '—' : formatValue(c.value)} (${c.bound})${c.reason ? ` — ${c.reason}` : ''}\n`);
    ctx.stdout.write(terminalText(`${env.id}: ${v.status}\n${lines.join('')}`));
  }
  if (ctx.signal.aborted) return 130;
  return v.status === 'passed' ? 0 : v.status === 'failed' ? 1 : 3;
};
