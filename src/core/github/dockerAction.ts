// Docker actions (`uses: docker://image`, and actions whose action.yml says `runs.using: docker`): the step runs in
// a one-off container of the image — built from the action's Dockerfile when it names one — with the step's
// variables, INPUT_* and the step files, the workspace as its working directory (CommandSpec.image: the executor
// runs it). Workflow commands and GITHUB_OUTPUT / GITHUB_ENV work as for any step.
import * as path from 'node:path';
import type { LiveStep, StepContext } from '../engine/plan';
import type { CommandSpec, StepImage } from '../engine/ports';
import { inputVariable } from './actions';
import { handleCommandLine, newEffects, type CommandEffects } from './commands';
import type { JobRun } from './job';
import { message, type Scope, type StepResult } from './scope';
import type { WorkflowStep } from './workflow';

export interface DockerActionStep {
  ws: WorkflowStep;
  name: string;
  /** `docker://ref`, or the Dockerfile to build (absolute) in its action's folder. */
  image: { ref: string } | { dockerfile: string; context: string };
  args: string[];
  entrypoint: string | null;
  /** runs.env of the action (evaluated). */
  env: Record<string, string>;
  inputs: Record<string, string>;
  scope: Scope;
  /** The action's folder (GITHUB_ACTION_PATH), for actions with an action.yml. */
  actionDir: string | null;
  continueOnError: boolean;
  timeoutMs: number | null;
  record: (ctx: StepContext, r: StepResult) => void;
}

/** The image a Docker action's `runs.image` names: docker://ref, or a Dockerfile relative to the action's folder. */
export function actionImage(image: string, actionDir: string): DockerActionStep['image'] | { error: string } {
  if (image.startsWith('docker://')) return { ref: image.slice('docker://'.length) };
  const dockerfile = path.resolve(actionDir, image);
  if (dockerfile !== actionDir && !dockerfile.startsWith(actionDir + path.sep)) return { error: `runs.image "${image}" is outside the action's folder` };
  return { dockerfile, context: path.dirname(dockerfile) };
}

export function dockerActionStep(jr: JobRun, d: DockerActionStep): LiveStep {
  let current: { eff: CommandEffects; files: Record<string, string> } | null = null;
  const ref = 'ref' in d.image ? d.image.ref : `(built from ${path.basename(d.image.dockerfile)})`;
  return {
    name: d.name,
    when: 'always', // its condition was decided by the step it stands for
    unsupported: null,
    noop: null,
    continueOnError: d.continueOnError,
    timeoutMs: d.timeoutMs,
    command: async (ctx) => {
      current = null;
      try {
        const dir = await jr.dir(ctx);
        const env = jr.envContext(d.scope, ctx, d.ws);
        const files = await jr.stepFiles(ctx);
        const actionId = d.ws.id ?? '__docker';
        const procEnv: Record<string, string> = {
          ...jr.processEnv(env, d.scope, ctx, actionId, files, dir),
          ...d.env,
          ...(d.actionDir ? { GITHUB_ACTION_PATH: d.actionDir } : {}),
        };
        for (const [k, v] of Object.entries(d.inputs)) procEnv[inputVariable(k)] = v;
        const image: StepImage = {
          ref: 'ref' in d.image ? d.image.ref : '',
          ...('dockerfile' in d.image ? { build: { context: d.image.context, dockerfile: d.image.dockerfile } } : {}),
          entrypoint: d.entrypoint,
          mounts: [],
          // Where GitHub puts them for a Docker action (/github/workspace, /github/file_commands, …).
          github: { workspace: jr.facts.folder, files: dir },
        };
        const spec: CommandSpec = { command: `docker://${ref}`, args: d.args, cwd: jr.facts.folder, env: procEnv, image };
        current = { eff: newEffects(), files };
        return spec;
      } catch (e) {
        return { error: message(e) };
      }
    },
    onLine: (_stream, text) => {
      if (current) handleCommandLine(text, current.eff, false);
    },
    after: async (result, ctx) => {
      const cur = current;
      current = null;
      if (!cur) return;
      return jr.settleStep(ctx, cur, result.exitCode, d.continueOnError, d.record);
    },
  };
}
