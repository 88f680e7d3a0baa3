// The layer rules are real: ESLint rejects imports that cross them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(__dirname, '../../..');

async function errors(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules (ESLint)', function () {
  this.timeout(60000);

  it('core may not import vscode, Node I/O or adapters', async () => {
    assert.equal((await errors('src/core/x.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).length, 1);
    assert.equal((await errors('src/core/x.ts', "import * as fs from 'node:fs';\nexport const a = fs;\n")).length, 1);
    assert.equal((await errors('src/core/x.ts', "import { LocalProcessRunner } from '../adapters/processRunner';\nexport const a = LocalProcessRunner;\n")).length, 1);
    assert.deepEqual(await errors('src/core/x.ts', "import type { Problem } from '../shared/model';\nexport type A = Problem;\n"), []);
  });

  it('adapters, shared and cli may not import vscode', async () => {
    for (const f of ['src/adapters/x.ts', 'src/shared/x.ts', 'src/cli/x.ts']) {
      assert.equal((await errors(f, "import * as vscode from 'vscode';\nexport const a = vscode;\n")).length, 1, f);
    }
    assert.equal((await errors('src/shared/x.ts', "import * as path from 'node:path';\nexport const a = path;\n")).length, 1);
  });

  it('webview imports only shared, and the toolkit only in webview/toolkit.ts', async () => {
    assert.equal((await errors('webview/x.ts', "import { startRun } from '../src/core/engine/engine';\nexport const a = startRun;\n")).length, 1);
    assert.equal((await errors('webview/x.ts', "import { vsCodeButton } from '@vscode/webview-ui-toolkit';\nexport const a = vsCodeButton;\n")).length, 1);
    assert.deepEqual(await errors('webview/toolkit.ts', "import { vsCodeButton } from '@vscode/webview-ui-toolkit';\nexport const a = vsCodeButton;\n"), []);
    assert.deepEqual(await errors('webview/x.ts', "import type { RunView } from '../src/shared/views';\nexport type A = RunView;\n"), []);
  });

  it('toolkit details (tag names, `appearance`) appear only in webview/toolkit.ts', () => {
    // so that moving to @vscode-elements/elements stays a one-file change
    const toolkitTag = /(?<![-\w])vscode-(?:button|badge|divider|progress-ring|data-grid|data-grid-row|data-grid-cell|checkbox|dropdown|option|link|panels|panel-tab|panel-view|radio|radio-group|tag|text-area|text-field)\b/;
    const offenders: string[] = [];
    const webviewDir = path.join(root, 'webview');
    for (const f of fs.readdirSync(webviewDir)) {
      if (!f.endsWith('.ts') || f === 'toolkit.ts') continue;
      const text = fs.readFileSync(path.join(webviewDir, f), 'utf8');
      if (toolkitTag.test(text)) offenders.push(`webview/${f}: toolkit tag ${toolkitTag.exec(text)?.[0]}`);
      if (/\bappearance\b/.test(text)) offenders.push(`webview/${f}: appearance`);
    }
    // the stylesheets may use theme variables (--vscode-foreground) but not toolkit element selectors
    for (const sheet of ['media/board.css', 'media/triggerForm.css']) {
      const css = fs.readFileSync(path.join(root, sheet), 'utf8');
      if (toolkitTag.test(css)) offenders.push(`${sheet}: toolkit tag ${toolkitTag.exec(css)?.[0]}`);
    }
    assert.deepEqual(offenders, []);
    // and the check can see a violation
    assert.ok(toolkitTag.test("h('vscode-button', {})") && !toolkitTag.test('var(--vscode-button-background)'));
    assert.ok(fs.readFileSync(path.join(webviewDir, 'toolkit.ts'), 'utf8').match(toolkitTag));
  });
});
