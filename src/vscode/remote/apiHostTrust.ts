// The editor's side of "a repository does not choose where your token goes": when a delivery.yml names a GitHub or
// GitLab API host that is neither the engine's own nor the "origin" remote's, the token is sent there only after a
// modal confirmation, remembered for this workspace (workspaceState). A refusal holds until the configuration
// changes (then it is asked again), so a tree refresh does not ask twice.
import * as vscode from 'vscode';
import { engineSpec, engineTokens } from '../../core/remote/engines';
import type { RemoteTarget } from '../../core/remote/types';
import { notificationText } from '../../core/sanitize';

const KEY = 'delivery.remote.trustedApiHosts';

export class ApiHostTrust {
  private readonly declined = new Set<string>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(private readonly state: vscode.Memento) {}

  /** Hosts confirmed in this workspace. */
  trusted(): string[] {
    const v = this.state.get<unknown>(KEY, []);
    return Array.isArray(v) ? v.filter((h): h is string => typeof h === 'string') : [];
  }

  /** What the refusal tells a person in the editor. */
  readonly hint = (host: string): string => `answer "Send Token to ${host}" when asked (asked again once delivery.yml changes, or after a reload)`;

  /** Ask again after a refusal (delivery.yml changed). */
  forgetRefusals(): void {
    this.declined.clear();
  }

  /** RemoteEngineOptions.confirmApiHost: true when the user has trusted, or now trusts, the host. */
  readonly confirm = async (host: string, target: RemoteTarget): Promise<boolean> => {
    if (this.trusted().includes(host)) return true;
    if (this.declined.has(host)) return false;
    let asked = this.asking.get(host);
    if (!asked) {
      asked = this.ask(host, target).finally(() => this.asking.delete(host));
      this.asking.set(host, asked);
    }
    return asked;
  };

  private async ask(host: string, target: RemoteTarget): Promise<boolean> {
    const service = engineSpec(target.engine).label;
    const send = `Send Token to ${host}`;
    const choice = await vscode.window.showWarningMessage(
      notificationText(`This workspace's delivery.yml sends ${service} API requests to ${host}. Send your ${service} token there?`),
      {
        modal: true,
        detail:
          `${host} is neither ${engineTokens(target.engine)?.defaultApiHost} nor the host of the "origin" remote. ` +
          `Anyone who can change delivery.yml can name a host; send the token only if you know ${host} is your ${service} server. ` +
          'The answer is remembered for this workspace.',
      },
      send,
    );
    if (choice === send) {
      await this.state.update(KEY, [...new Set([...this.trusted(), host])]);
      return true;
    }
    this.declined.add(host);
    return false;
  }
}
