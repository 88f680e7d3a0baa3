// Which remote pipeline a local pipeline definition corresponds to: `remote:` on a delivery.yml pipeline (read by
// the engines' descriptors, core/remote/engines.ts), or, for sources whose files run where their repository is
// (GitHub workflows, .gitlab-ci.yml), inferred from the URL of the git remote by the source's engine.
import type { PipelineDef } from '../../shared/model';
import { SOURCES } from '../importers';
import type { OriginRepo } from './engine';
import { engineOfHost, engineSpec, engineTokens } from './engines';
import { parseGitRemoteUrl, redactUrl, webOrigin } from './gitRemote';
import type { RemoteEngineKind, RemoteTarget } from './types';

export { describeTarget, engineOfHost } from './engines';
export { parseGitRemoteUrl } from './gitRemote';

/** The engine a pipeline runs on remotely: its `remote:`'s, or its source's (files that run where they are); null: none. */
export function remoteEngineOf(def: PipelineDef): RemoteEngineKind | null {
  if (def.remote) return def.remote.engine;
  const remote = SOURCES[def.source.kind].remote;
  return 'engine' in remote ? remote.engine : null;
}

/** True when the pipeline may run somewhere remote. */
export function canRunRemotely(def: PipelineDef): boolean {
  return remoteEngineOf(def) !== null;
}

/**
 * True when the "origin" remote matters to the pipeline's remote target: it is inferred from it, or its engine
 * takes a token (the API on the origin's host gets the token unasked).
 */
export function remoteNeedsOrigin(def: PipelineDef): boolean {
  return def.remote ? engineTokens(def.remote.engine) !== null : 'engine' in SOURCES[def.source.kind].remote;
}

/**
 * The remote pipeline of a pipeline definition: its `remote:` when delivery.yml names one; else what its source
 * says: for a GitHub workflow the workflow file in the repository of the git remote, for .gitlab-ci.yml the project
 * of the git remote; a delivery.yml pipeline without `remote:` runs only locally.
 */
export function remoteTargetFor(def: PipelineDef, remoteUrl: string | null): RemoteTarget | { error: string } {
  if (def.remote) return def.remote;
  const remote = SOURCES[def.source.kind].remote;
  if (!('engine' in remote)) return { error: remote.none(def) };
  const spec = engineSpec(remote.engine);
  const hosts = spec.gitHosts;
  const service = spec.label;
  if (!remoteUrl) return { error: `cannot tell which ${service} repository "${def.id}" belongs to: the git repository has no "origin" remote` };
  const loc = parseGitRemoteUrl(remoteUrl);
  if (!loc) return { error: `cannot tell which ${service} repository "${def.id}" belongs to: the "origin" remote ${redactUrl(remoteUrl)} is not a repository URL` };
  const engine = engineOfHost(loc.host);
  if (engine !== remote.engine || !hosts) {
    return { error: `the "origin" remote is on ${loc.host}, which is not a ${service} host${engine ? ` (it looks like ${engineSpec(engine).label})` : ''}; ${def.source.file} cannot be run there` };
  }
  const host = hosts.aliases.includes(loc.host) ? hosts.home : loc.host;
  const origin: OriginRepo = { loc, host, web: webOrigin(loc, host), url: redactUrl(remoteUrl) };
  return hosts.fromOrigin(origin, def.source.file);
}
