// Every remote engine, one descriptor per kind (a new engine is one module and one line here; the compiler asks
// for it), and what is decided from them alone: reading delivery.yml's `remote:`, describing a target, the host a
// token is asked for, the engine a git host belongs to.
import type { Node } from 'yaml';
import { MapReader } from '../config/reader';
import type { YamlFile } from '../config/yamlFile';
import { githubRemote } from '../github/remote';
import { gitlabRemote } from '../gitlab/remote';
import { buildbotRemote } from './buildbot';
import type { EngineTokens, RemoteEngineSpec } from './engine';
import type { RemoteEngineKind, RemoteTarget, TargetOf } from './types';

export const REMOTE_ENGINE_SPECS: { readonly [E in RemoteEngineKind]: RemoteEngineSpec<E> } = {
  github: githubRemote,
  gitlab: gitlabRemote,
  buildbot: buildbotRemote,
};

/** The engines, in the order messages list them. */
export const REMOTE_ENGINES = Object.keys(REMOTE_ENGINE_SPECS) as RemoteEngineKind[];

/** The descriptor of an engine. */
export function engineSpec<E extends RemoteEngineKind>(kind: E): RemoteEngineSpec<E> {
  return REMOTE_ENGINE_SPECS[kind] as RemoteEngineSpec<E>;
}

/** Where an engine's tokens come from and may go; null: it takes none. */
export function engineTokens(kind: RemoteEngineKind): EngineTokens | null {
  return REMOTE_ENGINE_SPECS[kind].token;
}

/** The descriptor of a target's engine, typed for the target. */
function specOf<T extends RemoteTarget>(t: T): RemoteEngineSpec<T['engine']> & { describe(t: T): string; tokenHost(t: T): string } {
  return engineSpec(t.engine) as never;
}

/** `remote:` of a delivery.yml pipeline: exactly one engine key. */
export function readRemoteTarget(f: YamlFile, node: Node | undefined, pipelineId: string): RemoteTarget | null {
  const what = `pipeline "${pipelineId}": remote`;
  const r = MapReader.from(f, node, what, REMOTE_ENGINES);
  if (!r) return null;
  const present = REMOTE_ENGINES.filter((k) => r.has(k));
  if (present.length === 0) {
    f.error(r.node, `${what}: name the engine, with exactly one of ${REMOTE_ENGINES.join(', ')}`);
    return null;
  }
  if (present.length > 1) {
    f.error(r.pair(present[1]), `${what}: use exactly one of ${REMOTE_ENGINES.join(', ')}, not ${present.join(' and ')}`);
    return null;
  }
  const spec: RemoteEngineSpec<RemoteEngineKind> = engineSpec(present[0]);
  const map = MapReader.from(f, r.value(spec.kind), `${what}: ${spec.kind}`, spec.keys);
  return map ? spec.read(map, pipelineId) : null;
}

/** Where a target is, for messages: "Buildbot http://127.0.0.1:8010 builder app", "GitHub owner/name workflow ci.yml". */
export function describeTarget(t: RemoteTarget): string {
  return specOf(t).describe(t);
}

/** The host a token is asked for (TokenProvider's `host`). */
export function targetHost(t: RemoteTarget): string {
  return specOf(t).tokenHost(t);
}

/** The engine a git host belongs to, by its name (github.com, *.ghe.com, gitlab.com, a host named after one). */
export function engineOfHost(host: string): RemoteEngineKind | null {
  const h = host.toLowerCase().replace(/:\d+$/, '');
  return REMOTE_ENGINES.find((k) => REMOTE_ENGINE_SPECS[k].gitHosts?.owns(h)) ?? null;
}

/** The targets that take a token: those with an API URL. */
export type ApiTarget = Extract<RemoteTarget, { apiUrl: string }>;

/** A target whose engine takes a token, narrowed; null for the others (Buildbot). */
export function apiTarget(t: RemoteTarget): ApiTarget | null {
  return 'apiUrl' in t ? t : null;
}

/** The token facts of an API target's engine. */
export function tokenSpec(t: ApiTarget): EngineTokens {
  return specOf(t).token as EngineTokens;
}

export type { TargetOf };
