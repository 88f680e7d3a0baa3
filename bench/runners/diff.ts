// Bench runner: deployDiff between two commits, cold (the first call in a fresh process), timed in-process.
//   node diff.js <repo> <from-sha> <to-sha>   -> {"ms":…, "toDeploy":…, "toRevert":…, "files":…}
import { deployDiff } from '../../src/adapters/environments/diff';

async function main(): Promise<void> {
  const [repo, from, to] = process.argv.slice(2);
  const t0 = performance.now();
  const d = await deployDiff(repo, { env: 'production', sha: from }, { ref: 'HEAD', sha: to });
  const ms = performance.now() - t0;
  const added = d.files.reduce((n, f) => n + f.additions, 0);
  const renamed = d.files.filter((f) => f.oldPath !== null).length;
  process.stdout.write(`${JSON.stringify({ ms, toDeploy: d.commits.toDeploy.length, toRevert: d.commits.toRevert.length, files: d.files.length, added, renamed })}\n`);
}

void main();
