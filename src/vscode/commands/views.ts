// Commands that show things: the panel, logs, definitions, the output channel; and refresh.
import * as vscode from 'vscode';
import { command, type CommandDeps } from './types';
import { notificationText } from '../../core/sanitize';
import { commitUri } from '../environments/revisionProvider';
import { logUri } from '../logDocuments';
import { compareRuns } from '../../core/runCompare';
import { runPipelineKey } from '../../core/targeting';

export const refresh = command('delivery.refresh', async (deps: CommandDeps) => {
  await deps.model.reloadAll();
  deps.pipelinesTree.refresh();
  deps.environmentsTree.refresh();
});

export const openPanel = command('delivery.panel.open', (deps, arg) => {
  deps.board.show(arg?.runId);
});

export const showOutput = command('delivery.output.show', (deps) => deps.log.channel.show(true));

export const showLog = command('delivery.run.showLog', async (_deps, arg) => {
  const logFile = arg?.logFile ?? null;
  if (!logFile) {
    void vscode.window.showInformationMessage('This job has not run yet, so it has no log.');
    return;
  }
  try {
    // A document whose tab and breadcrumb say pipeline, run and job (the file's own path is internal).
    const doc = await vscode.workspace.openTextDocument(await logUri(logFile));
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
    await vscode.languages.setTextDocumentLanguage(doc, 'log');
  } catch (e) {
    void vscode.window.showErrorMessage(notificationText(`Cannot open the log ${logFile}: ${(e as Error).message}`));
  }
});

/** A run of a pipeline's history (the tree's Runs rows) on the board. */
export const showRun = command('delivery.run.show', async (deps, arg) => {
  if (!arg) return;
  const state = deps.model.folder(arg.folder);
  const run = state ? await deps.runs.findRun(state, arg.runId) : undefined;
  if (!run) {
    void vscode.window.showInformationMessage(notificationText(`That run (${arg.runId}) is no longer in the history.`));
    return;
  }
  deps.board.showRun(run);
});

/** Two runs of a pipeline compared job by job (a Markdown document); the other run is picked from its history. */
export const compareRun = command('delivery.run.compare', async (deps, arg) => {
  if (!arg) return undefined;
  const state = deps.model.folder(arg.folder);
  const run = state ? await deps.runs.findRun(state, arg.runId) : undefined;
  if (!state || !run) {
    void vscode.window.showInformationMessage(notificationText(`That run (${arg.runId}) is no longer in the history.`));
    return undefined;
  }
  let other = arg.with ? await deps.runs.findRun(state, arg.with) : undefined;
  if (!other) {
    const key = runPipelineKey(run);
    const runs = (await state.store.list(50, run.pipelineId)).filter((r) => r.id !== run.id && runPipelineKey(r) === key);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(`${run.pipelineName} has no other run to compare with.`);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: new Date(r.startedAt).toLocaleString(), description: [r.status, r.sha?.slice(0, 7), r.attempt && r.attempt > 1 ? `attempt ${r.attempt}` : null].filter(Boolean).join(' · '), r })),
      { placeHolder: `Compare run ${run.id} with…` },
    );
    other = pick?.r;
  }
  if (!other) return undefined;
  const [a, b] = other.startedAt <= run.startedAt ? [other, run] : [run, other];
  const doc = await vscode.workspace.openTextDocument({ content: compareRuns(a, b), language: 'markdown' });
  await vscode.window.showTextDocument(doc, { preview: true });
  return doc.getText();
});

/** A commit (a run's, a deploy's) as `git show` gives it, in a read-only editor. */
export const showCommit = command('delivery.commit.show', async (_deps, arg) => {
  if (!arg || !/^[0-9a-f]{40}$/.test(arg.sha)) return;
  const doc = await vscode.workspace.openTextDocument(commitUri(arg.folder, arg.sha));
  await vscode.window.showTextDocument(doc, { preview: true });
});

export const openWorkspace = command('delivery.job.openWorkspace', async (_deps, arg) => {
  const ws = arg?.workspace ?? null;
  if (!ws) {
    void vscode.window.showInformationMessage('This job has no kept workspace: it ran in the folder, or it succeeded (its workspace was removed).');
    return;
  }
  // A new window on the copy the job ran in, as it left it.
  await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(ws), { forceNewWindow: true });
});

interface Located {
  location(): { folder: vscode.Uri; file: string; line: number; column: number };
}

export const openDefinition = command('delivery.definition.open', async (_deps, arg) => {
  if (typeof arg !== 'object' || arg === null || typeof (arg as Located).location !== 'function') return;
  const loc = (arg as Located).location();
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(loc.folder, loc.file));
  const pos = new vscode.Position(Math.max(0, loc.line - 1), Math.max(0, loc.column - 1));
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
});

const STARTER = `# delivery.yml — pipelines and environments for Software Delivery.
# Reference: the README's "delivery.yml" section. Errors show up in the Problems panel.
version: 1

pipelines:
  ci:
    name: CI
    env:
      NODE_ENV: test
    jobs:
      install:
        run: echo "install dependencies here (npm ci, pip install, ...)"
      lint:
        needs: [install]
        run: echo "lint here"
      test:
        needs: [install]
        steps:
          - name: unit
            run: echo "unit tests here"
        # timeout: 10m
        # retries: 1
        # reports: { junit: "reports/*.xml" }

# environments:
#   staging:
#     url: https://staging.example.com
#     version: { http: https://staging.example.com/version, json: sha }
#     deploy: { command: ./scripts/deploy.sh }
`;

export const createConfig = command('delivery.config.create', async () => {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showInformationMessage('Open a folder first.');
    return undefined;
  }
  const folder =
    folders.length === 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder for delivery.yml' });
  if (!folder) return undefined;
  const uri = vscode.Uri.joinPath(folder.uri, 'delivery.yml');
  let exists = false;
  try {
    await vscode.workspace.fs.stat(uri);
    exists = true;
  } catch {
    exists = false;
  }
  if (!exists) await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(STARTER));
  await vscode.window.showTextDocument(uri);
  if (exists) void vscode.window.showInformationMessage('delivery.yml already exists; opened it.');
  return uri.fsPath;
});
