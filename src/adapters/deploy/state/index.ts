// The team stores behind core's TeamStateStore port, one module per kind (teamState.ts: StateSpec). Adding a kind
// is one module plus one line in STATE_STORES, which the compiler checks against StateStoreKind.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import type { StateSpec, StateStoreKind, LockHere, TeamStateStore } from '../../../core/environments/teamState';
import type { EnvironmentConfig } from '../../../core/config/delivery';
import { systemClock } from '../../clock';
import { processStartTime } from '../../runStore';
import { processAlive } from '../history';
import { gitStateStore } from './git';
import { localStateStore } from './local';
import { registryStateStore } from './registry';
import { sshStateStore } from './ssh';

export interface StoreContext {
  environment: string;
  /** The workspace folder (git stores run git there). */
  folder: string;
  /** This machine's state folder of the workspace (the local store lives there). */
  stateDir: string;
  /** Variables for the processes a store runs (e.g. DOCKER_* of a test engine). */
  env?: Record<string, string>;
}

type StoreFactory<K extends StateStoreKind> = (spec: Extract<StateSpec, { kind: K }>, ctx: StoreContext) => TeamStateStore;

export const STATE_STORES: { [K in StateStoreKind]: StoreFactory<K> } = {
  ssh: (spec, ctx) => sshStateStore(spec, { environment: ctx.environment, cwd: ctx.folder }),
  git: (spec, ctx) => gitStateStore(spec, { environment: ctx.environment, folder: ctx.folder }),
  registry: (spec, ctx) => registryStateStore(spec, { environment: ctx.environment, cwd: ctx.folder, env: ctx.env }),
  local: (_spec, ctx) => localStateStore(ctx.stateDir, ctx.environment),
};

export function stateStore(spec: StateSpec, ctx: StoreContext): TeamStateStore {
  return (STATE_STORES[spec.kind] as StoreFactory<StateStoreKind>)(spec as never, ctx);
}

/** The store of an environment (its `state:`, else the one its deploy kind implies). */
export function environmentStore(env: EnvironmentConfig, ctx: Omit<StoreContext, 'environment'>): TeamStateStore {
  return stateStore(env.state.spec, { ...ctx, environment: env.id });
}

/**
 * Who deploys, as the team's lock and history name them: DELIVERY_USER when set, else the repository's git
 * `user.name`, else the login name — so two people on one shared build host are told apart.
 */
export async function deployerName(folder: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const set = env.DELIVERY_USER?.trim();
  if (set) return set;
  const fromGit = await new Promise<string>((resolve) => {
    execFile('git', ['config', '--get', 'user.name'], { cwd: folder, timeout: 5000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, out) => resolve(err ? '' : String(out).trim()));
  });
  if (fromGit) return fromGit;
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? 'unknown';
  }
}

const activeDeploys = new Set<string>();

/** This process as the lock sees it. */
export function lockHere(user: string): LockHere {
  return {
    user,
    host: os.hostname(),
    pid: process.pid,
    pidStartTime: processStartTime(process.pid),
    clock: systemClock,
    alive: processAlive,
    newToken: () => randomBytes(12).toString('hex'),
    activeDeploys,
  };
}
