// What a local run of a workflow is given besides its jobs — the event it stands for, that event's payload, the
// inputs of a manual (workflow_dispatch) or called (workflow_call) run — checked before anything runs, so that a
// missing or mistyped input fails the run at once, naming the input and where it is declared. Pure: the CLI and the
// editor read the files and ask; this decides.
import type { RunInputDef, RunParameters, SourceLocation } from '../../shared/model';
import { suggest } from '../config/reader';
import { checkInputValue } from '../remote/inputs';
import type { InputDecl, Workflow } from './workflow';

/** The run's event when none is named: a manual run, as "Run workflow" on GitHub. */
export const DEFAULT_EVENT = 'workflow_dispatch';

/** The events that start workflows (docs.github.com: "Events that trigger workflows"). */
export const WORKFLOW_EVENTS: readonly string[] = [
  'branch_protection_rule', 'check_run', 'check_suite', 'create', 'delete', 'deployment', 'deployment_status', 'discussion',
  'discussion_comment', 'fork', 'gollum', 'issue_comment', 'issues', 'label', 'merge_group', 'milestone', 'page_build',
  'project', 'project_card', 'project_column', 'public', 'pull_request', 'pull_request_review', 'pull_request_review_comment',
  'pull_request_target', 'push', 'registry_package', 'release', 'repository_dispatch', 'schedule', 'status', 'watch',
  'workflow_call', 'workflow_dispatch', 'workflow_run',
];

/** Null when `name` is an event that starts workflows, else why not (with the nearest one). */
export function checkEventName(name: string): string | null {
  if (WORKFLOW_EVENTS.includes(name)) return null;
  const hint = suggest(name, WORKFLOW_EVENTS);
  return `unknown event "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}: an event is a name such as push, pull_request or workflow_dispatch`;
}

/**
 * The inputs a run for `event` takes: workflow_dispatch's or workflow_call's declarations; null for other events
 * (a push carries no inputs) and for a manual run of a workflow that declares no workflow_dispatch.
 */
export function declaredInputs(wf: Workflow, event: string): InputDecl[] | null {
  if (event === 'workflow_call') return wf.call?.inputs ?? null;
  if (event === 'workflow_dispatch') return wf.dispatchInputs;
  return null;
}

/**
 * Every problem with the inputs given for a run (`given`: the payload's inputs and the run's own, as text): an
 * input the event does not declare, a required one without a value or default, a value not of the input's type.
 * Each message starts with where the input is declared (`file:line:column: `).
 */
export function checkRunInputs(wf: Workflow, event: string, given: Readonly<Record<string, string>>): string[] {
  const declared = declaredInputs(wf, event);
  const names = Object.keys(given);
  if (declared === null) {
    if (names.length === 0) return [];
    const why =
      event === 'workflow_dispatch'
        ? `${wf.file} has no workflow_dispatch${wf.call?.inputs.length ? ' (its workflow_call inputs are given with the event workflow_call)' : ''}`
        : event === 'workflow_call'
          ? `${wf.file} has no workflow_call`
          : `a ${event} event carries no inputs (inputs are for the events workflow_dispatch and workflow_call)`;
    return names.map((n) => `input "${n}" cannot be given: ${why}`);
  }
  const errors: string[] = [];
  const byName = new Map(declared.map((d) => [d.name, d]));
  for (const [name, value] of Object.entries(given)) {
    const d = byName.get(name);
    if (!d) {
      const hint = suggest(name, [...byName.keys()]);
      errors.push(
        `${wf.file}: unknown input "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}: on.${event}.inputs declares ${declared.length ? declared.map((x) => x.name).join(', ') : 'none'}`,
      );
      continue;
    }
    const problem = checkInputValue(triggerInputOf(d), value);
    if (problem) errors.push(`${where(wf, d)}${problem}`);
  }
  for (const d of declared) {
    if (!d.required || Object.prototype.hasOwnProperty.call(given, d.name)) continue;
    if (d.default === undefined || d.default === '') errors.push(`${where(wf, d)}input "${d.name}" is required and has no default: give it (--input ${d.name}=VALUE)`);
  }
  return errors;
}

function where(wf: Workflow, d: InputDecl): string {
  const at: SourceLocation | undefined = d.location;
  return at ? `${at.file}:${at.line}:${at.column}: ` : `${wf.file}: `;
}

/** A declared input as the run and the editor's prompt see it. */
export function triggerInputOf(d: InputDecl): RunInputDef {
  return {
    name: d.name,
    type: d.type,
    description: d.description ?? null,
    required: d.required,
    default: d.default === undefined ? null : String(d.default),
    options: d.options ?? [],
    location: d.location ?? null,
  };
}

/** What the editor asks before a manual run of the workflow, and the secrets it may pass. */
export function runParameters(wf: Workflow): RunParameters {
  return { inputs: (wf.dispatchInputs ?? []).map(triggerInputOf), secrets: [...wf.secretNames] };
}

/**
 * An event payload file's text as the run's `github.event`: a JSON object. A syntax error says where (line and
 * column of the file).
 */
export function parseEventPayload(text: string, file: string): { payload: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    const message = (e as Error).message;
    const body = text.replace(/^\uFEFF/, '');
    const pos = /position (\d+)/.exec(message);
    const lc = /line (\d+) column (\d+)/.exec(message);
    const offset = pos ? Number(pos[1]) : /end of JSON input/.test(message) ? body.length : null;
    const at = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : offset !== null ? lineColumn(body, offset) : null;
    const reason = message.replace(/\s*\(line \d+ column \d+\)\s*$/, '').replace(/\s+in JSON at position \d+.*$/, '');
    return { error: `${file}${at ? `:${at.line}:${at.column}` : ''}: not valid JSON: ${reason}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: `${file}: an event payload is a JSON object ({ … }), not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}` };
  }
  const inputs = (value as Record<string, unknown>).inputs;
  if (inputs !== undefined && (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs))) return { error: `${file}: "inputs" must be an object of input names and values` };
  return { payload: value as Record<string, unknown> };
}

/** The payload's inputs as text (what a dispatch sends), for checking with the run's own. */
export function payloadInputs(payload: Record<string, unknown> | undefined): Record<string, string> {
  const raw = payload?.inputs;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
