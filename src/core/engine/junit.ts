// JUnit XML reports (the de-facto format every test runner can write): their suites and cases, and the counts the
// job records keep. One pass over the text, no DOM: a report of thousands of cases parses in milliseconds.
import type { TestCaseRecord, TestCaseStatus, TestCounts, TestReportRecord, TestSuiteRecord } from '../../shared/model';

/** The longest message or body kept of a case (a stack, captured output): a report is shown, not archived. */
export const MAX_TEST_TEXT = 16 * 1024;

/** Counts the <testcase> elements of a report and how they ended; null when the text is not a JUnit report. */
export function parseJunit(xml: string): TestCounts | null {
  const report = parseJunitReport(xml);
  return report && testCounts(report);
}

/**
 * The suites and cases of a JUnit report (jest-junit, pytest, go-junit-report, mocha-junit-reporter, surefire, …);
 * null when the text is not one. `file` is as the report writes it (see locateTests); `line` is 1-based. Suites
 * without cases (a `<testsuites>` wrapper, nested parents) are left out; cases outside any suite get one.
 */
export function parseJunitReport(xml: string): JunitReport | null {
  if (!/<testsuites?\b/.test(xml) && !/<testcase\b/.test(xml)) return null;
  const suites: TestSuiteRecord[] = [];
  const open: { suite: TestSuiteRecord; zeroBasedLines: boolean; totals: SuiteTotals }[] = [];
  const totals: SuiteTotals[] = [];
  let current: TestCaseRecord | null = null;
  /** The element inside a case whose text is kept (failure, error, skipped), and its text so far. */
  let body: { text: string; open: boolean } | null = null;
  let orphans: TestSuiteRecord | null = null;
  const n = xml.length;
  let i = 0;
  const text = (t: string) => {
    if (body?.open && body.text.length < MAX_TEST_TEXT) body.text += t;
  };
  while (i < n) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    if (body?.open && lt > i) text(decodeEntities(xml.slice(i, lt)));
    if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      text(xml.slice(lt + 9, end < 0 ? n : end));
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const gt = tagEnd(xml, lt + 1);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('?') || tag.startsWith('!')) continue;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (name === 'testcase' && current) {
        finishCase(current, body);
        body = null;
        (open.at(-1)?.suite ?? (orphans ??= newOrphans(suites))).cases.push(current);
        current = null;
      } else if (name === 'testsuite') open.pop();
      else if (body && (name === 'failure' || name === 'error' || name === 'skipped')) body.open = false;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const name = /^[^\s/>]+/.exec(tag)?.[0] ?? '';
    if (name === 'testsuite') {
      const a = attributes(tag);
      const suite: TestSuiteRecord = { name: a.name ?? '', file: a.file ?? a.filepath ?? null, durationMs: seconds(a.time), cases: [] };
      const outer = open.at(-1);
      // pytest writes the line where the test's `def` is, counted from 0.
      const zeroBasedLines = (outer?.zeroBasedLines ?? false) || suite.name === 'pytest';
      suites.push(suite);
      if (outer) outer.totals.parent = true;
      const own: SuiteTotals = { total: count(a.tests), failed: count(a.failures), errors: count(a.errors), skipped: count(a.skipped), parent: false };
      totals.push(own);
      if (!selfClosing) open.push({ suite, zeroBasedLines, totals: own });
    } else if (name === 'testcase') {
      const a = attributes(tag);
      const line = a.line !== undefined && /^\d+$/.test(a.line) ? Number(a.line) + (open.at(-1)?.zeroBasedLines ? 1 : 0) : null;
      current = { name: a.name ?? '', classname: a.classname ?? null, status: 'passed', durationMs: seconds(a.time), message: null, details: null, file: a.file ?? null, line: line && line > 0 ? line : null };
      if (selfClosing) {
        (open.at(-1)?.suite ?? (orphans ??= newOrphans(suites))).cases.push(current);
        current = null;
      }
    } else if (current && (name === 'failure' || name === 'error' || name === 'skipped')) {
      const status: TestCaseStatus = name === 'failure' ? 'failed' : name === 'error' ? 'errored' : 'skipped';
      // failure beats error beats skipped; the first of a kind keeps its text.
      if (rank(status) > rank(current.status)) {
        const a = attributes(tag);
        current.status = status;
        current.message = a.message !== undefined ? clip(a.message) : null;
        current.details = null;
        body = selfClosing ? null : { text: '', open: true };
      }
    }
  }
  const withCases = suites.filter((s) => s.cases.length > 0);
  // Only the innermost suites count: a parent's attributes repeat its children's.
  const innermost = totals.filter((t) => !t.parent).map(({ total, failed, errors, skipped }) => ({ total, failed, errors, skipped }));
  return { suites: withCases, suiteTotals: withCases.length === 0 ? (sumCounts(innermost) ?? { total: 0, failed: 0, errors: 0, skipped: 0 }) : null };
}

type SuiteTotals = TestCounts & { parent: boolean };

export interface JunitReport extends TestReportRecord {
  /** What suites' `tests`/`failures`/… attributes add up to, for reports that list no cases (else null). */
  suiteTotals: TestCounts | null;
}

/** How the cases of a report ended (a report without cases: its suites' totals). */
export function testCounts(report: JunitReport | TestReportRecord): TestCounts {
  if ('suiteTotals' in report && report.suiteTotals) return report.suiteTotals;
  const counts: TestCounts = { total: 0, failed: 0, errors: 0, skipped: 0 };
  for (const s of report.suites) {
    for (const c of s.cases) {
      counts.total++;
      if (c.status === 'failed') counts.failed++;
      else if (c.status === 'errored') counts.errors++;
      else if (c.status === 'skipped') counts.skipped++;
    }
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

/** The report with every text a test wrote (names, messages, bodies) passed through `mask`. */
export function maskTests(report: TestReportRecord, mask: (s: string) => string): TestReportRecord {
  const m = (s: string | null) => (s === null ? null : mask(s));
  return {
    suites: report.suites.map((s) => ({
      ...s,
      name: mask(s.name),
      cases: s.cases.map((c) => ({ ...c, name: mask(c.name), classname: m(c.classname), message: m(c.message), details: m(c.details) })),
    })),
  };
}

function newOrphans(suites: TestSuiteRecord[]): TestSuiteRecord {
  const s: TestSuiteRecord = { name: '', file: null, durationMs: null, cases: [] };
  suites.push(s);
  return s;
}

function finishCase(c: TestCaseRecord, body: { text: string } | null): void {
  const text = body?.text.trim() ?? '';
  if (text) c.details = clip(text);
  // No message attribute: the body's first line says what happened.
  if (c.message === null && text) c.message = clip(text.split('\n', 1)[0].trim());
}

function rank(s: TestCaseStatus): number {
  return s === 'failed' ? 3 : s === 'errored' ? 2 : s === 'skipped' ? 1 : 0;
}

function clip(s: string): string {
  return s.length > MAX_TEST_TEXT ? `${s.slice(0, MAX_TEST_TEXT)}…` : s;
}

/** The index of the `>` that ends the tag starting at `from` (quotes may hold `>`). */
function tagEnd(xml: string, from: number): number {
  let quote = 0;
  for (let j = from; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return j;
  }
  return xml.length;
}

const ATTRIBUTE = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  ATTRIBUTE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ATTRIBUTE.exec(tag)) !== null) out[m[1]] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

function seconds(v: string | undefined): number | null {
  if (v === undefined) return null;
  // Some surefire locales write thousands separators: "1,234.5".
  const s = Number(v.replace(/,/g, ''));
  return Number.isFinite(s) && s >= 0 ? Math.round(s * 1000) : null;
}

function count(v: string | undefined): number {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (whole, e: string) => {
    if (e[0] !== '#') return NAMED[e];
    const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
