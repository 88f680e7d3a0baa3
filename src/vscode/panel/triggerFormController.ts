// The trigger form of the Delivery panel: a run that needs inputs (a workflow_dispatch run here, a remote trigger)
// asks for them in one typed form instead of a row of quick inputs. One form at a time; the host checks every value
// (core/triggerForm.ts: the same check as the CLI's --input) and nothing runs until they are all fine. Presets are
// kept by whoever asks (TriggerPresets); this only shows, checks and applies them.
import type { TriggerInput } from '../../core/remote/types';
import { checkPresetName, checkTriggerForm, formValues, triggerFields, triggerInputs } from '../../core/triggerForm';
import { PRESET_FIELD, type TriggerFormMessage, type TriggerFormView } from '../../shared/triggerForm';
import type { Preset } from '../remote/presets';
import type { MessageHandlers, PanelSurface } from './panelHost';

/** Where a form's presets live (the workspace state, per pipeline). */
export interface TriggerPresets {
  saved(): Record<string, Preset>;
  save(name: string, preset: Preset): Thenable<void>;
}

export interface TriggerFormRequest {
  /** "Run Release", "Trigger Release on Buildbot". */
  title: string;
  /** What the Run button says. */
  action: string;
  inputs: readonly TriggerInput[];
  /** The repository's environments, offered for `type: environment` inputs. */
  environments: readonly string[];
  /** The values used last time (prefilled before the defaults). */
  last: Readonly<Record<string, string>>;
  /** The ref prefilled (remote triggers); null: the form asks none. */
  ref: string | null;
  presets: TriggerPresets;
  /** Leave out values equal to their default (local runs: the run applies and evaluates defaults). */
  omitDefaults: boolean;
}

export interface TriggerFormResult {
  ref: string | null;
  /** What the run is given (an empty optional value left out). */
  inputs: Record<string, string>;
  /** Every field as the form had it (kept as the last used values). */
  values: Record<string, string>;
}

interface Pending {
  id: string;
  req: TriggerFormRequest;
  ref: string | null;
  values: Record<string, string>;
  errors: Record<string, string>;
  preset: string | null;
  resolve(result: TriggerFormResult | null): void;
}

export class TriggerFormController {
  private pending: Pending | null = null;
  private seq = 0;

  constructor(private readonly host: PanelSurface) {}

  /** Opens the form (a form still open is cancelled); resolves with the values to run, or null when cancelled. */
  ask(req: TriggerFormRequest): Promise<TriggerFormResult | null> {
    this.pending?.resolve(null);
    return new Promise((resolve) => {
      const p: Pending = {
        id: `form-${++this.seq}`,
        req,
        ref: req.ref,
        values: formValues(req.inputs, req.environments, req.last),
        errors: {},
        preset: null,
        resolve: (result) => {
          if (this.pending === p) this.pending = null;
          resolve(result);
        },
      };
      this.pending = p;
      this.host.show('trigger', true);
      this.post();
    });
  }

  /** The form the page shows (null: none waiting). */
  view(): TriggerFormView | null {
    const p = this.pending;
    if (!p) return null;
    const saved = p.req.presets.saved();
    return {
      id: p.id,
      title: p.req.title,
      action: p.req.action,
      ref: p.ref,
      fields: triggerFields(p.req.inputs, p.req.environments),
      values: p.values,
      errors: p.errors,
      presets: Object.entries(saved).map(([name, preset]) => ({ name, ref: preset.ref || null, values: preset.inputs })),
      preset: p.preset,
    };
  }

  readonly handlers: MessageHandlers<TriggerFormMessage['type']> = {
    triggerFormEdit: (msg) => {
      const p = this.edit(msg);
      if (p) this.host.post({ type: 'triggerFormErrors', id: p.id, errors: p.errors });
    },
    triggerFormRun: (msg) => {
      const p = this.edit(msg);
      if (!p) return;
      if (Object.keys(p.errors).length > 0) {
        this.host.post({ type: 'triggerFormErrors', id: p.id, errors: p.errors });
        return;
      }
      this.finish(p, { ref: p.ref, inputs: triggerInputs(p.req.inputs, p.values, { omitDefaults: p.req.omitDefaults }), values: p.values });
    },
    triggerFormCancel: (msg) => {
      const p = this.current(msg.id);
      if (p) this.finish(p, null);
    },
    triggerFormApplyPreset: (msg) => {
      const p = this.current(msg.id);
      const preset = p?.req.presets.saved()[msg.name];
      if (!p || !preset) return;
      p.values = formValues(p.req.inputs, p.req.environments, preset.inputs);
      if (p.ref !== null && preset.ref) p.ref = preset.ref;
      p.errors = checkTriggerForm(p.req.inputs, p.values, p.ref);
      p.preset = msg.name;
      this.post();
    },
    triggerFormSavePreset: async (msg) => {
      const p = this.edit(msg);
      if (!p) return;
      const problem = checkPresetName(msg.name);
      if (problem) {
        this.host.post({ type: 'triggerFormErrors', id: p.id, errors: { ...p.errors, [PRESET_FIELD]: problem } });
        return;
      }
      const name = msg.name.trim();
      await p.req.presets.save(name, { ref: p.ref ?? '', inputs: { ...p.values } });
      p.preset = name;
      this.post();
    },
  };

  /** The page (re)loaded. */
  ready(): void {
    this.post();
  }

  /** The panel was closed: a form waiting is cancelled. */
  closed(): void {
    this.pending?.resolve(null);
  }

  private current(id: string): Pending | null {
    return this.pending?.id === id ? this.pending : null;
  }

  /** Takes the values of the declared inputs from the page and checks them. */
  private edit(msg: { id: string; ref: string | null; values: Record<string, string> }): Pending | null {
    const p = this.current(msg.id);
    if (!p) return null;
    for (const input of p.req.inputs) {
      if (Object.prototype.hasOwnProperty.call(msg.values, input.name)) p.values[input.name] = msg.values[input.name];
    }
    if (p.ref !== null && msg.ref !== null) p.ref = msg.ref;
    p.errors = checkTriggerForm(p.req.inputs, p.values, p.ref);
    return p;
  }

  private finish(p: Pending, result: TriggerFormResult | null): void {
    p.resolve(result);
    this.host.post({ type: 'triggerForm', form: null });
    if (this.host.isOpen && this.host.view === 'trigger') this.host.show('board');
  }

  private post(): void {
    this.host.post({ type: 'triggerForm', form: this.view() });
  }
}
