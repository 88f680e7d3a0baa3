// Pipeline variables for a GitLab pipeline started by hand: the ones .gitlab-ci.yml prefills in GitLab's "Run
// pipeline" form (top-level `variables:` with a `description`, optionally `options`), and a check of the values
// before POST /projects/:id/pipeline. Pure: no I/O.
import { checkInputs } from '../../core/remote/inputs';
import type { TriggerInput } from '../../core/remote/types';
import { readVariables } from '../../core/gitlab/reader';
import { VARIABLE_NAME } from '../../core/gitlab/variables';
import { parseGitlabYaml, Problems } from '../../core/gitlab/yaml';

/** The prefilled variables of a CI file; located errors when the file cannot be read. */
export function pipelineVariables(file: string, text: string): { inputs: TriggerInput[]; errors: string[] } {
  const problems = new Problems();
  const parsed = parseGitlabYaml(file, text, problems);
  const root = parsed.ok && parsed.body?.t === 'map' ? parsed.body : null;
  const decls = root ? readVariables(problems, root.entries.get('variables')?.value, 'variables') : [];
  const errors = problems.list.filter((p) => p.severity === 'error').map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
  const inputs = decls
    .filter((d) => d.description !== undefined)
    .map(
      (d): TriggerInput => ({
        name: d.name,
        type: d.options && d.options.length > 0 ? 'choice' : 'string',
        description: d.description ?? null,
        required: false,
        default: d.value,
        options: d.options ?? [],
      }),
    );
  return { inputs, errors };
}

/**
 * Checks variables for a new pipeline: names as GitLab accepts them, and the declared (prefilled) ones through
 * core/remote/inputs.ts. Other variables may be given freely: GitLab takes any when the project allows it.
 */
export function checkPipelineVariables(declared: readonly TriggerInput[], given: Record<string, string>): { variables: { key: string; value: string }[] } | { errors: string[] } {
  const names = new Set(declared.map((d) => d.name));
  const errors = Object.keys(given)
    .filter((key) => !VARIABLE_NAME.test(key))
    .map((key) => `"${key}" is not a valid variable name (letters, digits and _ only)`);
  errors.push(...checkInputs(declared, Object.fromEntries(Object.entries(given).filter(([k]) => names.has(k)))).errors);
  return errors.length ? { errors } : { variables: Object.entries(given).map(([key, value]) => ({ key, value })) };
}
