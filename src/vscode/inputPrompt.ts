// Asking for a run's inputs, typed: a quick pick for booleans and choices, an input box (prefilled, validated) for
// the rest. Remote triggers and local runs of workflows with workflow_dispatch inputs both ask this way.
import * as vscode from 'vscode';
import { inputPrompt } from '../core/remote/inputs';
import type { TriggerInput } from '../core/remote/types';

/**
 * Asks for each input in turn, prefilled with `last[name]`, else its default; null when the user gave up. An
 * empty optional value is left out; `omitDefaults`: so is a value equal to the default (the run applies it, and
 * evaluates a default that holds `${{ }}`).
 */
export async function askInputs(inputs: readonly TriggerInput[], last: Record<string, string>, opts: { omitDefaults?: boolean } = {}): Promise<Record<string, string> | null> {
  const out: Record<string, string> = {};
  for (const input of inputs) {
    const p = inputPrompt(input, last[input.name]);
    const value =
      p.kind === 'pick'
        ? await vscode.window.showQuickPick(p.items, { title: p.title, placeHolder: input.description ?? input.name })
        : await vscode.window.showInputBox({ title: p.title, prompt: input.description ?? undefined, value: p.value, validateInput: p.validate });
    if (value === undefined) return null;
    if (opts.omitDefaults && input.default !== null && value === input.default) continue;
    if (value !== '' || input.required) out[input.name] = value;
  }
  return out;
}
