// Job workspaces: making the workspace of one job (a copy of the folder as it is now: git's file list, a .git that
// borrows the objects, the files copied) for a checkout of 5,000 files and 100 MB, against `cp -al` (hard links: the
// floor of any copy of that tree) and `cp -a` (a real copy, what a workspace that cannot change your files needs on a
// file system without reflinks). The first workspace of a run reads the folder; a later one of the same run is made
// from that reading. Timed in-process for ours; the references are the commands' wall time.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { measureCases, median, row } from '../lib/harness.mjs';

export default {
  title: 'job workspace of a 5,000-file, 100 MB checkout',
  async run(ctx) {
    const files = ctx.smoke ? 100 : 5000;
    const size = ctx.smoke ? 1000 : 20_000;
    const root = path.join(ctx.work, 'workspace');
    const src = path.join(root, 'src');
    if (!fs.existsSync(path.join(src, '.git')) || fs.readdirSync(path.join(src, 'd0')).length * 50 < files) {
      fs.rmSync(root, { recursive: true, force: true });
      for (let i = 0; i < files; i++) {
        const d = path.join(src, `d${i % 50}`);
        fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(path.join(d, `f${i}.txt`), randomBytes(size));
      }
      const g = (...a) => execFileSync('git', a, { cwd: src, stdio: 'pipe' });
      g('init', '-q', '-b', 'main');
      g('add', '-A');
      g('-c', 'user.email=b@example.com', '-c', 'user.name=bench', 'commit', '-q', '-m', 'tree');
    }
    const dest = (name) => path.join(root, name);
    const clean = (name) => () => fs.rmSync(dest(name), { recursive: true, force: true });
    let seen = 0;
    const r = await measureCases(ctx, [
      {
        name: 'workspace',
        spec: () => (clean('ws')(), { cmd: process.execPath, args: [ctx.runners.workspace, src, dest('ws')], json: true }),
        after: (x) => (seen = x.json.files),
      },
      { name: 'cp -al', spec: () => (clean('links')(), { cmd: 'cp', args: ['-al', src, dest('links')] }) },
      { name: 'cp -a', spec: () => (clean('copy')(), { cmd: 'cp', args: ['-a', src, dest('copy')] }) },
    ]);
    if (seen !== files) throw new Error(`workspace: ${seen} of ${files} files copied`);
    for (const n of ['ws', 'links', 'copy']) clean(n)();
    const ours = r.workspace.map((x) => x.json.ms);
    const later = r.workspace.map((x) => x.json.laterMs);
    const links = r['cp -al'].map((x) => x.wallMs);
    const copy = r['cp -a'].map((x) => x.wallMs);
    const ratio = median(ours) / median(links);
    const laterRatio = median(later) / median(links);
    const scenario = `job workspace, ${files} files, ${Math.round((files * size) / 1e6)} MB`;
    return {
      rows: [
        row({
          scenario,
          measured: "a run's first workspace (reads the folder), in-process",
          samples: ours,
          reference: { name: 'cp -al', samples: links },
          ratio,
          ratioText: `${ratio.toFixed(1)}× cp -al, ${(median(ours) / median(copy)).toFixed(2)}× cp -a`,
          target: '≤ 1.5× cp -al or ≤ 150 ms',
          met: ratio <= 1.5 || median(ours) <= 150,
        }),
        row({
          scenario,
          measured: 'a later workspace of the same run (the folder read once)',
          samples: later,
          reference: { name: 'cp -al', samples: links },
          ratio: laterRatio,
          ratioText: `${laterRatio.toFixed(1)}× cp -al, ${(median(later) / median(copy)).toFixed(2)}× cp -a`,
          target: '≤ 1.5× cp -al or ≤ 150 ms',
          met: laterRatio <= 1.5 || median(later) <= 150,
        }),
      ],
      notes: [`cp -a of the same tree: ${Math.round(median(copy))} ms (a real copy; workspaces copy, never hard-link)`],
    };
  },
};
