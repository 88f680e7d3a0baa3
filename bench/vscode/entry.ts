// The VS Code bench, inside code-server's extension host (loaded as extensionTestsPath; bench/scenarios/vscode.mjs
// starts it). It activates an empty extension and then Software Delivery the same way (getExtension().activate(),
// timed), counting synchronous file-system and child-process calls made from the extension's bundle meanwhile;
// waits for the first load; opens the Delivery panel, times Run → the first line of output in the Output channel
// and on the board for five small pipelines, then runs the `flood` pipeline, issuing a command every 100 ms until
// the run ends and timing each answer; then the same during a run of 200 jobs and during a job whose JUnit report
// has 5,000 cases (until Test Explorer shows them). Writes what it measured to $BENCH_RESULTS_FILE.
// Default imports: the modules' own objects (a namespace import is a read-only copy, which cannot be patched).
import childProcess from 'node:child_process';
import fs from 'node:fs';
import * as vscode from 'vscode';
import type { DeliveryApi } from '../../src/vscode/api';
import type { RunRecord } from '../../src/shared/model';

const DELIVERY = 'delivery-tools.software-delivery';
const EMPTY = 'bench.empty-extension';

interface SyncCall {
  fn: string;
  caller: string;
  phase: 'activate' | 'first load';
}

/** Wraps every *Sync function of fs and child_process; calls whose caller is in `bundle` are recorded. */
function traceSyncCalls(bundle: string): { calls: SyncCall[]; observed: { n: number }; phase: { current: SyncCall['phase'] | null }; restore(): void } {
  const calls: SyncCall[] = [];
  // Every traced call, whoever made it (the module loader reading the bundle...): shows the tracer is live.
  const observed = { n: 0 };
  const phase: { current: SyncCall['phase'] | null } = { current: null };
  const undo: (() => void)[] = [];
  const wrap = (mod: Record<string, unknown>, name: string, label: string) => {
    const original = mod[name];
    if (typeof original !== 'function') return;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (phase.current) {
        observed.n++;
        // Frame 0 is this wrapper; frame 1 the caller.
        const frames = (new Error().stack ?? '').split('\n').slice(2, 3);
        const caller = frames[0]?.trim() ?? '';
        if (caller.includes(bundle)) calls.push({ fn: `${label}.${name}`, caller: caller.slice(0, 200), phase: phase.current });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
    // What hangs off the original stays reachable (fs.realpathSync.native).
    Object.assign(wrapped, original);
    try {
      mod[name] = wrapped;
      undo.push(() => (mod[name] = original));
    } catch {
      // A read-only property: not traced.
    }
  };
  for (const name of Object.keys(fs)) if (name.endsWith('Sync')) wrap(fs as unknown as Record<string, unknown>, name, 'fs');
  for (const name of ['execSync', 'execFileSync', 'spawnSync']) wrap(childProcess as unknown as Record<string, unknown>, name, 'child_process');
  return { calls, observed, phase, restore: () => undo.forEach((u) => u()) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 60000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function measure(out: Record<string, unknown>): Promise<void> {
  const delivery = vscode.extensions.getExtension<DeliveryApi>(DELIVERY);
  const empty = vscode.extensions.getExtension(EMPTY);
  if (!delivery || !empty) throw new Error(`extensions missing: ${DELIVERY} ${!!delivery}, ${EMPTY} ${!!empty}`);
  if (delivery.isActive) throw new Error(`${DELIVERY} was already active: the bench copy must not activate at startup`);

  let t = performance.now();
  await empty.activate();
  out.emptyActivateMs = performance.now() - t;

  const tracer = traceSyncCalls(`${delivery.extensionPath}/dist/extension.js`);
  let api: DeliveryApi;
  try {
    tracer.phase.current = 'activate';
    t = performance.now();
    api = await delivery.activate();
    out.hostActivateMs = performance.now() - t;
    tracer.phase.current = 'first load';
    t = performance.now();
    await api.ready;
    out.readyMs = performance.now() - t;
  } finally {
    tracer.phase.current = null;
    tracer.restore();
  }
  out.activationMs = api.activationMs;
  out.syncCalls = tracer.calls;
  out.syncObserved = tracer.observed.n;
  out.pipelines = api.pipelines().length;
  out.environments = api.environments().length;

  const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
  await vscode.commands.executeCommand('delivery.panel.open');
  await waitFor('the Delivery panel', async () => (await api.board()).open);
  await sleep(1000); // the webview loads and gets its first state

  // Run → first line: the Run command for a small pipeline, until its first line of output has reached the Output
  // channel and has been posted to the board's webview. Five runs, one after the other.
  const firstLine: { channel: number; board: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const id = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: `app${i}` })) as string | undefined;
    if (typeof id !== 'string') throw new Error(`app${i} did not start`);
    const at = await waitFor(`the first line of app${i}`, () => {
      const o = api.testing!.lastOutputAt();
      return o.channel > t && o.board > t ? o : null;
    }, 10_000);
    firstLine.push({ channel: at.channel - t, board: at.board - t });
    await api.waitForRun(id);
    await sleep(200);
  }
  out.firstLineMs = firstLine;
  const patchesBefore = api.testing!.patchesPosted();

  // The flood, a command every 100 ms (and the extension host's event-loop lag) until it ends.
  const t0 = performance.now();
  const flood = await commandsDuring(api, folder, 'flood', async () => true);
  const run = flood.run;
  await sleep(300); // the last patch
  const patchesAfter = api.testing!.patchesPosted();
  const windowMs = performance.now() - t0; // the patches counted were posted in this window
  if (run.status !== 'success') throw new Error(`the flood run ended ${run.status}`);
  const log = run.jobs[0].logFile;
  const logBytes = log ? fs.statSync(log).size : 0;
  // Runs that are large in another way, the panel still open: 200 jobs (their cards and rows), and one job whose
  // JUnit report has 5,000 cases (Test Explorer's items and results, built once the job ends). A command every 100 ms
  // until the run has ended and, for the report, until Test Explorer shows it.
  const { run: wide, ...wideMeasured } = await commandsDuring(api, folder, 'wide', async () => true);
  out.wide = { ...wideMeasured, jobs: wide.jobs.length, status: wide.status };
  const { run: tests, ...testsMeasured } = await commandsDuring(api, folder, 'tests', async () => (await api.testing!.testExplorer()).lastBuild.cases >= 5000);
  out.tests = { ...testsMeasured, jobs: tests.jobs.length, status: tests.status };
  out.testExplorerBuild = (await api.testing!.testExplorer()).lastBuild;
  Object.assign(out, {
    floodMs: flood.ms,
    floodLogBytes: logBytes,
    commandMs: flood.commandMs,
    mainThreadMs: flood.mainThreadMs,
    lagMaxMs: flood.lagMaxMs,
    patches: patchesAfter - patchesBefore,
    patchesPerSecond: (patchesAfter - patchesBefore) / (windowMs / 1000),
  });
}

/** Runs `pipeline`, timing a command and a workbench round trip every 100 ms until it has ended and `shown()` says so. */
async function commandsDuring(
  api: DeliveryApi,
  folder: string,
  pipeline: string,
  shown: () => Promise<boolean>,
): Promise<{ run: RunRecord; ms: number; commandMs: number[]; mainThreadMs: number[]; lagMaxMs: number }> {
  // Event-loop lag of the extension host: how late a 20 ms timer fires.
  let lagMax = 0;
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - last - 20);
    last = now;
  }, 20);
  const t0 = performance.now();
  const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline })) as string | undefined;
  if (typeof runId !== 'string') throw new Error(`the ${pipeline} run did not start`);
  let finished = false;
  let endedAt = 0;
  const done = api.waitForRun(runId).then(async (r) => {
    endedAt = performance.now();
    await waitFor(`${pipeline} to be shown`, shown, 60_000);
    finished = true;
    return r;
  });
  const commandMs: number[] = [];
  const mainThreadMs: number[] = [];
  let i = 0;
  while (!finished) {
    let s = performance.now();
    await vscode.commands.executeCommand('delivery.panel.open');
    commandMs.push(performance.now() - s);
    s = performance.now();
    // A round trip to the workbench (main thread) and back.
    await vscode.commands.executeCommand('setContext', 'deliveryBench.tick', i++);
    mainThreadMs.push(performance.now() - s);
    await sleep(100);
  }
  const run = await done;
  clearInterval(lagTimer);
  if (!run || run.jobs.length === 0) throw new Error(`the ${pipeline} run has no record`);
  // The run's wall time: until it ended (not until it was shown).
  return { run, ms: endedAt - t0, commandMs, mainThreadMs, lagMaxMs: lagMax };
}

export async function run(): Promise<void> {
  const out: Record<string, unknown> = {};
  try {
    await measure(out);
  } catch (e) {
    out.error = (e as Error)?.stack ?? String(e);
  }
  fs.writeFileSync(process.env.BENCH_RESULTS_FILE!, JSON.stringify(out));
}
