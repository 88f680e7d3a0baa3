// Running, cancelling and re-running pipelines and jobs.
import * as vscode from 'vscode';
import { requireTrust } from '../trust';
import type { RunRequest } from '../../core/engine/select';
import type { PipelineDef, RunRecord } from '../../shared/model';
import { pipelineTarget } from './pick';
import { folderEnvironments, storedPresets } from './triggerForm';
import type { FolderState } from '../workspaceModel';
import { command, type CommandDeps } from './types';
import type { PipelineArg } from '../../shared/commandArgs';
import { rerunSelection } from '../../core/rerun';
import { notificationText } from '../../core/sanitize';
import { describeBlocked, pipelineBlocked, pipelineKey, runPipelineKey } from '../../core/targeting';

async function startRun(deps: CommandDeps, arg: PipelineArg | null, jobsOnly: boolean, rerunOf?: RunRecord): Promise<string | undefined> {
  if (!requireTrust('run pipelines')) return undefined;
  const target = await pipelineTarget(deps, arg, jobsOnly ? 'Pipeline of the job to run' : 'Pipeline to run');
  if (!target) return undefined;
  let jobs = target.jobs;
  if (jobsOnly && !jobs?.length) {
    const pick = await vscode.window.showQuickPick(
      target.pipeline.def.jobs.map((j) => ({ label: j.name, description: j.id !== j.name ? j.id : undefined, detail: j.needs.length ? `needs ${j.needs.join(', ')}` : undefined, id: j.id })),
      { placeHolder: 'Job to run', canPickMany: false },
    );
    if (!pick) return undefined;
    jobs = [pick.id];
  }
  const blocked = pipelineBlocked(target.state.snapshot?.problems ?? [], target.pipeline);
  if (blocked) {
    const [first] = blocked.errors;
    const show = 'Show Problems';
    void vscode.window
      .showErrorMessage(
        notificationText(`${describeBlocked(blocked)} (first: line ${first.line}: ${first.message}). Nothing was run.`),
        show,
      )
      .then((choice) => choice === show && vscode.commands.executeCommand('workbench.actions.view.problems'));
    return undefined;
  }
  const given = await runParameters(deps, target.state, target.pipeline.def, arg?.inputs);
  if (!given) return undefined;
  const handle = await deps.runs.start(target.state, target.pipeline, { jobs, withNeeds: arg?.withNeeds === true, ...given }, rerunOf ? { rerunOf } : {});
  // The board shows the run as it goes (without taking the focus), unless the setting says not to.
  if (handle && vscode.workspace.getConfiguration('delivery').get<boolean>('board.revealOnRun', true)) deps.board.show(handle.run.id);
  return handle?.run.id;
}

const LAST_INPUTS_KEY = 'delivery.run.lastInputs';
const PRESETS_KEY = 'delivery.run.presets';

/**
 * A workflow's inputs (asked in the panel's trigger form, prefilled with the last run's, with the workflow's
 * presets; none asked when `inputs` are given) and the secrets it reads that this workspace has stored (Delivery:
 * Set Secret; each value joins the log's masks). Undefined: the user gave up.
 */
async function runParameters(
  deps: CommandDeps,
  state: FolderState,
  def: PipelineDef,
  inputs: Record<string, string> | undefined,
): Promise<Pick<RunRequest, 'inputs' | 'secrets'> | undefined> {
  const params = def.runParameters;
  if (!params) return {};
  const out: Pick<RunRequest, 'inputs' | 'secrets'> = {};
  if (inputs) out.inputs = inputs;
  else if (params.inputs.length > 0) {
    const key = `${state.folder.uri.fsPath}#${def.source.file}#${def.id}`;
    const kept = deps.context.workspaceState.get<Record<string, Record<string, string>>>(LAST_INPUTS_KEY) ?? {};
    const last = kept[key] && typeof kept[key] === 'object' ? kept[key] : {};
    const asked = await deps.board.askInputs({
      title: `Run ${def.name}`,
      action: 'Run',
      inputs: params.inputs,
      environments: folderEnvironments(state),
      last,
      ref: null,
      presets: storedPresets(deps, PRESETS_KEY, key),
      omitDefaults: true,
    });
    if (asked === null) return undefined;
    out.inputs = asked.inputs;
    await deps.context.workspaceState.update(LAST_INPUTS_KEY, { ...kept, [key]: asked.values });
  }
  const secrets: Record<string, string> = {};
  for (const name of params.secrets) {
    const value = await deps.secrets.resolver(name);
    if (value !== undefined) secrets[name] = value;
  }
  if (Object.keys(secrets).length > 0) out.secrets = secrets;
  return out;
}

export const runPipeline = command('delivery.pipeline.run', (deps, arg) => startRun(deps, arg, false));

export const runJob = command('delivery.job.run', (deps, arg) => startRun(deps, arg, true));

export const cancelRun = command('delivery.run.cancel', async (deps, arg) => {
  let runId: string | undefined;
  if (arg && 'runId' in arg) runId = arg.runId;
  else if (arg) {
    const target = await pipelineTarget(deps, arg, 'Pipeline to cancel');
    if (!target) return false;
    runId = deps.runs.activeFor(target.state.folder.uri.fsPath, pipelineKey(target.pipeline))?.handle.run.id;
  }
  if (!runId) {
    const active = deps.runs.activeRuns();
    if (active.length === 0) {
      void vscode.window.showInformationMessage('No run is in progress.');
      return false;
    }
    const pick =
      active.length === 1
        ? { id: active[0].handle.run.id }
        : await vscode.window.showQuickPick(
            active.map((a) => ({ label: a.handle.run.pipelineName, description: a.handle.run.id, id: a.handle.run.id })),
            { placeHolder: 'Run to cancel' },
          );
    runId = pick?.id;
  }
  return runId ? deps.runs.cancel(runId) : false;
});

/** Runs again the failed jobs (or all jobs) of the run asked for: `runId`, else the pipeline's last run. */
export const rerunFailed = command('delivery.run.rerunFailed', async (deps, arg) => {
  const target = await pipelineTarget(deps, arg, 'Pipeline to re-run');
  if (!target) return undefined;
  const folder = target.state.folder.uri.fsPath;
  const key = pipelineKey(target.pipeline);
  const name = target.pipeline.def.name;
  const run = arg?.runId ? await deps.runs.findRun(target.state, arg.runId) : deps.runs.lastRun(folder, key);
  if (arg?.runId && (!run || runPipelineKey(run) !== key)) {
    void vscode.window.showErrorMessage(notificationText(`${name}: no run ${arg.runId} of it in the history.`));
    return undefined;
  }
  const failedOnly = arg?.failedOnly ?? true;
  const jobs = run ? rerunSelection(run, target.pipeline.def.jobs.map((j) => j.id), failedOnly) : [];
  if (jobs?.length === 0) {
    const which = arg?.runId ? `run ${arg.runId}` : 'the last run';
    void vscode.window.showInformationMessage(notificationText(`${name}: no ${failedOnly ? 'failed ' : ''}jobs in ${which}.`));
    return undefined;
  }
  // A new attempt of that run: the jobs picked run again, the others keep their result on the board and in the tree.
  return startRun(deps, { folder, pipelineKey: key, jobs }, false, run ?? undefined);
});
