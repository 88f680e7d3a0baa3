// Tokens for remote engines inside VS Code: GitHub from VS Code's GitHub authentication session (GitHub
// Enterprise hosts: the "github-enterprise" provider), else a GITHUB_TOKEN secret; GitLab from the GITLAB_TOKEN
// secret (SecretStorage). Never from settings or files; every token read is masked in the log.
import * as vscode from 'vscode';
import type { TokenProvider } from '../../core/remote/tokens';
import type { Secrets } from '../secrets';

const GITHUB_SCOPES = ['repo', 'workflow'];

export function vscodeTokenProvider(secrets: Secrets): TokenProvider {
  return async (engine, host) => {
    if (engine === 'github') {
      const provider = host === 'github.com' ? 'github' : 'github-enterprise';
      try {
        const session = await vscode.authentication.getSession(provider, GITHUB_SCOPES, { silent: true });
        if (session) {
          secrets.masker.add(session.accessToken);
          return session.accessToken;
        }
      } catch {
        // No such provider (e.g. in a web host without GitHub auth): fall back to the secret.
      }
      return secrets.token('GITHUB_TOKEN');
    }
    if (engine === 'gitlab') return secrets.token('GITLAB_TOKEN');
    return undefined;
  };
}

/** What to tell a person whose token is missing or refused. */
export function tokenHint(engine: 'github' | 'gitlab' | 'buildbot'): string {
  if (engine === 'github') return 'sign in to GitHub (Accounts menu) or set the GITHUB_TOKEN secret with "Delivery: Set Secret"';
  if (engine === 'gitlab') return 'set the GITLAB_TOKEN secret with "Delivery: Set Secret"';
  return 'check the Buildbot URL';
}

/** Asks VS Code for a GitHub session interactively (the "Sign in" button of an error). */
export async function signInToGitHub(host: string): Promise<boolean> {
  const provider = host === 'github.com' ? 'github' : 'github-enterprise';
  try {
    return !!(await vscode.authentication.getSession(provider, GITHUB_SCOPES, { createIfNone: true }));
  } catch {
    return false;
  }
}
