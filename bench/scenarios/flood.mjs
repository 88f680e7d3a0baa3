// A job printing 1,000,000 lines (~64 MB) through `delivery run --json`: the engine splits, masks, keeps a tail
// of and logs every line, and the CLI writes each as a progress line (to a file here, as a terminal would get
// it). Reference: the same command redirected to a file. Peak RSS is compared with a flood three times as long:
// memory that stays bounded does not grow with the output.
import fs from 'node:fs';
import path from 'node:path';
import { measureCases, median, row } from '../lib/harness.mjs';
import { stats } from '../lib/measure.mjs';
import { repoWith } from '../lib/fixtures.mjs';

export const floodCommand = (lines) => `seq -f 'flood line %07.0f: the quick brown fox jumps over the lazy dog' 1 ${lines}`;
/** One line of `bytes` bytes and no newline at all (a minified file cat'ed, a progress bar without \n). */
export const longLineCommand = (bytes) => `head -c ${bytes} /dev/zero | tr -c x x`;

export default {
  title: 'a job printing 1,000,000 lines (~64 MB)',
  async run(ctx) {
    const lines = ctx.smoke ? 10_000 : 1_000_000;
    const yml = (n) => `  flood${n === lines ? '' : '_triple'}:\n    jobs:\n      flood: { run: "${floodCommand(n)}" }\n`;
    const longBytes = ctx.smoke ? 400_000 : 40_000_000;
    const dir = repoWith(path.join(ctx.work, 'flood'), {
      'delivery.yml': `version: 1\npipelines:\n${yml(lines)}${yml(lines * 3)}  longline:\n    jobs:\n      long: { run: "${longLineCommand(longBytes)}" }\n  quiet:\n    jobs:\n      long: { run: "true" }\n`,
      '.gitignore': '*.txt\n',
    });
    const progress = path.join(dir, 'progress.txt');
    const progressTriple = path.join(dir, 'progress-triple.txt');
    const refOut = path.join(dir, 'reference.txt');
    let logged = -1;
    let longLogged = -1;
    let inProcessLogged = -1;
    const r = await measureCases(ctx, [
      {
        name: 'delivery',
        spec: () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'flood', '--json'], cwd: dir, env: ctx.env, json: true, stderr: progress }),
        after: (x) => {
          if (x.json.status !== 'success') throw new Error(`flood: the run ended ${x.json.status}`);
          const run = latestRun(ctx.env.DELIVERY_STATE_DIR, 'flood');
          logged = countLines(jobLog(run, 'flood'), 'flood line');
          fs.rmSync(run, { recursive: true, force: true }); // 64 MB per run otherwise
        },
      },
      {
        name: 'delivery-triple',
        spec: () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'flood_triple', '--json'], cwd: dir, env: ctx.env, json: true, stderr: progressTriple }),
        after: () => fs.rmSync(latestRun(ctx.env.DELIVERY_STATE_DIR, 'flood'), { recursive: true, force: true }),
      },
      { name: 'reference', spec: () => ({ cmd: 'bash', args: ['--noprofile', '--norc', '-eo', 'pipefail', '-c', `${floodCommand(lines)} > reference.txt`], cwd: dir }) },
      {
        name: 'longline',
        spec: () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'longline', '--json'], cwd: dir, env: ctx.env, json: true, stderr: path.join(dir, 'progress-long.txt') }),
        after: (x) => {
          if (x.json.status !== 'success') throw new Error(`longline: the run ended ${x.json.status}`);
          const run = latestRun(ctx.env.DELIVERY_STATE_DIR, 'flood');
          longLogged = fs.statSync(jobLog(run, 'long')).size;
          fs.rmSync(run, { recursive: true, force: true });
        },
      },
      // The same run in-process, as the editor runs it (bench/runners/run.ts): no Node start-up, no CLI to load.
      {
        name: 'longline-inprocess',
        spec: () => ({ cmd: process.execPath, args: [ctx.runners.run, dir, 'longline', 'quiet'], env: ctx.env, json: true }),
        after: (x) => {
          if (x.json.status !== 'success') throw new Error(`longline in-process: the run ended ${x.json.status}`);
          if (x.json.lines !== 1) throw new Error(`longline in-process: the listener heard ${x.json.lines} lines, not 1`);
          inProcessLogged = fs.statSync(x.json.logFile).size;
          fs.rmSync(latestRun(ctx.env.DELIVERY_STATE_DIR, 'flood'), { recursive: true, force: true });
          fs.rmSync(latestRun(ctx.env.DELIVERY_STATE_DIR, 'flood'), { recursive: true, force: true }); // the warm-up's
        },
      },
      { name: 'longline-reference', spec: () => ({ cmd: 'bash', args: ['--noprofile', '--norc', '-eo', 'pipefail', '-c', `${longLineCommand(longBytes)} > reference-long.txt`], cwd: dir }) },
      // The same run with a job that prints nothing: what any run costs (Node's start-up, the CLI, the record).
      {
        name: 'quiet',
        spec: () => ({ cmd: process.execPath, args: [ctx.build.cli, 'run', 'quiet', '--json'], cwd: dir, env: ctx.env, json: true }),
        after: (x) => {
          if (x.json.status !== 'success') throw new Error(`quiet: the run ended ${x.json.status}`);
          fs.rmSync(latestRun(ctx.env.DELIVERY_STATE_DIR, 'flood'), { recursive: true, force: true });
        },
      },
    ]);
    if (!(inProcessLogged >= longBytes)) throw new Error(`longline in-process: the job log has ${inProcessLogged} bytes, fewer than the ${longBytes} of the line`);
    if (!(longLogged >= longBytes)) throw new Error(`longline: the job log has ${longLogged} bytes, fewer than the ${longBytes} of the line`);
    fs.rmSync(path.join(dir, 'reference-long.txt'), { force: true });
    fs.rmSync(path.join(dir, 'progress-long.txt'), { force: true });
    if (logged !== lines) throw new Error(`flood: the job log has ${logged} of ${lines} lines`);
    const progressLines = countLines(progress, 'flood line');
    if (progressLines !== lines) throw new Error(`flood: the CLI printed ${progressLines} of ${lines} lines`);
    const refBytes = fs.statSync(refOut).size;
    fs.rmSync(refOut, { force: true });
    for (const f of [progress, progressTriple]) fs.rmSync(f, { force: true });
    const ours = r.delivery.map((x) => x.wallMs);
    const job = r.delivery.map((x) => x.json.jobs.flood.durationMs);
    const ref = r.reference.map((x) => x.wallMs);
    const ratio = median(ours) / median(ref);
    const rss = r.delivery.map((x) => x.rssKb / 1024);
    const rssTriple = r['delivery-triple'].map((x) => x.rssKb / 1024);
    const growth = median(rssTriple) / median(rss);
    const title = `flood: one job printing ${lines.toLocaleString('en-US')} lines (${(refBytes / 1e6).toFixed(0)} MB)`;
    return {
      rows: [
        row({ scenario: title, measured: '`delivery run` wall', samples: ours, reference: { name: 'same command > file', samples: ref }, ratio, ratioText: `${ratio.toFixed(2)}×`, target: '≤ 1.3× wall', met: ratio <= 1.3 }),
        row({ scenario: title, measured: 'the job itself (its duration in the run record)', samples: job, reference: { name: 'same command > file', samples: ref }, ratio: median(job) / median(ref), ratioText: `${(median(job) / median(ref)).toFixed(2)}×`, target: '', met: null }),
        row({
          scenario: title,
          measured: '`delivery run` peak RSS',
          samples: rss,
          unit: 'MB',
          reference: { name: `${(lines * 3).toLocaleString('en-US')} lines`, samples: rssTriple },
          ratio: growth,
          ratioText: `${growth.toFixed(2)}× for 3× the output`,
          target: 'bounded: RSS does not grow with the output (≤ 1.1× for 3× the lines)',
          met: growth <= 1.1,
        }),
        ...longRows(r, longBytes),
      ],
    };
  },
};

/**
 * One line of 40 MB without a newline: linear time (≤ 1.5× a redirect) and bounded memory (≤ 200 MB peak RSS). The
 * target is judged on the run itself, in-process as the editor runs it: a CLI run also pays Node's start-up and
 * loading the CLI (together more than half the reference's time here), which no line handling can win back — its
 * wall, and what the line adds to it, are shown beside.
 */
function longRows(r, bytes) {
  const title = `one line of ${(bytes / 1e6).toFixed(bytes < 1e6 ? 1 : 0)} MB without a newline`;
  const ours = r.longline.map((x) => x.wallMs);
  const ref = r['longline-reference'].map((x) => x.wallMs);
  const ratio = median(ours) / median(ref);
  // The job alone, without Node's start-up and the CLI's loading (most of a run this short): its record's duration.
  const job = r.longline.map((x) => x.json.jobs.long.durationMs);
  const jobRatio = median(job) / median(ref);
  const rss = r.longline.map((x) => x.rssKb / 1024);
  // What the line adds to a run: the run minus the same run of a job that prints nothing (taken in the same round).
  const quiet = r.quiet.map((x) => x.wallMs);
  const added = ours.map((o, i) => o - quiet[i]);
  const addedMedian = median(ours) - median(quiet);
  const addedRatio = addedMedian / median(ref);
  // In-process, as the editor runs it: from startLocalRun to the record saved (planning, workspace, job, log, record).
  const inProcess = r['longline-inprocess'].map((x) => x.json.ms);
  const inRatio = median(inProcess) / median(ref);
  return [
    row({ scenario: title, measured: 'a run in-process, as the editor runs it: start to record saved (bench/runners/run.ts)', samples: inProcess, reference: { name: 'same command > file', samples: ref }, ratio: inRatio, ratioText: `${inRatio.toFixed(2)}×`, target: '≤ 1.5× a redirect', met: inRatio <= 1.5 }),
    row({ scenario: title, measured: '`delivery run` wall (Node\'s start-up and loading the CLI included)', samples: ours, reference: { name: 'same command > file', samples: ref }, ratio, ratioText: `${ratio.toFixed(2)}×`, target: '', met: null }),
    row({ scenario: title, measured: '`delivery run` of a job that prints nothing (what any run costs)', samples: quiet, target: '', met: null }),
    {
      ...row({ scenario: title, measured: 'what the line adds: `delivery run` − the run of a job that prints nothing', samples: added, reference: { name: 'same command > file', samples: ref }, ratio: addedRatio, ratioText: `${addedRatio.toFixed(2)}×`, target: '', met: null }),
      value: { ...stats(added), median: addedMedian },
    },
    row({ scenario: title, measured: 'the job itself (its duration in the run record)', samples: job, reference: { name: 'same command > file', samples: ref }, ratio: jobRatio, ratioText: `${jobRatio.toFixed(2)}×`, target: '', met: null }),
    row({ scenario: title, measured: '`delivery run` peak RSS', samples: rss, unit: 'MB', target: '≤ 200 MB', met: median(rss) <= 200 }),
  ];
}

/** The newest run folder of the workspace folder named `name` in the state directory. */
function latestRun(stateRoot, name) {
  const runs = fs.readdirSync(stateRoot).filter((d) => d.startsWith(`${name}-`)).flatMap((d) => {
    const dir = path.join(stateRoot, d, 'runs');
    return fs.readdirSync(dir).map((id) => path.join(dir, id));
  });
  return runs.sort((a, b) => path.basename(a).localeCompare(path.basename(b))).at(-1);
}

/** The job's log file as its run record names it (log file names carry a hash of the job id). */
function jobLog(run, jobId) {
  const record = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
  const file = record.jobs?.find((j) => j.id === jobId)?.logFile;
  if (!file) throw new Error(`flood: run ${path.basename(run)} names no log file for job ${jobId}`);
  return file;
}

function countLines(file, prefix) {
  const text = fs.readFileSync(file, 'latin1');
  let n = 0;
  let at = -1;
  while ((at = text.indexOf(prefix, at + 1)) >= 0) n++;
  return n;
}
