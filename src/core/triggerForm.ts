// The trigger form's decisions, for local runs and remote triggers alike: which control each declared input gets,
// what it is prefilled with (the last values, else the defaults), what is wrong with the values given (the same
// check as the CLI's --input: checkInputValue) and which inputs a run is then given. Pure; the panel only shows it.
import type { EnvironmentRef } from '../shared/model';
import { REF_FIELD, type TriggerField } from '../shared/triggerForm';
import { checkInputValue } from './remote/inputs';
import type { TriggerInput } from './remote/types';

/** The longest preset name kept. */
export const MAX_PRESET_NAME = 100;

/**
 * The environments a `type: environment` input offers: delivery.yml's and those the pipelines' jobs deploy to,
 * each once, sorted.
 */
export function repositoryEnvironments(environmentIds: readonly string[], jobs: readonly { environment: EnvironmentRef | null }[]): string[] {
  const names = new Set(environmentIds);
  for (const j of jobs) if (j.environment?.name && !j.environment.name.includes('${{')) names.add(j.environment.name);
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** A field per declared input, in the declared order. */
export function triggerFields(inputs: readonly TriggerInput[], environments: readonly string[]): TriggerField[] {
  return inputs.map((input) => {
    const base = { name: input.name, description: input.description, required: input.required, default: input.default };
    if (input.type === 'boolean') return { ...base, kind: 'checkbox', options: [] };
    if (input.type === 'number') return { ...base, kind: 'number', options: [] };
    const options = input.type === 'environment' ? unique([...input.options, ...environments]) : input.type === 'choice' ? [...input.options] : [];
    if (options.length === 0) return { ...base, kind: 'text', options: [] };
    if (input.default && !options.includes(input.default)) options.push(input.default);
    // An optional input without a default may be left out: its list starts with "none".
    if (!input.required && !input.default) options.unshift('');
    return { ...base, kind: 'dropdown', options };
  });
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * The form's values: `given[name]` when it is a value of the field (the last run's, a preset's), else the default;
 * a checkbox is "true" or "false", a dropdown one of its options.
 */
export function formValues(inputs: readonly TriggerInput[], environments: readonly string[], given: Readonly<Record<string, string>>): Record<string, string> {
  const fields = triggerFields(inputs, environments);
  const out: Record<string, string> = {};
  inputs.forEach((input, i) => {
    const f = fields[i];
    const candidates = [given[input.name], input.default ?? undefined].filter((v): v is string => typeof v === 'string');
    const fits = (v: string) => (f.kind === 'checkbox' ? v === 'true' || v === 'false' : f.kind === 'dropdown' ? f.options.includes(v) : true);
    out[input.name] = candidates.find(fits) ?? (f.kind === 'checkbox' ? 'false' : f.kind === 'dropdown' ? f.options[0] : '');
  });
  return out;
}

/**
 * Why each value cannot run, by field name (the ref under REF_FIELD): a required input left empty, a value not of
 * its type or options. `ref` null: the form asks none. Empty: the form may run.
 */
export function checkTriggerForm(inputs: readonly TriggerInput[], values: Readonly<Record<string, string>>, ref: string | null): Record<string, string> {
  const errors: Record<string, string> = {};
  if (ref !== null && ref.trim() === '') errors[REF_FIELD] = 'a branch, tag or commit to run';
  for (const input of inputs) {
    const value = values[input.name] ?? '';
    if (value === '') {
      if (input.required) errors[input.name] = `input "${input.name}" is required`;
      continue;
    }
    // A default written as an expression is evaluated by the run, not checked here.
    if (value === input.default && value.includes('${{')) continue;
    const problem = checkInputValue(input, value);
    if (problem) errors[input.name] = problem;
  }
  return errors;
}

/**
 * The inputs a run is given from the form's values: an empty optional value is left out; `omitDefaults`: so is a
 * value equal to the default (the run applies it, and evaluates a default that holds `${{ }}`).
 */
export function triggerInputs(inputs: readonly TriggerInput[], values: Readonly<Record<string, string>>, opts: { omitDefaults?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const input of inputs) {
    const value = values[input.name] ?? '';
    if (opts.omitDefaults && input.default !== null && value === input.default) continue;
    if (value !== '' || input.required) out[input.name] = value;
  }
  return out;
}

/** Why `name` cannot name a preset, else null. */
export function checkPresetName(name: string): string | null {
  if (name.trim() === '') return 'a name for the preset';
  if (name.length > MAX_PRESET_NAME) return `a preset name of at most ${MAX_PRESET_NAME} characters`;
  return null;
}
