// The remote engine for a target: the one place that knows which adapter serves which engine. The CLI, the
// `workflow:` deploy and the VS Code layer all get engines here, with the same TokenProvider.
import { remoteTargetFor, targetHost } from '../../core/remote/config';
import { checkApiHost, untrustedApiHostMessage, type TokenProvider } from '../../core/remote/tokens';
import type { RemoteEngine, RemoteTarget } from '../../core/remote/types';
import { pipelineByName, type ImportedPipeline } from '../../core/sources';
import { headInfo } from '../git';
import { BuildbotEngine } from './buildbot';
import { GithubEngine } from './github';
import { GitlabEngine } from './gitlab';
import type { RemoteDeployPort } from './deployWorkflow';
import { RemoteApiError, type HttpClientOptions } from './http';

export interface RemoteEngineOptions {
  tokens: TokenProvider;
  /** The URL of the folder's "origin" remote: the API on its host gets the token without asking. */
  origin?: string | null;
  /** API hosts the user trusts with the token (`--trust-api-host`, DELIVERY_TRUSTED_API_HOSTS, the editor's memory). */
  trustedApiHosts?: readonly string[];
  /**
   * Asked when a token would go to an API host a repository names (neither the engine's own nor the origin's nor
   * trusted): true sends it (the editor's one-time confirmation). Without it the token is kept and requests fail
   * with a message that says how to trust the host.
   */
  confirmApiHost?: (host: string, target: RemoteTarget) => Promise<boolean>;
  /** How this front end trusts a host, for the refusal (default: the CLI flag and variable). */
  trustHint?: (host: string) => string;
  /** Who triggers, where the engine records it (Buildbot's owner). */
  actor?: string;
  /** What to tell a person whose token is missing or refused ("set GITHUB_TOKEN", "sign in to GitHub"). */
  tokenHint?: (engine: RemoteTarget['engine']) => string;
  http?: Partial<Pick<HttpClientOptions, 'proxy' | 'ca' | 'timeoutMs' | 'retries' | 'maxRateLimitWaitMs' | 'sleep' | 'now'>>;
}

/** A RemoteEngine for the target; dispose() closes its connections. */
export function createRemoteEngine(target: RemoteTarget, opts: RemoteEngineOptions): RemoteEngine & { dispose(): void } {
  switch (target.engine) {
    case 'buildbot':
      return new BuildbotEngine({ target, owner: opts.actor, http: opts.http });
    case 'github':
      return new GithubEngine({ target, token: tokenFor(target, opts), tokenHint: opts.tokenHint?.('github'), http: opts.http });
    case 'gitlab':
      return new GitlabEngine({ target, token: tokenFor(target, opts), tokenHint: opts.tokenHint?.('gitlab'), http: opts.http });
  }
}

/**
 * The token getter an engine adapter takes, bound to its target's engine and host. The one place a token meets a
 * target: it is handed over only when the target's API host is the engine's own, the origin remote's, or trusted
 * by the user; otherwise, when there is a token to protect, it fails saying how to trust the host.
 */
export function tokenFor(target: RemoteTarget, opts: Pick<RemoteEngineOptions, 'tokens' | 'origin' | 'trustedApiHosts' | 'confirmApiHost' | 'trustHint'>): () => Promise<string | undefined> {
  if (target.engine === 'buildbot') return async () => undefined;
  const check = checkApiHost(target, opts.origin, opts.trustedApiHosts);
  let confirmed = check.trusted;
  return async () => {
    const token = await opts.tokens(target.engine, targetHost(target));
    if (!token || confirmed) return token;
    if (opts.confirmApiHost && (await opts.confirmApiHost(check.host, target))) {
      confirmed = true;
      return token;
    }
    throw new RemoteApiError('auth', untrustedApiHostMessage(target.engine, check.host, opts.trustHint?.(check.host)), null);
  };
}

export interface ResolvedRemotePipeline {
  pipeline: ImportedPipeline;
  target: RemoteTarget;
  /** The folder's "origin" remote URL (null when none): engines trust the API on its host with tokens. */
  origin: string | null;
}

/**
 * The pipeline a user names (its id, or `<source>:<id>` when ids repeat) and its remote target: its `remote:`, or
 * inferred from the folder's git remote "origin" for GitHub and GitLab files.
 */
export async function resolveRemotePipeline(folder: string, pipelines: readonly ImportedPipeline[], name: string, signal?: AbortSignal): Promise<ResolvedRemotePipeline | { error: string }> {
  const found = pipelineByName(pipelines, name);
  if ('error' in found) return found;
  const { pipeline } = found;
  // The origin is also read for a `remote:` on GitHub or GitLab: its host is where the token may go unasked.
  const needsOrigin = pipeline.def.remote ? pipeline.def.remote.engine !== 'buildbot' : pipeline.def.source.kind !== 'delivery';
  const origin = needsOrigin ? ((await headInfo(folder, signal).catch(() => null))?.remoteUrl ?? null) : null;
  const target = remoteTargetFor(pipeline.def, origin);
  return 'error' in target ? target : { pipeline, target, origin };
}

/**
 * The port a `workflow:` deploy uses: engines for the folder's pipelines, and the ref to run on when the deploy
 * does not name one: the deployed ref when it is a branch or tag, else the folder's current branch.
 */
export function remoteDeployPort(folder: string, pipelines: readonly ImportedPipeline[], deployRef: string, opts: RemoteEngineOptions): RemoteDeployPort {
  return {
    resolve: async (name, signal) => {
      const found = await resolveRemotePipeline(folder, pipelines, name, signal);
      if ('error' in found) return found;
      try {
        return { engine: createRemoteEngine(found.target, { ...opts, origin: found.origin }), target: found.target };
      } catch (e) {
        return { error: (e as Error).message };
      }
    },
    defaultRef: async (signal) => {
      const ref = deployRef.replace(/^refs\/(heads|tags)\//, '');
      if (ref !== 'HEAD' && !/^[0-9a-f]{7,40}$/i.test(ref) && !/[~^:@]/.test(ref)) return ref;
      return (await headInfo(folder, signal).catch(() => null))?.branch ?? null;
    },
  };
}
