// Engine overhead per job: 200 trivial jobs (`true`) in a DAG through `delivery run --json --parallel 1`, against
// a bash script that starts the same 200 shells (`bash --noprofile --norc -eo pipefail -c true`, what the engine
// runs for each job) one after another. One job at a time on both sides, so the engine gains nothing from running
// jobs in parallel: what is left is its own cost per job.
// The cost a job adds is measured as a slope: the run of 200 jobs against a run of 100 in the same rounds, per extra
// job, minus what bash spends on one (the run's fixed cost — Node's start-up, loading the CLI, reading the pipeline,
// the run record, reading the folder for the first workspace — cancels out; it is in the CLI rows). The average
// over a run, fixed cost included, is shown too.
// Then the same with isolation: 200 trivial GitHub jobs (`run: "true"`, each in a workspace of its own, a copy of a
// small repository) through `delivery run --parallel 1`, and the same workflow with `--workspace shared` (what
// isolation itself costs), against N shells.
import path from 'node:path';
import { measureCases, median, row } from '../lib/harness.mjs';
import { repoWith } from '../lib/fixtures.mjs';
import { stats } from '../lib/measure.mjs';

/** Layers of `width` jobs; each job needs two of the layer before it. */
export function dag(jobs, width) {
  const ids = [];
  const lines = ['version: 1', 'pipelines:', '  dag:', '    jobs:'];
  for (let i = 0; i < jobs; i++) {
    const layer = Math.floor(i / width);
    const k = i % width;
    const id = `j${layer}_${k}`;
    ids.push(id);
    const needs = layer === 0 ? [] : [...new Set([`j${layer - 1}_${k}`, `j${layer - 1}_${(k + 1) % width}`])].filter((n) => ids.includes(n));
    lines.push(`      ${id}: { run: "true"${needs.length ? `, needs: [${needs.join(', ')}]` : ''} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** A workflow of `jobs` independent trivial jobs. */
export function githubJobs(jobs) {
  let y = 'name: jobs\non: push\njobs:\n';
  for (let i = 0; i < jobs; i++) y += `  j${i}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n`;
  return y;
}

/** A small repository: 20 source files in two folders, a README, the workflow. */
function smallRepoFiles() {
  const files = { 'README.md': '# app\n', 'package.json': '{ "name": "app" }\n' };
  for (let i = 0; i < 20; i++) files[`${i < 10 ? 'src' : 'test'}/f${i}.ts`] = `export const x${i} = ${i};\n`.repeat(40);
  return files;
}

export default {
  title: 'engine overhead per job, trivial jobs in a DAG',
  async run(ctx) {
    const jobs = ctx.smoke ? 10 : 200;
    const bash = `#!/bin/bash\nset -eo pipefail\n${'bash --noprofile --norc -eo pipefail -c true\n'.repeat(jobs)}`;
    const half = jobs / 2;
    const width = ctx.smoke ? 5 : 20;
    const dir = repoWith(path.join(ctx.work, 'engine'), { 'delivery.yml': dag(jobs, width), 'jobs.sh': bash });
    const halfDir = repoWith(path.join(ctx.work, 'engine-half'), { 'delivery.yml': dag(half, width) });
    const checked = new Set();
    const passedAll = (name, n) => (x) => {
      const passed = Object.values(x.json.jobs).filter((j) => j.status === 'success').length;
      if (passed !== n) throw new Error(`engine, ${name}: ${passed} of ${n} jobs passed`);
      checked.add(name);
    };
    const runIn = (cwd) => () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'dag', '--json', '--parallel', '1'], cwd, env: ctx.env, json: true });
    const r = await measureCases(ctx, [
      { name: 'delivery', spec: runIn(dir), after: passedAll('delivery', jobs) },
      { name: 'half', spec: runIn(halfDir), after: passedAll('half', half) },
      { name: 'bash', spec: () => ({ cmd: 'bash', args: ['jobs.sh'], cwd: dir }) },
    ]);
    if (checked.size !== 2) throw new Error('engine: no run checked');
    const ours = r.delivery.map((x) => x.wallMs);
    const ref = r.bash.map((x) => x.wallMs);
    const perJob = ours.map((o, i) => (o - ref[i]) / jobs);
    const overhead = (median(ours) - median(ref)) / jobs;
    const slope = marginal(ours, r.half.map((x) => x.wallMs), ref, jobs, half);
    const isolation = await isolatedJobs(ctx);
    return {
      rows: [
        row({
          scenario: `engine, ${jobs} trivial jobs in a DAG`,
          measured: '`delivery run --parallel 1` wall',
          samples: ours,
          reference: { name: `bash, ${jobs} shells`, samples: ref },
          ratio: median(ours) / median(ref),
          ratioText: `${(median(ours) / median(ref)).toFixed(2)}× bash`,
          target: '',
          met: null,
        }),
        {
          ...row({
            scenario: `engine, ${jobs} trivial jobs in a DAG`,
            measured: `cost a job adds over bash: (run of ${jobs} − run of ${half}) / ${jobs - half} − bash per job`,
            samples: slope.samples,
            target: '≤ 3 ms per job over bash',
            met: slope.median <= 3,
          }),
          // The per-job figure from the medians (the spread is that of the per-round differences).
          value: { ...stats(slope.samples), median: slope.median },
        },
        {
          ...row({
            scenario: `engine, ${jobs} trivial jobs in a DAG`,
            measured: 'average per job, the run\'s fixed cost included: (ours − bash) / jobs',
            samples: perJob,
            target: '',
            met: null,
          }),
          value: { ...stats(perJob), median: overhead },
        },
        ...isolation,
      ],
    };
  },
};

/**
 * N trivial GitHub jobs, each in its own workspace, against the same jobs sharing the folder and against N shells.
 * As many jobs as the DAG above, so that the fixed cost of any run (Node's start-up, loading the CLI, reading the
 * workflow: about 100 ms) weighs the same in both per-job figures (0.5 ms; it was 2 ms a job with 50 jobs).
 */
async function isolatedJobs(ctx) {
  const jobs = ctx.smoke ? 6 : 200;
  const bash = `#!/bin/bash\nset -eo pipefail\n${'bash --noprofile --norc -eo pipefail -c true\n'.repeat(jobs)}`;
  const half = jobs / 2;
  const files = { ...smallRepoFiles(), '.github/workflows/jobs.yml': githubJobs(jobs), 'jobs.sh': bash };
  const dir = repoWith(path.join(ctx.work, 'engine-github'), files);
  const halfDir = repoWith(path.join(ctx.work, 'engine-github-half'), { ...smallRepoFiles(), '.github/workflows/jobs.yml': githubJobs(half), 'jobs.sh': bash });
  const check = (what, n = jobs) => (x) => {
    const passed = Object.values(x.json.jobs).filter((j) => j.status === 'success').length;
    if (passed !== n) throw new Error(`engine, ${what}: ${passed} of ${n} jobs passed`);
  };
  const run = (extra, cwd = dir) => () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'jobs', '--json', '--parallel', '1', ...extra], cwd, env: ctx.env, json: true });
  const r = await measureCases(ctx, [
    { name: 'isolated', spec: run([]), after: check('isolated') },
    { name: 'isolated-half', spec: run([], halfDir), after: check('isolated, half', half) },
    { name: 'shared', spec: run(['--workspace', 'shared']), after: check('shared') },
    { name: 'bash', spec: () => ({ cmd: 'bash', args: ['jobs.sh'], cwd: dir }) },
  ]);
  const iso = r.isolated.map((x) => x.wallMs);
  const shared = r.shared.map((x) => x.wallMs);
  const ref = r.bash.map((x) => x.wallMs);
  const scenario = `engine, ${jobs} trivial GitHub jobs, each in its own workspace (a ${Object.keys(files).length}-file repository)`;
  const perJob = (a, b) => ({ samples: a.map((v, i) => (v - b[i]) / jobs), median: (median(a) - median(b)) / jobs });
  const over = perJob(iso, ref);
  const slope = marginal(iso, r['isolated-half'].map((x) => x.wallMs), ref, jobs, half);
  const alone = perJob(iso, shared);
  const sharedOver = perJob(shared, ref);
  return [
    row({
      scenario,
      measured: '`delivery run --parallel 1` wall',
      samples: iso,
      reference: { name: `bash, ${jobs} shells`, samples: ref },
      ratio: median(iso) / median(ref),
      ratioText: `${(median(iso) / median(ref)).toFixed(1)}× bash`,
      target: '',
      met: null,
    }),
    {
      ...row({ scenario, measured: `cost a job adds with isolation over bash: (run of ${jobs} − run of ${half}) / ${jobs - half} − bash per job`, samples: slope.samples, target: '≤ 3 ms per job over bash', met: slope.median <= 3 }),
      value: { ...stats(slope.samples), median: slope.median },
    },
    { ...row({ scenario, measured: 'average per job with isolation, the run\'s fixed cost included: (ours − bash) / jobs', samples: over.samples, target: '', met: null }), value: { ...stats(over.samples), median: over.median } },
    { ...row({ scenario, measured: 'of which the workspace: (isolated − `--workspace shared`) / jobs', samples: alone.samples, target: '', met: null }), value: { ...stats(alone.samples), median: alone.median } },
    { ...row({ scenario, measured: 'the same jobs without workspaces: (`--workspace shared` − bash) / jobs', samples: sharedOver.samples, target: '', met: null }), value: { ...stats(sharedOver.samples), median: sharedOver.median } },
  ];
}

/**
 * What one more job costs over bash: the slope between a run of `n` jobs and one of `half` (the same rounds), minus
 * what bash spends on a job. Samples per round; the median from the medians.
 */
function marginal(full, halfRuns, bash, n, half) {
  const per = (f, h, b) => (f - h) / (n - half) - b / n;
  return { samples: full.map((f, i) => per(f, halfRuns[i], bash[i])), median: per(median(full), median(halfRuns), median(bash)) };
}
