// workflow_dispatch inputs: read from the workflow file by the GitHub importer's reader (core/github/workflow.ts)
// and checked before a dispatch, so a wrong value fails here with the input's name instead of as GitHub's 422.
// Pure: no I/O.
import type { Problem } from '../../shared/model';
import { readWorkflow, type InputDecl } from '../../core/github/workflow';
import { checkInputs } from '../../core/remote/inputs';
import { triggerInputOf } from '../../core/github/runInputs';
import type { TriggerInput } from '../../core/remote/types';

/** GitHub refuses a dispatch with more top-level inputs than this. */
export const MAX_DISPATCH_INPUTS = 25;

export interface DispatchDefinition {
  /** The workflow can be started by hand (`on: workflow_dispatch`). */
  dispatchable: boolean;
  inputs: TriggerInput[];
  /** Errors in the workflow file, located; a dispatch is not attempted when there are any. */
  problems: Problem[];
}

export function dispatchDefinition(file: string, text: string): DispatchDefinition {
  const { workflow, f } = readWorkflow(file, text);
  const problems = f.problems.filter((p) => p.severity === 'error');
  if (!workflow) return { dispatchable: false, inputs: [], problems };
  const dispatchable = workflow.events.includes('workflow_dispatch');
  return { dispatchable, inputs: dispatchable ? workflow.inputs.map(triggerInput) : [], problems };
}

export function triggerInput(d: InputDecl): TriggerInput {
  const { name, type, description, required, default: value, options } = triggerInputOf(d);
  return { name, type, description, required, default: value, options };
}

/**
 * Checks the values for a dispatch against the declared inputs (core/remote/inputs.ts), plus what GitHub adds: a
 * workflow without inputs takes none, at most 25 are sent. Returns the values to send (empty ones left out, so
 * that GitHub applies the defaults) or every error.
 */
export function checkDispatchInputs(workflow: string, declared: readonly TriggerInput[], given: Record<string, string>): { values: Record<string, string> } | { errors: string[] } {
  const errors =
    declared.length === 0
      ? Object.keys(given).map((name) => `${workflow} declares no workflow_dispatch inputs, so "${name}" cannot be given`)
      : checkInputs(declared, given).errors;
  const values = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== ''));
  const count = Object.keys(values).length;
  if (count > MAX_DISPATCH_INPUTS) errors.push(`GitHub accepts at most ${MAX_DISPATCH_INPUTS} inputs in one dispatch, not ${count}`);
  return errors.length ? { errors } : { values };
}
