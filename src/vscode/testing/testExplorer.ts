// Test Explorer: the JUnit reports of local runs as a test tree (pipeline → job → suite → case) with their results.
// Filled when a job of a run ends (its cases kept by the engine, masked) and, at start, from the last run of each
// pipeline in the history. Running an item runs its job again (a pipeline item: the pipeline) through the Run
// commands, so Workspace Trust and broken files are refused as they are there.
import * as vscode from 'vscode';
import { readTestReport } from '../../adapters/runStore';
import type { RunEvent } from '../../core/engine/engine';
import { plainText } from '../../core/sanitize';
import { pipelineKey, runPipelineKey } from '../../core/targeting';
import { testNodes, type TestNode } from '../../core/testTree';
import { scopedKey } from '../../shared/commandArgs';
import type { JobRecord, RunRecord, TestCaseStatus } from '../../shared/model';
import type { Log } from '../log';
import type { RunManager } from '../runManager';
import type { WorkspaceModel } from '../workspaceModel';

/** What an item stands for: the ids a re-run resolves against the current model. */
interface ItemTarget {
  folder: string;
  pipelineKey: string;
  /** Absent: the whole pipeline. */
  jobId?: string;
}

/** A result as it was reported to VS Code (for the tests: VS Code does not hand results back). */
export interface ReportedResult {
  state: TestCaseStatus;
  durationMs: number | null;
  message: string | null;
  /** file:line of the message (relative to the folder). */
  location: string | null;
}

export interface TestTreeRow {
  id: string;
  label: string;
  description: string;
  /** file:line relative to the folder, or null. */
  location: string | null;
  children: TestTreeRow[];
}

/** The longest the host works on one report without a turn of the event loop. */
const SLICE_MS = 20;

export class TestExplorer implements vscode.Disposable {
  private readonly ctrl = vscode.tests.createTestController('delivery.tests', 'Software Delivery');
  private readonly targets = new WeakMap<vscode.TestItem, ItemTarget>();
  /** Test runs started from the Test Explorer, by the id of the pipeline run they wait for. */
  private readonly pending = new Map<string, vscode.TestRun>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Jobs whose report is being read, by run and job: a job is shown once per run. */
  private readonly shown = new Set<string>();
  readonly results = new Map<string, ReportedResult>();
  /** The last report: its cases, how long it took to be read and become items and results, its longest slice (ms). */
  lastBuild = { cases: 0, ms: 0, longestSliceMs: 0 };
  private reading: Promise<void> = Promise.resolve();
  private readonly profile: vscode.TestRunProfile;
  /** The pipeline runs the Run profile started last. */
  private lastStarted: string[] = [];

  constructor(
    private readonly model: WorkspaceModel,
    private readonly runs: RunManager,
    private readonly log: Log,
  ) {
    this.profile = this.ctrl.createRunProfile('Run Job', vscode.TestRunProfileKind.Run, (request, token) => this.runItems(request, token), true);
    this.disposables.push(this.ctrl, this.runs.onRunEvent((e) => this.heard(e)));
  }

  /** Shows the last run of every pipeline in the history (after the first load). */
  loadHistory(): Promise<void> {
    this.reading = this.reading.then(async () => {
      for (const state of this.model.folders()) {
        const folder = state.folder.uri.fsPath;
        for (const p of state.snapshot?.pipelines ?? []) {
          const run = this.runs.lastRun(folder, pipelineKey(p));
          if (!run || run.status === 'running') continue;
          // Its results were the last run's: shown, not kept again in the Test Results history.
          for (const job of run.jobs) if (job.testReport) await this.show(run, job, false);
        }
      }
    });
    return this.reading;
  }

  /** Resolves when every report heard of so far is shown. */
  settled(): Promise<void> {
    return this.reading;
  }

  private heard(e: RunEvent): void {
    if (e.type === 'job' && e.job.testReport && e.job.status !== 'running' && e.job.status !== 'queued') {
      const { run, job } = e;
      this.reading = this.reading.then(() => this.show(run, job, true)).catch((err: unknown) => this.log.error('Test Explorer: could not show a test report', err));
    } else if (e.type === 'end') {
      const run = e.run;
      this.reading = this.reading.then(() => {
        this.pending.get(run.id)?.end();
        this.pending.delete(run.id);
      });
    }
  }

  /**
   * Reads the job's cases, makes their items and reports their results in one test run. VS Code's side of an item
   * and of a result costs tens of microseconds each (5,000 cases: about half a second), so the work goes in slices
   * of at most SLICE_MS with a turn of the event loop between them: commands and other events are heard meanwhile.
   */
  private async show(run: RunRecord, job: JobRecord, persist: boolean): Promise<void> {
    const once = `${run.id}\u0000${job.id}`;
    if (!job.testReport || this.shown.has(once)) return;
    this.shown.add(once);
    const t0 = performance.now();
    const report = await readTestReport(job.testReport);
    if (!report) return;
    const folder = vscode.Uri.file(run.folder);
    const key = runPipelineKey(run);
    const target: ItemTarget = { folder: run.folder, pipelineKey: key, jobId: job.id };
    const pipelineItem = this.pipelineItem(run, key);
    const jobItemId = `${pipelineItem.id}/${job.id}`;
    const jobItem = pipelineItem.children.get(jobItemId) ?? this.jobItem(run, key, job, jobItemId);
    this.targets.set(jobItem, target);
    const item = (n: TestNode): vscode.TestItem => {
      const it = this.ctrl.createTestItem(n.id, plainText(n.label, { oneLine: true }), n.file ? vscode.Uri.joinPath(folder, n.file) : undefined);
      if (n.description) it.description = plainText(n.description, { oneLine: true });
      if (n.line !== null) it.range = new vscode.Range(n.line - 1, 0, n.line - 1, 0);
      this.targets.set(it, target);
      return it;
    };
    // The suites first (the job's previous cases go with them), then their cases slice by slice.
    const suites = testNodes(jobItemId, report).map((n) => [item(n), n] as const);
    jobItem.children.replace(suites.map(([it]) => it));
    pipelineItem.children.add(jobItem);
    const pending = persist ? this.pending.get(run.id) : undefined;
    const testRun = pending ?? this.ctrl.createTestRun(new vscode.TestRunRequest([jobItem]), `${run.pipelineName} · ${job.name}`, persist);
    let cases = 0;
    let longest = 0;
    let slice = performance.now();
    try {
      for (const [suiteItem, suite] of suites) {
        for (const n of suite.children) {
          const it = item(n);
          suiteItem.children.add(it);
          this.report(testRun, it, n, folder);
          cases++;
          if (performance.now() - slice >= SLICE_MS) {
            longest = Math.max(longest, performance.now() - slice);
            await new Promise((r) => setImmediate(r));
            slice = performance.now();
          }
        }
      }
    } finally {
      if (!pending) testRun.end();
    }
    longest = Math.max(longest, performance.now() - slice);
    this.lastBuild = { cases, ms: performance.now() - t0, longestSliceMs: longest };
  }

  private report(testRun: vscode.TestRun, it: vscode.TestItem, n: TestNode, folder: vscode.Uri): void {
    const c = n.result!;
    const duration = c.durationMs ?? undefined;
    let message: vscode.TestMessage | null = null;
    const at = c.failedAt ?? (c.file && c.line !== null ? { file: c.file, line: c.line } : null);
    if (c.status === 'failed' || c.status === 'errored') {
      const text = c.details && c.message && !c.details.startsWith(c.message) ? `${c.message}\n\n${c.details}` : (c.details ?? c.message ?? c.status);
      message = new vscode.TestMessage(plainText(text));
      if (at) message.location = new vscode.Location(vscode.Uri.joinPath(folder, at.file), new vscode.Position(at.line - 1, 0));
    }
    if (c.status === 'passed') testRun.passed(it, duration);
    else if (c.status === 'skipped') testRun.skipped(it);
    else if (c.status === 'failed') testRun.failed(it, message!, duration);
    else testRun.errored(it, message!, duration);
    this.results.set(it.id, { state: c.status, durationMs: c.durationMs, message: message ? String(message.message) : c.message, location: message?.location && at ? `${at.file}:${at.line}` : null });
  }

  private pipelineItem(run: RunRecord, key: string): vscode.TestItem {
    // Unique and unambiguous (VS Code reserves \0 in test ids, which scopedKey uses).
    const id = JSON.stringify([run.folder, key]);
    let it = this.ctrl.items.get(id);
    if (!it) {
      const def = this.model.findPipeline(run.folder, key)?.def;
      it = this.ctrl.createTestItem(id, plainText(def?.name ?? run.pipelineName, { oneLine: true }), vscode.Uri.joinPath(vscode.Uri.file(run.folder), run.source.file));
      if ((vscode.workspace.workspaceFolders?.length ?? 0) > 1) it.description = plainText(vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.folder))?.name ?? run.folder);
      this.targets.set(it, { folder: run.folder, pipelineKey: key });
      this.ctrl.items.add(it);
    }
    return it;
  }

  /** A job's item: at the job in its pipeline file, when the model knows where it is. */
  private jobItem(run: RunRecord, key: string, job: JobRecord, id: string): vscode.TestItem {
    const loc = this.model.findPipeline(run.folder, key)?.def.jobs.find((j) => j.id === job.id)?.location;
    const it = this.ctrl.createTestItem(id, plainText(job.name, { oneLine: true }), loc ? vscode.Uri.joinPath(vscode.Uri.file(run.folder), loc.file) : undefined);
    if (loc) it.range = new vscode.Range(loc.line - 1, 0, loc.line - 1, 0);
    return it;
  }

  /** Runs the jobs of the items asked for (a suite or a case: its job; a pipeline: the pipeline), one run per pipeline. */
  private async runItems(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const asked = request.include ?? iterate(this.ctrl.items);
    const byPipeline = new Map<string, { folder: string; pipelineKey: string; jobs: Set<string> | null; items: vscode.TestItem[] }>();
    for (const it of asked) {
      const t = this.targets.get(it);
      if (!t) continue;
      const k = scopedKey(t.folder, t.pipelineKey);
      const entry = byPipeline.get(k) ?? { folder: t.folder, pipelineKey: t.pipelineKey, jobs: new Set<string>(), items: [] };
      byPipeline.set(k, entry);
      entry.items.push(it);
      if (!t.jobId) entry.jobs = null;
      else entry.jobs?.add(t.jobId);
    }
    const started: string[] = [];
    for (const p of byPipeline.values()) {
      if (token.isCancellationRequested) break;
      const arg = { folder: p.folder, pipelineKey: p.pipelineKey, ...(p.jobs ? { jobs: [...p.jobs] } : {}) };
      const runId = await vscode.commands.executeCommand<string | undefined>(p.jobs ? 'delivery.job.run' : 'delivery.pipeline.run', arg);
      if (!runId) continue;
      started.push(runId);
      const testRun = this.ctrl.createTestRun(request, undefined, true);
      for (const it of p.items) testRun.enqueued(it);
      this.pending.set(runId, testRun);
      token.onCancellationRequested(() => this.runs.cancel(runId));
    }
    this.lastStarted = started;
  }

  /** The tree as items (for the tests). */
  rows(): TestTreeRow[] {
    const row = (it: vscode.TestItem): TestTreeRow => ({
      id: it.id,
      label: it.label,
      description: it.description ?? '',
      location: it.uri ? `${vscode.workspace.asRelativePath(it.uri, false)}${it.range ? `:${it.range.start.line + 1}` : ''}` : null,
      children: iterate(it.children).map(row),
    });
    return iterate(this.ctrl.items).map(row);
  }

  /** Runs the items of these ids through the Run profile, as the Test Explorer's Run does; the runs it started (for the tests). */
  async run(ids: string[]): Promise<string[]> {
    const all = new Map<string, vscode.TestItem>();
    const walk = (c: vscode.TestItemCollection): void => c.forEach((it) => void (all.set(it.id, it), walk(it.children)));
    walk(this.ctrl.items);
    const items = ids.map((id) => all.get(id)).filter((it): it is vscode.TestItem => !!it);
    const cts = new vscode.CancellationTokenSource();
    this.lastStarted = [];
    try {
      await this.profile.runHandler(new vscode.TestRunRequest(items, undefined, this.profile), cts.token);
      return this.lastStarted;
    } finally {
      cts.dispose();
    }
  }

  dispose(): void {
    for (const r of this.pending.values()) r.end();
    this.pending.clear();
    for (const d of this.disposables) d.dispose();
  }
}

function iterate(c: vscode.TestItemCollection): vscode.TestItem[] {
  const out: vscode.TestItem[] = [];
  c.forEach((it) => out.push(it));
  return out;
}
