import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, waitFor, workspaceFolder } from './helpers';

suite('activation', () => {
  test('activates on the workspace and registers every contributed command', async () => {
    const a = await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(ext.isActive, true);
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, []);
    assert.ok(contributed.length >= 8);
    assert.equal(a.version, 1);
  });

  test('reads the fixture pipeline and environments', async () => {
    const a = await api();
    const pipelines = a.pipelines();
    assert.deepEqual(pipelines.map((p) => [p.id, p.name, p.kind, p.jobs]), [['ci', 'CI', 'delivery', ['build', 'lint', 'test']]]);
    assert.deepEqual(a.environments().map((e) => [e.id, e.name]), [['staging', 'Staging'], ['production', 'Production']]);
    assert.deepEqual(a.problems(), []);
  });

  test('the Pipelines tree lists pipeline → jobs → steps, the Environments tree its environments', async () => {
    const a = await api();
    const tree = await a.tree('pipelines');
    assert.deepEqual(tree.map((r) => r.label), ['CI']);
    assert.match(tree[0].contextValue, /\bpipeline\b/);
    assert.match(tree[0].contextValue, /\brunnable\b/);
    assert.deepEqual(tree[0].children.map((r) => r.label), ['build', 'lint', 'test']);
    assert.deepEqual(tree[0].children[2].children.map((r) => r.label), ['unit', 'report']);
    assert.equal(tree[0].children[1].description, 'needs build');
    const envs = await a.tree('environments');
    assert.deepEqual(envs.map((r) => r.label), ['Staging', 'Production']);
    assert.equal(envs[1].icon, 'lock');
    assert.match(envs[0].contextValue, /\bhasUrl\b/);
  });

  test('a first workflow, written the moment its folder is made, is read without a refresh', async () => {
    const a = await api();
    const github = path.join(workspaceFolder().uri.fsPath, '.github');
    assert.equal(fs.existsSync(github), false, 'the fixture has no .github folder');
    try {
      // As `mkdir -p .github/workflows && cp … .github/workflows/` does: the file lands before any watch on the folder.
      fs.mkdirSync(path.join(github, 'workflows'), { recursive: true });
      fs.writeFileSync(path.join(github, 'workflows', 'first.yml'), 'name: First\non: push\njobs:\n  hello:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n');
      const p = await waitFor(() => a.pipelines().find((x) => x.kind === 'github' && x.id === 'first'), 'the new workflow to be read', 15000);
      assert.deepEqual(p.jobs, ['hello']);
    } finally {
      fs.rmSync(github, { recursive: true, force: true });
    }
    await waitFor(() => !a.pipelines().some((x) => x.id === 'first'), 'the workflow to go when its folder is removed', 15000);
  });
});
