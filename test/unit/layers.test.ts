// The layer rules are real: ESLint rejects imports that cross them.
import * as assert from 'node:assert/strict';
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
});
