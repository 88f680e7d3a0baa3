// Test counts from JUnit XML reports (the de-facto format every test runner can write).
import type { TestCounts } from '../../shared/model';

/** Counts the <testcase> elements of a report and how they ended; null when the text is not a JUnit report. */
export function parseJunit(xml: string): TestCounts | null {
  if (!/<testsuites?\b/.test(xml) && !/<testcase\b/.test(xml)) return null;
  const counts: TestCounts = { total: 0, failed: 0, errors: 0, skipped: 0 };
  const re = /<testcase\b(?:[^>"']|"[^"]*"|'[^']*')*?(\/>|>([\s\S]*?)<\/testcase\s*>)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml)) !== null) {
    counts.total++;
    const body = m[2] ?? '';
    if (/<failure\b/.test(body)) counts.failed++;
    else if (/<error\b/.test(body)) counts.errors++;
    else if (/<skipped\b/.test(body)) counts.skipped++;
  }
  if (counts.total === 0) {
    // Some tools write only suite totals.
    const attr = (name: string) => {
      let sum = 0;
      for (const s of xml.matchAll(new RegExp(`<testsuite\\b[^>]*\\b${name}="(\\d+)"`, 'g'))) sum += Number(s[1]);
      return sum;
    };
    counts.total = attr('tests');
    counts.failed = attr('failures');
    counts.errors = attr('errors');
    counts.skipped = attr('skipped');
  }
  return counts;
}

export function sumCounts(list: TestCounts[]): TestCounts | null {
  if (list.length === 0) return null;
  return list.reduce(
    (a, c) => ({ total: a.total + c.total, failed: a.failed + c.failed, errors: a.errors + c.errors, skipped: a.skipped + c.skipped }),
    { total: 0, failed: 0, errors: 0, skipped: 0 },
  );
}
