import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { api, waitFor, workspaceFolder } from './helpers';

suite('invalid configuration', () => {
  test('errors appear in Problems and the tree with their position, and nothing runs', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const uri = vscode.Uri.file(`${folder}/delivery.yml`);
    const original = fs.readFileSync(uri.fsPath, 'utf8');
    try {
      fs.writeFileSync(uri.fsPath, original.replace('needs: [build]\n        run: |\n          echo linting', 'needs: [biuld]\n        run: |\n          touch lint-ran'));
      const diags = await waitFor(() => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.length ? d : null;
      }, 'diagnostics for delivery.yml');
      assert.equal(diags.length, 1);
      assert.equal(diags[0].message, 'job "lint" needs "biuld", which is not a job of pipeline "ci"');
      assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
      const line = original.split('\n').findIndex((l) => l.includes('needs: [build]'));
      assert.equal(diags[0].range.start.line, line);
      assert.equal(diags[0].range.start.character, original.split('\n')[line].indexOf('build'));
      const tree = await a.tree('pipelines');
      assert.equal(tree[0].icon, 'error');
      assert.match(tree[0].label, /biuld/);
      assert.doesNotMatch(tree[1].contextValue, /\brunnable\b/);
      const result = await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: 'ci' });
      assert.equal(result, undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(fs.existsSync(`${folder}/lint-ran`), false);
    } finally {
      fs.writeFileSync(uri.fsPath, original);
    }
    await waitFor(() => vscode.languages.getDiagnostics(uri).length === 0, 'the diagnostics to clear');
  });
});
