// Bench runner: job workspaces of a folder (src/adapters/workspaces.ts), timed in-process: the first of a run
// (which reads the folder: git's file list, the repository files) and a later one made from that reading.
//   node workspace.js <folder> <dest>   -> {"ms":…, "laterMs":…, "files":…}
import * as fs from 'node:fs';
import { makeWorkspace, snapshotOf } from '../../src/adapters/workspaces';

async function main(): Promise<void> {
  const [folder, dest] = process.argv.slice(2);
  const later = `${dest}-later`;
  for (const d of [dest, later]) fs.rmSync(d, { recursive: true, force: true });
  const t0 = performance.now();
  const snapshot = await snapshotOf(folder);
  await makeWorkspace(folder, dest, undefined, snapshot);
  const ms = performance.now() - t0;
  const t1 = performance.now();
  await makeWorkspace(folder, later, undefined, snapshot);
  const laterMs = performance.now() - t1;
  const count = (d: string): number => {
    let files = 0;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.git') continue;
      if (e.isDirectory()) files += count(`${d}/${e.name}`);
      else files++;
    }
    return files;
  };
  const files = count(dest);
  if (count(later) !== files) throw new Error(`the later workspace has ${count(later)} files, the first ${files}`);
  fs.rmSync(later, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ ms, laterMs, files })}\n`);
}

void main();
