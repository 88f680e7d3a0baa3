// `.gitlab-ci-local-variables.yml`: the project's own CI/CD variables for local runs (gitlab-ci-local's file).
// What GitLab keeps in the project settings (and a local run cannot fetch) lives here, optionally scoped to
// environments:
//   DEPLOY_TOKEN: abc
//   API_URL:
//     values: { "*": https://staging.example.com, production: https://example.com }
//   KUBECONFIG: { type: file, values: { "*": "apiVersion: v1 ..." } }
import { globToRegExp } from '../glob';
import { describeVal, parseGitlabYaml, type Problems } from './yaml';
import { VARIABLE_NAME } from './variables';

export const PROJECT_VARIABLES_FILE = '.gitlab-ci-local-variables.yml';

export interface ProjectVariable {
  name: string;
  /** Environment scope (`*`, `production`, `review/*`) → value. */
  values: { scope: string; value: string }[];
  /** `type: file`: the job gets the path of a file holding the value. */
  file: boolean;
}

export function readProjectVariables(text: string, problems: Problems, file = PROJECT_VARIABLES_FILE): ProjectVariable[] {
  const parsed = parseGitlabYaml(file, text, problems);
  const body = parsed.body;
  if (!body) return [];
  if (body.t !== 'map') {
    problems.error(body.loc, `${file} must be a mapping of variable names to values, not ${describeVal(body)}`);
    return [];
  }
  const out: ProjectVariable[] = [];
  for (const e of body.entries.values()) {
    if (!VARIABLE_NAME.test(e.key)) {
      problems.error(e.keyLoc, `"${e.key}" is not a valid variable name (letters, digits and _ only)`);
      continue;
    }
    const v = e.value;
    if (v.t === 'scalar') {
      out.push({ name: e.key, values: [{ scope: '*', value: v.value === null ? '' : String(v.value) }], file: false });
      continue;
    }
    if (v.t !== 'map') {
      problems.error(v.loc, `variable "${e.key}" must be a value or { values: { scope: value }, type: file }, not ${describeVal(v)}`);
      continue;
    }
    const type = v.entries.get('type')?.value;
    const isFile = type?.t === 'scalar' && type.value === 'file';
    const values = v.entries.get('values')?.value;
    const single = v.entries.get('value')?.value;
    const scoped: ProjectVariable['values'] = [];
    if (values?.t === 'map') {
      for (const s of values.entries.values()) {
        if (s.value.t === 'scalar') scoped.push({ scope: s.key, value: s.value.value === null ? '' : String(s.value.value) });
        else problems.error(s.value.loc, `variable "${e.key}": the value for scope "${s.key}" must be text, not ${describeVal(s.value)}`);
      }
    } else if (single?.t === 'scalar') {
      scoped.push({ scope: '*', value: single.value === null ? '' : String(single.value) });
    } else {
      problems.error(v.loc, `variable "${e.key}" needs "values" (a mapping of environment scopes to values) or "value"`);
      continue;
    }
    out.push({ name: e.key, values: scoped, file: isFile });
  }
  return out;
}

/** The value of a project variable for a job in `environment` (null: no environment); undefined when no scope applies. */
export function scopedValue(v: ProjectVariable, environment: string | null): string | undefined {
  let best: { value: string; rank: number } | undefined;
  for (const { scope, value } of v.values) {
    let rank = -1;
    if (scope === '*') rank = 0;
    else if (environment !== null && scope === environment) rank = 2;
    else if (environment !== null && scope.includes('*') && globToRegExp(scope.replace(/\//g, '\u0000')).test(environment.replace(/\//g, '\u0000'))) rank = 1;
    if (rank >= 0 && (!best || rank > best.rank)) best = { value, rank };
  }
  return best?.value;
}
