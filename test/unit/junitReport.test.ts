// JUnit reports as the common test runners write them: suites, cases, outcomes, texts and locations.
import * as assert from 'node:assert/strict';
import { parseJunit, parseJunitReport, testCounts, MAX_TEST_TEXT } from '../../src/core/engine/junit';
import { locateTests, type TestPaths } from '../../src/core/engine/testLocation';
import type { TestCaseRecord, TestReportRecord } from '../../src/shared/model';
import { testNodes } from '../../src/core/testTree';

const where: TestPaths = { folder: '/work/app', cwd: '/work/app' };

function report(xml: string, paths: TestPaths = where): TestReportRecord {
  const parsed = parseJunitReport(xml);
  assert.ok(parsed, 'a JUnit report');
  return locateTests(parsed, paths);
}

function cases(r: TestReportRecord): TestCaseRecord[] {
  return r.suites.flatMap((s) => s.cases);
}

/** What a case says, in one comparable line. */
function brief(c: TestCaseRecord): string {
  const at = c.failedAt ? ` failed at ${c.failedAt.file}:${c.failedAt.line}` : '';
  return `${c.name} ${c.status} ${c.durationMs ?? '-'}ms @${c.file ?? '-'}:${c.line ?? '-'}${at}`;
}

describe('JUnit reports: suites and cases', () => {
  it('jest-junit: messages in the body, escaped; the stack names the test file (node_modules frames skipped)', () => {
    const r = report(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="1" errors="0" time="1.234">
  <testsuite name="math" errors="0" failures="1" skipped="1" timestamp="2024-05-01T10:00:00" time="0.5" tests="3">
    <testcase classname="math adds" name="math adds" time="0.002">
    </testcase>
    <testcase classname="math divides" name="math divides" time="0.004">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 2
Received: 3
    at Object.toBe (/work/app/node_modules/expect/build/index.js:1:2)
    at Object.&lt;anonymous&gt; (/work/app/src/math.test.ts:12:19)
    at Promise.then.completed (/work/app/node_modules/jest-circus/build/utils.js:298:28)</failure>
    </testcase>
    <testcase classname="math skips" name="math skips" time="0">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>`);
    assert.deepEqual(r.suites.map((s) => [s.name, s.durationMs, s.cases.length]), [['math', 500, 3]]);
    assert.deepEqual(cases(r).map(brief), [
      'math adds passed 2ms @-:-',
      'math divides failed 4ms @src/math.test.ts:12 failed at src/math.test.ts:12',
      'math skips skipped 0ms @-:-',
    ]);
    const failed = cases(r)[1];
    assert.equal(failed.message, 'Error: expect(received).toBe(expected) // Object.is equality');
    assert.match(failed.details ?? '', /^Error: expect[\s\S]*Received: 3\n {4}at Object.toBe[\s\S]*at Object.<anonymous> \(/);
    assert.equal(failed.classname, 'math divides');
  });

  it('pytest: file and line attributes (counted from 0), the failure line from the short traceback, error and skip', () => {
    const r = report(`<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.051" timestamp="2024-05-01T10:00:00.000000" hostname="h"><testcase classname="tests.test_calc" name="test_add" file="tests/test_calc.py" line="2" time="0.001" /><testcase classname="tests.test_calc" name="test_sub" file="tests/test_calc.py" line="5" time="0.001"><failure message="assert 1 == 2">def test_sub():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_calc.py:8: AssertionError</failure></testcase><testcase classname="tests.test_calc" name="test_skip" file="tests/test_calc.py" line="9" time="0.000"><skipped type="pytest.skip" message="not today">tests/test_calc.py:11: not today</skipped></testcase><testcase classname="tests.test_calc" name="test_err" file="tests/test_calc.py" line="12" time="0.000"><error message="failed on setup with &quot;fixture 'nope' not found&quot;">file /work/app/tests/test_calc.py, line 14
  def test_err(nope):
E       fixture 'nope' not found</error></testcase></testsuite></testsuites>`);
    assert.deepEqual(cases(r).map(brief), [
      'test_add passed 1ms @tests/test_calc.py:3',
      'test_sub failed 1ms @tests/test_calc.py:6 failed at tests/test_calc.py:8',
      'test_skip skipped 0ms @tests/test_calc.py:10',
      'test_err errored 0ms @tests/test_calc.py:13',
    ]);
    assert.equal(cases(r)[1].message, 'assert 1 == 2');
    assert.equal(cases(r)[2].message, 'not today');
    assert.equal(cases(r)[3].message, `failed on setup with "fixture 'nope' not found"`);
    assert.deepEqual(testCounts(parseJunitReport(`<testsuite name="x"><testcase name="a"/></testsuite>`)!), { total: 1, failed: 0, errors: 0, skipped: 0 });
  });

  it('pytest tracebacks (File "…", line N) point into the folder, frames outside it are skipped', () => {
    const r = report(`<testsuite name="pytest"><testcase classname="t" name="test_x" time="0.1"><failure message="ValueError">Traceback (most recent call last):
  File "/usr/lib/python3.12/unittest/case.py", line 58, in testPartExecutor
  File "/work/app/tests/test_x.py", line 21, in test_x
    raise ValueError()
ValueError</failure></testcase></testsuite>`);
    assert.deepEqual(cases(r).map(brief), ['test_x failed 100ms @tests/test_x.py:21 failed at tests/test_x.py:21']);
  });

  it('go-junit-report: CDATA bodies, file:line relative to the job, properties ignored', () => {
    const r = report(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1">
	<testsuite name="example.com/calc" tests="3" failures="1" errors="0" id="0" hostname="h" time="0.003" timestamp="2024-05-01T10:00:00Z">
		<properties>
			<property name="go.version" value="go1.22.0 linux/amd64"></property>
		</properties>
		<testcase name="TestAdd" classname="example.com/calc" time="0.000"></testcase>
		<testcase name="TestSub" classname="example.com/calc" time="0.010">
			<failure message="Failed"><![CDATA[    calc_test.go:14: got 1, want 2]]></failure>
		</testcase>
		<testcase name="TestSkip" classname="example.com/calc" time="0.000">
			<skipped message="Skipped"><![CDATA[    calc_test.go:18: later]]></skipped>
		</testcase>
	</testsuite>
</testsuites>`, { folder: '/work/app', cwd: '/work/app/calc' });
    assert.deepEqual(cases(r).map(brief), [
      'TestAdd passed 0ms @-:-',
      'TestSub failed 10ms @calc/calc_test.go:14 failed at calc/calc_test.go:14',
      'TestSkip skipped 0ms @-:-',
    ]);
    assert.equal(cases(r)[1].message, 'Failed');
    assert.equal(cases(r)[1].details, 'calc_test.go:14: got 1, want 2');
  });

  it('mocha-junit-reporter: the suite names the file (absolute), an empty root suite is left out', () => {
    const r = report(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="Mocha Tests" time="0.0140" tests="2" failures="1">
  <testsuite name="Root Suite" timestamp="2024-05-01T10:00:00" tests="0" file="/work/app/test/a.spec.js" time="0.0000" failures="0">
  </testsuite>
  <testsuite name="Array" timestamp="2024-05-01T10:00:00" tests="2" file="/work/app/test/a.spec.js" time="0.0120" failures="1">
    <testcase name="Array #indexOf() returns -1" time="0.0010" classname="returns -1">
    </testcase>
    <testcase name="Array #indexOf() finds" time="0.0010" classname="finds">
      <failure message="expected 0 to equal 1" type="AssertionError"><![CDATA[AssertionError: expected 0 to equal 1
    at Context.<anonymous> (test/a.spec.js:9:14)
    at process.processImmediate (node:internal/timers:476:21)]]></failure>
    </testcase>
  </testsuite>
</testsuites>`);
    assert.deepEqual(r.suites.map((s) => [s.name, s.file]), [['Array', 'test/a.spec.js']]);
    assert.deepEqual(cases(r).map(brief), [
      'Array #indexOf() returns -1 passed 1ms @test/a.spec.js:-',
      'Array #indexOf() finds failed 1ms @test/a.spec.js:9 failed at test/a.spec.js:9',
    ]);
    assert.equal(cases(r)[1].message, 'expected 0 to equal 1');
  });

  it('surefire: the test class names its source under src/test/java; frames of other classes do not; system-out is not the failure', () => {
    const r = report(`<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" version="3.0" name="com.acme.CalcTest" time="1,031.5" tests="4" errors="1" skipped="1" failures="1">
  <properties>
    <property name="java.version" value="17"/>
  </properties>
  <testcase name="adds" classname="com.acme.CalcTest" time="0.002"/>
  <testcase name="subtracts" classname="com.acme.CalcTest" time="0.011">
    <failure message="expected: &lt;2&gt; but was: &lt;1&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <2> but was: <1>
	at org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)
	at com.acme.CalcTest.subtracts(CalcTest.java:17)
]]></failure>
    <system-out><![CDATA[printed at Other.java:3]]></system-out>
  </testcase>
  <testcase name="divides" classname="com.acme.CalcTest" time="0.001">
    <error message="/ by zero" type="java.lang.ArithmeticException"><![CDATA[java.lang.ArithmeticException: / by zero
	at com.acme.Calc.divide(Calc.java:9)
	at com.acme.CalcTest$Nested.divides(CalcTest.java:22)
]]></error>
  </testcase>
  <testcase name="later" classname="com.acme.CalcTest" time="0"><skipped message="@Disabled"/></testcase>
</testsuite>`);
    assert.equal(r.suites[0].durationMs, 1_031_500);
    assert.deepEqual(cases(r).map(brief), [
      'adds passed 2ms @-:-',
      'subtracts failed 11ms @src/test/java/com/acme/CalcTest.java:17 failed at src/test/java/com/acme/CalcTest.java:17',
      'divides errored 1ms @src/test/java/com/acme/CalcTest.java:22 failed at src/test/java/com/acme/CalcTest.java:22',
      'later skipped 0ms @-:-',
    ]);
    assert.equal(cases(r)[1].message, 'expected: <2> but was: <1>');
    assert.doesNotMatch(cases(r)[1].details ?? '', /printed/);
    // A JVM frame of a class that is not the test's has no path here.
    const other = report(`<testsuite name="s"><testcase name="t" classname="com.acme.CalcTest"><failure>at org.junit.Assert.fail(Assert.java:89)</failure></testcase></testsuite>`);
    assert.deepEqual(cases(other).map(brief), ['t failed -ms @-:-']);
  });

  it('file= and line= attributes win for the test; a relative file is relative to the job; paths of the job workspace are the folder', () => {
    const r = report(
      `<testsuite name="s">
        <testcase name="a" file="/tmp/ws/job1/pkg/a_test.ts" line="7"><failure message="boom">at x (/tmp/ws/job1/pkg/helper.ts:3:1)
at y (/tmp/ws/job1/pkg/a_test.ts:9:2)</failure></testcase>
        <testcase name="b" file="b_test.ts" line="4"/>
        <testcase name="c" file="/etc/passwd" line="1"/>
        <testcase name="d" file="../../outside.ts" line="1"/>
      </testsuite>`,
      { folder: '/work/app', cwd: '/tmp/ws/job1/pkg', workspace: '/tmp/ws/job1' },
    );
    assert.deepEqual(cases(r).map(brief), [
      'a failed -ms @pkg/a_test.ts:7 failed at pkg/a_test.ts:9',
      'b passed -ms @pkg/b_test.ts:4',
      'c passed -ms @-:-',
      'd passed -ms @-:-',
    ]);
  });

  it('failure beats error beats skipped; texts are decoded and clipped; cases outside a suite get one', () => {
    const r = parseJunitReport(`<testcase name="x &amp; y &#x263A; &#65;"><skipped message="s"/><error message="e"/><failure message="f">body &lt;1&gt;</failure></testcase>
<testcase name='q' time='oops'><failure>${'z'.repeat(MAX_TEST_TEXT + 10)}</failure></testcase>`)!;
    assert.equal(r.suites.length, 1);
    const [x, q] = r.suites[0].cases;
    assert.equal(x.name, 'x & y ☺ A');
    assert.deepEqual([x.status, x.message, x.details], ['failed', 'f', 'body <1>']);
    assert.equal(q.durationMs, null);
    assert.equal(q.details?.length, MAX_TEST_TEXT + 1);
  });

  it('counts: cases when listed, else the innermost suites’ totals; not a report: null', () => {
    assert.deepEqual(parseJunit('<testsuite name="a"><testcase name="1"/><testcase name="2"><failure/></testcase><testcase name="3"><skipped/></testcase><testcase name="4"><error/></testcase></testsuite>'), { total: 4, failed: 1, errors: 1, skipped: 1 });
    assert.deepEqual(parseJunit('<testsuites tests="9"><testsuite name="a" tests="5" failures="2" errors="1" skipped="1"/><testsuite name="b" tests="4"></testsuite></testsuites>'), { total: 9, failed: 2, errors: 1, skipped: 1 });
    assert.deepEqual(parseJunit('<testsuite name="outer" tests="3"><testsuite name="inner" tests="3" failures="1"></testsuite></testsuite>'), { total: 3, failed: 1, errors: 0, skipped: 0 });
    assert.equal(parseJunit('<html><body>not a report</body></html>'), null);
    assert.equal(parseJunitReport('{"tests": 1}'), null);
  });

  it('a report of 5,000 cases parses and is located in one pass', () => {
    const body = Array.from({ length: 5000 }, (_, i) =>
      i % 100 === 0
        ? `<testcase classname="s" name="t${i}" time="0.001"><failure message="m">Error\n    at f (/work/app/src/t${i}.test.ts:${i + 1}:3)</failure></testcase>`
        : `<testcase classname="s" name="t${i}" time="0.001"/>`,
    ).join('\n');
    const r = report(`<testsuites><testsuite name="big">${body}</testsuite></testsuites>`);
    assert.equal(cases(r).length, 5000);
    assert.deepEqual(testCounts(r), { total: 5000, failed: 50, errors: 0, skipped: 0 });
    assert.deepEqual(cases(r)[4900].failedAt, { file: 'src/t4900.test.ts', line: 4901 });
  });
});

describe('JUnit reports: test tree nodes', () => {
  it('suites of the same name and file merge; same-named suites of other files and repeated cases stay apart', () => {
    const r = report(`<testsuites>
      <testsuite name="Array" file="/work/app/test/a.spec.js"><testcase classname="c" name="finds"/><testcase classname="c" name="finds"><failure/></testcase></testsuite>
      <testsuite name="Array" file="/work/app/test/b.spec.js"><testcase classname="Array" name="finds"/></testsuite>
      <testsuite name="Array" file="/work/app/test/a.spec.js"><testcase classname="c" name="sorts"/><testcase classname="c" name="finds"/></testsuite>
    </testsuites>`);
    const nodes = testNodes('job', r);
    assert.deepEqual(
      nodes.map((s) => [s.id, s.label, s.description, s.children.map((c) => [c.id, c.label, c.description, c.result?.status])]),
      [
        ['job/Array@test/a.spec.js', 'Array', 'test/a.spec.js', [
          ['job/Array@test/a.spec.js/c::finds', 'finds', 'c', 'passed'],
          ['job/Array@test/a.spec.js/c::finds#2', 'finds', 'c', 'failed'],
          ['job/Array@test/a.spec.js/c::sorts', 'sorts', 'c', 'passed'],
          ['job/Array@test/a.spec.js/c::finds#3', 'finds', 'c', 'passed'],
        ]],
        ['job/Array@test/b.spec.js', 'Array', 'test/b.spec.js', [['job/Array@test/b.spec.js/Array::finds', 'finds', null, 'passed']]],
      ],
    );
  });
});
