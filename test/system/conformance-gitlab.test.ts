// gitlab-ci-local conformance: every case of /work/shared/conformance/gitlab-ci-local (see its README.md) read by
// our importer, planned and run for real (bash, LocalProcessRunner, FileRunStore) in a scratch git repository,
// with the stated outcomes checked. gitlab-ci-local's output lines (`<job> > text`, `<job> $ cmd`, ` PASS  job`,
// `<job> environment: {...}`) are rendered from our run record and job output, then compared as the README says.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { startRun } from '../../src/core/engine/engine';
import type { RunRequest } from '../../src/core/engine/select';
import { importGitlabCi, type GitlabPipeline, type PreparedRun } from '../../src/core/gitlab/importer';
import type { PlanContext } from '../../src/core/sources';
import type { JobRecord, Problem, RunRecord } from '../../src/shared/model';
import { requireTool } from '../support/requireTool';
import { cleanupTempDirs, git, tempDir, testPlanIO } from '../support/tmp';
import { importContext } from '../support/gitlabSupport';
import { planFacts, systemClock } from '../../src/adapters/clock';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CONFORMANCE = path.resolve(REPO_ROOT, '../shared/conformance');
const SUITE = path.join(CONFORMANCE, 'gitlab-ci-local');

/** The git context the expectations assume (README, "Context the expectations assume"). */
const GIT: NonNullable<PlanContext['git']> = {
  sha: '02618988a1864b3d06cfee3bd79f8baa2dd21407',
  ref: 'refs/heads/master',
  branch: 'master',
  defaultBranch: 'main',
  remoteUrl: 'git@gitlab.com:gcl/test-project.git',
  author: { name: 'Testersen', email: 'test@test.com' },
};

interface IndexEntry {
  suite: string;
  case: string;
  shellRunnable: boolean;
  notRunnableReason?: string;
}

interface Expected {
  name: string;
  command: string[];
  shouldFail?: boolean;
  errorEquals?: string;
  errorContains?: string[];
  jobs?: Record<string, 'pass' | 'fail' | 'warn' | 'skipped'>;
  stdoutEquals?: string;
  stdoutContains?: string[];
  stdoutSequence?: string[];
  stdoutContainsText?: string[];
  stdoutNotContains?: string[];
  stdoutLineCount?: Record<string, number>;
  stdoutFiltered?: { prefixes: string[]; equals: string[] };
  stderrContains?: string[];
  stderrContainsText?: string[];
  stderrNotContains?: string[];
  stderrLineCount?: Record<string, number>;
  listDescriptions?: Record<string, string>;
  needsDocker?: boolean;
  needsNetwork?: boolean;
}

/**
 * Upstream error texts and what our (located, differently worded) message for the same mistake must say.
 * Texts not listed here must appear in our message as they are.
 */
const ERROR_EQUIVALENTS: Record<string, RegExp> = {
  'stages: must be an array': /stages: must be a list of stage names, not the string "test"/,
  '`../include-local/.gitlab-ci.yml` for include:local is invalid. Gitlab does not support directory traversal.':
    /`\.\.\/include-local\/\.gitlab-ci\.yml` for include:local is invalid: GitLab does not support directory traversal/,
  '`./.gitlab-ci.yml` for include:local is invalid. Gitlab does not support relative path (ie. cannot start with `./`).':
    /`\.\/\.gitlab-ci\.yml` for include:local is invalid: .*cannot start with \.\//,
  'pre-job is when:manual, its needed by test-job, and not specified in --manual': /pre-job is a manual job and test-job needs it/,
  "test-job needs: 'one,three' doesn't fully contain dependencies: 'one,two'": /job "test-job": dependencies \(one, two\) must all be in needs \(one, three\); not in needs: two/,
  'needs: [invalid] for test-job could not be found': /job "test-job" needs "invalid", which is not a job in this pipeline/,
  'notfound could not be found': /no job named "notfound"/,
  'test-job.script config should be string or a nested array of strings up to 10 level deep':
    /job "test-job": script must be a string or a list of strings \(nested lists up to 10 levels deep\); this one is 11 levels deep/,
  'dev-job needs: entries cannot be empty': /job "dev-job" needs: entries cannot be empty/,
  "job rules: config can't be blank": /job "job" rules: config can't be blank/,
  'test-job has empty script': /job "test-job": script is empty/,
  'jobs:test-job when:never can only be used in a rules section or workflow:rules': /job "test-job": when:never can only be used in a rules section or workflow:rules/,
  '`array_input` input: provided value is not a array.': /`array_input` input: provided value is not an array\./,
  'header:spec:inputs:unsupported_type_input input type unknown value: foo.': /spec:inputs:unsupported_type_input input type unknown value: foo/,
};

/** Checks that state a limitation of gitlab-ci-local itself rather than an outcome; not applicable here. */
const NOT_APPLICABLE: Record<string, string> = {
  'interpolation functions is currently not supported':
    'gitlab-ci-local warns that it ignores interpolation functions; this runner implements them (expand_vars, truncate, posix_escape)',
};

/**
 * needsDocker tests whose stated output does not depend on the image: also run in the shell (images allowed).
 * Not "inherit:variables with a list...": it expects `env` in busybox's order; bash lists its environment in
 * hash order (the variables themselves are checked in gitlab.test.ts).
 */
const SHELL_EQUIVALENT = new Set(['inherit:variables false hides all global variables', "rules:allow_failure false overrides the job's allow_failure"]);

interface Command {
  cwd: string;
  file: string;
  request: RunRequest;
  stage: string | null;
  mode: 'run' | 'list' | 'list-csv' | 'preview';
}

function parseCommand(args: string[]): Command {
  const c: Command = { cwd: '.', file: '.gitlab-ci.yml', request: {}, stage: null, mode: 'run' };
  const jobs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = () => args[++i];
    switch (a) {
      case '--cwd':
        c.cwd = next();
        break;
      case '--file':
        c.file = next();
        break;
      case '--needs':
        c.request.withNeeds = true;
        break;
      case '--manual':
        (c.request.manual ??= []).push(next());
        break;
      case '--stage':
        c.stage = next();
        break;
      case '--variable': {
        const [k, ...v] = next().split('=');
        c.request.variables = { ...c.request.variables, [k]: v.join('=') };
        break;
      }
      case '--unset-variable':
        (c.request.unsetVariables ??= []).push(next());
        break;
      case '--list':
        c.mode = 'list';
        break;
      case '--list-csv':
        c.mode = 'list-csv';
        break;
      case '--preview':
        c.mode = 'preview';
        break;
      case '--concurrency':
      case '--maximum-includes':
        next();
        break;
      case '--shell-isolation': // jobs here pass nothing between them through artifacts
      case '--json-schema-validation': // our reader always validates
      case '--no-color':
        break;
      default:
        if (a.startsWith('--')) throw new Error(`unknown gitlab-ci-local option ${a} in expected.json`);
        jobs.push(a);
    }
  }
  if (jobs.length) c.request.jobs = jobs;
  return c;
}

const norm = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').trim().replace(/[ \t]+/g, ' ');

/** A scratch copy of the project folder, made a git repository on branch master with the stated remote. */
function scratchProject(caseDir: string, cwd: string): string {
  const dir = tempDir('gitlab-conformance-');
  fs.cpSync(path.join(caseDir, cwd), dir, { recursive: true });
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) fs.chmodSync(path.join(dir, f), fs.statSync(path.join(dir, f)).isDirectory() ? 0o755 : 0o644);
  git(dir, 'init', '-q', '-b', 'master');
  git(dir, 'remote', 'add', 'origin', GIT.remoteUrl!);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'fixture');
  return dir;
}

interface Outcome {
  error: string | null;
  importProblems: Problem[];
  pipeline: GitlabPipeline | null;
  prepared: PreparedRun | null;
  run: RunRecord | null;
  stdout: string[];
  stderr: string[];
}

async function execute(caseDir: string, cmd: Command, allowImages = false): Promise<Outcome> {
  const folder = scratchProject(caseDir, cmd.cwd);
  const ctx = importContext(folder);
  const text = fs.readFileSync(path.join(folder, cmd.file), 'utf8');
  const imported = await importGitlabCi({ path: cmd.file, text }, ctx);
  const out: Outcome = { error: null, importProblems: imported.problems, pipeline: imported.pipelines[0] ?? null, prepared: null, run: null, stdout: [], stderr: [] };
  out.stderr.push(...imported.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`));
  const importErrors = imported.problems.filter((p) => p.severity === 'error');
  if (importErrors.length || !out.pipeline) {
    out.error = importErrors.map((p) => p.message).join('\n') || 'no pipeline';
    return out;
  }
  const request: RunRequest = { ...cmd.request, forceShellExecutor: allowImages };
  if (cmd.stage) request.jobs = out.pipeline.def.jobs.filter((j) => j.stage === cmd.stage).map((j) => j.id);
  const planCtx: PlanContext = { ...planFacts(), folder, git: GIT, io: testPlanIO };
  const prepared = await out.pipeline.prepare(request, planCtx);
  if ('error' in prepared) {
    out.error = [prepared.error, ...prepared.problems.filter((p) => p.severity === 'error').map((p) => p.message)].join('\n');
    return out;
  }
  out.prepared = prepared;
  if (cmd.mode !== 'run') return out;
  const store = new FileRunStore(path.join(tempDir('gitlab-conformance-state-'), 'state'));
  const handle = startRun(prepared.plan, { id: newRunId(), folder, trigger: 'cli', sha: GIT.sha, pid: process.pid }, { runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock, store, parallelism: 4 });
  const lines = new Map<string, { stream: string; text: string }[]>();
  handle.onEvent((e) => {
    if (e.type === 'line' && e.stream !== 'system') lines.set(e.jobId, [...(lines.get(e.jobId) ?? []), { stream: e.stream, text: e.text }]);
  });
  out.run = await handle.done;
  render(out, lines);
  return out;
}

/** gitlab-ci-local's output lines for our run: job output, environments, then the end-of-run summary. */
function render(out: Outcome, lines: Map<string, { stream: string; text: string }[]>): void {
  const run = out.run!;
  for (const job of run.jobs) {
    if (job.startedAt === null) continue;
    const env = out.prepared!.jobs.find((j) => j.id === job.id)?.environment;
    if (env) out.stdout.push(`${job.id} environment: { name: ${env.name}${env.url ? `, url: ${env.url}` : ''} }`);
    for (const l of lines.get(job.id) ?? []) {
      const rendered = l.text.startsWith('$ ') ? `${job.id} ${l.text}` : `${job.id} > ${l.text}`;
      (l.stream === 'stderr' ? out.stderr : out.stdout).push(rendered);
    }
  }
  for (const job of run.jobs) {
    const output = (lines.get(job.id) ?? []).filter((l) => !l.text.startsWith('$ ')).map((l) => `  > ${l.text}`);
    if (job.steps.find((s) => s.name === 'after_script')?.status === 'failed') out.stdout.push(` WARN  ${job.id}  after_script`);
    if (job.status === 'success') out.stdout.push(` PASS  ${job.id}`);
    else if (job.status === 'failed' && job.allowFailure) out.stdout.push(` WARN  ${job.id}  pre_script`, ...output.slice(-3));
    else if (job.status === 'failed') out.stdout.push(` FAIL  ${job.id}`, ...output.slice(-3));
  }
}

function checkError(t: Expected, error: string): void {
  const expected = [...(t.errorEquals ? [t.errorEquals] : []), ...(t.errorContains ?? [])];
  for (const e of expected) {
    const text = e.replace(/^This Git[Ll]ab CI configuration is invalid:\s*/, '');
    if (text === '') continue; // only says that the configuration is invalid, which the error itself shows
    const equivalent = ERROR_EQUIVALENTS[text];
    if (equivalent) assert.match(error, equivalent, `our error for "${e}"`);
    else assert.ok(error.includes(text), `error should contain ${JSON.stringify(text)}; it is:\n${error}`);
  }
}

function checkJobs(t: Expected, run: RunRecord): void {
  for (const [id, want] of Object.entries(t.jobs ?? {})) {
    const job: JobRecord | undefined = run.jobs.find((j) => j.id === id);
    const got = !job || job.startedAt === null ? 'skipped' : job.status === 'success' ? 'pass' : job.status === 'failed' ? (job.allowFailure ? 'warn' : 'fail') : job.status;
    assert.equal(got, want, `job "${id}": ${job ? `${job.status}${job.reason ? ` (${job.reason})` : ''}` : 'not in the run'}`);
  }
}

function checkOutput(label: string, lines: string[], checks: { contains?: string[]; sequence?: string[]; text?: string[]; not?: string[]; count?: Record<string, number>; filtered?: { prefixes: string[]; equals: string[] } }): void {
  const got = lines.map(norm);
  const whole = got.join('\n');
  const show = () => `\n--- ${label} ---\n${lines.join('\n')}`;
  for (const c of checks.contains ?? []) assert.ok(got.includes(norm(c)), `${label} should have the line ${JSON.stringify(c)}${show()}`);
  if (checks.sequence) {
    const want = checks.sequence.map(norm);
    const start = got.findIndex((_, i) => want.every((w, k) => got[i + k] === w));
    assert.ok(start >= 0, `${label} should have the lines ${JSON.stringify(checks.sequence)} one after another${show()}`);
  }
  for (const c of checks.text ?? []) {
    if (NOT_APPLICABLE[c]) continue;
    assert.ok(whole.includes(norm(c)), `${label} should contain ${JSON.stringify(c)}${show()}`);
  }
  for (const c of checks.not ?? []) assert.ok(!whole.includes(norm(c)), `${label} should not contain ${JSON.stringify(c)}${show()}`);
  for (const [c, n] of Object.entries(checks.count ?? {})) {
    assert.equal(got.filter((l) => l.includes(norm(c))).length, n, `${label}: lines containing ${JSON.stringify(c)}${show()}`);
  }
  if (checks.filtered) {
    const prefixes = checks.filtered.prefixes.map(norm);
    assert.deepEqual(got.filter((l) => prefixes.some((p) => l.startsWith(p))), checks.filtered.equals.map(norm), `${label} filtered by ${prefixes.join(', ')}${show()}`);
  }
}

/** `--list` / `--list-csv` rows from our resolved jobs, compared column by column with the expected table. */
function checkList(t: Expected, cmd: Command, prepared: PreparedRun): void {
  const rows = prepared.jobs
    .filter((j) => !j.excluded)
    .map((j) => ({
      name: j.id,
      description: j.job.description ?? '',
      stage: j.job.stage,
      when: j.when,
      allow_failure: String(j.allowFailure),
      environment: j.environment?.name ?? '',
      needs: j.needs && j.needs.length ? `[${j.needs.map((n) => n.id).join(',')}]` : '',
    }));
  for (const [name, description] of Object.entries(t.listDescriptions ?? {})) {
    assert.equal(rows.find((r) => r.name === name)?.description, description, `description of ${name}`);
  }
  const lines = t.stdoutContains ?? [];
  if (lines.length === 0) return;
  let parseRow: (line: string) => Record<string, string>;
  if (cmd.mode === 'list-csv') {
    const header = lines[0].split(';').map((h) => (h === 'allowFailure' ? 'allow_failure' : h));
    parseRow = (line) => Object.fromEntries(line.split(';').map((v, i) => [header[i], v]));
  } else {
    const header = lines[0];
    const cols = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
    parseRow = (line) => Object.fromEntries(cols.map((c, i) => [c.name, line.slice(c.at, cols[i + 1]?.at ?? line.length).trim()]));
  }
  for (const line of lines.slice(1)) {
    const want = parseRow(line);
    const got = rows.find((r) => r.name === want.name);
    assert.ok(got, `--list row for ${want.name}`);
    for (const [k, v] of Object.entries(want)) assert.equal((got as Record<string, string>)[k], v, `--list ${want.name}: ${k}`);
  }
}

/** `--preview` (the expanded YAML): stages, the set of jobs, each job's script lines and image, against our JobDefs. */
function checkPreview(t: Expected, pipeline: GitlabPipeline): void {
  const preview = parseYaml(t.stdoutEquals!) as Record<string, unknown>;
  assert.deepEqual(pipeline.def.stages, preview.stages, 'stages');
  const jobs = Object.entries(preview).filter(([k]) => k !== 'stages') as [string, Record<string, unknown>][];
  assert.deepEqual(pipeline.def.jobs.map((j) => j.id).sort(), jobs.map(([k]) => k).sort(), 'jobs');
  const lines = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.flat(20).map(String) : [String(v)]);
  for (const [id, job] of jobs) {
    const def = pipeline.def.jobs.find((j) => j.id === id)!;
    assert.deepEqual(def.steps.map((s) => s.script), [...lines(job.before_script), ...lines(job.script), ...lines(job.after_script)], `script lines of ${id}`);
    const image = (job as { image?: { name: string } }).image;
    assert.equal(def.image ?? null, image ? image.name : null, `image of ${id}`);
    assert.equal(def.unsupported, null, `${id} runs (in a container when it has an image)`);
  }
}

async function check(caseDir: string, t: Expected, allowImages = false): Promise<void> {
  const cmd = parseCommand(t.command);
  const out = await execute(caseDir, cmd, allowImages);
  if (t.shouldFail) {
    assert.ok(out.error, `the command should stop with a configuration error${out.run ? `; the run ended ${out.run.status}` : ''}`);
    checkError(t, out.error);
    return;
  }
  assert.equal(out.error, null, `no configuration error expected:\n${out.error}`);
  if (cmd.mode === 'preview') return checkPreview(t, out.pipeline!);
  if (cmd.mode === 'list' || cmd.mode === 'list-csv') return checkList(t, cmd, out.prepared!);
  checkJobs(t, out.run!);
  checkOutput('stdout', out.stdout, { contains: t.stdoutContains, sequence: t.stdoutSequence, text: t.stdoutContainsText, not: t.stdoutNotContains, count: t.stdoutLineCount, filtered: t.stdoutFiltered });
  checkOutput('stderr', out.stderr, { contains: t.stderrContains, text: t.stderrContainsText, not: t.stderrNotContains, count: t.stderrLineCount });
}

/** For tests that need Docker or the network: the reason we give must name what is missing. */
async function checkUnsupported(caseDir: string, t: Expected): Promise<void> {
  const cmd = parseCommand(t.command);
  const out = await execute(caseDir, cmd);
  const reasons = [
    ...out.importProblems.filter((p) => p.severity === 'warning').map((p) => p.message),
    ...(out.prepared?.plan.jobs.map((j) => j.unsupported).filter((u): u is string => !!u) ?? []),
  ];
  if (t.needsDocker) {
    const inImages = out.prepared?.plan.jobs.filter((j) => j.executor?.kind === 'container') ?? [];
    assert.ok(inImages.length > 0 || reasons.some((r) => /image/.test(r)), `a job should be planned to run in a container because it needs Docker; reasons: ${JSON.stringify(reasons)}`);
  }
  if (t.needsNetwork) {
    assert.ok(reasons.some((r) => /needs (the network|GitLab's template library|access to another GitLab project)|downstream pipeline/.test(r)), `the network need should be reported; reasons: ${JSON.stringify(reasons)}`);
  }
}

describe('conformance: gitlab-ci-local cases', function () {
  this.timeout(60_000);
  after(cleanupTempDirs);

  if (!fs.existsSync(path.join(CONFORMANCE, 'INDEX.json'))) {
    it('conformance fixtures are present', function () {
      requireTool(this, `the shared conformance fixtures are not at ${CONFORMANCE} (they live beside this repository, in ../shared/conformance)`);
    });
    return;
  }
  const index = (JSON.parse(fs.readFileSync(path.join(CONFORMANCE, 'INDEX.json'), 'utf8')) as IndexEntry[]).filter((e) => e.suite === 'gitlab-ci-local');

  for (const entry of index) {
    const caseDir = path.join(SUITE, entry.case);
    const expected = JSON.parse(fs.readFileSync(path.join(caseDir, 'expected.json'), 'utf8')) as { tests: Expected[] };
    describe(`${entry.case}${entry.shellRunnable ? '' : ` (not shell-runnable: ${entry.notRunnableReason})`}`, () => {
      for (const t of expected.tests) {
        if (t.needsDocker || t.needsNetwork) {
          it(`${t.name} — reported as unsupported locally`, () => checkUnsupported(caseDir, t));
          if (SHELL_EQUIVALENT.has(t.name)) it(`${t.name} — in the local shell with images allowed`, () => check(caseDir, t, true));
          continue;
        }
        it(t.name, () => check(caseDir, t));
      }
    });
  }
});
