#!/usr/bin/env node
// `npm run bench`: every scenario of bench/README.md, each run in fresh processes, a warm-up then N runs, and a
// table with the median, the spread (min–max) and the ratio to the reference measured in the same run.
//
//   node bench/run.mjs [--smoke] [--runs N] [--warmup N] [--vscode-runs N] [--only a,b] [--skip a,b]
//                      [--json FILE] [--markdown FILE] [--work DIR]
//
// --smoke: tiny sizes, one run, no gitlab-ci-local and no code-server: checks that every scenario still runs
// (npm run bench:smoke, and test/unit/benchSmoke.test.ts). Results: bench/.work/results.{md,json}. --work: where
// the builds, generated workspaces and results go (default bench/.work).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { buildProduct, buildRunners } from './lib/build.mjs';
import { fmt } from './lib/harness.mjs';
import { TIME_BIN } from './lib/measure.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const SCENARIOS = ['cli', 'engine', 'flood', 'diff', 'discovery', 'probes', 'sshdeploy', 'workspace', 'vscode'];

const { values: opt } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    'vscode-runs': { type: 'string' },
    only: { type: 'string' },
    skip: { type: 'string' },
    json: { type: 'string' },
    markdown: { type: 'string' },
    work: { type: 'string' },
  },
});
const WORK = path.resolve(opt.work ?? path.join(BENCH, '.work'));
const smoke = opt.smoke;
const list = (s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
for (const id of [...list(opt.only), ...list(opt.skip)]) if (!SCENARIOS.includes(id)) throw new Error(`unknown scenario "${id}" (${SCENARIOS.join(', ')})`);
const selected = SCENARIOS.filter((id) => (!opt.only || list(opt.only).includes(id)) && !list(opt.skip).includes(id));

const t0 = Date.now();
const log = (s) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);

function machine() {
  const cpus = os.cpus();
  let distro = os.type();
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch { /* not Linux */ }
  const git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace(/^git version /, '');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${distro} (Linux ${os.release()}), Node ${process.version}, git ${git}`;
}

/** bench/node_modules holds the reference tools; npm ci installs them from bench/package-lock.json once. */
function ensureReferences() {
  if (fs.existsSync(path.join(BENCH, 'node_modules', 'gitlab-ci-local', 'package.json'))) return;
  log('installing the reference tools into bench/node_modules (npm ci, once)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: BENCH, stdio: ['ignore', 'inherit', 'inherit'] });
}

const ctx = {
  root: ROOT,
  bench: BENCH,
  work: WORK,
  smoke,
  runs: Number(opt.runs ?? (smoke ? 1 : 7)),
  warmup: Number(opt.warmup ?? (smoke ? 0 : 1)),
  vscodeRuns: Number(opt['vscode-runs'] ?? 3),
  log,
  env: { ...process.env, DELIVERY_STATE_DIR: path.join(WORK, 'state') },
  build: null,
  runners: null,
};

fs.mkdirSync(WORK, { recursive: true });
fs.rmSync(path.join(WORK, 'state'), { recursive: true, force: true });
const loadStart = os.loadavg()[0];
if (!smoke && selected.includes('cli')) ensureReferences();
log('building the production bundles (esbuild.mjs --production, in bench/.work/build) and the runners');
ctx.build = buildProduct(ROOT, WORK);
ctx.runners = await buildRunners(BENCH, WORK, ['diff', 'discovery', 'probes', 'yaml', 'workspace', 'run']);

const rows = [];
const notes = [];
for (const id of selected) {
  const scenario = (await import(`./scenarios/${id}.mjs`)).default;
  log(`${id}: ${scenario.title}`);
  const started = Date.now();
  const out = await scenario.run(ctx);
  rows.push(...out.rows);
  notes.push(...(out.notes ?? []).map((n) => `${id}: ${n}`));
  log(`${id}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const header = smoke ? '(smoke mode: tiny sizes, one run; targets are not judged)' : '';
const where = `${machine()}; load average ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end; ${ctx.runs} runs after ${ctx.warmup} warm-up (code-server: ${ctx.vscodeRuns}); peak RSS by ${TIME_BIN ? '/usr/bin/time' : '/proc VmHWM polling'}`;
const cell = (s) => String(s ?? '').replace(/\|/g, '\\|');
const lines = [
  '| scenario | measured | median | spread (min–max) | reference: median | ratio | target | met |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const spread = Number.isFinite(r.value.min) && r.value.n > 1 ? `${fmt(r.value.min, r.unit)} – ${fmt(r.value.max, r.unit)}` : '';
    const ref = r.reference ? `${r.reference.name}: ${fmt(r.reference.value.median, r.reference.unit)}` : '—';
    const met = smoke || r.met === null ? '' : r.met ? 'yes' : '**no**';
    return `| ${cell(r.scenario)} | ${cell(r.measured)} | ${fmt(r.value.median, r.unit)} | ${spread} | ${cell(ref)} | ${cell(r.ratioText ?? '')} | ${cell(r.target)} | ${met} |`;
  }),
];
const markdown = [header, ...lines, '', `Machine: ${where}.`, ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : [])].filter((l, i) => l !== '' || i > 0).join('\n');
process.stdout.write(`${markdown}\n`);
const jsonFile = opt.json ?? path.join(WORK, smoke ? 'results-smoke.json' : 'results.json');
const mdFile = opt.markdown ?? path.join(WORK, smoke ? 'results-smoke.md' : 'results.md');
fs.writeFileSync(jsonFile, JSON.stringify({ smoke, machine: where, date: new Date().toISOString(), rows, notes }, null, 1));
fs.writeFileSync(mdFile, `${markdown}\n`);
log(`results: ${path.relative(process.cwd(), mdFile)}, ${path.relative(process.cwd(), jsonFile)}`);
// esbuild's service process (the runners' build) keeps the event loop alive: leave explicitly.
await esbuild.stop?.();
process.exit(0);
