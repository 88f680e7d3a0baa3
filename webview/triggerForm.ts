// The trigger form: one typed form for a run's inputs (a local workflow_dispatch run, a remote trigger). Native,
// labelled controls (the keyboard works as everywhere: Tab through the fields, Enter runs, Escape cancels), the
// toolkit's buttons; the host checks every value (the same check as the CLI) and sends back what is wrong, shown
// next to each field. Nothing here decides whether a value is fine.
import { PRESET_FIELD, REF_FIELD, type TriggerField, type TriggerFormView } from '../src/shared/triggerForm';
import { h } from './dom';
import { button } from './toolkit';
import { send } from './vscodeApi';

/** How long typing pauses before the host checks the values. */
const EDIT_DELAY_MS = 200;

let shown: TriggerFormView | null = null;
let editTimer: ReturnType<typeof setTimeout> | null = null;

/** Draws `form` (null: none waiting) into `root`. */
export function renderTriggerForm(root: HTMLElement, form: TriggerFormView | null): void {
  const again = shown !== null && form !== null && shown.id === form.id;
  const focused = again ? document.activeElement?.id : undefined;
  shown = form;
  if (editTimer) clearTimeout(editTimer);
  editTimer = null;
  if (!form) {
    root.replaceChildren(h('p', { class: 'empty' }, 'No run is waiting for inputs.'));
    return;
  }
  const el = h('form', { id: 'trigger-form', class: 'trigger-form', 'aria-labelledby': 'trigger-title', novalidate: '' });
  el.append(h('header', { class: 'run-header' }, h('h2', { id: 'trigger-title' }, form.title)));
  el.append(h('p', { class: 'sub' }, 'Fields marked * are required. Enter runs, Escape cancels.'));
  if (form.presets.length > 0) el.append(presetPicker(form));
  if (form.ref !== null) {
    el.append(fieldRow(REF_FIELD, 'trigger-ref', 'Branch, tag or commit', true, null, h('input', { type: 'text', id: 'trigger-ref', value: form.ref, spellcheck: 'false' })));
  }
  form.fields.forEach((f, i) => el.append(inputRow(f, i, form.values[f.name] ?? '')));
  el.append(savePreset(form));
  const run = button('primary', form.action, { id: 'trigger-run' });
  const cancel = button('secondary', 'Cancel', { id: 'trigger-cancel' });
  run.addEventListener('click', () => submit());
  cancel.addEventListener('click', () => send({ type: 'triggerFormCancel', id: form.id }));
  el.append(h('div', { class: 'form-actions' }, run, cancel));
  // The preset controls are not values of the run: choosing or naming a preset checks nothing.
  const edited = (e: Event) => {
    if (!(e.target as HTMLElement).id.startsWith('trigger-preset')) scheduleEdit();
  };
  el.addEventListener('input', edited);
  el.addEventListener('change', edited);
  el.addEventListener('submit', (e) => e.preventDefault());
  el.addEventListener('keydown', (e) => {
    const target = e.target as HTMLElement;
    if (e.key === 'Escape') {
      e.preventDefault();
      send({ type: 'triggerFormCancel', id: form.id });
    } else if (e.key === 'Enter' && target.tagName === 'INPUT') {
      e.preventDefault();
      if (target.id === 'trigger-preset-name') save();
      else submit();
    }
  });
  root.replaceChildren(el);
  showTriggerErrors(root, form.id, form.errors);
  const focus = (focused && root.querySelector<HTMLElement>(`#${CSS.escape(focused)}`)) || root.querySelector<HTMLElement>('[aria-invalid="true"]') || root.querySelector<HTMLElement>('input, select');
  focus?.focus();
}

/** Shows what is wrong next to each field (and clears what no longer is). */
export function showTriggerErrors(root: HTMLElement, id: string, errors: Record<string, string>): void {
  if (shown?.id !== id) return;
  for (const slot of root.querySelectorAll<HTMLElement>('.field-error')) {
    const name = slot.dataset.field ?? '';
    const message = errors[name] ?? '';
    slot.textContent = message;
    const control = root.querySelector<HTMLElement>(`[aria-errormessage="${slot.id}"]`);
    control?.setAttribute('aria-invalid', String(message !== ''));
  }
}

function presetPicker(form: TriggerFormView): HTMLElement {
  const select = h('select', { id: 'trigger-preset' }, h('option', { value: '' }, 'Choose a preset to fill the form…'));
  for (const p of form.presets) {
    const option = h('option', { value: p.name }, p.name);
    if (p.name === form.preset) option.setAttribute('selected', '');
    select.append(option);
  }
  select.addEventListener('change', () => {
    const name = (select as HTMLSelectElement).value;
    if (name) send({ type: 'triggerFormApplyPreset', id: form.id, name });
  });
  return h('div', { class: 'field preset' }, h('label', { for: 'trigger-preset' }, 'Preset'), select);
}

function savePreset(form: TriggerFormView): HTMLElement {
  const name = h('input', { type: 'text', id: 'trigger-preset-name', value: form.preset ?? '', 'aria-errormessage': 'err-preset', placeholder: 'a name' });
  const saveButton = button('secondary', 'Save as preset', { id: 'trigger-save' });
  saveButton.addEventListener('click', () => save());
  return h(
    'div',
    { class: 'field save-preset' },
    h('label', { for: 'trigger-preset-name' }, 'Save these values as a preset'),
    h('div', { class: 'inline' }, name, saveButton),
    h('div', { class: 'field-error', id: 'err-preset', 'data-field': PRESET_FIELD, 'aria-live': 'polite' }),
  );
}

function inputRow(f: TriggerField, i: number, value: string): HTMLElement {
  const id = `field-${i}`;
  let control: HTMLElement;
  switch (f.kind) {
    case 'checkbox':
      control = h('input', { type: 'checkbox', id, 'data-name': f.name });
      if (value === 'true') control.setAttribute('checked', '');
      break;
    case 'dropdown':
      control = h('select', { id, 'data-name': f.name }, ...f.options.map((o) => h('option', { value: o, ...(o === value ? { selected: '' } : {}) }, o === '' ? '(none)' : o)));
      break;
    case 'number':
      control = h('input', { type: 'text', inputmode: 'decimal', id, 'data-name': f.name, value, spellcheck: 'false' });
      break;
    case 'text':
      control = h('input', { type: 'text', id, 'data-name': f.name, value, spellcheck: 'false' });
      break;
  }
  return fieldRow(f.name, id, f.name, f.required, f.description, control, f.kind);
}

function fieldRow(name: string, id: string, label: string, required: boolean, description: string | null, control: HTMLElement, kind = 'text'): HTMLElement {
  const errId = `err-${id}`;
  const descId = description ? `desc-${id}` : undefined;
  control.setAttribute('aria-errormessage', errId);
  if (required) control.setAttribute('aria-required', 'true');
  if (descId) control.setAttribute('aria-describedby', descId);
  const labelEl = h('label', { for: id }, label, required ? h('span', { class: 'required', title: 'required' }, ' *') : null);
  return h(
    'div',
    { class: `field kind-${kind}`, 'data-field': name },
    ...(kind === 'checkbox' ? [h('div', { class: 'inline' }, control, labelEl)] : [labelEl, control]),
    descId ? h('div', { class: 'sub description', id: descId }, description!) : null,
    h('div', { class: 'field-error', id: errId, 'data-field': name, 'aria-live': 'polite' }),
  );
}

/** Every field's value as text, and the ref (null: the form asks none). */
function current(): { ref: string | null; values: Record<string, string> } {
  const values: Record<string, string> = {};
  for (const c of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('#trigger-form [data-name]')) {
    values[c.dataset.name!] = c instanceof HTMLInputElement && c.type === 'checkbox' ? String(c.checked) : c.value;
  }
  const ref = document.querySelector<HTMLInputElement>('#trigger-ref');
  return { ref: ref ? ref.value : null, values };
}

function scheduleEdit(): void {
  if (editTimer) clearTimeout(editTimer);
  editTimer = setTimeout(() => {
    editTimer = null;
    if (shown) send({ type: 'triggerFormEdit', id: shown.id, ...current() });
  }, EDIT_DELAY_MS);
}

function submit(): void {
  if (!shown) return;
  if (editTimer) clearTimeout(editTimer);
  editTimer = null;
  send({ type: 'triggerFormRun', id: shown.id, ...current() });
}

function save(): void {
  if (!shown) return;
  const name = document.querySelector<HTMLInputElement>('#trigger-preset-name')?.value ?? '';
  send({ type: 'triggerFormSavePreset', id: shown.id, name, ...current() });
}
