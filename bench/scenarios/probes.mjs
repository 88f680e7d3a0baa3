// Version probes of 20 environments over HTTP on loopback, one answering after 2 s, through
// environmentStatuses() (probe, resolve the commit, distance to HEAD, all environments at once), against the
// slowest environment probed alone. Each environment reports a different commit of a 25-commit history.
import fs from 'node:fs';
import path from 'node:path';
import { measureCases, median, row } from '../lib/harness.mjs';
import { git, repoWith } from '../lib/fixtures.mjs';
import { startVersionServer } from '../lib/versionServer.mjs';

export function environmentsYaml(url, shas, slow) {
  return shas
    .map((sha, i) => {
      const endpoint = i === slow.index ? `${url}/slow/${slow.ms}/${sha}` : `${url}/v/${sha}`;
      return `  env${String(i).padStart(2, '0')}:\n    name: Environment ${i}\n    version: { http: "${endpoint}", json: build.sha }\n`;
    })
    .join('');
}

/** A repository of `commits` commits; returns [dir, shas oldest first]. */
export function historyRepo(dir, commits, extraFiles = {}) {
  repoWith(dir, { 'README.md': 'bench\n', ...extraFiles });
  for (let i = 1; i < commits; i++) git(dir, ['commit', '-q', '--allow-empty', '-m', `commit ${i}`]);
  return git(dir, ['rev-list', '--reverse', 'HEAD']).trim().split('\n');
}

export default {
  title: 'version probe of 20 environments (HTTP on loopback, one with a 2 s delay)',
  async run(ctx) {
    const count = ctx.smoke ? 3 : 20;
    const delay = ctx.smoke ? 200 : 2000;
    const server = await startVersionServer();
    try {
      const dir = path.join(ctx.work, 'probes');
      const shas = historyRepo(dir, 25);
      const slow = { index: Math.floor(count / 2), ms: delay };
      const envShas = Array.from({ length: count }, (_, i) => shas[i % shas.length]);
      const yml = `version: 1\npipelines: {}\nenvironments:\n${environmentsYaml(server.url, envShas, slow)}`;
      // Uncommitted on purpose: the folder is dirty, as a working checkout often is.
      fs.writeFileSync(path.join(dir, 'delivery.yml'), yml);
      const slowId = `env${String(slow.index).padStart(2, '0')}`;
      const check = (want) => (x) => {
        if (x.json.deployed !== want || x.json.errors.length) throw new Error(`probes: ${x.json.deployed} of ${want} environments resolved: ${x.json.errors.join('; ')}`);
      };
      const r = await measureCases(ctx, [
        { name: 'all', spec: () => ({ cmd: process.execPath, args: [ctx.runners.probes, dir], json: true }), after: check(count) },
        { name: 'slowest', spec: () => ({ cmd: process.execPath, args: [ctx.runners.probes, dir, slowId], json: true }), after: check(1) },
      ]);
      const all = r.all.map((x) => x.json.ms);
      const one = r.slowest.map((x) => x.json.ms);
      const ratio = median(all) / median(one);
      const title = `probes, ${count} environments over HTTP, one ${delay / 1000} s slow`;
      return {
        rows: [row({ scenario: title, measured: '`environmentStatuses()` of all', samples: all, reference: { name: 'the slowest alone', samples: one }, ratio, ratioText: `${ratio.toFixed(3)}× (+${(median(all) - median(one)).toFixed(0)} ms)`, target: '≤ slowest + 10%', met: ratio <= 1.1 })],
      };
    } finally {
      await server.close();
    }
  },
};
