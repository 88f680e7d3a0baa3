// Trigger inputs: `name=value` pairs given by a user (CLI --input, a deploy's `inputs:`) checked against what the
// engine says it accepts, before anything is sent.
import type { TriggerInput } from './types';

/** `k=v` → [k, v]; the value may contain "=". */
export function parseInputPair(text: string): [string, string] | { error: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) return { error: `an input is NAME=VALUE, not "${text}"` };
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/**
 * Checks given inputs against the declared ones: unknown names, a choice outside its options, a boolean that is not
 * true/false, a number that is not one, a required input without a value or default. Every problem at once.
 * An engine that declares nothing (`declared` empty) accepts any names.
 */
export function checkInputs(declared: readonly TriggerInput[], given: Readonly<Record<string, string>>): { errors: string[] } {
  const errors: string[] = [];
  if (declared.length > 0) {
    const byName = new Map(declared.map((d) => [d.name, d]));
    for (const [name, value] of Object.entries(given)) {
      const d = byName.get(name);
      if (!d) {
        errors.push(`unknown input "${name}" (inputs: ${declared.map((x) => x.name).join(', ')})`);
        continue;
      }
      const problem = checkInputValue(d, value);
      if (problem) errors.push(problem);
    }
    for (const d of declared) {
      if (d.required && !(d.name in given) && (d.default === null || d.default === '')) errors.push(`input "${d.name}" is required`);
    }
  }
  return { errors };
}

/** Why `value` is not a value of input `d` (its type, its options), else null. */
export function checkInputValue(d: TriggerInput, value: string): string | null {
  switch (d.type) {
    case 'boolean':
      return value === 'true' || value === 'false' ? null : `input "${d.name}" is a boolean: true or false, not "${value}"`;
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? null : `input "${d.name}" is a number, not "${value}"`;
    case 'choice':
    case 'environment':
      if (d.options.length === 0 || d.options.includes(value)) return null;
      return `input "${d.name}" must be one of ${d.options.join(', ')}, not "${value}"`;
    case 'string':
      return d.required && value === '' ? `input "${d.name}" is required and must not be empty` : null;
  }
}
