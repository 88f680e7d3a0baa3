// Engine overhead per job: 200 trivial jobs (`true`) in a DAG through `delivery run --json --parallel 1`, against
// a bash script that starts the same 200 shells (`bash --noprofile --norc -eo pipefail -c true`, what the engine
// runs for each job) one after another. Per job: (ours − bash) / jobs. One job at a time on both sides, so the
// engine gains nothing from running jobs in parallel: what is left is its own cost per job.
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

export default {
  title: 'engine overhead per job, trivial jobs in a DAG',
  async run(ctx) {
    const jobs = ctx.smoke ? 10 : 200;
    const bash = `#!/bin/bash\nset -eo pipefail\n${'bash --noprofile --norc -eo pipefail -c true\n'.repeat(jobs)}`;
    const dir = repoWith(path.join(ctx.work, 'engine'), { 'delivery.yml': dag(jobs, ctx.smoke ? 5 : 20), 'jobs.sh': bash });
    let checked = false;
    const r = await measureCases(ctx, [
      {
        name: 'delivery',
        spec: () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'dag', '--json', '--parallel', '1'], cwd: dir, env: ctx.env, json: true }),
        after: (x) => {
          const passed = Object.values(x.json.jobs).filter((j) => j.status === 'success').length;
          if (passed !== jobs) throw new Error(`engine: ${passed} of ${jobs} jobs passed`);
          checked = true;
        },
      },
      { name: 'bash', spec: () => ({ cmd: 'bash', args: ['jobs.sh'], cwd: dir }) },
    ]);
    if (!checked) throw new Error('engine: no run checked');
    const ours = r.delivery.map((x) => x.wallMs);
    const ref = r.bash.map((x) => x.wallMs);
    const perJob = ours.map((o, i) => (o - ref[i]) / jobs);
    const overhead = (median(ours) - median(ref)) / jobs;
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
            measured: 'overhead per job: (ours − bash) / jobs',
            samples: perJob,
            target: '≤ 3 ms per job over bash',
            met: overhead <= 3,
          }),
          // The per-job figure from the medians (the spread is that of the per-run differences).
          value: { ...stats(perJob), median: overhead },
        },
      ],
    };
  },
};
