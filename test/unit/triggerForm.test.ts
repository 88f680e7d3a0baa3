// The trigger form's decisions: a control per input type, prefilled values (last, else default), the errors shown
// next to each field (the CLI's --input check), the inputs a run is given, preset names, and its messages.
import * as assert from 'node:assert/strict';
import { checkInputs } from '../../src/core/remote/inputs';
import type { TriggerInput } from '../../src/core/remote/types';
import { checkPresetName, checkTriggerForm, formValues, repositoryEnvironments, triggerFields, triggerInputs } from '../../src/core/triggerForm';
import { parseHostMessage, parseWebviewMessage } from '../../src/shared/protocol';
import { REF_FIELD } from '../../src/shared/triggerForm';

const input = (name: string, over: Partial<TriggerInput> = {}): TriggerInput => ({ name, type: 'string', description: null, required: false, default: null, options: [], ...over });

const INPUTS: TriggerInput[] = [
  input('dry_run', { type: 'boolean', default: 'true' }),
  input('level', { type: 'choice', options: ['low', 'high'], default: 'low', required: true }),
  input('count', { type: 'number', default: '3', required: true }),
  input('target', { type: 'environment' }),
  input('note'),
  input('tag', { required: true }),
];

describe('trigger form', () => {
  it('draws booleans as checkboxes, choices and environments as dropdowns, numbers and strings as text', () => {
    const fields = triggerFields(INPUTS, ['production', 'staging']);
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, f.required, f.options]),
      [
        ['dry_run', 'checkbox', false, []],
        ['level', 'dropdown', true, ['low', 'high']],
        ['count', 'number', true, []],
        // optional without a default: "none" first
        ['target', 'dropdown', false, ['', 'production', 'staging']],
        ['note', 'text', false, []],
        ['tag', 'text', true, []],
      ],
    );
    // an environment input with no environments to offer is typed; an engine's own list comes first
    assert.equal(triggerFields([input('target', { type: 'environment' })], [])[0].kind, 'text');
    assert.deepEqual(triggerFields([input('target', { type: 'environment', options: ['qa'], default: 'qa', required: true })], ['qa', 'prod'])[0].options, ['qa', 'prod']);
  });

  it('lists the repository environments once, sorted, without expressions', () => {
    const jobs = [{ environment: { name: 'production', url: null } }, { environment: null }, { environment: { name: '${{ inputs.env }}', url: null } }, { environment: { name: 'review', url: null } }];
    assert.deepEqual(repositoryEnvironments(['staging', 'production'], jobs), ['production', 'review', 'staging']);
  });

  it('prefills the last values when they still fit, else the defaults', () => {
    const envs = ['production', 'staging'];
    assert.deepEqual(formValues(INPUTS, envs, {}), { dry_run: 'true', level: 'low', count: '3', target: '', note: '', tag: '' });
    assert.deepEqual(formValues(INPUTS, envs, { dry_run: 'false', level: 'high', count: '7', target: 'staging', note: 'n', tag: 'v1' }), {
      dry_run: 'false', level: 'high', count: '7', target: 'staging', note: 'n', tag: 'v1',
    });
    // a choice that is gone and a boolean that is not one fall back to the default
    assert.deepEqual(formValues(INPUTS, envs, { dry_run: 'maybe', level: 'medium' }), { dry_run: 'true', level: 'low', count: '3', target: '', note: '', tag: '' });
  });

  it('files each problem under its field: required, numbers, choices, the ref — the same check as the CLI', () => {
    const values = { dry_run: 'true', level: 'low', count: 'three', target: '', note: '', tag: '' };
    assert.deepEqual(checkTriggerForm(INPUTS, values, ''), {
      [REF_FIELD]: 'a branch, tag or commit to run',
      count: 'input "count" is a number, not "three"',
      tag: 'input "tag" is required',
    });
    // the message for a bad value is the CLI's
    assert.deepEqual(checkInputs(INPUTS, { count: 'three', tag: 'v1' }).errors, ['input "count" is a number, not "three"']);
    assert.deepEqual(checkTriggerForm(INPUTS, { ...values, count: '1e3', tag: 'v1', level: 'mid' }, null), { level: 'input "level" must be one of low, high, not "mid"' });
    assert.deepEqual(checkTriggerForm(INPUTS, { ...values, count: '-2.5', tag: 'v1' }, 'main'), {});
    // a default written as an expression is the run's to evaluate
    assert.deepEqual(checkTriggerForm([input('n', { type: 'number', default: '${{ github.run_number }}' })], { n: '${{ github.run_number }}' }, null), {});
  });

  it('gives the run the values, leaving out empty optional ones (and, locally, the defaults)', () => {
    const values = { dry_run: 'true', level: 'high', count: '3', target: '', note: '', tag: 'v1' };
    assert.deepEqual(triggerInputs(INPUTS, values), { dry_run: 'true', level: 'high', count: '3', tag: 'v1' });
    assert.deepEqual(triggerInputs(INPUTS, values, { omitDefaults: true }), { level: 'high', tag: 'v1' });
    assert.deepEqual(triggerInputs(INPUTS, { ...values, unknown: 'x' }), { dry_run: 'true', level: 'high', count: '3', tag: 'v1' });
  });

  it('wants a preset name', () => {
    assert.equal(checkPresetName('nightly'), null);
    assert.equal(checkPresetName('  '), 'a name for the preset');
    assert.match(checkPresetName('x'.repeat(101)) ?? '', /at most 100/);
  });

  it('accepts its well-formed messages and nothing else', () => {
    const run = { type: 'triggerFormRun', id: 'form-1', ref: null, values: { count: '3' } };
    assert.deepEqual(parseWebviewMessage(run), run);
    assert.deepEqual(parseWebviewMessage({ ...run, type: 'triggerFormEdit', ref: 'main' }), { ...run, type: 'triggerFormEdit', ref: 'main' });
    assert.deepEqual(parseWebviewMessage({ type: 'triggerFormCancel', id: 'form-1' }), { type: 'triggerFormCancel', id: 'form-1' });
    assert.deepEqual(parseWebviewMessage({ type: 'triggerFormApplyPreset', id: 'form-1', name: 'n' }), { type: 'triggerFormApplyPreset', id: 'form-1', name: 'n' });
    const save = { type: 'triggerFormSavePreset', id: 'form-1', name: '', ref: 'main', values: {} };
    assert.deepEqual(parseWebviewMessage(save), save);
    for (const bad of [
      { ...run, values: { count: 3 } }, { ...run, values: ['3'] }, { ...run, ref: 1 }, { ...run, extra: true }, { type: 'triggerFormRun', id: 'form-1', values: {} },
      { ...run, id: '' }, { type: 'triggerFormApplyPreset', id: 'form-1', name: '' }, { type: 'triggerFormCancel' }, { ...run, values: { ['a\u0000']: 'x' } },
      { ...run, values: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, 'v'])) },
    ]) {
      assert.equal(parseWebviewMessage(bad), null, JSON.stringify(bad).slice(0, 120));
    }
    assert.ok(parseHostMessage({ type: 'triggerForm', form: null }));
    assert.ok(parseHostMessage({ type: 'triggerFormErrors', id: 'form-1', errors: { count: 'x' } }));
    assert.equal(parseHostMessage({ type: 'triggerForm', form: { id: 'form-1' } }), null);
    assert.equal(parseHostMessage({ type: 'showView', view: 'trigger' }), null);
    assert.deepEqual(parseWebviewMessage({ type: 'showView', view: 'trigger' }), { type: 'showView', view: 'trigger' });
  });
});
