// delivery diff <env> [--to <env> | --ref REF]: what deploying HEAD (or a ref, or another environment's commit)
// to an environment would change.
import { environmentDiff, EnvironmentDiffError, type DiffTarget, type EnvironmentDiff } from '../adapters/environments/compare';
import { diffTotals, shortSha } from '../core/environments/diff';
import { envSecretResolver } from '../core/secrets';
import type { CommitInfo, FileStatus } from '../shared/model';
import { UsageError, type CliCommand } from './context';
import { loadEnvironments } from './envs';

/** `delivery diff --json` (README: "CLI JSON contracts"). */
export interface DiffJson {
  from: { env: string; sha: string };
  /** ref: `HEAD`, the --ref given, or the --to environment's id (then env is set too). */
  to: { ref: string; sha: string; env: string | null };
  commits: { toDeploy: CommitJson[]; toRevert: CommitJson[] };
  files: { path: string; oldPath: string | null; status: FileStatus; additions: number; deletions: number; binary: boolean }[];
  /** Uncommitted changes of the working tree (only when comparing with HEAD); status: git's porcelain XY code. */
  uncommitted: { path: string; status: string }[];
}

interface CommitJson {
  sha: string;
  subject: string;
  author: string;
  /** ISO 8601 author date. */
  date: string;
}

export function diffJson(r: EnvironmentDiff): DiffJson {
  const d = r.diff;
  const commit = (c: CommitInfo): CommitJson => ({ sha: c.sha, subject: c.subject, author: c.author, date: c.date });
  return {
    from: { env: r.from.id, sha: d.from.sha },
    to: { ref: d.to.ref, sha: d.to.sha, env: r.to?.id ?? null },
    commits: { toDeploy: d.commits.toDeploy.map(commit), toRevert: d.commits.toRevert.map(commit) },
    files: d.files.map((f) => ({ path: f.path, oldPath: f.oldPath, status: f.status, additions: f.additions, deletions: f.deletions, binary: f.binary })),
    uncommitted: d.uncommitted.map((u) => ({ path: u.path, status: u.status })),
  };
}

export const diffCommand: CliCommand = async (ctx) => {
  const [envId, ...extra] = ctx.args;
  if (!envId) throw new UsageError('diff: name the environment');
  if (extra.length) throw new UsageError(`diff takes one environment (use --to ${extra[0]} to compare two)`);
  const { to, ref } = ctx.options;
  if (to !== undefined && ref !== undefined) throw new UsageError('diff: use --to <environment> or --ref <ref>, not both');
  const target: DiffTarget = to !== undefined ? { kind: 'environment', id: to } : ref !== undefined ? { kind: 'ref', ref } : { kind: 'head' };
  const snapshot = await loadEnvironments(ctx);
  if (!snapshot) return 2;
  let result: EnvironmentDiff;
  try {
    result = await environmentDiff(ctx.folder, snapshot.environments, envId, target, { signal: ctx.signal, secrets: envSecretResolver(ctx.env), env: ctx.env });
  } catch (e) {
    if (ctx.signal.aborted) return 130;
    if (!EnvironmentDiffError.is(e)) throw e;
    ctx.stderr.write(`delivery: ${e.message}\n`);
    return e.reason === 'deployed-unknown' ? 1 : 2;
  }
  if (ctx.options.json) ctx.stdout.write(`${JSON.stringify(diffJson(result))}\n`);
  else printDiff(result, ctx.stdout);
  return 0;
};

function printDiff(r: EnvironmentDiff, out: NodeJS.WritableStream): void {
  const d = r.diff;
  const toName = r.to ? `${r.to.name} (${r.to.id})` : d.to.ref;
  out.write(`${r.from.name} (${r.from.id}) runs ${shortSha(d.from.sha)}; comparing with ${toName} ${shortSha(d.to.sha)}\n`);
  const { toDeploy, toRevert } = d.commits;
  if (toDeploy.length === 0 && toRevert.length === 0 && d.files.length === 0) {
    out.write(d.from.sha === d.to.sha ? `\nNothing to deploy: ${r.from.name} already runs ${shortSha(d.to.sha)}.\n` : '\nNo differences.\n');
  }
  if (toDeploy.length) {
    out.write(`\nCommits to deploy (${toDeploy.length}):\n`);
    for (const c of toDeploy) out.write(`  ${commitLine(c)}\n`);
  }
  if (toRevert.length) {
    out.write(`\n!! ${toRevert.length} COMMIT${toRevert.length === 1 ? '' : 'S'} WOULD BE REVERTED: ${r.from.name} runs ${toRevert.length === 1 ? 'it' : 'them'}, ${toName} does not have ${toRevert.length === 1 ? 'it' : 'them'}:\n`);
    for (const c of toRevert) out.write(`  - ${commitLine(c)}\n`);
  }
  if (d.files.length) {
    const t = diffTotals(d.files);
    out.write(`\nFiles (${t.files} changed, +${t.additions} -${t.deletions}${t.binary ? `, ${t.binary} binary` : ''}):\n`);
    const names = d.files.map((f) => (f.oldPath ? `${f.oldPath} -> ${f.path}` : f.path));
    const width = Math.min(60, Math.max(...names.map((n) => n.length)));
    d.files.forEach((f, i) => out.write(`  ${f.status}  ${names[i].padEnd(width)}  ${f.binary ? 'binary' : `+${f.additions} -${f.deletions}`}\n`));
  }
  if (d.uncommitted.length) {
    out.write(`\nUncommitted changes (not part of a deploy, ${d.uncommitted.length}):\n`);
    for (const u of d.uncommitted) out.write(`  ${u.status}  ${u.path}\n`);
  }
}

function commitLine(c: CommitInfo): string {
  return `${shortSha(c.sha)}  ${c.subject}  (${c.author}, ${c.date.slice(0, 10)})`;
}
