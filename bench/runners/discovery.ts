// Bench runner: FolderSources.loadAll() of a generated folder, cold (the first load in a fresh process), then
// reload() of one changed workflow file and of one changed GitLab include (which re-reads .gitlab-ci.yml and all
// its includes), each 5 times with a real change on disk; the files are restored at the end.
//   node discovery.js <folder> <workflow rel path> <include rel path> [--cache FILE] [--no-reload]
//     -> {"loadAllMs":…, "reloadMs":[…], "reloadIncludeMs":[…], "pipelines":…, "errors":…}
// --cache: with the import results kept between sessions in FILE, as the CLI and the extension keep them (a missing
// FILE is the first session); --no-reload: only the cold load (the files are not touched).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FolderSources } from '../../src/adapters/folderSources';
import { SourceCache } from '../../src/adapters/sourceCache';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { cache: { type: 'string' }, 'no-reload': { type: 'boolean', default: false } } });
  const [folder, workflow, include] = positionals;
  const sources = new FolderSources(folder, undefined, values.cache ? { cache: new SourceCache(values.cache) } : {});
  const t0 = performance.now();
  const snapshot = await sources.loadAll();
  const loadAllMs = performance.now() - t0;
  const timeReloads = async (rel: string): Promise<number[]> => {
    const file = path.join(folder, rel);
    const original = fs.readFileSync(file, 'utf8');
    const times: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        fs.writeFileSync(file, `${original}# changed ${i}\n`);
        const t = performance.now();
        if (!(await sources.reload(rel))) throw new Error(`reload(${rel}) found nothing to do`);
        times.push(performance.now() - t);
      }
    } finally {
      fs.writeFileSync(file, original);
    }
    return times;
  };
  const reloadMs = values['no-reload'] ? [] : await timeReloads(workflow);
  const reloadIncludeMs = values['no-reload'] ? [] : await timeReloads(include);
  const after = sources.snapshot();
  const errors = after.problems.filter((p) => p.severity === 'error');
  process.stdout.write(
    `${JSON.stringify({ loadAllMs, reloadMs, reloadIncludeMs, pipelines: snapshot.pipelines.length, jobs: snapshot.pipelines.reduce((n, p) => n + p.def.jobs.length, 0), errors: errors.length, firstError: errors[0] ?? null })}\n`,
  );
}

void main();
