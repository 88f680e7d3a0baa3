// The trigger form: running a workflow with workflow_dispatch inputs opens one typed form in the Delivery panel.
// Driven through the panel's message protocol (the messages the page sends, checked as the page's are): invalid
// values come back as errors next to their fields and nothing runs; valid ones run with those inputs; presets are
// saved and applied; the last values are prefilled next time; Cancel runs nothing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DeliveryTestHooks } from '../../src/vscode/api';
import type { TriggerFormView } from '../../src/shared/triggerForm';
import { api, testHooks, waitFor, workspaceFolder } from './helpers';

const WORKFLOW = `name: Release
on:
  workflow_dispatch:
    inputs:
      dry_run: { type: boolean, default: true, description: Only say what would be released }
      level: { type: choice, options: [patch, minor, major], default: patch, required: true }
      count: { type: number, default: 3, required: true }
      target: { type: environment, description: Where to release }
      tag: { type: string, required: true }
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: echo "inputs dry_run=\${{ inputs.dry_run }} level=\${{ inputs.level }} count=\${{ inputs.count }} target=\${{ inputs.target }} tag=\${{ inputs.tag }}"
`;

suite('trigger form', () => {
  let folder: string;
  let file: string;
  let hooks: DeliveryTestHooks;

  suiteSetup(async () => {
    folder = workspaceFolder().uri.fsPath;
    file = path.join(folder, '.github', 'workflows', 'trigger-form.yml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, WORKFLOW);
    hooks = await testHooks();
    const a = await api();
    await waitFor(() => a.pipelines().some((p) => p.name === 'Release'), 'the workflow to be read');
  });

  suiteTeardown(() => {
    fs.rmSync(path.join(folder, '.github'), { recursive: true, force: true });
  });

  /** Starts the run command (it waits for the form) and the form it opens. */
  async function openForm(): Promise<{ form: TriggerFormView; runId: Thenable<unknown> }> {
    const before = hooks.triggerForm()?.id;
    const key = (await api()).pipelines().find((p) => p.name === 'Release')!.key;
    const runId = vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipelineKey: key });
    const form = await waitFor(() => {
      const f = hooks.triggerForm();
      return f && f.id !== before ? f : null;
    }, 'the trigger form');
    return { form, runId };
  }

  const send = (message: Record<string, unknown>) => hooks.panelMessage(message);

  test('a typed form: checkbox, dropdowns (environments from the repository), number and text, required marked', async () => {
    const { form, runId } = await openForm();
    assert.equal(form.title, 'Run Release');
    assert.equal(form.ref, null, 'a local run asks no ref');
    assert.deepEqual(
      form.fields.map((f) => [f.name, f.kind, f.required, f.options]),
      [
        ['dry_run', 'checkbox', false, []],
        ['level', 'dropdown', true, ['patch', 'minor', 'major']],
        ['count', 'number', true, []],
        ['target', 'dropdown', false, ['', 'production', 'staging']],
        ['tag', 'text', true, []],
      ],
    );
    assert.deepEqual(form.values, { dry_run: 'true', level: 'patch', count: '3', target: '', tag: '' }, 'the defaults');
    assert.ok((await (await api()).board()).open, 'the panel opened on the form');
    await send({ type: 'triggerFormCancel', id: form.id });
    assert.equal(await runId, undefined, 'Cancel runs nothing');
    assert.equal(hooks.triggerForm(), null);
  });

  test('invalid values: errors next to their fields and no run; valid ones run with those inputs', async () => {
    const a = await api();
    const latest = a.latestRun()?.id;
    const { form, runId } = await openForm();
    const bad = { dry_run: 'false', level: 'minor', count: 'many', target: 'staging', tag: '' };
    await send({ type: 'triggerFormEdit', id: form.id, ref: null, values: bad });
    assert.deepEqual(hooks.triggerForm()?.errors, { count: 'input "count" is a number, not "many"', tag: 'input "tag" is required' });
    await send({ type: 'triggerFormRun', id: form.id, ref: null, values: bad });
    assert.ok(hooks.triggerForm(), 'the form stays open');
    assert.equal(a.latestRun()?.id, latest, 'nothing ran');
    // a message from an older form, or a malformed one, changes nothing
    await send({ type: 'triggerFormRun', id: 'form-0', ref: null, values: { ...bad, count: '5', tag: 'v1' } });
    await send({ type: 'triggerFormRun', id: form.id, ref: null, values: { count: 5 } });
    assert.ok(hooks.triggerForm(), 'still waiting');

    await send({ type: 'triggerFormRun', id: form.id, ref: null, values: { ...bad, count: '5', tag: 'v1.2.0' } });
    const id = (await runId) as string;
    assert.ok(id, 'the run started');
    assert.equal(hooks.triggerForm(), null, 'the form is done');
    const run = await a.waitForRun(id);
    assert.equal(run?.status, 'success');
    const log = fs.readFileSync(run!.jobs[0].logFile!, 'utf8');
    assert.match(log, /inputs dry_run=false level=minor count=5 target=staging tag=v1\.2\.0/);
  });

  test('the last values are prefilled; presets are saved and applied', async () => {
    const { form, runId } = await openForm();
    assert.deepEqual(form.values, { dry_run: 'false', level: 'minor', count: '5', target: 'staging', tag: 'v1.2.0' }, 'the last run’s values');
    assert.deepEqual(form.presets, []);
    const nightly = { dry_run: 'true', level: 'major', count: '9', target: 'production', tag: 'nightly' };
    await send({ type: 'triggerFormSavePreset', id: form.id, name: ' ', ref: null, values: nightly });
    assert.deepEqual(hooks.triggerForm()?.presets, [], 'a preset needs a name');
    await send({ type: 'triggerFormSavePreset', id: form.id, name: 'nightly', ref: null, values: nightly });
    assert.deepEqual(hooks.triggerForm()?.presets, [{ name: 'nightly', ref: null, values: nightly }]);
    await send({ type: 'triggerFormCancel', id: form.id });
    await runId;

    const again = await openForm();
    assert.deepEqual(again.form.presets.map((p) => p.name), ['nightly'], 'kept for the workflow');
    assert.deepEqual(again.form.values, { dry_run: 'false', level: 'minor', count: '5', target: 'staging', tag: 'v1.2.0' });
    await send({ type: 'triggerFormApplyPreset', id: again.form.id, name: 'nightly' });
    const applied = hooks.triggerForm();
    assert.deepEqual(applied?.values, nightly);
    assert.equal(applied?.preset, 'nightly');
    await send({ type: 'triggerFormRun', id: again.form.id, ref: null, values: applied!.values });
    const run = await (await api()).waitForRun((await again.runId) as string);
    assert.match(fs.readFileSync(run!.jobs[0].logFile!, 'utf8'), /inputs dry_run=true level=major count=9 target=production tag=nightly/);
  });

  test('inputs given to the command run without a form', async () => {
    const a = await api();
    const key = a.pipelines().find((p) => p.name === 'Release')!.key;
    const id = (await vscode.commands.executeCommand('delivery.pipeline.run', { folder, pipelineKey: key, inputs: { tag: 'direct' } })) as string;
    assert.equal(hooks.triggerForm(), null);
    const run = await a.waitForRun(id);
    assert.match(fs.readFileSync(run!.jobs[0].logFile!, 'utf8'), /tag=direct/);
  });
});
