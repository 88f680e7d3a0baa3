// The deploy kinds, one module each, registered here by one line. The kinds of delivery.yml's `deploy:` (and the
// DeployMethod union) are this map's keys, and the adapters' step executors are a map typed by them
// (src/adapters/deploy/kinds/index.ts): a kind registered here without an executor does not compile.
import { commandDeploy } from './command';
import { dockerDeploy } from './docker';
import { gitPushDeploy } from './gitPush';
import { httpDeploy } from './http';
import type { DeployKindDef } from './kind';
import { sshDeploy } from './ssh';
import { workflowDeploy } from './workflow';

export const DEPLOY_KIND_REGISTRY = {
  command: commandDeploy,
  ssh: sshDeploy,
  gitPush: gitPushDeploy,
  http: httpDeploy,
  docker: dockerDeploy,
  workflow: workflowDeploy,
};

export type DeployKind = keyof typeof DEPLOY_KIND_REGISTRY;
type MethodOf<D> = D extends DeployKindDef<string, infer M> ? M : never;
/** How an environment is deployed: one of the registered kinds. */
export type DeployMethod = MethodOf<(typeof DEPLOY_KIND_REGISTRY)[DeployKind]>;
/** The method of one kind: `DeployMethodOf<'ssh'>`. */
export type DeployMethodOf<K extends DeployKind> = Extract<DeployMethod, { kind: K }>;

// Each module is registered under its own kind: `ssh: commandDeploy` does not compile.
const registeredUnderItsKind: { [K in DeployKind]: { kind: K } } = DEPLOY_KIND_REGISTRY;
void registeredUnderItsKind;

/** Every kind, in registry order (messages list them in this order). */
export const DEPLOY_KINDS = Object.keys(DEPLOY_KIND_REGISTRY) as DeployKind[];

/** The module of a method's kind, typed for that method. */
export function deployKind<K extends DeployKind>(kind: K): DeployKindDef<K, DeployMethodOf<K>> {
  return DEPLOY_KIND_REGISTRY[kind] as unknown as DeployKindDef<K, DeployMethodOf<K>>;
}

export type { DeployExpandContext, DeployKindDef, DeployReadContext } from './kind';
