import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, waitFor } from './helpers';

suite('tasks', () => {
  test('every pipeline is offered as a "delivery" task, and running one runs the pipeline', async () => {
    const a = await api();
    const tasks = await vscode.tasks.fetchTasks({ type: 'delivery' });
    assert.deepEqual(tasks.map((t) => [t.name, t.definition.pipeline, t.source]), [['CI', 'delivery:ci', 'delivery']]);
    const before = a.latestRun()?.id;
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.definition.type === 'delivery') {
          sub.dispose();
          resolve(e.exitCode);
        }
      });
    });
    await vscode.tasks.executeTask(tasks[0]);
    assert.equal(await ended, 0);
    const run = await waitFor(() => {
      const r = a.latestRun();
      return r && r.id !== before && r.status !== 'running' ? r : null;
    }, 'the task run to be recorded');
    assert.equal(run.trigger, 'task');
    assert.equal(run.status, 'success');
    assert.deepEqual(run.jobs.map((j) => j.status), ['success', 'success', 'success']);
  });

  test('a tasks.json entry can name jobs', async () => {
    const a = await api();
    const folder = vscode.workspace.workspaceFolders![0];
    const tasksJson = vscode.Uri.joinPath(folder.uri, '.vscode', 'tasks.json');
    await vscode.workspace.fs.writeFile(
      tasksJson,
      new TextEncoder().encode(JSON.stringify({ version: '2.0.0', tasks: [{ type: 'delivery', pipeline: 'ci', jobs: ['lint'], label: 'lint only' }] })),
    );
    const resolved = await waitFor(async () => (await vscode.tasks.fetchTasks({ type: 'delivery' })).find((t) => t.name === 'lint only'), 'the tasks.json task');
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.definition.type === 'delivery') {
          sub.dispose();
          resolve(e.exitCode);
        }
      });
    });
    const before = a.latestRun()?.id;
    await vscode.tasks.executeTask(resolved);
    assert.equal(await ended, 0);
    const run = await waitFor(() => {
      const r = a.latestRun();
      return r && r.id !== before && r.status !== 'running' ? r : null;
    }, 'the task run');
    assert.deepEqual(run.jobs.map((j) => j.id), ['lint']);
    await vscode.workspace.fs.delete(tasksJson);
  });
});
