// Bench runner: a pipeline run in-process, as the VS Code extension runs it — the folder's pipelines loaded, then
// startLocalRun (the function the extension's run manager and the CLI both call) with a listener taking every line
// (the extension's Output channel and board take each `line` event). A warm-up run of another pipeline first, in
// the same process: an editor session has the extension loaded and its code compiled before the user runs anything.
//   node run.js <folder> <pipeline> <warm-up pipeline>
//   -> {"ms": wall from the call to the record saved, "jobMs": the job's duration, "lines" of output, "system" lines, "chars", "status", "logFile"}
import { FolderSources } from '../../src/adapters/folderSources';
import { startLocalRun } from '../../src/adapters/localRuns';
import { FileRunStore } from '../../src/adapters/runStore';
import { folderStateDir } from '../../src/adapters/stateDir';

async function main(): Promise<void> {
  const [folder, name, warmName] = process.argv.slice(2);
  const snapshot = await new FolderSources(folder).loadAll();
  const store = new FileRunStore(folderStateDir(folder));
  const find = (id: string) => {
    const p = snapshot.pipelines.find((x) => x.def.id === id);
    if (!p) throw new Error(`no pipeline ${id} in ${folder}`);
    return p;
  };
  const run = async (id: string) => {
    let lines = 0;
    let chars = 0;
    let system = 0;
    const t0 = performance.now();
    const handle = await startLocalRun(find(id), {}, { folder, store, trigger: 'vscode' });
    if ('error' in handle) throw new Error(handle.error);
    handle.onEvent((e) => {
      if (e.type !== 'line') return;
      if (e.stream === 'system') system++;
      else lines++;
      chars += e.text.length;
    });
    const record = await handle.done;
    return { ms: performance.now() - t0, jobMs: record.jobs[0]?.durationMs ?? null, lines, system, chars, status: record.status, logFile: record.jobs[0]?.logFile ?? null };
  };
  const warm = await run(warmName);
  if (warm.status !== 'success') throw new Error(`warm-up ${warmName}: ${warm.status}`);
  process.stdout.write(`${JSON.stringify(await run(name))}\n`);
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
