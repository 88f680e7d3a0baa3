// Bench runner: one job workspace of a folder (src/adapters/workspaces.ts), timed in-process.
//   node workspace.js <folder> <dest>   -> {"ms":…, "files":…}
import * as fs from 'node:fs';
import { makeWorkspace } from '../../src/adapters/workspaces';

async function main(): Promise<void> {
  const [folder, dest] = process.argv.slice(2);
  fs.rmSync(dest, { recursive: true, force: true });
  const t0 = performance.now();
  await makeWorkspace(folder, dest);
  const ms = performance.now() - t0;
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.git') continue;
      if (e.isDirectory()) walk(`${d}/${e.name}`);
      else files++;
    }
  };
  walk(dest);
  process.stdout.write(`${JSON.stringify({ ms, files })}\n`);
}

void main();
