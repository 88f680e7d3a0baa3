// Comparing an environment with the local HEAD, any ref, or another environment: resolves both sides to commits
// (probing the environments, concurrently) and returns the deploy diff, or an error saying which side is unknown.
import type { DeployDiff, EnvironmentStatus } from '../../shared/model';
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { SecretResolver } from '../../core/secrets';
import { deployDiff } from './diff';
import { EnvironmentStatusService } from './status';

export type DiffTarget = { kind: 'head' } | { kind: 'ref'; ref: string } | { kind: 'environment'; id: string };

export type EnvironmentDiffFailure = 'unknown-environment' | 'no-version' | 'deployed-unknown' | 'bad-ref' | 'not-a-repository' | 'no-commits' | 'shallow';

export class EnvironmentDiffError extends Error {
  constructor(
    message: string,
    readonly reason: EnvironmentDiffFailure,
  ) {
    super(message);
  }
  static is(e: unknown, reason?: EnvironmentDiffFailure): e is EnvironmentDiffError {
    return e instanceof EnvironmentDiffError && (reason === undefined || e.reason === reason);
  }
}

export interface EnvironmentDiff {
  diff: DeployDiff;
  /** The compared environment's status (deployed commit, distance to HEAD, health). */
  from: EnvironmentStatus;
  /** The other environment's status, when comparing two. */
  to: EnvironmentStatus | null;
}

/** What deploying `target` (default: HEAD) to environment `envId` would change. */
export async function environmentDiff(
  folder: string,
  envs: readonly EnvironmentConfig[],
  envId: string,
  target: DiffTarget = { kind: 'head' },
  opts: { signal?: AbortSignal; secrets?: SecretResolver; env?: NodeJS.ProcessEnv; service?: EnvironmentStatusService; force?: boolean } = {},
): Promise<EnvironmentDiff> {
  const signal = opts.signal ?? new AbortController().signal;
  const find = (id: string) => {
    const e = envs.find((x) => x.id === id);
    if (!e) throw new EnvironmentDiffError(`no environment "${id}" (environments: ${envs.map((x) => x.id).join(', ') || 'none'})`, 'unknown-environment');
    if (!e.version) throw new EnvironmentDiffError(`environment "${id}" has no "version" in delivery.yml, so what it runs is unknown`, 'no-version');
    return e;
  };
  const fromEnv = find(envId);
  const toEnv = target.kind === 'environment' ? find(target.id) : null;
  if (target.kind === 'ref' && (target.ref === '' || target.ref.startsWith('-') || /[\s\0]/.test(target.ref))) {
    throw new EnvironmentDiffError(`"${target.ref}" is not a branch, tag or commit name`, 'bad-ref');
  }
  const service = opts.service ?? new EnvironmentStatusService({ secrets: opts.secrets, env: opts.env });
  const repo = service.repo(folder);
  const [statuses, head] = await Promise.all([service.statuses(folder, toEnv ? [fromEnv, toEnv] : [fromEnv], { signal, force: opts.force }), repo.head(signal)]);
  if (!head) throw new EnvironmentDiffError(`${folder} is not in a git repository`, 'not-a-repository');
  const [from, to = null] = statuses;
  const known = (s: EnvironmentStatus) => {
    if (s.deployed.sha) return s.deployed.sha;
    throw new EnvironmentDiffError(`cannot tell what ${s.name} runs: ${s.deployed.error ?? 'no version found'}`, 'deployed-unknown');
  };
  const fromSha = known(from);
  let toSide: { ref: string; sha: string; workingTree: boolean };
  if (to) toSide = { ref: to.id, sha: known(to), workingTree: false };
  else if (target.kind === 'ref' && target.ref !== 'HEAD') {
    const sha = await repo.commitOf(target.ref, signal, { userRef: true });
    if (!sha) throw new EnvironmentDiffError(`"${target.ref}" is not a branch, tag or commit of this repository`, 'bad-ref');
    toSide = { ref: target.ref, sha, workingTree: false };
  } else {
    if (!head.sha) throw new EnvironmentDiffError('the repository has no commits yet', 'no-commits');
    toSide = { ref: 'HEAD', sha: head.sha, workingTree: true };
  }
  const gap = await repo.shallowGap(fromSha, toSide.sha, signal);
  if (gap) throw new EnvironmentDiffError(gap, 'shallow');
  const diff = await deployDiff(folder, { env: from.id, sha: fromSha }, toSide, { signal, repo });
  return { diff, from, to };
}
