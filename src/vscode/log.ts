// The extension's log: a LogOutputChannel (so "Developer: Set Log Level" applies), with secrets masked in one place.
import * as vscode from 'vscode';
import { Masker } from '../core/secrets';

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  /** Every secret read this session (SecretStorage, tokens): runs, deploys, probes and this log mask them. */
  readonly masker = new Masker();

  constructor(name = 'Software Delivery') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  /** Values to mask as *** wherever they would be logged (see Masker for what is masked). */
  addSecret(value: string): void {
    this.masker.add(value);
  }

  redact = (text: string): string => this.masker.mask(text);

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

  /**
   * Lines of output (jobs, deploys), masked: one log entry each, so each has its timestamp (a log channel makes one
   * entry of every append and ends it itself: several lines in one append left all but the first without one, and
   * a newline at its end made a blank line).
   */
  lines(lines: readonly string[]): void {
    if (lines.length === 0) return;
    // One masking pass over the batch (a secret split over lines is masked whole), then one entry per line.
    for (const line of this.redact(lines.join('\n')).split('\n')) this.channel.info(line);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
