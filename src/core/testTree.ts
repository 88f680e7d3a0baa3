// A job's test cases as the nodes of a test tree (suite → case): stable, unique ids (two suites or cases of the same
// name stay apart), labels, locations. Front ends only present the nodes.
import type { TestCaseRecord, TestReportRecord } from '../shared/model';

export interface TestNode {
  /** Unique among the job's nodes, and stable from run to run while the report names the same test. */
  id: string;
  label: string;
  /** What tells two same-named nodes apart (a case's class, a suite's file), when it says more than the label. */
  description: string | null;
  /** Relative to the run's folder, '/'-separated; null: unknown. `line` is 1-based. */
  file: string | null;
  line: number | null;
  /** Suites: their cases. */
  children: TestNode[];
  /** Cases: how the case ended. */
  result: TestCaseRecord | null;
}

/** The suites of a job's report, under the job's node id. Suites of the same name and file merge. */
export function testNodes(jobId: string, report: TestReportRecord): TestNode[] {
  const suites = new Map<string, TestNode>();
  /** Per suite: how often each case id came. */
  const seen = new Map<string, Map<string, number>>();
  for (const s of report.suites) {
    const id = `${jobId}/${s.name}${s.file ? `@${s.file}` : ''}`;
    let node = suites.get(id);
    if (!node) {
      node = { id, label: s.name || s.file || '(no suite)', description: s.name && s.file ? s.file : null, file: s.file, line: null, children: [], result: null };
      suites.set(id, node);
      seen.set(id, new Map());
    }
    const counts = seen.get(id)!;
    for (const c of s.cases) {
      const base = `${id}/${c.classname ?? ''}::${c.name}`;
      // A case listed twice (a retried test, a parametrised name) is a second node, not a second result of one.
      const n = (counts.get(base) ?? 0) + 1;
      counts.set(base, n);
      node.children.push({
        id: n === 1 ? base : `${base}#${n}`,
        label: c.name || '(unnamed)',
        description: c.classname && c.classname !== c.name && c.classname !== s.name ? c.classname : null,
        file: c.file,
        line: c.line,
        children: [],
        result: c,
      });
    }
  }
  return [...suites.values()];
}
