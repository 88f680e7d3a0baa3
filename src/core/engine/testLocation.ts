// Where a test case is, relative to the run's folder: the report's `file`/`line` attributes, else the first frame
// of its failure text that lies in the folder (`at f (src/x.ts:12:5)`, `File "tests/t.py", line 3`, `x_test.go:12:`).
import * as path from 'node:path';
import type { TestCaseRecord, TestLocation, TestReportRecord } from '../../shared/model';

export interface TestPaths {
  /** The run's folder (absolute): where locations are relative to. */
  folder: string;
  /** The job's working directory (absolute): what relative paths in its reports start from. */
  cwd: string;
  /** The job's own workspace (absolute), a copy of the folder: paths in it are paths in the folder. */
  workspace?: string;
}

/** The report with every `file` relative to the folder ('/'-separated), and a location found for failed cases. */
export function locateTests(report: TestReportRecord, where: TestPaths): TestReportRecord {
  const roots = [where.workspace, where.folder].filter((r): r is string => !!r).map(slashes);
  const cwd = slashes(where.cwd);
  const rel = (p: string | null) => (p ? inFolder(p, cwd, roots) : null);
  return {
    suites: report.suites.map((s) => {
      const suiteFile = rel(s.file);
      return { ...s, file: suiteFile, cases: s.cases.map((c) => locateCase(c, suiteFile, cwd, roots)) };
    }),
  };
}

function locateCase(c: TestCaseRecord, suiteFile: string | null, cwd: string, roots: string[]): TestCaseRecord {
  const file = c.file ? inFolder(c.file, cwd, roots) : null;
  // Only what failed has a stack worth reading (and 5,000 passing cases cost no regular expression).
  const failedAt = c.status === 'failed' || c.status === 'errored' ? firstFrame(`${c.details ?? ''}\n${c.message ?? ''}`, c, cwd, roots, file) : null;
  if (file) return { ...c, file, failedAt };
  if (failedAt) return { ...c, file: failedAt.file, line: failedAt.line, failedAt };
  return { ...c, file: suiteFile, line: null, failedAt: null };
}

/** Frames a stack or a message names: [path, line]. Global: a fresh lastIndex for each text (see firstFrame). */
const FRAMES: { re: RegExp; path: number; line: number }[] = [
  // Python: File "tests/test_x.py", line 12, in test_a
  { re: /File "([^"\n]+)", line (\d+)/g, path: 1, line: 2 },
  // JVM: at com.acme.BarTest.testX(BarTest.java:42): the class names the folder (Maven/Gradle test sources).
  { re: /at ((?:[\w$]+\.)+)[\w$<>]+\(([\w$]+\.(?:java|kt|groovy|scala)):(\d+)\)/g, path: -1, line: 3 },
  // JavaScript/TypeScript stacks, Go, Rust, compilers: path:line[:column], a path with an extension.
  { re: /(?:^|[\s(])((?:[A-Za-z]:)?[^\s()'"<>:]*\.[A-Za-z][A-Za-z0-9]*):(\d+)(?::\d+)?/gm, path: 1, line: 2 },
];

const JVM_FILE = /\.(?:java|kt|groovy|scala)$/;
const JVM_SOURCE_ROOTS = ['src/test/java', 'src/test/kotlin', 'src/test/groovy', 'src/test/scala'];

function firstFrame(text: string, c: TestCaseRecord, cwd: string, roots: string[], caseFile: string | null): TestLocation | null {
  let first: TestLocation | null = null;
  for (const f of FRAMES) {
    f.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = f.re.exec(text)) !== null) {
      const line = Number(m[f.line]);
      if (!(line > 0)) continue;
      let found: string | null;
      if (f.path === -1) {
        // Only the test's own class (Outer$Inner is in Outer.java): its package says where its source is.
        const cls = m[1].slice(0, -1).split('$')[0];
        const file = m[2];
        if (!c.classname || c.classname.split('$')[0] !== cls || cls.slice(cls.lastIndexOf('.') + 1) !== file.slice(0, file.lastIndexOf('.'))) continue;
        const ext = file.slice(file.lastIndexOf('.') + 1);
        const root = JVM_SOURCE_ROOTS.find((r) => r.endsWith(ext === 'kt' ? 'kotlin' : ext)) ?? JVM_SOURCE_ROOTS[0];
        found = inFolder(`${root}/${cls.slice(0, cls.lastIndexOf('.') + 1).replace(/\./g, '/')}${file}`, cwd, roots);
      } else if (JVM_FILE.test(m[f.path])) continue; // a frame of a class outside the test: no path to it
      else found = inFolder(m[f.path], cwd, roots);
      if (!found || /(^|\/)node_modules\//.test(found)) continue;
      // The case's own file, when the report names it, is the frame to show.
      if (!caseFile || found === caseFile) return { file: found, line };
      first ??= { file: found, line };
    }
  }
  return first;
}

/** `p` (absolute, or relative to `cwd`) as a path inside one of `roots`, relative to it; null when outside. */
function inFolder(p: string, cwd: string, roots: string[]): string | null {
  let s = slashes(p.startsWith('file://') ? decodeURIComponent(p.slice(7)) : p);
  if (!path.posix.isAbsolute(s) && !/^[A-Za-z]:\//.test(s)) s = path.posix.join(cwd, s);
  s = path.posix.normalize(s);
  for (const root of roots) {
    const prefix = root.endsWith('/') ? root : `${root}/`;
    if (s.startsWith(prefix) && s.length > prefix.length) return s.slice(prefix.length);
  }
  return null;
}

function slashes(p: string): string {
  return p.replace(/\\/g, '/');
}
