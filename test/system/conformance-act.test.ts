// act conformance: every case of ../shared/conformance/act (see its README.md) read by our GitHub importer, planned
// and run for real (LocalProcessRunner, FileRunStore) in a scratch copy of the act/ folder, which is the workspace
// the expectations assume. Shell-runnable cases must reach their stated outcome; for the others the import or the
// plan must name what is missing (image, service, remote action...), and the parts we claim to run must pass.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { globFiles } from '../../src/adapters/files';
import { LocalProcessRunner } from '../../src/adapters/processRunner';
import { FileRunStore, newRunId } from '../../src/adapters/runStore';
import { startRun } from '../../src/core/engine/engine';
import type { RunRequest } from '../../src/core/engine/select';
import { importWorkflow, type GithubPipeline } from '../../src/core/github/importer';
import { readAction } from '../../src/core/github/workflow';
import type { ImportContext, PlanContext } from '../../src/core/sources';
import type { Problem, RunRecord } from '../../src/shared/model';
import { requireTool, skipWithoutOptionalTool } from '../support/requireTool';
import { cleanupTempDirs, tempDir, testPlanIO } from '../support/tmp';
import { planFacts, systemClock } from '../../src/adapters/clock';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const CONFORMANCE = path.resolve(REPO_ROOT, '../shared/conformance');
const SUITE = path.join(CONFORMANCE, 'act');

/**
 * The context act gives a run (README, "Context the expectations assume"): actor nektos/act, repository owner
 * nektos, ACT=true. These are act's values, passed here — not defaults of the product.
 */
const GIT: NonNullable<PlanContext['git']> = {
  sha: 'bd86152165b976e89c24093ceb039d732b5ed95f',
  ref: 'refs/heads/master',
  branch: 'master',
  defaultBranch: 'master',
  remoteUrl: 'https://github.com/nektos/act.git',
  author: { name: 'nektos/act', email: 'act@example.invalid' },
};
const ACT_VARIABLES = { ACT: 'true' };

interface IndexEntry {
  suite: string;
  case: string;
  shellRunnable: boolean;
  notRunnableReason?: string;
}

interface ActTest {
  name: string;
  workflows: string;
  event: string;
  eventPayload?: string;
  mode: 'container' | 'host' | 'dry-run' | 'plan';
  secrets?: Record<string, string>;
  plan?: string[][];
  shouldFail?: boolean;
  jobs?: Record<string, 'fail'>;
  needsNetwork?: boolean;
}

/** For each case that is not shell-runnable: texts our reasons must contain (what is missing). */
const MISSING: Record<string, string[]> = {
  basic: ['docker://node:16-buster-slim', './actions/action1'],
  fail: ['node:16-buster-slim'],
  'GITHUB_ENV-use-in-env-ctx': ['nektos/act-test-actions/script@main'],
  'issue-598': ['actions/hello-world-javascript-action@main'],
  // Without a container engine the run stops at the first Docker action (the next step reads what it sets);
  // conformance-act-containers.test.ts runs them all.
  'local-action-dockerfile': ['./actions/docker-local'],
  'no-panic-on-invalid-composite-action': ['nektos/act-test-actions/invalid-composite-action/invalid-step@main', 'nektos/act-test-actions/invalid-composite-action/missing-steps@main'],
  services: ['postgres:12'],
  shells: ['node:16-buster-slim', 'alpine:latest', 'catthehacker/ubuntu:pwsh-latest', 'node:16-buster'],
  'uses-nested-composite': ['actions/setup-node@v3'],
  'uses-workflow': ['nektos/act-test-actions/.github/workflows/reusable-workflow.yml@main', 'secret "secret" is not defined in .github/workflows/local-reusable-workflow.yml'],
};

/**
 * Cases whose remote actions are fetched when the step runs: the test host (test/support/tmp.ts) does not exist,
 * so the run names each of them as unsupported (and never runs GitHub's code).
 */
// Docker actions are decided when their step starts too (whether a container engine answers).
const FETCHED_AT_RUN = new Set(['GITHUB_ENV-use-in-env-ctx', 'issue-598', 'no-panic-on-invalid-composite-action', 'uses-nested-composite', 'basic', 'local-action-dockerfile']);

/**
 * Calls GitHub refuses before a run starts, which act runs anyway: the plan must refuse them with GitHub's reason.
 * local-workflow.yml passes `secrets: secret: …` to a reusable workflow that declares no secrets ("secret 'secret'
 * is not defined in the referenced workflow" on GitHub).
 */
const REFUSED: Record<string, { file: string; error: RegExp }> = {
  'uses-workflow': { file: 'uses-workflow/local-workflow.yml', error: /:5:3: job "reusable-workflow": secret "secret" is not defined in \.github\/workflows\/local-reusable-workflow\.yml/ },
};

/**
 * Cases that act cannot run without a remote action only because of `actions/checkout` of the workspace itself,
 * which is a no-op here: we run them and check the stated outcome.
 */
const CHECKOUT_ONLY = new Set(['act-composite-env-test', 'if-expressions', 'uses-composite', 'uses-composite-check-for-input-shadowing']);

/** Cases nothing in the workflow marks as needing more than a shell, that must still not run here. */
const NOT_RUN: Record<string, string> = {
  networking: 'installs packages with apt as root and pings the host; nothing in the workflow says so, so there is no reason to report, and it must not run on a developer machine',
};

const available = fs.existsSync(path.join(CONFORMANCE, 'INDEX.json'));
const commandExists = (cmd: string) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, cmd)));

function importContext(root: string): ImportContext {
  return {
    readFile: async (rel) => {
      try {
        return fs.readFileSync(path.join(root, rel), 'utf8');
      } catch {
        return null;
      }
    },
    listFiles: (glob) => globFiles(root, [glob]),
  };
}

/** A scratch copy of act/ (some cases write files into the workspace). */
function workspace(): string {
  const dir = path.join(tempDir('delivery-act-'), 'act');
  fs.cpSync(SUITE, dir, { recursive: true });
  return dir;
}

function workflowFiles(root: string, target: string): string[] {
  const abs = path.join(root, target);
  const files = fs.statSync(abs).isFile() ? [abs] : fs.readdirSync(abs).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(abs, f));
  return files.map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
}

interface Imported {
  pipelines: GithubPipeline[];
  problems: Problem[];
}

async function importAll(root: string, files: string[], t: Pick<ActTest, 'event' | 'eventPayload' | 'workflows' | 'secrets'>): Promise<Imported> {
  const payload = t.eventPayload ? (JSON.parse(fs.readFileSync(path.join(root, t.workflows, t.eventPayload), 'utf8')) as Record<string, unknown>) : undefined;
  const out: Imported = { pipelines: [], problems: [] };
  for (const rel of files) {
    const r = await importWorkflow({ path: rel, text: fs.readFileSync(path.join(root, rel), 'utf8') }, importContext(root), {
      event: { name: t.event, payload },
      secrets: t.secrets ?? {},
    });
    out.pipelines.push(...r.pipelines);
    out.problems.push(...r.problems);
  }
  return out;
}

function planContext(root: string): PlanContext {
  return { ...planFacts(), folder: root, git: GIT, variables: ACT_VARIABLES, io: testPlanIO };
}

async function runPipeline(p: GithubPipeline, root: string, request: RunRequest = {}): Promise<RunRecord> {
  const plan = await p.plan(request, planContext(root));
  if ('error' in plan) throw new Error(`${p.def.source.file}: ${plan.error}`);
  const store = new FileRunStore(path.join(tempDir('delivery-act-state-'), 'state'));
  const handle = startRun(plan, { id: newRunId(), folder: root, trigger: 'cli', sha: GIT.sha, pid: process.pid }, {
    runner: new LocalProcessRunner({ killGraceMs: 300 }), clock: systemClock,
    ports: { io: testPlanIO },
    store,
    parallelism: 4,
  });
  return handle.done;
}

/**
 * The run's outcome as act states it: act skips a job whose runs-on has no platform ("not an error", README), where
 * we report it unsupported locally, naming the label. A run that failed only by such jobs is act's success.
 */
function actOutcome(run: RunRecord): RunRecord['status'] {
  const noPlatform = (j: RunRecord['jobs'][number]) => j.status === 'unsupported' && /^runs on .*, which ha(s|ve) no local platform/.test(j.reason ?? '');
  if (run.status !== 'failed' || !run.jobs.some(noPlatform)) return run.status;
  return run.jobs.every((j) => noPlatform(j) || j.allowFailure || (j.status !== 'failed' && j.status !== 'unsupported')) ? 'success' : 'failed';
}

function describeRun(run: RunRecord): string {
  return run.jobs.map((j) => `${j.id}: ${j.status}${j.reason ? ` (${j.reason})` : ''}${j.steps.filter((s) => s.status === 'failed').map((s) => ` [${s.name}: ${s.reason}]`).join('')}`).join('\n');
}

function jobsOf(run: RunRecord, id: string) {
  return run.jobs.filter((j) => j.id === id || j.id.startsWith(`${id} (`));
}

/** Runs every workflow of the entry that listens to its event and checks the stated outcome. */
async function checkRun(caseName: string, t: ActTest, only?: (p: GithubPipeline) => RunRequest | null): Promise<RunRecord[]> {
  const root = workspace();
  const imported = await importAll(root, workflowFiles(root, t.workflows), t);
  const errors = imported.problems.filter((p) => p.severity === 'error');
  const listening = imported.pipelines.filter((p) => p.events.includes(t.event));
  if (t.shouldFail && errors.length > 0) return [];
  assert.deepEqual(errors, [], `${caseName}: the workflows import without errors`);
  const runs: RunRecord[] = [];
  for (const p of listening) {
    const request = only ? only(p) : {};
    if (request === null) continue;
    runs.push(await runPipeline(p, root, request));
  }
  const summary = runs.map(describeRun).join('\n');
  if (t.shouldFail) {
    assert.ok(runs.some((r) => r.status === 'failed'), `${caseName}: the run must fail\n${summary}`);
    for (const [job, outcome] of Object.entries(t.jobs ?? {})) {
      if (outcome !== 'fail') continue;
      const found = runs.flatMap((r) => jobsOf(r, job));
      assert.ok(found.length > 0, `${caseName}: job ${job} is in the run\n${summary}`);
      assert.ok(found.some((j) => j.status === 'failed'), `${caseName}: job ${job} fails\n${summary}`);
    }
  } else {
    assert.ok(runs.length > 0, `${caseName}: some workflow listens to ${t.event}`);
    for (const r of runs) assert.equal(actOutcome(r), 'success', `${caseName}: ${r.pipelineId} succeeds\n${summary}`);
  }
  return runs;
}

/** mode: plan — the job order, as stages of jobs that can start together. */
async function checkPlan(caseName: string, t: ActTest): Promise<void> {
  const root = workspace();
  const imported = await importAll(root, workflowFiles(root, t.workflows), t);
  const stages: string[][] = [];
  for (const p of imported.pipelines.filter((x) => x.events.includes(t.event))) {
    const plan = await p.plan({}, planContext(root));
    if ('error' in plan) throw new Error(plan.error);
    const depth = new Map<string, number>();
    const of = (id: string): number => {
      if (depth.has(id)) return depth.get(id)!;
      const job = plan.jobs.find((j) => j.id === id)!;
      const d = Math.max(-1, ...job.deps.map(of)) + 1;
      depth.set(id, d);
      return d;
    };
    for (const j of plan.jobs) (stages[of(j.id)] ??= []).push(j.id);
  }
  assert.deepEqual(stages.map((s) => [...s].sort()), (t.plan ?? []).map((s) => [...s].sort()), `${caseName}: plan`);
}

/** Every reason the import and the plan give for what cannot run locally. */
async function reasonsFor(caseName: string, tests: ActTest[]): Promise<string[]> {
  const root = workspace();
  const reasons: string[] = [];
  for (const t of tests) {
    const imported = await importAll(root, workflowFiles(root, t.workflows), t);
    for (const p of imported.pipelines) {
      for (const j of p.def.jobs) {
        if (j.unsupported) reasons.push(j.unsupported);
        for (const s of j.steps) if (s.unsupported) reasons.push(s.unsupported);
      }
      const plan = await p.plan({}, planContext(root));
      const refused = REFUSED[caseName];
      if ('error' in plan && refused?.file === p.def.source.file) {
        assert.match(plan.error, refused.error);
        reasons.push(plan.error);
        continue;
      }
      assert.ok(!('error' in plan), `${caseName}: ${'error' in plan ? plan.error : ''}`);
      for (const j of plan.jobs) {
        if (j.unsupported) reasons.push(j.unsupported);
        for (const s of j.steps) {
          if (s.run.kind === 'unsupported') reasons.push(s.run.reason);
          else if (s.run.kind === 'github-inert' && s.run.unsupported) reasons.push(s.run.unsupported);
        }
      }
    }
    reasons.push(...imported.problems.filter((p) => /cannot run locally/.test(p.message)).map((p) => p.message));
  }
  return reasons;
}

/** What the runs of the entry's workflows report as unsupported (remote actions fetched when their step runs). */
async function runReasons(tests: ActTest[]): Promise<string[]> {
  const reasons: string[] = [];
  for (const t of tests.filter((x) => x.mode !== 'plan')) {
    const root = workspace();
    const imported = await importAll(root, workflowFiles(root, t.workflows), t);
    if (imported.problems.some((p) => p.severity === 'error')) continue;
    for (const p of imported.pipelines.filter((x) => x.events.includes(t.event))) {
      const run = await runPipeline(p, root);
      for (const j of run.jobs) {
        if (j.status === 'unsupported' && j.reason) reasons.push(j.reason);
        for (const s of j.steps) if (s.status === 'unsupported' && s.reason) reasons.push(s.reason);
      }
    }
  }
  return reasons;
}

/**
 * A step's action is remote (not a checkout of the workspace) or a Docker action (this suite runs without a
 * container engine: conformance-act-containers.test.ts runs those), or a local composite action uses one.
 */
function usesRemoteAction(root: string, uses: string | null, depth = 0): boolean {
  if (uses === null || depth > 5) return false;
  if (!uses.startsWith('./')) return !/^actions\/checkout@/i.test(uses);
  for (const name of ['action.yml', 'action.yaml']) {
    const file = path.join(root, uses, name);
    if (!fs.existsSync(file)) continue;
    const { action } = readAction(name, fs.readFileSync(file, 'utf8'));
    return !!action && (action.using === 'docker' || action.steps.some((s) => usesRemoteAction(root, s.uses, depth + 1)));
  }
  return false;
}

/**
 * Jobs of a pipeline that our import says can run here in full (no unsupported job, step or nested action), and
 * that need no remote action (the test host has none).
 */
function fullyRunnable(p: GithubPipeline, problems: Problem[], root: string): string[] {
  const nested = new Set(problems.filter((x) => /cannot run locally/.test(x.message)).map((x) => `${x.file}:${x.line}`));
  const ok = new Set(
    p.def.jobs
      .filter((j) => !j.unsupported && j.steps.every((s) => !s.unsupported && !nested.has(`${s.location.file}:${s.location.line}`) && !usesRemoteAction(root, s.uses)))
      .map((j) => j.id),
  );
  let changed = true;
  while (changed) {
    changed = false;
    for (const j of p.def.jobs) {
      if (ok.has(j.id) && j.needs.some((n) => !ok.has(n))) {
        ok.delete(j.id);
        changed = true;
      }
    }
  }
  return [...ok];
}

describe('act conformance (shared/conformance/act)', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  if (!available) {
    it('conformance fixtures are present', function () {
      requireTool(this, `the shared conformance fixtures are not at ${CONFORMANCE} (they live beside this repository, in ../shared/conformance)`);
    });
    return;
  }

  const index = (JSON.parse(fs.readFileSync(path.join(CONFORMANCE, 'INDEX.json'), 'utf8')) as IndexEntry[]).filter((e) => e.suite === 'act');
  const testsOf = (c: string) => (JSON.parse(fs.readFileSync(path.join(SUITE, c, 'expected.json'), 'utf8')) as { tests: ActTest[] }).tests;

  it('covers every act case of INDEX.json', () => {
    assert.ok(index.length >= 30, `${index.length} act cases`);
    for (const e of index) {
      assert.ok(e.shellRunnable || e.case in MISSING || CHECKOUT_ONLY.has(e.case) || e.case in NOT_RUN, `case ${e.case} has an expectation here`);
    }
  });

  for (const entry of index.filter((e) => e.shellRunnable)) {
    describe(`${entry.case} (shell-runnable)`, () => {
      for (const t of testsOf(entry.case)) {
        it(t.name, async () => {
          if (t.mode === 'plan') return checkPlan(entry.case, t);
          await checkRun(entry.case, t);
        });
      }
    });
  }

  for (const entry of index.filter((e) => !e.shellRunnable)) {
    describe(`${entry.case} (not shell-runnable: ${entry.notRunnableReason})`, () => {
      const tests = testsOf(entry.case);
      if (entry.case in NOT_RUN) {
        it(`is not run: ${NOT_RUN[entry.case]}`);
        return;
      }
      if (CHECKOUT_ONLY.has(entry.case)) {
        it('plans actions/checkout of the workspace as a no-op and nothing as unsupported', async () => {
          assert.deepEqual(await reasonsFor(entry.case, tests), []);
        });
        for (const t of tests) {
          it(`${t.name}: runs with the stated outcome`, async () => {
            const runs = await checkRun(entry.case, t);
            const checkout = runs.flatMap((r) => r.jobs.flatMap((j) => j.steps)).filter((s) => s.name.startsWith('Run actions/checkout@'));
            assert.ok(checkout.length > 0 && checkout.every((s) => s.status !== 'unsupported'), 'actions/checkout is a no-op');
          });
        }
        return;
      }
      it(`names what is missing: ${MISSING[entry.case].join(', ')}`, async () => {
        const reasons = [...(await reasonsFor(entry.case, tests)), ...(FETCHED_AT_RUN.has(entry.case) ? await runReasons(tests) : [])];
        for (const token of MISSING[entry.case]) {
          assert.ok(reasons.some((r) => r.includes(token)), `a reason names ${token}:\n${reasons.join('\n')}`);
        }
      });
      for (const t of tests) {
        if (t.mode === 'plan') {
          it(`${t.name}: job order`, () => checkPlan(entry.case, t));
        } else if (t.mode === 'dry-run') {
          it(`${t.name}: plans without an error`, async () => {
            const root = workspace();
            const imported = await importAll(root, workflowFiles(root, t.workflows), t);
            for (const p of imported.pipelines.filter((x) => x.events.includes(t.event))) {
              const plan = await p.plan({}, planContext(root));
              assert.ok(!('error' in plan), 'error' in plan ? plan.error : '');
            }
          });
        } else if (t.shouldFail && !t.jobs) {
          it(`${t.name}: fails as stated (the missing parts reported, the rest run)`, () => checkRun(entry.case, t).then(() => undefined));
        } else if (!t.shouldFail && !t.needsNetwork) {
          it(`${t.name}: the jobs that can run here succeed`, async function () {
            const root = workspace();
            const imported = await importAll(root, workflowFiles(root, t.workflows), t);
            const refused = REFUSED[entry.case];
            const listening = imported.pipelines.filter((p) => p.events.includes(t.event));
            for (const p of listening.filter((x) => x.def.source.file === refused?.file)) {
              const plan = await p.plan({}, planContext(root));
              assert.ok('error' in plan && refused.error.test(plan.error), `${entry.case}: ${p.def.source.file} is refused as on GitHub`);
            }
            const plans = listening.filter((p) => p.def.source.file !== refused?.file).map((p) => ({ p, jobs: fullyRunnable(p, imported.problems, root) }));
            const usesPwsh = plans.some(({ p, jobs }) => jobs.length > 0 && /\bpwsh\b/.test(fs.readFileSync(path.join(root, p.def.source.file), 'utf8')));
            if (plans.every((x) => x.jobs.length === 0)) {
              // Unsupported by design: no job here runs without what is missing (containers, remote actions), and
              // the import says so instead of running any of it.
              const why = [...(await reasonsFor(entry.case, [t])), ...(FETCHED_AT_RUN.has(entry.case) ? await runReasons([t]) : [])];
              assert.ok(why.length > 0, `${entry.case}: no job can run here, and the import or the run says why`);
              return;
            }
            skipWithoutOptionalTool(this, 'pwsh', !usesPwsh || commandExists('pwsh'));
            await checkRun(entry.case, t, (p) => {
              const jobs = plans.find((x) => x.p.def.source.file === p.def.source.file)?.jobs ?? [];
              return jobs.length ? { jobs } : null;
            });
          });
        }
      }
    });
  }
});
