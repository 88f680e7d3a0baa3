// The extension's log: a LogOutputChannel (so "Developer: Set Log Level" applies), with secrets masked in one place.
import * as vscode from 'vscode';

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly secrets = new Set<string>();

  constructor(name = 'Software Delivery') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  /** Values to mask as *** wherever they would be logged. */
  addSecret(value: string): void {
    if (value.length >= 3) this.secrets.add(value);
  }

  redact = (text: string): string => {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  };

  info(message: string): void {
    this.channel.info(this.redact(message));
  }

  warn(message: string): void {
    this.channel.warn(this.redact(message));
  }

  error(message: string, err?: unknown): void {
    const detail = err instanceof Error ? `: ${err.message}` : err !== undefined ? `: ${String(err)}` : '';
    this.channel.error(this.redact(message + detail));
  }

  /** Raw lines (job output), appended as they are. */
  append(lines: string): void {
    this.channel.append(this.redact(lines));
  }

  dispose(): void {
    this.channel.dispose();
  }
}
