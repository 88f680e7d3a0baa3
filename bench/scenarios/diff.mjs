// Deployed ↔ local diff of a generated repository: 2,000 commits and 5,000 changed files (modified, added,
// deleted, renamed) between the deployed commit and HEAD, and a few deployed commits HEAD lacks. deployDiff
// (src/adapters/environments/diff.ts, cold, in a fresh process) against `git diff --numstat` + `git log` of the
// same range run one after the other.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { measureCases, median, row } from '../lib/harness.mjs';
import { GIT_ENV } from '../lib/fixtures.mjs';

const LINES = 20;
const content = (file, version) =>
  Array.from({ length: LINES }, (_, k) => `line ${k} of file ${file}${k === version % LINES ? ` version ${version}` : ''}\n`).join('');
const filePath = (i) => `src/dir${i % 60}/file${i}.txt`;

/** A fast-import stream: base commit, `commits` commits on main changing `changed` files, 5 on `deployed`. */
function stream(commits, changed) {
  const out = [];
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  let mark = 0;
  let time = 1767225600;
  const commit = (ref, from, msg, ops) => {
    mark++;
    out.push(`commit ${ref}\nmark :${mark}\ncommitter Bench <bench@example.invalid> ${time++} +0000\n${data(msg)}${from ? `from :${from}\n` : ''}${ops.join('')}`);
    return mark;
  };
  const modify = (p, text) => `M 100644 inline ${p}\n${data(text)}`;
  const baseFiles = changed + Math.ceil(changed / 5);
  const base = commit('refs/heads/main', null, 'base', Array.from({ length: baseFiles }, (_, i) => modify(filePath(i), content(i, 0))));
  // What changes between base and HEAD: 4% deleted, 2% renamed (one line edited), 2% added, the rest modified;
  // a fifth of the modified files change twice.
  const ops = [];
  const dels = Math.round(changed * 0.04);
  const renames = Math.round(changed * 0.02);
  const adds = Math.round(changed * 0.02);
  const mods = changed - dels - renames - adds;
  for (let i = 0; i < mods; i++) ops.push({ kind: 'M', i, v: 1 });
  for (let i = 0; i < Math.round(mods / 5); i++) ops.push({ kind: 'M', i, v: 2 });
  for (let i = mods; i < mods + dels; i++) ops.push({ kind: 'D', i });
  for (let i = mods + dels; i < mods + dels + renames; i++) ops.push({ kind: 'R', i });
  for (let i = 0; i < adds; i++) ops.push({ kind: 'A', i: baseFiles + i });
  // Deterministic shuffle, keeping a file's second change after its first.
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = ops.length - 1; k > 0; k--) {
    const j = Math.floor(rnd() * (k + 1));
    [ops[k], ops[j]] = [ops[j], ops[k]];
  }
  const firstAt = new Map();
  ops.forEach((o, k) => { if (o.kind === 'M' && o.v === 1) firstAt.set(o.i, k); });
  ops.forEach((o, k) => { if (o.kind === 'M' && o.v === 2 && firstAt.get(o.i) > k) { o.v = 1; ops[firstAt.get(o.i)].v = 2; } });
  let parent = base;
  const per = Math.ceil(ops.length / commits);
  for (let c = 0; c < commits; c++) {
    const lines = ops.slice(c * per, (c + 1) * per).map((o) => {
      if (o.kind === 'M' || o.kind === 'A') return modify(filePath(o.i), content(o.i, o.kind === 'A' ? 0 : o.v));
      if (o.kind === 'D') return `D ${filePath(o.i)}\n`;
      const to = filePath(o.i).replace('.txt', '-renamed.txt');
      return `R ${filePath(o.i)} ${to}\n${modify(to, content(o.i, 3))}`;
    });
    parent = commit('refs/heads/main', parent, `change ${c + 1}`, lines);
  }
  let dep = base;
  for (let c = 0; c < 5; c++) dep = commit('refs/heads/deployed', dep, `hotfix ${c + 1}`, [modify(filePath(c), content(c, 7))]);
  return out.join('');
}

function generate(dir, commits, changed) {
  const stamp = path.join(dir, '.git', 'bench-generated');
  const want = `${commits} commits, ${changed} files, v2`;
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const git = (args, input) => execFileSync('git', args, { cwd: dir, input, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8', maxBuffer: 1 << 28 });
  git(['init', '-q', '-b', 'main']);
  git(['fast-import', '--quiet'], stream(commits, changed));
  git(['gc', '-q']); // packed, as a real clone is
  fs.writeFileSync(stamp, want);
}

export default {
  title: 'deployed ↔ local diff, 2,000 commits and 5,000 changed files',
  async run(ctx) {
    const commits = ctx.smoke ? 20 : 2000;
    const changed = ctx.smoke ? 50 : 5000;
    const dir = path.join(ctx.work, `diff-${commits}`);
    ctx.log(`  generating the repository (git fast-import; kept for the next run)`);
    generate(dir, commits, changed);
    const rev = (r) => execFileSync('git', ['rev-parse', r], { cwd: dir, encoding: 'utf8' }).trim();
    const [from, to] = [rev('deployed'), rev('main')];
    let checked = null;
    const r = await measureCases(ctx, [
      {
        name: 'deployDiff',
        spec: () => ({ cmd: process.execPath, args: [ctx.runners.diff, dir, from, to], json: true }),
        after: (x) => (checked = x.json),
      },
      {
        name: 'git',
        spec: () => ({ cmd: 'bash', args: ['-c', 'git diff --numstat "$1" "$2" >/dev/null && git log --left-right "$1...$2" >/dev/null', 'git', from, to], cwd: dir }),
      },
    ]);
    if (checked.files !== changed || checked.toDeploy !== commits || checked.toRevert !== 5) {
      throw new Error(`diff: expected ${changed} files, ${commits} commits to deploy, 5 to revert; got ${JSON.stringify(checked)}`);
    }
    const ours = r.deployDiff.map((x) => x.json.ms);
    const wall = r.deployDiff.map((x) => x.wallMs);
    const ref = r.git.map((x) => x.wallMs);
    const ratio = median(ours) / median(ref);
    const title = `diff, ${commits.toLocaleString('en-US')} commits, ${changed.toLocaleString('en-US')} changed files`;
    return {
      rows: [
        row({ scenario: title, measured: '`deployDiff()` (cold, in-process)', samples: ours, reference: { name: '`git diff --numstat` + `git log`', samples: ref }, ratio, ratioText: `${ratio.toFixed(2)}×`, target: '≤ 1.5× git', met: ratio <= 1.5 }),
        row({ scenario: title, measured: 'the same, whole process (Node start-up included)', samples: wall, reference: { name: 'git', samples: ref }, ratio: median(wall) / median(ref), ratioText: `${(median(wall) / median(ref)).toFixed(2)}×`, target: '', met: null }),
      ],
      notes: [`${checked.renamed} renames detected, ${checked.added.toLocaleString('en-US')} lines added`],
    };
  },
};
