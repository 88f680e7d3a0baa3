// Where the credentials of remote engines come from. One function type shared by every engine adapter, the CLI
// (environment variables) and the VS Code layer (its authentication sessions and SecretStorage), so no adapter
// reads the environment or a secret store by itself.
import type { RemoteEngineKind } from './types';

/**
 * The token for an engine on a host (github.com, gitlab.example.com, 127.0.0.1:8010), or undefined when there is
 * none (requests then go unauthenticated). Asked before each request: a provider may refresh or prompt.
 */
export type TokenProvider = (engine: RemoteEngineKind, host: string) => Promise<string | undefined>;

/** Tokens from environment variables (the CLI): GITHUB_TOKEN (or GH_TOKEN), GITLAB_TOKEN; Buildbot uses none. */
export function envTokenProvider(env: Readonly<Record<string, string | undefined>>): TokenProvider {
  return async (engine) => {
    const pick = (...names: string[]) => names.map((n) => env[n]?.trim()).find((v) => !!v) || undefined;
    switch (engine) {
      case 'github':
        return pick('GITHUB_TOKEN', 'GH_TOKEN');
      case 'gitlab':
        return pick('GITLAB_TOKEN');
      case 'buildbot':
        return undefined;
    }
  };
}

/** No credentials at all. */
export const noTokens: TokenProvider = async () => undefined;
