// Shared by the integration suites: the extension's API and a few waits.
import * as vscode from 'vscode';
import type { DeliveryApi, DeliveryTestHooks } from '../../src/vscode/api';

export const EXTENSION_ID = 'delivery-tools.software-delivery';

export async function api(): Promise<DeliveryApi> {
  const ext = vscode.extensions.getExtension<DeliveryApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this extension host`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  await exports.ready;
  return exports;
}

/** The extension's test-only counters (the harness runs the extension host with DELIVERY_TEST_HOOKS=1). */
export async function testHooks(): Promise<DeliveryTestHooks> {
  const hooks = (await api()).testing;
  if (!hooks) throw new Error('the extension exposes no test hooks: run the extension host with DELIVERY_TEST_HOOKS=1 (test/harness does)');
  return hooks;
}

export function workspaceFolder(): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('no workspace folder open');
  return f;
}

export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 20000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
