// The board's cost in the browser for a big run: the webview bundle (dist/webview.js) in headless Chromium, given the
// state of a 200-job run (10 layers of 20 jobs, each needing two of the layer before, one matrix job of 4 legs per
// layer) while it runs, then the patches a live run sends (10 a second: lines for 20 jobs, 5 status changes).
// Prints the median time of a full render (graph, then timeline) and of a patch, each with the layout it forces.
//
//   node esbuild.mjs && node esbuild.mjs --tests && node bench/board.mjs [--jobs 200] [--shot file.png]
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, ROOT } from '../test/harness/lib-codeserver.mjs';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const JOBS = Number(opt('--jobs', 200));
const SHOT = opt('--shot', null);
/** For the screenshot: 2 is the page at 200% zoom (half the CSS pixels across, each drawn twice as big). */
const ZOOM = Number(opt('--zoom', 1));
const SHOT_MODE = opt('--shot-mode', 'graph');
const require = createRequire(import.meta.url);
const { runView } = require(path.join(ROOT, 'out/src/core/board.js'));

// A run 60% through: the first layers ended, one layer running, the rest queued.
const LAYER = 20;
const t0 = 1_700_000_000_000;
const jobs = [];
for (let i = 0; jobs.length < JOBS; i++) {
  const layer = Math.floor(i / LAYER);
  const k = i % LAYER;
  const deps = layer === 0 ? [] : [`j${layer - 1}-${k}`, `j${layer - 1}-${(k + 7) % LAYER}`];
  const ids = k === 0 ? [0, 1, 2, 3].map((n) => `j${layer}-${k} (${n})`) : [`j${layer}-${k}`];
  for (const id of ids) {
    const status = layer < 5 ? (k === 3 ? 'failed' : 'success') : layer === 5 ? 'running' : 'queued';
    const startedAt = layer <= 5 ? t0 + layer * 1000 + k * 20 : null;
    jobs.push({ id, name: id, stage: null, deps, status, allowFailure: k === 3, exitCode: 0, startedAt, durationMs: startedAt ? 900 : 0, attempts: 1, reason: null, steps: [], tests: null, artifacts: [], logFile: null });
  }
}
// Layers after 0 need every leg of the matrix job they name.
for (const j of jobs) j.deps = j.deps.flatMap((d) => (d.endsWith('-0') ? [0, 1, 2, 3].map((n) => `${d} (${n})`) : [d]));
const run = { id: 'r', folder: '/w', pipelineId: 'big', pipelineName: 'Big', source: { kind: 'delivery', file: 'delivery.yml' }, stages: null, status: 'running', startedAt: t0, finishedAt: null, durationMs: 0, trigger: 'vscode', sha: null, pid: 1, jobs };
const previous = { ...run, id: 'p', status: 'success', startedAt: t0 - 60_000, durationMs: 11_000, jobs: jobs.map((j, i) => ({ ...j, status: 'success', startedAt: t0 - 60_000 + (i % 10) * 1000, durationMs: 1000 })) };
const state = { run: runView(run, () => ['line 1', 'line 2'], 'w', t0 + 5500, previous), pipelines: [], trusted: true };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'board-bench-'));
const theme = ['--vscode-foreground: #ccc', '--vscode-descriptionForeground: #999', '--vscode-panel-border: #444', '--vscode-editorWidget-background: #252526', '--vscode-charts-blue: #3794ff', '--vscode-charts-orange: #d18616', '--vscode-testing-iconPassed: #73c991', '--vscode-testing-iconFailed: #f14c4c', '--vscode-testing-iconSkipped: #848484', '--vscode-focusBorder: #007fd4', '--vscode-button-background: #0e639c', '--vscode-button-foreground: #fff', '--vscode-button-secondaryBackground: #3a3d41', '--vscode-button-secondaryForeground: #ccc', '--vscode-editor-background: #1e1e1e'].join(';');
fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><html><head><link rel="stylesheet" href="file://${ROOT}/media/board.css"><style>:root{${theme}} body{background:#1e1e1e}</style>
<script>window.sent=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>sent.push(m),getState:()=>undefined,setState:()=>{}});</script></head>
<body><div id="app"></div><script src="file://${ROOT}/dist/webview.js"></script></body></html>`);

const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'board-bench-chromium-'));
const ctx = await chromium.launchPersistentContext(udd, { executablePath: CHROMIUM, headless: true, viewport: { width: Math.round(1400 / ZOOM), height: Math.round(900 / ZOOM) }, deviceScaleFactor: ZOOM, args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`file://${dir}/index.html`);
  const result = await page.evaluate(async ({ state, t0 }) => {
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const post = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
    const timed = async (fn) => {
      const s = performance.now();
      fn();
      document.body.getBoundingClientRect(); // the layout it forces, in the time
      const t = performance.now() - s;
      await frame();
      return t;
    };
    const out = { graph: [], edgesFrame: [], timeline: [], patchGraph: [], patchTimeline: [] };
    for (let i = 0; i < 7; i++) {
      out.graph.push(await timed(() => post({ type: 'state', state: structuredClone(state) })));
      // The edges are drawn on a later frame, once the boxes have sizes: the cost the board measured.
      const svg = document.querySelector('svg.edges');
      for (let f = 0; svg && f < 20 && !svg.dataset.drawMs; f++) await frame();
      out.edgesFrame.push(Number(svg?.dataset.drawMs ?? 0));
    }
    const running = state.run.stages.flatMap((s) => s.jobs).filter((j) => j.status === 'running' || j.status === 'queued');
    let n = 0;
    const patch = () => {
      n++;
      const jobs = running.slice((n * 5) % running.length, ((n * 5) % running.length) + 20).map((j, i) => ({ id: j.id, status: i < 5 ? 'running' : j.status, durationMs: 100 * n, startedAt: j.startedAt ?? t0 + 5000, attempts: 1, reason: null, tests: null, append: [`line ${n}.${i}`, `line ${n}.${i}b`] }));
      return { type: 'patch', patch: { runId: state.run.id, status: 'running', durationMs: 5500 + n * 100, jobs } };
    };
    for (let i = 0; i < 15; i++) out.patchGraph.push(await timed(() => post(patch())));
    // (A board without a timeline, an older build compared A/B, measures the graph only.)
    const timeline = document.querySelector('#board-mode-timeline');
    timeline?.click();
    await frame();
    for (let i = 0; timeline && i < 7; i++) {
      out.timeline.push(await timed(() => post({ type: 'state', state: structuredClone(state) })));
    }
    for (let i = 0; timeline && i < 15; i++) out.patchTimeline.push(await timed(() => post(patch())));
    document.querySelector('#board-mode-graph')?.click();
    await frame();
    await frame();
    return {
      nodes: document.querySelectorAll('[data-nav]').length,
      edgeCount: document.querySelectorAll('svg.edges path.edge').length,
      ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Number(median(v).toFixed(1))])),
    };
  }, { state, t0 });
  console.log(`board of ${JOBS} jobs (${result.nodes} nodes, ${result.edgeCount} edges), median ms:`);
  console.log(`  full render: graph ${result.graph} (+ edges drawn the next frame ${result.edgesFrame}), timeline ${result.timeline}`);
  console.log(`  a patch (20 jobs' lines, 5 status changes): graph ${result.patchGraph}, timeline ${result.patchTimeline}`);
  if (SHOT) {
    await page.click(`#board-mode-${SHOT_MODE}`);
    await page.waitForTimeout(200);
    await page.screenshot({ path: SHOT, fullPage: true });
  }
} finally {
  await ctx.close();
  fs.rmSync(udd, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
}
