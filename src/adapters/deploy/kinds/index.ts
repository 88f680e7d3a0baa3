// How each deploy kind's steps run, one module per kind, registered here by one line. The map is typed by the
// core's registry of kinds (src/core/environments/deployKinds/): a kind without an executor does not compile.
import type { DeployKind } from '../../../core/environments/deployKinds';
import { executeCommand } from './command';
import { executeDocker } from './docker';
import { executeGitPush } from './gitPush';
import { executeHttp } from './http';
import type { KindExecutor } from './kind';
import { executeSsh } from './ssh';
import { executeWorkflow } from './workflow';

export const DEPLOY_EXECUTORS: { [K in DeployKind]: KindExecutor<K> } = {
  command: executeCommand,
  ssh: executeSsh,
  gitPush: executeGitPush,
  http: executeHttp,
  docker: executeDocker,
  workflow: executeWorkflow,
};

export type { KindContext, KindExecutor, KindSteps } from './kind';
