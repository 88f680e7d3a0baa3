// Buildbot's words turned into ours, without I/O: result codes into statuses, force-scheduler fields into typed
// trigger inputs, stored log lines into readable text. The adapter (adapters/remote/buildbot.ts) does the HTTP.
import { readHttpUrl, type RemoteEngineSpec } from './engine';
import type { RemoteStatus, TriggerInput } from './types';

const DEFAULT_BUILDBOT_SCHEDULER = 'force';

/** Buildbot as a remote engine: `remote: { buildbot: { url, builder, scheduler } }`; it takes no token. */
export const buildbotRemote: RemoteEngineSpec<'buildbot'> = {
  kind: 'buildbot',
  label: 'Buildbot',
  icon: 'server-process',
  keys: ['url', 'builder', 'scheduler'],
  read(b) {
    const url = b.required('url') ? readHttpUrl(b, 'url') : null;
    const builder = b.required('builder') ? b.string('builder', { nonEmpty: true }) : undefined;
    const scheduler = b.string('scheduler', { nonEmpty: true }) ?? DEFAULT_BUILDBOT_SCHEDULER;
    for (const [key, v] of [['builder', builder], ['scheduler', scheduler]] as const) {
      if (v !== undefined && (/[\s/?#%\\]/.test(v) || v === '.' || v === '..')) {
        b.f.error(b.at(key), `${b.what}: "${key}" must be a name without spaces, "/", "?", "#" or "%", not "${v}"`);
        return null;
      }
    }
    if (!url || builder === undefined) return null;
    return { engine: 'buildbot', url, builder, scheduler };
  },
  describe: (t) => `Buildbot ${t.url} builder ${t.builder}`,
  tokenHost: (t) => new URL(t.url).host,
  token: null,
  gitHosts: null,
};

/** buildbot.process.results: SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED. */
const RESULTS: readonly [RemoteStatus, string][] = [
  ['success', 'success'],
  ['success', 'warnings'],
  ['failed', 'failure'],
  ['skipped', 'skipped'],
  ['failed', 'exception'],
  ['queued', 'retry'],
  ['cancelled', 'cancelled'],
];

/**
 * The status of a build request, a build or a step. `complete` with `results` decides; otherwise a build or step
 * that has started is running, and a request without a build is queued.
 */
export function buildbotStatus(x: { complete: boolean; results: number | null; started: boolean }): { status: RemoteStatus; raw: string } {
  if (x.complete) {
    const r = x.results === null ? undefined : RESULTS[x.results];
    return r ? { status: r[0], raw: r[1] } : { status: 'unknown', raw: `results ${x.results}` };
  }
  return x.started ? { status: 'running', raw: 'building' } : { status: 'queued', raw: 'pending' };
}

/** One field of a force scheduler, as /api/v2/forceschedulers/<name> lists it (`all_fields`, nested). */
export interface BuildbotField {
  name: string;
  fullName: string | null;
  type: string;
  label: string | null;
  default: unknown;
  required: boolean;
  hide: boolean;
  choices: unknown[] | null;
  fields: BuildbotField[] | null;
}

/** Field names the trigger sets itself: the codebase branch comes from the run's ref. */
export const BUILDBOT_REF_FIELD = 'branch';

const INPUT_TYPES: Record<string, TriggerInput['type']> = {
  text: 'string',
  textarea: 'string',
  username: 'string',
  int: 'number',
  bool: 'boolean',
  list: 'choice',
};

/** The parameters a force scheduler takes, typed; fixed and hidden ones are not inputs, nor is the ref's branch. */
export function buildbotInputs(fields: readonly BuildbotField[]): TriggerInput[] {
  const out: TriggerInput[] = [];
  const walk = (list: readonly BuildbotField[]) => {
    for (const f of list) {
      if (f.type === 'nested') {
        walk(f.fields ?? []);
        continue;
      }
      const type = INPUT_TYPES[f.type];
      const name = f.fullName ?? f.name;
      if (!type || f.hide || !name || name === BUILDBOT_REF_FIELD) continue;
      const options = type === 'choice' ? (f.choices ?? []).map(String) : [];
      const label = f.label && f.label !== name ? f.label.replace(/:\s*$/, '') : null;
      out.push({ name, type, description: label, required: f.required, default: scalar(f.default), options });
    }
  };
  walk(fields);
  return out;
}

/** The codebase `branch` field, when the scheduler lets a trigger set it. */
export function buildbotRefField(fields: readonly BuildbotField[]): { settable: boolean; fixedValue: string | null } | null {
  for (const f of fields) {
    if (f.type === 'nested') {
      const inner = buildbotRefField(f.fields ?? []);
      if (inner) return inner;
    } else if ((f.fullName ?? f.name) === BUILDBOT_REF_FIELD) {
      return f.type === 'fixed' ? { settable: false, fixedValue: scalar(f.default) } : { settable: true, fixedValue: null };
    }
  }
  return null;
}

/** A force parameter's value as JSON: booleans as true/false (buildbot compares with True), the rest as text. */
export function buildbotParam(input: TriggerInput | undefined, value: string): string | boolean {
  return input?.type === 'boolean' ? value === 'true' : value;
}

function scalar(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/**
 * Lines of a stored log as text. Stdio logs (type "s") prefix each line with its stream: o stdout, e stderr,
 * h header. Headers are kept (the command, "program finished with exit code 1") except the environment listing
 * the worker prints before each command (" environment:" then "  NAME=value" lines): it is noise, and may hold
 * values nobody meant to publish. HTML logs (type "h") are for the web UI and give no text.
 */
export function buildbotLogText(lines: readonly string[], type: string): string {
  if (type === 'h') return '';
  if (type !== 's') return lines.map((l) => `${l}\n`).join('');
  let out = '';
  for (const line of lines) {
    const text = line.slice(1);
    if (line.charAt(0) === 'h' && (text === ' environment:' || text.startsWith('  '))) continue;
    out += `${text}\n`;
  }
  return out;
}
