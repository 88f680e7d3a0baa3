// Tokens for remote engines inside VS Code: from the engine's VS Code authentication session when it has one
// (GitHub; GitHub Enterprise hosts: their own provider), else from the engine's secret in SecretStorage
// (GITHUB_TOKEN, GITLAB_TOKEN). Never from settings or files; every token read is masked in the log.
import * as vscode from 'vscode';
import { engineSpec, engineTokens } from '../../core/remote/engines';
import type { TokenProvider } from '../../core/remote/tokens';
import type { RemoteEngineKind } from '../../core/remote/types';
import type { Secrets } from '../secrets';

export function vscodeTokenProvider(secrets: Secrets): TokenProvider {
  return async (engine, host) => {
    const spec = engineTokens(engine);
    if (!spec) return undefined;
    const session = spec.session?.(host);
    if (session) {
      try {
        const found = await vscode.authentication.getSession(session.provider, [...session.scopes], { silent: true });
        if (found) {
          secrets.masker.add(found.accessToken);
          return found.accessToken;
        }
      } catch {
        // No such provider (e.g. in a web host without GitHub auth): fall back to the secret.
      }
    }
    return secrets.token(spec.secret);
  };
}

/** What to tell a person whose token is missing or refused. */
export function tokenHint(engine: RemoteEngineKind): string {
  return engineTokens(engine)?.editorHint ?? `check the ${engineSpec(engine).label} URL`;
}
