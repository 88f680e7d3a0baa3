// The extension in VS Code (code-server + headless Chromium, test/harness/lib-codeserver.mjs), and its bundles.
//   - bundle sizes of the production build (always, also in smoke mode);
//   - per run, a fresh code-server and window on a workspace with 50 pipelines and 20 environments (HTTP
//     version probes on loopback): bench/vscode/entry.ts, running in the extension host, activates an empty
//     extension (the reference) and Software Delivery the same way, counts synchronous file and process calls
//     from the extension's bundle during activate(), times Run → the first line in the Output channel and on
//     the board (five small pipelines), then runs a pipeline printing 1,000,000 lines with the
//     Delivery panel open, issuing a command every 100 ms and counting the panel's updates; then the same during a
//     run of 200 jobs and a job whose JUnit report has 5,000 cases (until Test Explorer shows them).
// The bench's copy of package.json (bench/.work/build) has no activation events, so that the extension activates
// when the bench asks, not at startup; everything else is the shipped package.
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import * as esbuild from 'esbuild';
import { median, row } from '../lib/harness.mjs';
import { stats } from '../lib/measure.mjs';
import { git, repoWith } from '../lib/fixtures.mjs';
import { startVersionServer } from '../lib/versionServer.mjs';
import { floodCommand } from './flood.mjs';
import { workflow } from './discovery.mjs';
import { environmentsYaml } from './probes.mjs';

const EMPTY_EXTENSION = {
  'package.json': JSON.stringify({ name: 'empty-extension', publisher: 'bench', version: '0.0.1', engines: { vscode: '^1.100.0' }, main: './extension.js', activationEvents: [] }, null, 1),
  'extension.js': "exports.activate = function () { return { activated: true }; };\nexports.deactivate = function () {};\n",
};

function bundleRows(ctx) {
  const kb = (f) => fs.statSync(f).size / 1024;
  const ext = kb(ctx.build.extension);
  const web = kb(ctx.build.webview);
  return [
    row({ scenario: 'bundles (production, minified)', measured: 'dist/extension.js', samples: [ext], unit: 'KB', target: '≤ 400 KB', met: ext <= 400 }),
    row({ scenario: 'bundles (production, minified)', measured: 'dist/webview.js', samples: [web], unit: 'KB', target: '≤ 300 KB', met: web <= 300 }),
  ];
}

/** 10 delivery.yml pipelines (the flood, 200 jobs, 5,000 test cases, 7 small), 39 workflows, .gitlab-ci.yml; 20 environments. */
function workspace(ctx, versionUrl) {
  const dir = path.join(ctx.work, 'vscode-workspace');
  const small = (i) => `  app${i}:\n    name: App ${i}\n    jobs:\n      build: { run: "echo build ${i}" }\n      test: { run: "echo test ${i}", needs: [build], stage: check }\n      deploy: { run: "echo deploy ${i}", needs: [test], stage: release }\n`;
  const files = { '.gitignore': 'out/\n' };
  for (let i = 0; i < 39; i++) files[`.github/workflows/wf-${String(i).padStart(2, '0')}.yml`] = workflow(i);
  files['.gitlab-ci.yml'] = 'stages: [build, test]\nbuild:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\n';
  // 200 independent jobs; one job writing a JUnit report of 5,000 passing cases.
  const wide = `  wide:\n    jobs:\n${Array.from({ length: 200 }, (_, i) => `      w${i}: { run: "true" }\n`).join('')}`;
  const tests = `  tests:\n    jobs:\n      unit:\n        run: |\n          mkdir -p out\n          { echo '<testsuite name="big">'; seq 5000 | sed 's|.*|<testcase classname="big" name="case &" time="0.001"/>|'; echo '</testsuite>'; } > out/big.xml\n        reports: { junit: "out/big.xml" }\n`;
  files['delivery.yml'] = `version: 1\npipelines:\n  flood:\n    jobs:\n      flood: { run: "${floodCommand(1_000_000)}" }\n${Array.from({ length: 7 }, (_, i) => small(i)).join('')}${wide}${tests}environments:\n`;
  repoWith(dir, files);
  // The environments report the workspace's own commit (known locally: distance 0); appended uncommitted.
  const head = git(dir, ['rev-parse', 'HEAD']).trim();
  fs.appendFileSync(path.join(dir, 'delivery.yml'), environmentsYaml(versionUrl, Array(20).fill(head), { index: -1, ms: 0 }));
  return dir;
}

async function oneWindow(ctx, lib, { extensionDir, emptyDir, entry, folder, runDir }) {
  fs.rmSync(runDir, { recursive: true, force: true });
  const resultsFile = path.join(runDir, 'results.json');
  const extensions = path.join(runDir, 'extensions');
  fs.mkdirSync(extensions, { recursive: true });
  fs.cpSync(emptyDir, path.join(extensions, 'bench.empty-extension-0.0.1'), { recursive: true });
  let server;
  let browser;
  try {
    server = await lib.startCodeServer({
      baseDir: path.join(runDir, 'cs'),
      extensionsDir: extensions,
      env: { BENCH_RESULTS_FILE: resultsFile, DELIVERY_TEST_HOOKS: '1', DELIVERY_STATE_DIR: path.join(runDir, 'state') },
    });
    browser = await lib.launchChromium({ userDataDir: path.join(runDir, 'chromium') });
    const page = browser.ctx.pages()[0] ?? (await browser.ctx.newPage());
    let resolveExit;
    const exited = new Promise((r) => (resolveExit = r));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      if (/error/i.test(type) && !/ENOTFOUND|vsda|service worker|open-vsx/i.test(text)) ctx.log(`    [extension host ${type}] ${text.slice(0, 300)}`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    const payload = [
      ['extensionDevelopmentPath', lib.remoteUri(server.port, extensionDir)],
      ['extensionTestsPath', lib.remoteUri(server.port, entry)],
    ];
    await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 240_000))]);
    if (code === 'timeout') throw new Error(`vscode: no result within 240 s (logs in ${runDir})`);
    const result = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    if (result.error) throw new Error(`vscode: the bench in the extension host failed: ${result.error}`);
    return result;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
  }
}

export default {
  title: 'the extension in VS Code (code-server): activation, a flood with the panel open; bundle sizes',
  async run(ctx) {
    const rows = bundleRows(ctx);
    const lib = await import(path.join(ctx.root, 'test', 'harness', 'lib-codeserver.mjs'));
    if (ctx.smoke) return { rows, notes: ['code-server not started in smoke mode (bundle sizes only)'] };
    try {
      lib.assertInstalled();
    } catch (e) {
      return { rows, notes: [`code-server scenarios skipped: ${e.message}`] };
    }
    const vdir = path.join(ctx.work, 'vscode');
    fs.mkdirSync(vdir, { recursive: true });
    await esbuild.build({ entryPoints: [path.join(ctx.bench, 'vscode', 'entry.ts')], outfile: path.join(vdir, 'entry.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning' });
    const emptyDir = path.join(vdir, 'empty-extension');
    fs.mkdirSync(emptyDir, { recursive: true });
    for (const [f, text] of Object.entries(EMPTY_EXTENSION)) fs.writeFileSync(path.join(emptyDir, f), text);
    const pkgFile = path.join(ctx.build.dir, 'package.json');
    const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
    pkg.activationEvents = [];
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));

    const server = await startVersionServer();
    const results = [];
    try {
      const folder = workspace(ctx, server.url);
      const total = 1 + ctx.vscodeRuns;
      for (let i = 0; i < total; i++) {
        const r = await oneWindow(ctx, lib, { extensionDir: ctx.build.dir, emptyDir, entry: path.join(vdir, 'entry.js'), folder, runDir: path.join(vdir, 'run') });
        ctx.log(`  window ${i + 1}/${total}${i === 0 ? ' (warm-up)' : ''}: activate() ${r.activationMs.toFixed(1)} ms, host activate ${r.hostActivateMs.toFixed(1)} ms (empty ${r.emptyActivateMs.toFixed(1)} ms), ${r.syncCalls.filter((c) => c.phase === 'activate').length} sync calls; flood ${(r.floodMs / 1000).toFixed(1)} s, command max ${Math.max(...r.commandMs).toFixed(0)} ms, ${r.patchesPerSecond.toFixed(1)} patches/s; first line ${r.firstLineMs.map((x) => `${x.channel.toFixed(0)}/${x.board.toFixed(0)}`).join(' ')} ms`);
        if (i > 0) results.push(r);
      }
    } finally {
      await server.close();
    }
    const first = results[0];
    if (first.pipelines !== 50 || first.environments !== 20) throw new Error(`vscode: the workspace shows ${first.pipelines} pipelines and ${first.environments} environments, not 50 and 20`);
    const pick = (f) => results.map(f);
    const activation = pick((r) => r.activationMs);
    const host = pick((r) => r.hostActivateMs);
    const empty = pick((r) => r.emptyActivateMs);
    const syncInActivate = pick((r) => r.syncCalls.filter((c) => c.phase === 'activate').length);
    const syncInLoad = pick((r) => r.syncCalls.filter((c) => c.phase === 'first load').length);
    const cmdMax = pick((r) => Math.max(...r.commandMs));
    const cmdMedian = pick((r) => stats(r.commandMs).median);
    const mainMax = pick((r) => Math.max(...r.mainThreadMs));
    const rate = pick((r) => r.patchesPerSecond);
    const calls = [...new Set(results.flatMap((r) => r.syncCalls.map((c) => `${c.phase}: ${c.fn} from ${c.caller}`)))];
    // Run → first line: per window the median of its five runs.
    const firstChannel = pick((r) => stats(r.firstLineMs.map((x) => x.channel)).median);
    const firstBoard = pick((r) => stats(r.firstLineMs.map((x) => x.board)).median);
    const scen = 'VS Code: 50 pipelines, 20 environments';
    const flood = 'VS Code: flood of 1,000,000 lines, panel open';
    const wide = 'VS Code: a run of 200 jobs, panel open';
    const cases = 'VS Code: a job with a JUnit report of 5,000 cases, panel open';
    for (const r of results) {
      if (r.wide.jobs !== 200 || r.wide.status !== 'success') throw new Error(`vscode: the 200-job run ended ${r.wide.status} with ${r.wide.jobs} jobs`);
      if (r.testExplorerBuild.cases < 5000) throw new Error(`vscode: Test Explorer shows ${r.testExplorerBuild.cases} cases, not 5,000`);
    }
    const wideMax = pick((r) => Math.max(...r.wide.commandMs));
    const casesMax = pick((r) => Math.max(...r.tests.commandMs));
    return {
      rows: [
        ...rows,
        row({ scenario: scen, measured: '`activate()` (DeliveryApi.activationMs)', samples: activation, target: '≤ 50 ms', met: median(activation) <= 50 }),
        row({ scenario: scen, measured: 'activation as the host sees it (load + activate)', samples: host, reference: { name: 'empty extension', samples: empty }, ratio: median(host) - median(empty), ratioText: `+${(median(host) - median(empty)).toFixed(1)} ms`, target: '', met: null }),
        row({ scenario: scen, measured: 'synchronous fs/child_process calls from the bundle during activation', samples: syncInActivate, unit: '', target: 'none', met: Math.max(...syncInActivate) === 0 }),
        row({ scenario: scen, measured: '… and during the first load after it (informative)', samples: syncInLoad, unit: '', target: '', met: null }),
        row({ scenario: scen, measured: 'first load of pipelines + history (api.ready)', samples: pick((r) => r.readyMs), target: '', met: null }),
        row({ scenario: scen, measured: 'Run command → first log line in the Output channel', samples: firstChannel, target: '≤ 100 ms', met: median(firstChannel) <= 100 }),
        row({ scenario: scen, measured: 'Run command → first log line posted to the board', samples: firstBoard, target: '≤ 100 ms', met: median(firstBoard) <= 100 }),
        row({ scenario: flood, measured: 'slowest answer to a command mid-flood', samples: cmdMax, target: '< 200 ms', met: Math.max(...cmdMax) < 200, note: `median answer ${median(cmdMedian).toFixed(1)} ms` }),
        row({ scenario: flood, measured: 'slowest workbench round trip (setContext) mid-flood', samples: mainMax, target: '', met: null }),
        row({ scenario: flood, measured: 'panel updates per second during the flood', samples: rate, unit: '/s', target: '≤ 10/s', met: Math.max(...rate) <= 10 }),
        row({ scenario: flood, measured: 'the flood run in the extension, wall', samples: pick((r) => r.floodMs), target: '', met: null }),
        row({ scenario: flood, measured: 'extension host event-loop lag, worst', samples: pick((r) => r.lagMaxMs), target: '', met: null }),
        row({ scenario: wide, measured: 'slowest answer to a command mid-run', samples: wideMax, target: '< 200 ms', met: Math.max(...wideMax) < 200, note: `median answer ${median(pick((r) => stats(r.wide.commandMs).median)).toFixed(1)} ms` }),
        row({ scenario: wide, measured: 'slowest workbench round trip (setContext) mid-run', samples: pick((r) => Math.max(...r.wide.mainThreadMs)), target: '', met: null }),
        row({ scenario: wide, measured: 'the run in the extension, wall', samples: pick((r) => r.wide.ms), target: '', met: null }),
        row({ scenario: cases, measured: 'slowest answer to a command, mid-run and while Test Explorer takes the cases', samples: casesMax, target: '< 200 ms', met: Math.max(...casesMax) < 200 }),
        row({ scenario: cases, measured: 'Test Explorer: the report to items and results', samples: pick((r) => r.testExplorerBuild.ms), target: '', met: null }),
        row({ scenario: cases, measured: 'Test Explorer: longest stretch without a turn of the event loop', samples: pick((r) => r.testExplorerBuild.longestSliceMs), target: '', met: null }),
        row({ scenario: cases, measured: 'extension host event-loop lag, worst', samples: pick((r) => r.tests.lagMaxMs), target: '', met: null }),
      ],
      notes: [
        `the sync-call tracer saw ${median(pick((r) => r.syncObserved))} synchronous calls in all during activation and the first load (the module loader's, the host's), ${median(syncInActivate)} of them from the extension's bundle during activate()`,
        ...calls.map((c) => `sync call ${c}`),
      ],
    };
  },
};
