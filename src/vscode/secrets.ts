// Secrets for deploys and probes live in VS Code's SecretStorage (the OS keychain), never in settings or files.
// `${secret:NAME}` in delivery.yml reads `delivery.secret.<workspace>.NAME`: SecretStorage is shared by every window
// of the extension, so without the workspace's own scope a repository opened later could name another project's
// secret in a probe header and send it to a host of its choosing. The remote engines' tokens (GITHUB_TOKEN,
// GITLAB_TOKEN) are read by the token provider from the user-wide `delivery.secret.NAME` — they only go to API hosts
// the user trusts — and never through `${secret:…}`. Every value read is added to the log's masks.
import { randomUUID } from 'node:crypto';
import type * as vscode from 'vscode';
import type { Masker, SecretResolver } from '../core/secrets';
import type { Log } from './log';

const PREFIX = 'delivery.secret.';
const SCOPE_KEY = 'delivery.secretScope';
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names the remote engines read as tokens: stored user-wide too, so every workspace's remote runs find them. */
export const TOKEN_NAMES: ReadonlySet<string> = new Set(['GITHUB_TOKEN', 'GITLAB_TOKEN']);

export class Secrets {
  private scopeId: string | null = null;
  private readonly warned = new Set<string>();

  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly log: Log,
    private readonly workspaceState?: vscode.Memento,
  ) {}

  /** A random id for this workspace, kept in its workspaceState (so another workspace never shares it). */
  private scope(): string {
    if (this.scopeId) return this.scopeId;
    const kept = this.workspaceState?.get<string>(SCOPE_KEY);
    this.scopeId = typeof kept === 'string' && /^[A-Za-z0-9-]{8,64}$/.test(kept) ? kept : randomUUID();
    if (this.scopeId !== kept) void this.workspaceState?.update(SCOPE_KEY, this.scopeId);
    return this.scopeId;
  }

  private key(name: string): string {
    return `${PREFIX}${this.scope()}.${name}`;
  }

  /** Resolver for `${secret:NAME}`: this workspace's secrets only; registers the value for masking. */
  resolver: SecretResolver = async (name) => {
    const value = await this.storage.get(this.key(name));
    if (value) {
      this.log.addSecret(value);
      return value;
    }
    // Stored by an earlier version for every workspace: not handed to this one's delivery.yml, but said once.
    if (!this.warned.has(name) && (await this.storage.get(PREFIX + name))) {
      this.warned.add(name);
      this.log.warn(`secret ${name} was stored for every workspace by an earlier version; secrets are now kept per workspace: set it again here with "Delivery: Set Secret"`);
    }
    return undefined;
  };

  /** A remote engine's token (GITHUB_TOKEN, GITLAB_TOKEN): user-wide; the engines send it only to trusted hosts. */
  async token(name: string): Promise<string | undefined> {
    const value = (await this.storage.get(PREFIX + name)) || (await this.storage.get(this.key(name)));
    if (value) this.log.addSecret(value);
    return value || undefined;
  }

  /** Every secret read so far (and the tokens): status probes and deploys mask them too, not only the log. */
  get masker(): Masker {
    return this.log.masker;
  }

  async set(name: string, value: string): Promise<void> {
    await this.storage.store(this.key(name), value);
    if (TOKEN_NAMES.has(name)) await this.storage.store(PREFIX + name, value);
    this.log.addSecret(value);
  }

  async delete(name: string): Promise<void> {
    await this.storage.delete(this.key(name));
    // The user-wide copy: a token, or a value an earlier version stored for every workspace.
    await this.storage.delete(PREFIX + name);
  }
}
