// CodeLens in pipeline files, through VS Code's own CodeLens command (what the editor shows): the lenses of the
// fixture's delivery.yml and of a workflow, their commands running real jobs, "last:" after a run, positions that
// follow unsaved edits, the setting that hides them, and a YAML file that is not a pipeline (never asked).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, testHooks, waitFor, workspaceFolder } from './helpers';

interface Shown {
  line: number;
  title: string;
  command: string;
  arg: unknown;
}

async function lenses(uri: vscode.Uri): Promise<Shown[]> {
  // VS Code asks providers for the lenses of an open document only.
  await vscode.workspace.openTextDocument(uri);
  const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return found
    .filter((l) => l.command)
    .map((l) => ({ line: l.range.start.line, title: l.command!.title, command: l.command!.command, arg: l.command!.arguments?.[0] }))
    .sort((a, b) => a.line - b.line);
}

/** 0-based line of the first line of `text` that starts with `prefix`. */
function lineOf(text: string, prefix: string): number {
  const i = text.split('\n').findIndex((l) => l.startsWith(prefix));
  assert.ok(i >= 0, `a line starts with ${JSON.stringify(prefix)}`);
  return i;
}

async function runLens(lens: Shown): Promise<string> {
  const runId = await vscode.commands.executeCommand<string>(lens.command, lens.arg);
  assert.equal(typeof runId, 'string', `${lens.title} started a run`);
  return runId;
}

suite('CodeLens in pipeline files', () => {
  let folder: string;
  let deliveryUri: vscode.Uri;
  let original: string;

  suiteSetup(async () => {
    await api();
    folder = workspaceFolder().uri.fsPath;
    deliveryUri = vscode.Uri.file(path.join(folder, 'delivery.yml'));
    original = fs.readFileSync(deliveryUri.fsPath, 'utf8');
  });

  test('delivery.yml: Run pipeline, Run job · with needs, Deploy · Diff, with the arguments a tree row gives', async () => {
    const a = await api();
    const withDeploy = original.replace('    url: http://127.0.0.1:18082\n', '    url: http://127.0.0.1:18082\n    deploy: { command: "true" }\n');
    assert.notEqual(withDeploy, original);
    try {
      fs.writeFileSync(deliveryUri.fsPath, withDeploy);
      const shown = await waitFor(async () => {
        const l = await lenses(deliveryUri);
        return l.some((x) => x.title === '$(rocket) Deploy' && (x.arg as { environment?: string } | undefined)?.environment === 'staging') ? l : null;
      }, 'the Deploy lens of staging');
      const key = a.pipelines().find((p) => p.id === 'ci')!.key;
      const ref = { folder, pipelineKey: key };
      // The fixture's own environments (an earlier suite commits two more, qa and prod, with deploys of their own).
      const fixtureEnv = (arg: unknown) => !(arg && typeof arg === 'object' && 'environment' in arg) || ['staging', 'production'].includes((arg as { environment: string }).environment);
      const actions = shown.filter((l) => !l.title.startsWith('last:') && fixtureEnv(l.arg));
      assert.deepEqual(actions, [
        { line: lineOf(withDeploy, '  ci:'), title: '$(play) Run pipeline', command: 'delivery.pipeline.run', arg: ref },
        { line: lineOf(withDeploy, '      build:'), title: '$(play) Run job', command: 'delivery.job.run', arg: { ...ref, jobs: ['build'] } },
        { line: lineOf(withDeploy, '      lint:'), title: '$(play) Run job', command: 'delivery.job.run', arg: { ...ref, jobs: ['lint'] } },
        { line: lineOf(withDeploy, '      lint:'), title: '$(play) with needs', command: 'delivery.job.run', arg: { ...ref, jobs: ['lint'], withNeeds: true } },
        { line: lineOf(withDeploy, '      test:'), title: '$(play) Run job', command: 'delivery.job.run', arg: { ...ref, jobs: ['test'] } },
        { line: lineOf(withDeploy, '      test:'), title: '$(play) with needs', command: 'delivery.job.run', arg: { ...ref, jobs: ['test'], withNeeds: true } },
        { line: lineOf(withDeploy, '  staging:'), title: '$(rocket) Deploy', command: 'delivery.environment.deploy', arg: { folder, environment: 'staging' } },
        { line: lineOf(withDeploy, '  staging:'), title: '$(diff) Diff', command: 'delivery.environment.diff', arg: { folder, environment: 'staging' } },
        { line: lineOf(withDeploy, '  production:'), title: '$(diff) Diff', command: 'delivery.environment.diff', arg: { folder, environment: 'production' } },
      ]);
    } finally {
      fs.writeFileSync(deliveryUri.fsPath, original);
    }
    await waitFor(async () => !(await lenses(deliveryUri)).some((x) => x.title === '$(rocket) Deploy' && (x.arg as { environment?: string } | undefined)?.environment === 'staging'), 'the file as it was');
  });

  test("a lens' command runs its job (with needs: and what it needs), and the job's lens then says how its last run went", async () => {
    const a = await api();
    const lint = async () => (await lenses(deliveryUri)).filter((l) => l.line === lineOf(original, '      lint:'));
    const only = await a.waitForRun(await runLens((await lint()).find((l) => l.title === '$(play) Run job')!));
    assert.deepEqual(only?.jobs.map((j) => [j.id, j.status]), [['lint', 'success']]);
    const withNeeds = await a.waitForRun(await runLens((await lint()).find((l) => l.title === '$(play) with needs')!));
    assert.deepEqual(withNeeds?.jobs.map((j) => [j.id, j.status]), [['build', 'success'], ['lint', 'success']]);
    const record = withNeeds!.jobs.find((j) => j.id === 'lint')!;
    const last = await waitFor(async () => (await lint()).find((l) => l.title.startsWith('last:') && l.title.includes('pass-filled')), "lint's last result");
    assert.match(last.title, /^last: \$\(pass-filled\) \d/);
    assert.deepEqual([last.command, last.arg], ['delivery.run.showLog', { logFile: record.logFile }]);
    // test was not part of that run (the pipeline's last): its lens says nothing about it.
    assert.equal((await lenses(deliveryUri)).some((l) => l.line === lineOf(original, '      test:') && l.title.startsWith('last:')), false);
  });

  test('a workflow: the workflow, a matrix job as one lens, a job unsupported here as a label that runs nothing', async () => {
    const a = await api();
    const rel = '.github/workflows/lens.yml';
    const file = path.join(folder, rel);
    const text = `name: Lens
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: echo "leg \${{ matrix.n }}"
  db:
    needs: test
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
    steps:
      - run: echo db
`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      // Not left to the file watcher, which can miss a file written right after its new folder.
      await vscode.commands.executeCommand('delivery.refresh');
      const uri = vscode.Uri.file(file);
      const p = await waitFor(() => a.pipelines().find((x) => x.kind === 'github' && x.id === 'lens'), 'the workflow to be read');
      const shown = await waitFor(async () => {
        const l = await lenses(uri);
        return l.length ? l : null;
      }, 'the lenses of the workflow');
      const ref = { folder, pipelineKey: p.key };
      assert.deepEqual(shown, [
        { line: 0, title: '$(play) Run pipeline', command: 'delivery.pipeline.run', arg: ref },
        { line: lineOf(text, '  test:'), title: '$(play) Run job', command: 'delivery.job.run', arg: { ...ref, jobs: ['test'] } },
        { line: lineOf(text, '  db:'), title: '$(circle-slash) Unsupported locally', command: '', arg: undefined },
      ]);
      // The matrix lens runs both legs.
      const run = await a.waitForRun(await runLens(shown[1]));
      assert.deepEqual(run?.jobs.map((j) => [j.id, j.status]).sort(), [['test (1)', 'success'], ['test (2)', 'success']]);
      await waitFor(async () => (await lenses(uri)).some((l) => l.line === lineOf(text, '  test:') && /^last: \$\(pass-filled\)/.test(l.title)), 'the matrix job to show its legs together');
    } finally {
      fs.rmSync(file, { force: true });
      await vscode.commands.executeCommand('delivery.refresh');
    }
    await waitFor(() => !a.pipelines().some((x) => x.id === 'lens'), 'the workflow to go');
  });

  test('lenses follow unsaved edits, and come back where the file says once the edit is undone', async () => {
    const doc = await vscode.workspace.openTextDocument(deliveryUri);
    await vscode.window.showTextDocument(doc);
    const build = lineOf(original, '      build:');
    const needing = [lineOf(original, '      lint:'), lineOf(original, '      test:')];
    const at = async (title: string) => (await lenses(deliveryUri)).filter((l) => l.title === title).map((l) => l.line);
    try {
      const edit = new vscode.WorkspaceEdit();
      edit.insert(deliveryUri, new vscode.Position(0, 0), '# one\n# two\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      await waitFor(() => doc.isDirty, 'the document to be dirty');
      assert.deepEqual(await at('$(play) Run job'), [build, ...needing].map((l) => l + 2));
      // The key itself rewritten (VS Code reports the smallest edit: nothing of "build" is kept in "compile"): its
      // lens goes until the file is saved and read again.
      const rename = new vscode.WorkspaceEdit();
      rename.replace(deliveryUri, new vscode.Range(build + 2, 6, build + 2, 11), 'compile');
      assert.ok(await vscode.workspace.applyEdit(rename));
      assert.deepEqual(await at('$(play) Run job'), needing.map((l) => l + 2));
    } finally {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
    // The extension host learns the dirty state after the edit itself.
    await waitFor(() => !doc.isDirty, 'the document to be reverted');
    assert.deepEqual(await at('$(play) Run job'), [build, ...needing]);
  });

  test('the setting turns them off and on; a YAML file that is not a pipeline is never asked for lenses', async () => {
    const hooks = await testHooks();
    const config = vscode.workspace.getConfiguration('delivery');
    try {
      await config.update('codeLens.enabled', false, vscode.ConfigurationTarget.Workspace);
      await waitFor(async () => (await lenses(deliveryUri)).length === 0, 'no lenses with the setting off');
    } finally {
      await config.update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor(async () => (await lenses(deliveryUri)).length > 0, 'the lenses back');

    const notes = path.join(folder, 'notes.yml');
    try {
      fs.writeFileSync(notes, 'jobs:\n  build:\n    run: echo not a pipeline\n');
      const before = hooks.codeLensRequests();
      assert.deepEqual(await lenses(vscode.Uri.file(notes)), []);
      assert.equal(hooks.codeLensRequests(), before, 'the provider was not asked for notes.yml');
      await lenses(deliveryUri);
      assert.ok(hooks.codeLensRequests() > before, 'while it is asked for delivery.yml');
    } finally {
      fs.rmSync(notes, { force: true });
    }
  });
});
