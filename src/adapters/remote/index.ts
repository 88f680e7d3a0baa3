// The remote engine for a target: the one place that knows which adapter serves which engine. The CLI, the
// `workflow:` deploy and the VS Code layer all get engines here, with the same TokenProvider.
import { remoteTargetFor, targetHost } from '../../core/remote/config';
import type { TokenProvider } from '../../core/remote/tokens';
import type { RemoteEngine, RemoteTarget } from '../../core/remote/types';
import { pipelineByName, type ImportedPipeline } from '../../core/sources';
import { headInfo } from '../git';
import { BuildbotEngine } from './buildbot';
import { GithubEngine } from './github';
import { GitlabEngine } from './gitlab';
import type { RemoteDeployPort } from './deployWorkflow';
import type { HttpClientOptions } from './http';

export interface RemoteEngineOptions {
  tokens: TokenProvider;
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
      return new GithubEngine({ target, token: tokenFor(target, opts.tokens), tokenHint: opts.tokenHint?.('github'), http: opts.http });
    case 'gitlab':
      return new GitlabEngine({ target, token: tokenFor(target, opts.tokens), tokenHint: opts.tokenHint?.('gitlab'), http: opts.http });
  }
}

/** The token getter an engine adapter takes, bound to its target's engine and host. */
export function tokenFor(target: RemoteTarget, tokens: TokenProvider): () => Promise<string | undefined> {
  return () => tokens(target.engine, targetHost(target));
}

export interface ResolvedRemotePipeline {
  pipeline: ImportedPipeline;
  target: RemoteTarget;
}

/**
 * The pipeline a user names (its id, or `<source>:<id>` when ids repeat) and its remote target: its `remote:`, or
 * inferred from the folder's git remote "origin" for GitHub and GitLab files.
 */
export async function resolveRemotePipeline(folder: string, pipelines: readonly ImportedPipeline[], name: string, signal?: AbortSignal): Promise<ResolvedRemotePipeline | { error: string }> {
  const found = pipelineByName(pipelines, name);
  if ('error' in found) return found;
  const { pipeline } = found;
  const needsOrigin = !pipeline.def.remote && pipeline.def.source.kind !== 'delivery';
  const origin = needsOrigin ? ((await headInfo(folder, signal).catch(() => null))?.remoteUrl ?? null) : null;
  const target = remoteTargetFor(pipeline.def, origin);
  return 'error' in target ? target : { pipeline, target };
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
        return { engine: createRemoteEngine(found.target, opts), target: found.target };
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
