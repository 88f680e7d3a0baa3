// The remote engine for a target: the one place that knows which adapter serves which engine. The CLI, the
// `workflow:` deploy and the VS Code layer all get engines here, with the same TokenProvider.
import { remoteNeedsOrigin, remoteTargetFor } from '../../core/remote/config';
import { apiTarget, targetHost } from '../../core/remote/engines';
import { checkApiHost, untrustedApiHostMessage, type TokenProvider } from '../../core/remote/tokens';
import type { RemoteEngine, RemoteEngineKind, RemoteTarget, TargetOf } from '../../core/remote/types';
import type { ImportedPipeline } from '../../core/sources';
import { pipelineByName } from '../../core/targeting';
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

type EngineFactory<E extends RemoteEngineKind> = (target: TargetOf<E>, opts: RemoteEngineOptions) => RemoteEngine & { dispose(): void };

/** The adapter of each engine (a new engine is one adapter and one line here; the compiler asks for it). */
const ENGINE_ADAPTERS: { readonly [E in RemoteEngineKind]: EngineFactory<E> } = {
  github: (target, opts) => new GithubEngine({ target, token: tokenFor(target, opts), tokenHint: opts.tokenHint?.(target.engine), http: opts.http }),
  gitlab: (target, opts) => new GitlabEngine({ target, token: tokenFor(target, opts), tokenHint: opts.tokenHint?.(target.engine), http: opts.http }),
  buildbot: (target, opts) => new BuildbotEngine({ target, owner: opts.actor, http: opts.http }),
};

/** A RemoteEngine for the target; dispose() closes its connections. */
export function createRemoteEngine(target: RemoteTarget, opts: RemoteEngineOptions): RemoteEngine & { dispose(): void } {
  return (ENGINE_ADAPTERS[target.engine] as EngineFactory<RemoteEngineKind>)(target, opts);
}

/**
 * The token getter an engine adapter takes, bound to its target's engine and host. The one place a token meets a
 * target: it is handed over only when the target's API host is the engine's own, the origin remote's, or trusted
 * by the user; otherwise, when there is a token to protect, it fails saying how to trust the host.
 */
export function tokenFor(target: RemoteTarget, opts: Pick<RemoteEngineOptions, 'tokens' | 'origin' | 'trustedApiHosts' | 'confirmApiHost' | 'trustHint'>): () => Promise<string | undefined> {
  const api = apiTarget(target);
  if (!api) return async () => undefined; // the engine takes no token
  const check = checkApiHost(api, opts.origin, opts.trustedApiHosts);
  let confirmed = check.trusted;
  return async () => {
    const token = await opts.tokens(target.engine, targetHost(target));
    if (!token || confirmed) return token;
    if (opts.confirmApiHost && (await opts.confirmApiHost(check.host, target))) {
      confirmed = true;
      return token;
    }
    throw new RemoteApiError('auth', untrustedApiHostMessage(api.engine, check.host, opts.trustHint?.(check.host)), null);
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
  return remotePipeline(folder, found.pipeline, signal);
}

/** A pipeline's remote target (see resolveRemotePipeline). */
export async function remotePipeline(folder: string, pipeline: ImportedPipeline, signal?: AbortSignal): Promise<ResolvedRemotePipeline | { error: string }> {
  // The origin is also read for a `remote:` whose API takes tokens: its host is where the token may go unasked.
  const origin = remoteNeedsOrigin(pipeline.def) ? ((await headInfo(folder, signal).catch(() => null))?.remoteUrl ?? null) : null;
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
