// Reading what an environment runs, through the environments' version probes; the reported revision is turned
// into a local commit (fetched once if the clone lacks it).
import { probeVersion } from '../environments/probes';
import { DeployRepo } from '../environments/repo';
import type { SecretResolver } from '../../core/secrets';
import type { VersionReader } from './executor';

export function probeVersionReader(folder: string, secrets: SecretResolver): VersionReader {
  const repo = new DeployRepo(folder);
  return async (env, signal) => {
    const p = await probeVersion(env, { folder, signal, secrets, repo });
    if (p.sha === null) return { sha: null, raw: p.raw, error: p.error ?? 'the probe found no version' };
    const remote = env.version?.kind === 'git' ? env.version.remote : null;
    const r = await repo.resolve(p.sha, { remote }, signal).catch(() => null);
    return r && 'sha' in r ? { sha: r.sha, raw: p.sha, error: null } : { sha: null, raw: p.sha, error: null };
  };
}
