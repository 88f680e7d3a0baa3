// Bench runner: environmentStatuses() of the environments in <folder>/delivery.yml (or only those named),
// timed in-process; delivery.yml is read first and not timed.
//   node probes.js <folder> [env id...]   -> {"ms":…, "environments":…, "deployed":…, "errors":[…]}
import { FolderSources } from '../../src/adapters/folderSources';
import { environmentStatuses } from '../../src/adapters/environments/status';

async function main(): Promise<void> {
  const [folder, ...only] = process.argv.slice(2);
  const snapshot = await new FolderSources(folder).loadAll();
  const envs = snapshot.environments.filter((e) => only.length === 0 || only.includes(e.id));
  if (envs.length === 0) throw new Error(`no environments in ${folder} (${snapshot.problems.map((p) => p.message).join('; ')})`);
  const t0 = performance.now();
  const statuses = await environmentStatuses(folder, envs);
  const ms = performance.now() - t0;
  const deployed = statuses.filter((s) => s.deployed.sha !== null && s.ahead !== null).length;
  const errors = statuses.filter((s) => s.deployed.error).map((s) => `${s.id}: ${s.deployed.error}`);
  process.stdout.write(`${JSON.stringify({ ms, environments: statuses.length, deployed, errors })}\n`);
}

void main();
