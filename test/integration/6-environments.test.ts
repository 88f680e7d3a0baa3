// Environments inside VS Code against a real HTTP app started by the test: deployed version and distance, the
// status-bar indicator, the diff, a deploy through the command, a failing deploy, a deploy refused because its
// delivery.yml has errors, and a protected environment that a command argument alone cannot deploy.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { stageApp, startApp, type App } from '../support/targets/app';
import { api, testHooks, waitFor, workspaceFolder } from './helpers';
import type { DeployRecord } from '../../src/shared/model';

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.invalid' };
const CLI = path.resolve(__dirname, '../../src/cli/main.js');
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();

suite('environments', () => {
  let app: App;
  let prodApp: App;
  let folder: string;
  let original: string;
  let base: string | undefined;
  const shas: string[] = [];

  suiteSetup(async function () {
    this.timeout(60000);
    const a = await api();
    folder = workspaceFolder().uri.fsPath;
    original = fs.readFileSync(path.join(folder, 'delivery.yml'), 'utf8');
    shas.push(git(folder, 'rev-parse', 'HEAD'));
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-it-targets-'));
    stageApp(path.join(base, 'qa'), shas[0]);
    stageApp(path.join(base, 'prod'), shas[0]);
    app = await startApp(path.join(base, 'qa'), { env: 'qa' });
    prodApp = await startApp(path.join(base, 'prod'), { env: 'prod' });
    const env = (id: string, target: App, extra: string) => `  ${id}:
    url: ${target.url}
    version: { http: "${target.url}/version", json: sha, timeout: 3s }
    deploy:
      command: bash scripts/deploy.sh
      env: { APP_DIR: "${target.dir}" }
    health: { http: "${target.url}/health", expect: 200, timeout: 5s }
${extra}`;
    fs.mkdirSync(path.join(folder, 'scripts'), { recursive: true });
    fs.writeFileSync(
      path.join(folder, 'scripts', 'deploy.sh'),
      '#!/bin/bash\nset -euo pipefail\n[ -f FAIL_DEPLOY ] && { echo "deploy refused: FAIL_DEPLOY is set" >&2; exit 3; }\necho "deploying $DELIVERY_SHORT_SHA to $DELIVERY_ENV (was ${DELIVERY_PREVIOUS_SHA:-none})"\nsleep 0.8\necho "$DELIVERY_SHA" > "$APP_DIR/VERSION"\n',
    );
    fs.writeFileSync(path.join(folder, 'delivery.yml'), `${original}\n${env('qa', app, '')}${env('prod', prodApp, '    protected: true\n')}`);
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', 'Add qa and prod environments');
    shas.push(git(folder, 'rev-parse', 'HEAD'));
    fs.writeFileSync(path.join(folder, 'NEWS.md'), '# News\n\nSomething new.\n');
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', 'Write the news');
    shas.push(git(folder, 'rev-parse', 'HEAD'));
    await waitFor(() => a.environments().some((e) => e.id === 'qa'), 'the new environments to be read');
    await vscode.workspace.getConfiguration('delivery').update('statusBar.environment', 'qa', vscode.ConfigurationTarget.Workspace);
  });

  suiteTeardown(async () => {
    await app?.stop();
    await prodApp?.stop();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  test('each environment shows its deployed commit, the distance from HEAD and its health', async () => {
    const a = await api();
    const rows = await waitFor(async () => {
      const r = await a.environmentRows(true);
      const qa = r.find((x) => x.status.id === 'qa');
      return qa?.status.deployed.sha ? r : null;
    }, 'qa to be probed');
    const qa = rows.find((x) => x.status.id === 'qa')!.status;
    assert.equal(qa.deployed.sha, shas[0]);
    assert.equal(qa.local.sha, shas[2]);
    assert.equal(qa.ahead, 2);
    assert.equal(qa.behind, 0);
    assert.equal(qa.health, 'up');
    const staging = rows.find((x) => x.status.id === 'staging')!.status;
    assert.deepEqual([staging.deployed.sha, staging.deployed.error], [null, null], 'staging has no version source: nothing to probe, no error');
    await waitFor(() => a.statusBarText().deploy === `$(rocket) qa ${shas[0].slice(0, 7)} ↓2`, `the deploy indicator (now "${a.statusBarText().deploy}")`);
    const tree = await a.tree('environments');
    const qaRow = tree.find((r) => r.label === 'qa')!;
    assert.match(qaRow.description, new RegExp(`^${shas[0].slice(0, 7)} · ↓2 · up`));
    assert.match(qaRow.contextValue, /\bcanDeploy\b/);
    const toDeploy = qaRow.children.find((c) => c.label.startsWith('To deploy'))!;
    assert.deepEqual(toDeploy.children.map((c) => c.label), ['Write the news', 'Add qa and prod environments']);
  });

  test('the diff lists the commits and files a deploy brings, and the deployed side opens read-only', async () => {
    const a = await api();
    const view = (await vscode.commands.executeCommand('delivery.environment.diff', { folder, environment: 'qa' })) as { diff: { commits: { toDeploy: { sha: string }[]; toRevert: unknown[] }; files: { path: string; status: string }[] } };
    assert.deepEqual(view.diff.commits.toDeploy.map((c) => c.sha), [shas[2], shas[1]]);
    assert.deepEqual(view.diff.commits.toRevert, []);
    const files = Object.fromEntries(view.diff.files.map((f) => [f.path, f.status]));
    assert.equal(files['NEWS.md'], 'A');
    assert.equal(files['delivery.yml'], 'M');
    assert.equal(files['scripts/deploy.sh'], 'A');
    assert.equal(a.diffView().view?.environment, 'qa');
    const left = vscode.Uri.from({ scheme: 'delivery-rev', path: '/delivery.yml', query: JSON.stringify({ folder, sha: shas[0], path: 'delivery.yml' }) });
    const doc = await vscode.workspace.openTextDocument(left);
    assert.equal(doc.getText(), original);
  });

  test('Deploy runs the deploy, checks version and health, records it and updates the indicator', async () => {
    const a = await api();
    const hooks = await testHooks();
    await a.tree('environments');
    const before = hooks.treeRefreshes('environments');
    const pending = vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'qa' }) as Thenable<DeployRecord>;
    await waitFor(() => a.statusBarText().deploy.startsWith('$(sync~spin) qa: '), 'the indicator to show the deploy in progress');
    const record = await pending;
    assert.equal(record.status, 'success', record.reason ?? '');
    assert.equal(record.sha, shas[2]);
    assert.equal(record.previousSha, shas[0]);
    assert.equal(record.health, 'up');
    assert.match(fs.readFileSync(record.logFile!, 'utf8'), new RegExp(`deploying ${shas[2].slice(0, 7)} to qa`));
    const body = (await (await fetch(`${app.url}/version`)).json()) as { sha: string };
    assert.equal(body.sha, shas[2]);
    await waitFor(() => a.statusBarText().deploy === `$(rocket) qa ${shas[2].slice(0, 7)}`, `the indicator after the deploy (now "${a.statusBarText().deploy}")`);
    const tree = await a.tree('environments');
    const history = tree.find((r) => r.label === 'qa')!.children.find((c) => c.label.startsWith('Recent deploys'))!;
    assert.equal(history.children[0].label, `deploy ${shas[2].slice(0, 7)}`);
    assert.match(history.children[0].description, /^success · /);
    // The deploy moved only rows: the tree kept its nodes, so a row clicked meanwhile still names its environment.
    const after = hooks.treeRefreshes('environments');
    assert.equal(after.whole, before.whole, 'no whole-tree refresh during a deploy');
    assert.ok(after.rows >= before.rows + 2, `the qa row refreshed for "deploying" and "deployed" (${after.rows - before.rows} row refreshes)`);
  });

  test('two environments compare with each other (what a promote would bring)', async () => {
    const view = (await vscode.commands.executeCommand('delivery.environment.diff', { folder, environment: 'prod', to: 'qa' })) as {
      toLabel: string;
      diff: { from: { sha: string }; to: { sha: string }; commits: { toDeploy: { sha: string }[] }; uncommitted: unknown[] };
    };
    assert.equal(view.diff.from.sha, shas[0]);
    assert.equal(view.diff.to.sha, shas[2]);
    assert.deepEqual(view.diff.commits.toDeploy.map((c) => c.sha), [shas[2], shas[1]]);
    assert.match(view.toLabel, /^qa /);
    assert.deepEqual(view.diff.uncommitted, [], 'uncommitted changes belong to a comparison with HEAD only');
  });

  test('a failing deploy is recorded, turns the indicator red, and releases the lock', async () => {
    const a = await api();
    fs.writeFileSync(path.join(folder, 'FAIL_DEPLOY'), '');
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', 'Break the deploy');
    const failed = (await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'qa' })) as DeployRecord;
    assert.equal(failed.status, 'failed');
    assert.match(failed.reason ?? '', /exit(ed with)? (code )?3/);
    assert.equal(((await (await fetch(`${app.url}/version`)).json()) as { sha: string }).sha, shas[2], 'the previous release still serves');
    await waitFor(() => a.statusBarText().deployTone === 'error', 'the indicator to turn red');
    git(folder, 'rm', '-q', 'FAIL_DEPLOY');
    git(folder, 'commit', '-q', '-m', 'Fix the deploy');
    const again = (await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'qa' })) as DeployRecord;
    assert.equal(again.status, 'success', 'the lock was released');
    await waitFor(() => a.statusBarText().deployTone === 'normal', 'the indicator to recover');
  });

  test('a lock a teammate holds shows on the row and refuses the deploy, naming them; released, the deploy runs', async () => {
    const a = await api();
    // Bob takes the lock by hand from a terminal (the CLI, the same state folder as this window).
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [CLI, ...args], { cwd: folder, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', DELIVERY_USER: 'bob' }, encoding: 'utf8' });
    cli('lock', 'acquire', 'qa', '-m', 'db migration');
    try {
      const row = await waitFor(async () => (await a.environmentRows(true)).find((r) => r.status.id === 'qa' && r.lockedBy), 'the lock to show on the qa row');
      assert.deepEqual([row.lockedBy?.user, row.lockedBy?.message, row.lockedBy?.deployId, row.store], ['bob', 'db migration', null, 'local']);
      const tree = await a.tree('environments');
      const qa = tree.find((r) => r.label === 'qa')!;
      assert.match(qa.description, /^locked by bob: db migration · /);
      const events = qa.children.find((c) => c.label.startsWith('Recent deploys'))!.children;
      assert.deepEqual([events[0].label, events[0].description.split(' · ')[0]], ['locked', 'bob on ' + os.hostname()]);
      const refused = await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'qa' });
      assert.equal(refused, undefined, 'nothing deployed while bob holds the lock');
      assert.deepEqual(JSON.parse(cli('history', 'qa', '--json')).records.slice(0, 1).map((r: { action: string }) => r.action), ['lock'], 'no deploy was recorded');
    } finally {
      cli('lock', 'release', 'qa');
    }
    await waitFor(async () => (await a.environmentRows(true)).find((r) => r.status.id === 'qa' && !r.lockedBy), 'the lock to go from the qa row');
    const record = (await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'qa' })) as DeployRecord;
    assert.equal(record.status, 'success');
  });

  test('a deploy from a delivery.yml with errors is refused as the CLI refuses it: nothing runs, nothing is recorded', async () => {
    const a = await api();
    const marker = path.join(base!, 'broken-deployed');
    const yml = fs.readFileSync(path.join(folder, 'delivery.yml'), 'utf8');
    // The environment itself is read; its deploy names a build pipeline that does not exist: an error in its file.
    fs.writeFileSync(path.join(folder, 'delivery.yml'), `${yml}  broken:\n    deploy: { pipeline: nope, command: 'touch "${marker}"' }\n`);
    try {
      await waitFor(() => a.environments().some((e) => e.id === 'broken'), 'the broken environment to be read');
      await waitFor(() => a.problems().some((p) => p.severity === 'error' && /deploy pipeline "nope"/.test(p.message)), 'the error to be reported');
      const result = await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'broken' });
      assert.equal(result, undefined, 'no deploy record');
      assert.ok(!fs.existsSync(marker), 'the deploy command did not run');
      const row = (await a.environmentRows()).find((r) => r.status.id === 'broken');
      assert.ok(row, 'the broken environment has a row');
      assert.equal(row.lastDeploy, null, 'nothing in its deploy history');
    } finally {
      fs.writeFileSync(path.join(folder, 'delivery.yml'), yml);
      await waitFor(() => !a.environments().some((e) => e.id === 'broken'), 'the broken environment to go away');
    }
  });

  test('a protected environment is not deployed by a command argument alone', async () => {
    const pending = vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'prod', confirmed: { environmentName: 'prod' } });
    await new Promise((r) => setTimeout(r, 1500)); // the typed-name box is open now
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await pending, undefined);
    assert.equal(((await (await fetch(`${prodApp.url}/version`)).json()) as { sha: string }).sha, shas[0]);
  });
});

suite('secrets', () => {
  test('a secret from SecretStorage reaches the deploy and is masked in its log, record and the output', async () => {
    const a = await api();
    const folder = workspaceFolder().uri.fsPath;
    const secret = `s3cr3t-${Date.now()}-value`;
    await vscode.commands.executeCommand('delivery.secret.set', { name: 'DEPLOY_TOKEN', value: secret });
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-it-secret-'));
    const yml = fs.readFileSync(path.join(folder, 'delivery.yml'), 'utf8');
    fs.writeFileSync(
      path.join(folder, 'delivery.yml'),
      `${yml}  vault:\n    deploy:\n      command: 'echo "token is $TOKEN"; printf %s "$TOKEN" > "${target}/token"'\n      env: { TOKEN: "\${secret:DEPLOY_TOKEN}" }\n`,
    );
    git(folder, 'add', '-A');
    git(folder, 'commit', '-q', '-m', 'A deploy that uses a secret');
    await waitFor(() => a.environments().some((e) => e.id === 'vault'), 'the vault environment');
    const record = (await vscode.commands.executeCommand('delivery.environment.deploy', { folder, environment: 'vault' })) as DeployRecord;
    assert.equal(record.status, 'success', record.reason ?? '');
    assert.equal(fs.readFileSync(path.join(target, 'token'), 'utf8'), secret, 'the deploy got the real value');
    const log = fs.readFileSync(record.logFile!, 'utf8');
    assert.match(log, /token is \*\*\*/);
    assert.ok(!log.includes(secret), 'the log does not contain the secret');
    const recordFile = path.join(path.dirname(record.logFile!), 'record.json');
    assert.ok(fs.existsSync(recordFile), recordFile);
    assert.ok(!fs.readFileSync(recordFile, 'utf8').includes(secret), 'the record does not contain the secret');
    assert.ok(!JSON.stringify(record).includes(secret));
    fs.rmSync(target, { recursive: true, force: true });
  });
});
