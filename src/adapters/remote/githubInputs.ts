// workflow_dispatch inputs: read from the workflow file by the GitHub importer's reader (core/github/workflow.ts)
// and checked before a dispatch, so a wrong value fails here with the input's name instead of as GitHub's 422.
// Pure: no I/O.
import type { Problem } from '../../shared/model';
import { suggest } from '../../core/config/reader';
import { readWorkflow, type InputDecl } from '../../core/github/workflow';
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
  return {
    name: d.name,
    type: d.type,
    description: d.description ?? null,
    required: d.required,
    default: d.default === undefined ? null : String(d.default),
    options: d.options ?? [],
  };
}

/**
 * Checks the values for a dispatch against the declared inputs. Returns the values to send (booleans as
 * "true"/"false", as GitHub passes every input as a string) or the errors, each naming its input.
 */
export function checkDispatchInputs(workflow: string, declared: readonly TriggerInput[], given: Record<string, string>): { values: Record<string, string> } | { errors: string[] } {
  const errors: string[] = [];
  const values: Record<string, string> = {};
  const names = declared.map((d) => d.name);
  for (const name of Object.keys(given)) {
    if (names.includes(name)) continue;
    const near = suggest(name, names);
    errors.push(
      names.length === 0
        ? `${workflow} declares no workflow_dispatch inputs, so "${name}" cannot be given`
        : `${workflow} has no input "${name}"${near ? ` (did you mean "${near}"?)` : ''}; its inputs: ${names.join(', ')}`,
    );
  }
  for (const d of declared) {
    const raw = given[d.name];
    if (raw === undefined || raw === '') {
      if (d.required && (d.default === null || d.default === '')) errors.push(`input "${d.name}" is required`);
      continue;
    }
    const checked = checkValue(d, raw);
    if ('error' in checked) errors.push(`input "${d.name}": ${checked.error}`);
    else values[d.name] = checked.value;
  }
  if (Object.keys(values).length > MAX_DISPATCH_INPUTS) errors.push(`GitHub accepts at most ${MAX_DISPATCH_INPUTS} inputs in one dispatch, not ${Object.keys(values).length}`);
  return errors.length ? { errors } : { values };
}

function checkValue(d: TriggerInput, raw: string): { value: string } | { error: string } {
  switch (d.type) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      return v === 'true' || v === 'false' ? { value: v } : { error: `"${raw}" is not a boolean (true or false)` };
    }
    case 'number': {
      const v = raw.trim();
      return v !== '' && Number.isFinite(Number(v)) ? { value: v } : { error: `"${raw}" is not a number` };
    }
    case 'choice':
      return d.options.includes(raw) ? { value: raw } : { error: `"${raw}" is not one of the options (${d.options.join(', ')})` };
    case 'environment':
      // The workflow file does not list environments; when the engine did, the value must be one of them.
      return d.options.length === 0 || d.options.includes(raw) ? { value: raw } : { error: `"${raw}" is not an environment of the repository (${d.options.join(', ')})` };
    case 'string':
      return { value: raw };
  }
}
