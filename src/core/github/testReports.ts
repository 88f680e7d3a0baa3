// Where a GitHub job writes JUnit reports: the workflow says so in the step that publishes them on GitHub (a test
// report action and its path input). Locally that step does nothing (it talks to GitHub's checks API); the files
// it names are the job's reports, read when the job ends like delivery.yml `reports: junit` and GitLab's.
import type { WorkflowStep } from './workflow';

/** Report actions by `owner/repo` (lower case): the report files a step names (globs), or null when not JUnit. */
const JUNIT_REPORT_ACTIONS: Record<string, (input: (name: string) => string | undefined) => string[] | null> = {
  'mikepenz/action-junit-report': (input) => globs(input('report_paths') ?? '**/junit-reports/TEST-*.xml'),
  // Its other reporters read JSON, TRX or NUnit files; a reporter in an expression is known when the step runs.
  'dorny/test-reporter': (input) => (/^((java|jest|phpunit)-junit|(python|swift)-xunit)$|\$\{\{/.test(input('reporter')?.trim() ?? '') ? globs(input('path') ?? '') : null),
  'enricomi/publish-unit-test-result-action': (input) => globs(input('files') ?? input('junit_files') ?? ''),
  'test-summary/action': (input) => globs(input('paths') ?? ''),
  'pmeier/pytest-results-action': (input) => globs(input('path') ?? ''),
};

/** The JUnit report globs a step publishes (null: the step is not a known report action). */
export function stepJunitReports(uses: string | null, inputs: Record<string, string>): string[] | null {
  const m = uses ? /^([^/@\s]+\/[^/@\s]+)(?:\/[^@\s]*)?@\S+$/.exec(uses.trim()) : null;
  const read = m ? JUNIT_REPORT_ACTIONS[m[1].toLowerCase()] : undefined;
  if (!read) return null;
  const byName = new Map(Object.entries(inputs).map(([k, v]) => [k.toLowerCase(), v]));
  return read((name) => byName.get(name));
}

/** The JUnit report globs of a job: what its report steps name, each once. */
export function jobJunitReports(steps: readonly WorkflowStep[]): string[] {
  return [...new Set(steps.flatMap((s) => stepJunitReports(s.uses, s.with) ?? []))];
}

/** A list of globs as the actions take them (commas or lines); expressions and exclusions are left out. */
function globs(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.includes('${{') && !s.startsWith('!'));
}
