// What a deploy kind is to the adapters: how its steps run. Each kind's module returns, for one deploy, a function
// that executes the steps its core module planned (src/core/environments/deployKinds/).
import type { SshTarget } from '../../../core/environments/config';
import type { DeployStepPlan } from '../../../core/environments/deploy';
import type { DeployMethodOf, DeployKind } from '../../../core/environments/deployKinds';
import type { DeployStepIO, DeployStepOutcome } from '../../../core/environments/deployRun';
import type { CommandSpec, ProcessRunner } from '../../../core/engine/ports';
import type { RemoteDeployPort } from '../../remote/deployWorkflow';

export interface KindContext {
  /** Where the deploy runs: the workspace folder, or a clean checkout of the commit. */
  dir: string;
  sha: string;
  /** DELIVERY_* variables. */
  vars: Record<string, string>;
  /** deploy.env with secrets expanded. */
  deployEnv: Record<string, string>;
  runner: ProcessRunner;
  /** For `workflow` deploys: the remote engines of the folder's pipelines. */
  remote?: RemoteDeployPort;
  /**
   * Runs a process as a step: success on exit 0, else a reason (ssh's own failures described for `ssh`, lines
   * collected in `seen`).
   */
  run(spec: CommandSpec, io: DeployStepIO, opts?: { seen?: string[]; ssh?: SshTarget }): Promise<DeployStepOutcome>;
}

/** Executes one of the kind's steps; null when the step is not one of this kind's. */
export type KindSteps = (step: DeployStepPlan, io: DeployStepIO) => Promise<DeployStepOutcome | null> | null;

export type KindExecutor<K extends DeployKind> = (m: DeployMethodOf<K>, ctx: KindContext) => KindSteps;
