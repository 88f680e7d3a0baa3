// The trigger form's view model: what the Delivery panel shows when a run needs inputs (a workflow_dispatch run on
// this machine, a remote trigger). JSON only; the host builds it (src/core/triggerForm.ts) and checks every value.

/** How a field is drawn: booleans as a checkbox, choices and environments as a dropdown, the rest as text. */
export type TriggerFieldKind = 'checkbox' | 'dropdown' | 'number' | 'text';

export interface TriggerField {
  name: string;
  kind: TriggerFieldKind;
  description: string | null;
  required: boolean;
  /** The dropdown's options (`dropdown` only; an optional field's list starts with "" for none). */
  options: string[];
  /** As declared (may hold `${{ }}`); null: none. */
  default: string | null;
}

/** One saved preset: a name, its values and (remote triggers) its ref. */
export interface TriggerPresetView {
  name: string;
  ref: string | null;
  values: Record<string, string>;
}

export interface TriggerFormView {
  /** Names this form; messages about an older form are ignored. */
  id: string;
  /** "Run Release locally", "Trigger Release on GitHub". */
  title: string;
  /** What the Run button says. */
  action: string;
  /** The branch, tag or commit to run (remote triggers); null: the form asks none. */
  ref: string | null;
  fields: TriggerField[];
  /** Every field's value as text (checkboxes: "true" / "false"). */
  values: Record<string, string>;
  /** Why a field's value cannot run, by field name (`ref` for the ref); empty: none known. */
  errors: Record<string, string>;
  presets: TriggerPresetView[];
  /** The preset last applied or saved (selected in the preset list); null: none. */
  preset: string | null;
}

/** The field name errors about the ref are filed under (a declared input cannot be named so: names are identifiers). */
export const REF_FIELD = ' ref';
/** The field name errors about a preset's name are filed under. */
export const PRESET_FIELD = ' preset';

// ---- messages (joined into the unions of protocol.ts) ----

/** Host -> webview. */
export type TriggerFormHostMessage =
  /** Draw this form (null: none waiting). */
  | { type: 'triggerForm'; form: TriggerFormView | null }
  /** What is wrong with the values last edited, without drawing the form again (the user is typing). */
  | { type: 'triggerFormErrors'; id: string; errors: Record<string, string> };

/** Webview -> host. `ref` is null when the form asks none. */
export type TriggerFormMessage =
  | { type: 'triggerFormEdit'; id: string; ref: string | null; values: Record<string, string> }
  | { type: 'triggerFormRun'; id: string; ref: string | null; values: Record<string, string> }
  | { type: 'triggerFormCancel'; id: string }
  | { type: 'triggerFormApplyPreset'; id: string; name: string }
  | { type: 'triggerFormSavePreset'; id: string; name: string; ref: string | null; values: Record<string, string> };

const MAX_FIELDS = 200;
const MAX_TEXT = 4096;

function isText(v: unknown, min = 0): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= MAX_TEXT && !v.includes('\u0000');
}

function isValues(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length <= MAX_FIELDS && entries.every(([k, x]) => isText(k, 1) && isText(x));
}

/** A trigger-form message from the page if it is well formed (exactly its fields), else null. */
export function parseTriggerFormMessage(m: Record<string, unknown>): TriggerFormMessage | null {
  const keys = Object.keys(m).sort().join(',');
  if (!isText(m.id, 1)) return null;
  const id = m.id;
  const ref = m.ref === null || isText(m.ref) ? (m.ref as string | null) : undefined;
  switch (m.type) {
    case 'triggerFormEdit':
    case 'triggerFormRun':
      return keys === 'id,ref,type,values' && ref !== undefined && isValues(m.values) ? { type: m.type, id, ref, values: m.values } : null;
    case 'triggerFormCancel':
      return keys === 'id,type' ? { type: 'triggerFormCancel', id } : null;
    case 'triggerFormApplyPreset':
      return keys === 'id,name,type' && isText(m.name, 1) ? { type: 'triggerFormApplyPreset', id, name: m.name } : null;
    case 'triggerFormSavePreset':
      return keys === 'id,name,ref,type,values' && isText(m.name) && ref !== undefined && isValues(m.values)
        ? { type: 'triggerFormSavePreset', id, name: m.name, ref, values: m.values }
        : null;
    default:
      return null;
  }
}

/** A trigger-form message from the host if it is well formed, else null. */
export function parseTriggerFormHostMessage(m: Record<string, unknown>): TriggerFormHostMessage | null {
  if (m.type === 'triggerForm') {
    const f = m.form as Record<string, unknown> | null;
    if (f === null) return { type: 'triggerForm', form: null };
    const ok = typeof f === 'object' && isText(f.id, 1) && Array.isArray(f.fields) && isValues(f.values) && isValues(f.errors) && Array.isArray(f.presets);
    return ok ? (m as unknown as TriggerFormHostMessage) : null;
  }
  if (m.type === 'triggerFormErrors') return isText(m.id, 1) && isValues(m.errors) ? (m as unknown as TriggerFormHostMessage) : null;
  return null;
}
