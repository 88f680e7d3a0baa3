// Running, cancelling and re-running pipelines and jobs.
import * as vscode from 'vscode';
import { requireTrust } from '../trust';
import { JobNode, PipelineNode } from '../views/pipelinesTree';
import { pipelineTarget } from './pick';
import type { CommandDeps, CommandSpec } from './types';
import { notificationText } from '../../core/sanitize';

async function startRun(deps: CommandDeps, arg: unknown, jobsOnly: boolean): Promise<string | undefined> {
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
  const errors = (target.state.snapshot?.problems ?? []).filter((p) => p.file === target.pipeline.def.source.file && p.severity === 'error');
  if (errors.length) {
    const show = 'Show Problems';
    void vscode.window
      .showErrorMessage(
        notificationText(`${target.pipeline.def.source.file} has ${errors.length} error${errors.length === 1 ? '' : 's'} (first: line ${errors[0].line}: ${errors[0].message}). Nothing was run.`),
        show,
      )
      .then((choice) => choice === show && vscode.commands.executeCommand('workbench.actions.view.problems'));
    return undefined;
  }
  const handle = await deps.runs.start(target.state, target.pipeline, { jobs, withNeeds: false });
  return handle?.run.id;
}

export const runPipeline: CommandSpec = { id: 'delivery.pipeline.run', run: (deps, arg) => startRun(deps, arg instanceof JobNode ? arg.parent : arg, false) };

export const runJob: CommandSpec = { id: 'delivery.job.run', run: (deps, arg) => startRun(deps, arg, true) };

export const cancelRun: CommandSpec = {
  id: 'delivery.run.cancel',
  run: async (deps, arg) => {
    let runId: string | undefined;
    if (arg instanceof PipelineNode) runId = deps.runs.activeFor(arg.state.folder.uri.fsPath, arg.key)?.handle.run.id;
    else if (arg instanceof JobNode) runId = deps.runs.activeFor(arg.parent.state.folder.uri.fsPath, arg.parent.key)?.handle.run.id;
    else if (typeof arg === 'object' && arg !== null && typeof (arg as { runId?: unknown }).runId === 'string') runId = (arg as { runId: string }).runId;
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
  },
};

export const rerunFailed: CommandSpec = {
  id: 'delivery.run.rerunFailed',
  run: async (deps, arg) => {
    const target = await pipelineTarget(deps, arg instanceof JobNode ? arg.parent : arg, 'Pipeline to re-run');
    if (!target) return undefined;
    const folder = target.state.folder.uri.fsPath;
    const last = deps.runs.lastRun(folder, `${target.pipeline.def.source.file}#${target.pipeline.def.id}`);
    const failed = last?.jobs.filter((j) => j.status === 'failed' || j.status === 'cancelled').map((j) => j.id) ?? [];
    const known = new Set(target.pipeline.def.jobs.map((j) => j.id));
    const jobs = failed.filter((id) => known.has(id));
    if (jobs.length === 0) {
      void vscode.window.showInformationMessage(notificationText(`${target.pipeline.def.name}: no failed jobs in the last run.`));
      return undefined;
    }
    return startRun(deps, { folder, pipelineKey: `${target.pipeline.def.source.file}#${target.pipeline.def.id}`, jobs }, false);
  },
};
