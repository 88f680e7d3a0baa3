// What is deployed where, for the VS Code layer and the CLI: the core's environmentStatuses wired to the real
// probes, git and HTTP. A service keeps a short cache (the tree and the status bar ask often); a one-off call
// (the CLI) uses a fresh one.
import type { EnvironmentStatus } from '../../shared/model';
import type { EnvironmentConfig } from '../../core/config/delivery';
import { DEFAULT_STATUS_TTL_MS, environmentStatuses as collect, StatusCache, type RemoteFacts, type StatusPorts } from '../../core/environments/status';
import type { Masker, SecretResolver } from '../../core/secrets';
import { checkHealth } from './http';
import { probeVersion } from './probes';
import { DeployRepo } from './repo';

export interface EnvironmentStatusOptions {
  signal?: AbortSignal;
  /** Skip the cache and try fetching missing commits again (an explicit refresh). */
  force?: boolean;
  /** Each environment's status as soon as it is known (fast ones first). */
  onStatus?: (status: EnvironmentStatus) => void;
}

export interface EnvironmentStatusServiceOptions {
  /** How long a probe's answer is reused (default 30 s). */
  ttlMs?: number;
  /** Resolves ${secret:NAME} in probe URLs and headers. */
  secrets?: SecretResolver;
  /** Base environment of probe commands (PATH, DOCKER_HOST, SSH_AUTH_SOCK...); default: this process's. */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /**
   * Secrets to mask in every status besides those a probe's own settings name (the CLI: every DELIVERY_SECRET_*;
   * VS Code: every secret read this session).
   */
  masker?: Masker;
}

export class EnvironmentStatusService {
  private readonly cache: StatusCache<RemoteFacts>;
  private readonly repos = new Map<string, DeployRepo>();

  constructor(private readonly options: EnvironmentStatusServiceOptions = {}) {
    this.cache = new StatusCache<RemoteFacts>(options.ttlMs ?? DEFAULT_STATUS_TTL_MS, options.now ?? Date.now);
  }

  /** The repository access for a folder (shared, so a failed fetch is not retried on every refresh). */
  repo(folder: string): DeployRepo {
    let repo = this.repos.get(folder);
    if (!repo) {
      repo = new DeployRepo(folder, this.options.env);
      this.repos.set(folder, repo);
    }
    return repo;
  }

  /** Every environment of a folder at once; each probe has its own timeout. */
  async statuses(folder: string, envs: readonly EnvironmentConfig[], opts: EnvironmentStatusOptions = {}): Promise<EnvironmentStatus[]> {
    const signal = opts.signal ?? new AbortController().signal;
    const repo = this.repo(folder);
    if (opts.force) repo.forgetFetchFailures();
    return collect(envs, this.ports(folder, repo), { signal, force: opts.force, cache: this.cache, cacheScope: folder, onStatus: opts.onStatus });
  }

  async status(folder: string, env: EnvironmentConfig, opts: EnvironmentStatusOptions = {}): Promise<EnvironmentStatus> {
    const [s] = await this.statuses(folder, [env], opts);
    return s;
  }

  /** Forget cached answers (of one folder, or all): after a deploy, or when delivery.yml changes. */
  invalidate(folder?: string): void {
    this.cache.invalidate(folder === undefined ? '' : `${folder}\0`);
  }

  private ports(folder: string, repo: DeployRepo): StatusPorts {
    const { secrets, env, masker } = this.options;
    const mask = masker?.mask ?? ((t: string) => t);
    return {
      now: this.options.now ?? Date.now,
      head: (signal) => repo.head(signal),
      probe: (e, signal) => probeVersion(e, { folder, signal, secrets, env, repo, masker }),
      resolve: async (version, hint, signal) => {
        const r = await repo.resolve(version, hint, signal);
        return 'error' in r ? { error: mask(r.error) } : r;
      },
      distance: (deployed, local, signal) => repo.distance(deployed, local, signal),
      health: async (spec, signal) => {
        const h = await checkHealth(spec, signal, secrets, masker);
        return { health: h.health, detail: h.detail === null ? null : mask(h.detail) };
      },
    };
  }
}

/** One-off: the status of every environment (no cache kept between calls). */
export function environmentStatuses(
  folder: string,
  envs: readonly EnvironmentConfig[],
  opts: EnvironmentStatusOptions & Omit<EnvironmentStatusServiceOptions, 'ttlMs'> = {},
): Promise<EnvironmentStatus[]> {
  return new EnvironmentStatusService({ secrets: opts.secrets, env: opts.env, now: opts.now, masker: opts.masker }).statuses(folder, envs, opts);
}
