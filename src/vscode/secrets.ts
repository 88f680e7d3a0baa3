// Secrets for deploys and probes live in VS Code's SecretStorage (the OS keychain), never in settings or files.
// `${secret:NAME}` in delivery.yml reads `delivery.secret.NAME`; every value read is added to the log's masks.
import type * as vscode from 'vscode';
import type { SecretResolver } from '../core/secrets';
import type { Log } from './log';

const PREFIX = 'delivery.secret.';
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class Secrets {
  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly log: Log,
  ) {}

  /** Resolver for the core: reads SecretStorage and registers the value for masking. */
  resolver: SecretResolver = async (name) => {
    const value = await this.storage.get(PREFIX + name);
    if (value) this.log.addSecret(value);
    return value;
  };

  async set(name: string, value: string): Promise<void> {
    await this.storage.store(PREFIX + name, value);
    this.log.addSecret(value);
  }

  async delete(name: string): Promise<void> {
    await this.storage.delete(PREFIX + name);
  }
}
