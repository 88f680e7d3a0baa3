import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, waitFor, workspaceFolder } from './helpers';

// Two jobs print compiler errors about web/src/app.ts while it says BROKEN: `compile` (tsc style, in the folder,
// from web/) and `check` (gcc style, in a workspace of its own, with the absolute path of its copy of the file).
const PIPELINE = `  problems:
    jobs:
      compile:
        cwd: web
        problemMatcher: $tsc
        run: |
          if grep -q BROKEN src/app.ts; then echo "src/app.ts(2,7): error TS2322: Type 'string' is not assignable to type 'number'."; exit 2; fi
          echo compiled
      check:
        cwd: web
        workspace: isolated
        problemMatcher: [$gcc]
        run: |
          if grep -q BROKEN src/app.ts; then echo "$PWD/src/app.ts:1:4: warning: this line says BROKEN"; exit 1; fi
          echo checked

`;

suite('problems from job logs', () => {
  test('a job\'s compiler errors appear in Problems at their file and line, its log links to them, and its next run replaces them', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const config = vscode.Uri.file(`${folder}/delivery.yml`);
    const original = fs.readFileSync(config.fsPath, 'utf8');
    const source = path.join(folder, 'web', 'src', 'app.ts');
    const app = vscode.Uri.file(source);
    const ours = () => vscode.languages.getDiagnostics(app).filter((d) => d.source === 'ts' || d.source === 'gcc');
    const run = async (arg: object) => a.waitForRun((await vscode.commands.executeCommand(arg && 'jobs' in arg ? 'delivery.job.run' : 'delivery.pipeline.run', arg)) as string);
    try {
      fs.mkdirSync(path.dirname(source), { recursive: true });
      fs.writeFileSync(source, '// BROKEN\nconst n: number = "one";\n');
      // A matcher that does not exist is a located error in delivery.yml.
      fs.writeFileSync(config.fsPath, original.replace('environments:', `${PIPELINE.replace('problemMatcher: [$gcc]', 'problemMatcher: [$gcc, $tsx]')}environments:`));
      const bad = await waitFor(() => vscode.languages.getDiagnostics(config).find((d) => /\$tsx/.test(d.message)), 'the unknown matcher to be reported');
      assert.match(bad.message, /^job "check": unknown problem matcher "\$tsx" \(did you mean "\$tsc"\?\)/);
      const badLine = fs.readFileSync(config.fsPath, 'utf8').split('\n').findIndex((l) => l.includes('$tsx'));
      assert.equal(bad.range.start.line, badLine);

      fs.writeFileSync(config.fsPath, original.replace('environments:', `${PIPELINE}environments:`));
      await waitFor(() => a.pipelines().some((p) => p.id === 'problems') && !vscode.languages.getDiagnostics(config).length, 'the pipeline to be read');
      const first = await run({ folder, pipeline: 'problems' });
      assert.deepEqual(first?.jobs.map((j) => [j.id, j.status]), [['compile', 'failed'], ['check', 'failed']]);
      const diags = await waitFor(() => (ours().length === 2 ? ours() : null), 'both jobs\' problems in Problems');
      const ts = diags.find((d) => d.source === 'ts')!;
      assert.equal(ts.message, "Type 'string' is not assignable to type 'number'.");
      assert.equal(ts.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(ts.code, '2322');
      assert.deepEqual([ts.range.start.line, ts.range.start.character], [1, 6]);
      // The isolated job's path was in its own copy of the folder: the problem is on the user's file.
      const gcc = diags.find((d) => d.source === 'gcc')!;
      assert.equal(gcc.severity, vscode.DiagnosticSeverity.Warning);
      assert.deepEqual([gcc.range.start.line, gcc.range.start.character], [0, 3]);

      // In the logs, the places are links to the user's file at that line and column.
      const expected: [string, string][] = [['compile', 'L2,7'], ['check', 'L1,4']];
      for (const [jobId, fragment] of expected) {
        const logFile: string = first!.jobs.find((j) => j.id === jobId)!.logFile!;
        await vscode.commands.executeCommand('delivery.run.showLog', { logFile });
        const doc: vscode.TextDocument = await waitFor(() => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'delivery-log' && d.uri.query.includes(JSON.stringify(logFile).slice(1, -1))), `the log of ${jobId} to open`);
        const links: vscode.DocumentLink[] = await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', doc.uri);
        const link: vscode.DocumentLink | undefined = links.find((l) => l.target?.fsPath === source);
        assert.ok(link, `a link to ${source} in the log of ${jobId}: ${JSON.stringify(links.map((l) => l.target?.toString()))}`);
        assert.equal(link.target!.fragment, fragment);
        assert.match(doc.getText(link.range), /src\/app\.ts/);
      }

      // On the board, the same places in a job card's lines open the user's file there (what the page sends when one
      // is clicked); a place outside the folder opens nothing.
      const hooks = a.testing!;
      const openRef = async (jobId: string, file: string, line: number, column: number | null) => {
        await hooks.panelMessage({ type: 'openFileRef', runId: first!.id, jobId, file, line, column });
        return vscode.window.activeTextEditor;
      };
      const relative = await openRef('compile', 'src/app.ts', 2, 7);
      assert.equal(relative?.document.uri.fsPath, source, 'a path relative to the job\'s cwd (web/)');
      assert.deepEqual([relative!.selection.active.line, relative!.selection.active.character], [1, 6]);
      const checkLog = fs.readFileSync(first!.jobs.find((j) => j.id === 'check')!.logFile!, 'utf8');
      const copy = /(\/\S+\/src\/app\.ts):1:4/.exec(checkLog)?.[1];
      assert.ok(copy && copy !== source, `the isolated job printed its own copy's path: ${copy}`);
      const mapped = await openRef('check', copy, 1, 4);
      assert.equal(mapped?.document.uri.fsPath, source, 'the copy\'s path opens the user\'s file');
      assert.deepEqual([mapped!.selection.active.line, mapped!.selection.active.character], [0, 3]);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const outside = await openRef('compile', '/etc/hostname', 1, null);
      assert.equal(outside, undefined, 'a file outside the folder is not opened');

      // Fixed: running compile again empties its problems; check's stay until check runs again.
      fs.writeFileSync(source, '// fixed\nconst n: number = 1;\n');
      const second = await run({ folder, pipeline: 'problems', jobs: ['compile'] });
      assert.deepEqual(second?.jobs.map((j) => [j.id, j.status]), [['compile', 'success']]);
      assert.deepEqual(ours().map((d) => d.source), ['gcc']);
      const third = await run({ folder, pipeline: 'problems', jobs: ['check'] });
      assert.deepEqual(third?.jobs.map((j) => [j.id, j.status]), [['check', 'success']]);
      assert.deepEqual(ours(), []);
    } finally {
      fs.writeFileSync(config.fsPath, original);
      fs.rmSync(path.join(folder, 'web'), { recursive: true, force: true });
      await waitFor(() => !a.pipelines().some((p) => p.id === 'problems'), 'the file to be restored');
    }
  });

  test('GitHub jobs: matchers a step adds with ::add-matcher:: and ::error file=…:: annotations become problems', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const source = path.join(folder, 'web', 'src', 'app.ts');
    const app = vscode.Uri.file(source);
    const workflow = path.join(folder, '.github', 'workflows', 'problems.yml');
    const matcherFile = path.join(folder, '.github', 'lint-matcher.json');
    try {
      fs.mkdirSync(path.dirname(source), { recursive: true });
      fs.writeFileSync(source, '// BROKEN\nconst n: number = "one";\n');
      fs.mkdirSync(path.dirname(workflow), { recursive: true });
      fs.writeFileSync(matcherFile, JSON.stringify({ problemMatcher: [{ owner: 'lint', pattern: [{ regexp: '^(.+)\\|(\\d+)\\|(\\d+)\\|(\\w+)\\|(.+)$', file: 1, line: 2, column: 3, code: 4, message: 5 }] }] }));
      fs.writeFileSync(workflow, `on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "web/src/app.ts|9|9|E000|before the matcher: not a problem"
          echo "::add-matcher::.github/lint-matcher.json"
          echo "web/src/app.ts|2|7|E123|no numbers from strings"
          echo "::error file=web/src/app.ts,line=1,col=4,title=Broken::says BROKEN"
`);
      // A file in a folder made just now can escape the file watcher: read the folder again.
      await vscode.commands.executeCommand('delivery.refresh');
      const p = await waitFor(() => a.pipelines().find((x) => x.kind === 'github' && x.jobs.includes('lint')), 'the workflow to be read');
      const runId = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipeline: p.key })) as string;
      const run = await a.waitForRun(runId);
      assert.deepEqual(run?.jobs.map((j) => [j.id, j.status]), [['lint', 'success']]);
      const diags = await waitFor(() => {
        const d = vscode.languages.getDiagnostics(app).filter((x) => x.source === 'lint' || x.source === 'GitHub Actions');
        return d.length === 2 ? d : null;
      }, 'the matcher\'s problem and the annotation in Problems');
      const lint = diags.find((d) => d.source === 'lint')!;
      assert.deepEqual([lint.range.start.line, lint.range.start.character, lint.code, lint.message], [1, 6, 'E123', 'no numbers from strings']);
      const annotation = diags.find((d) => d.source === 'GitHub Actions')!;
      assert.deepEqual([annotation.range.start.line, annotation.range.start.character, annotation.message], [0, 3, 'Broken: says BROKEN']);
    } finally {
      fs.rmSync(workflow, { force: true });
      await vscode.commands.executeCommand('delivery.refresh');
      await waitFor(() => !a.pipelines().some((x) => x.kind === 'github'), 'the workflow to be gone');
      fs.rmSync(path.join(folder, '.github'), { recursive: true, force: true });
      fs.rmSync(path.join(folder, 'web'), { recursive: true, force: true });
    }
  });
});
