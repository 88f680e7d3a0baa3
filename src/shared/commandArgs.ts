// What each command takes, typed, and the one parser that turns the `unknown` VS Code hands a command into it.
// Three kinds of caller: a tree row (it gives its stable identity, `target()`, never its object's state, so a row
// refreshed between render and click still names the right thing), automation and the webview (plain JSON objects,
// the shapes below), and the palette (no argument: the command asks).

/** One key per (folder, pipeline or environment): the folder, a NUL, the id. */
export type ScopedKey = string & { readonly scoped: unique symbol };

export function scopedKey(folder: string, id: string): ScopedKey {
  return `${folder}\u0000${id}` as ScopedKey;
}

/** The id part of `key` when it belongs to `folder`, else null. */
export function idInFolder(key: ScopedKey, folder: string): string | null {
  const prefix = `${folder}\u0000`;
  return key.startsWith(prefix) ? key.slice(prefix.length) : null;
}

/** What a tree row stands for, by ids only: resolved against the current model when a command runs. */
export type NodeTarget =
  | { node: 'pipeline'; folder: string; pipelineKey: string }
  | { node: 'job'; folder: string; pipelineKey: string; jobId: string; logFile: string | null; workspace?: string | null }
  | { node: 'environment'; folder: string; environment: string }
  | { node: 'deploy'; folder: string; environment: string; sha: string; logFile: string | null }
  | { node: 'remoteRuns'; folder: string; pipelineKey: string }
  | { node: 'localRun'; folder: string; runId: string; sha: string | null }
  | { node: 'remoteRun'; folder: string; pipelineKey: string; runId: string }
  | { node: 'remoteJob'; folder: string; pipelineKey: string; runId: string; jobId: string; jobName: string };

/** A tree row that commands can act on. */
export interface TargetRow {
  target(): NodeTarget;
}

/** A pipeline in a folder: by key (`file#id`, what the trees and the board use) or by name (`ci`, `github:ci`). */
export interface PipelineRef {
  folder: string;
  pipelineKey?: string;
  pipeline?: string;
}
export interface PipelineArg extends PipelineRef {
  jobs?: string[];
  /** With `jobs`: also run the jobs they need first (transitively). */
  withNeeds?: boolean;
  /** The run's inputs (a workflow's workflow_dispatch inputs): given, the editor does not ask for them. */
  inputs?: Record<string, string>;
}
export type CancelArg = { runId: string } | PipelineRef;
/** Re-run `runId` of the pipeline (its last run when absent): its failed jobs, or all its jobs. */
export interface RerunArg extends PipelineRef {
  runId?: string;
  failedOnly: boolean;
}
export interface EnvironmentArg {
  environment: string;
  folder?: string;
  /** deploy, diff: the commit or ref to deploy or compare. */
  ref?: string;
  /** rollback: the commit to roll back to; diff: the other environment. */
  to?: string;
}
export interface RemoteArg extends PipelineRef {
  runId?: string;
  /** trigger: the git ref to run on. */
  ref?: string;
  /** trigger: the workflow inputs. */
  inputs?: Record<string, string>;
}
export interface RemoteLogArg {
  folder: string;
  pipelineKey: string;
  runId: string;
  jobId: string;
  jobName?: string;
}
export interface LogArg {
  logFile: string | null;
}
export interface CommitArg {
  folder: string;
  sha: string;
}
export interface RunArg {
  folder: string;
  runId: string;
  /** Delivery: Compare Runs: the other run (asked for when absent). */
  with?: string;
}
export interface WorkspaceArg {
  /** A job's kept workspace (it did not succeed), or null. */
  workspace: string | null;
}
export interface SecretArg {
  name?: string;
  value?: string;
}
export interface PanelArg {
  runId?: string;
}

/** The argument type of each command that takes one. Commands not listed get their argument as it came. */
export interface CommandArgs {
  'delivery.pipeline.run': PipelineArg;
  'delivery.job.run': PipelineArg;
  'delivery.run.cancel': CancelArg;
  'delivery.run.rerunFailed': RerunArg;
  'delivery.run.showLog': LogArg;
  'delivery.job.openWorkspace': WorkspaceArg;
  'delivery.run.show': RunArg;
  'delivery.run.compare': RunArg;
  'delivery.commit.show': CommitArg;
  'delivery.panel.open': PanelArg;
  'delivery.environment.deploy': EnvironmentArg;
  'delivery.environment.diff': EnvironmentArg;
  'delivery.environment.rollback': EnvironmentArg;
  'delivery.environment.promote': EnvironmentArg;
  'delivery.environment.openUrl': EnvironmentArg;
  'delivery.statusBar.selectEnvironment': EnvironmentArg;
  'delivery.secret.set': SecretArg;
  'delivery.secret.delete': SecretArg;
  'delivery.remote.trigger': RemoteArg;
  'delivery.remote.showRun': RemoteArg;
  'delivery.remote.cancel': RemoteArg;
  'delivery.remote.rerunFailed': RemoteArg;
  'delivery.remote.openInBrowser': RemoteArg;
  'delivery.remote.refresh': RemoteArg;
  'delivery.remote.showLog': RemoteLogArg;
}
export type ArgCommand = keyof CommandArgs;

/** `arg: null`: no argument (the command asks); `error`: an argument the command cannot take. */
export type ParsedArg<T> = { arg: T | null } | { error: string };

const MAX = 4096;

class BadArg extends Error {}

/** Typed reads of a JSON argument's fields; a wrong field throws BadArg with a message naming it. */
class Fields {
  constructor(private readonly o: Record<string, unknown>) {}
  has(name: string): boolean {
    return this.o[name] !== undefined && this.o[name] !== null;
  }
  str(name: string): string {
    const v = this.opt(name);
    if (v === undefined) throw new BadArg(`"${name}" is required`);
    return v;
  }
  opt(name: string): string | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX || v.includes('\u0000')) throw new BadArg(`"${name}" must be a non-empty string`);
    return v;
  }
  /** Any string, empty or long (a secret's value). */
  text(name: string): string | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new BadArg(`"${name}" must be a string`);
    return v;
  }
  bool(name: string, dflt: boolean): boolean {
    const v = this.o[name];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') throw new BadArg(`"${name}" must be true or false`);
    return v;
  }
  strings(name: string): string[] | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0 || x.length > MAX)) throw new BadArg(`"${name}" must be a list of names`);
    return v as string[];
  }
  /** String values; numbers and booleans are written the way a workflow input receives them. */
  map(name: string): Record<string, string> | undefined {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new BadArg(`"${name}" must be an object of name: value`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') throw new BadArg(`"${name}.${k}" must be a string, number or boolean`);
      out[k] = String(x);
    }
    return out;
  }
  pipeline(): PipelineRef {
    const folder = this.str('folder');
    const pipelineKey = this.opt('pipelineKey');
    const pipeline = this.opt('pipeline');
    if (pipelineKey === undefined && pipeline === undefined) throw new BadArg('"pipelineKey" or "pipeline" is required');
    return { folder, ...(pipelineKey !== undefined ? { pipelineKey } : {}), ...(pipeline !== undefined ? { pipeline } : {}) };
  }
}

/** Drops undefined fields, so parsed arguments compare and print cleanly. */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

interface ArgSpec<T> {
  /** From a tree row; null when the row names nothing this command acts on (the command asks). */
  node(t: NodeTarget): T | null;
  json(f: Fields): T;
}

function pipelineOf(t: NodeTarget): PipelineRef | null {
  return 'pipelineKey' in t ? { folder: t.folder, pipelineKey: t.pipelineKey } : null;
}

function environmentOf(t: NodeTarget): EnvironmentArg | null {
  return t.node === 'environment' || t.node === 'deploy' ? { folder: t.folder, environment: t.environment } : null;
}

const environment: ArgSpec<EnvironmentArg> = {
  node: environmentOf,
  json: (f) => clean({ environment: f.str('environment'), folder: f.opt('folder'), ref: f.opt('ref'), to: f.opt('to') }),
};

const remote: ArgSpec<RemoteArg> = {
  node: (t) => {
    const p = pipelineOf(t);
    return p && (t.node === 'remoteRun' || t.node === 'remoteJob') ? { ...p, runId: t.runId } : p;
  },
  json: (f) => clean({ ...f.pipeline(), runId: f.opt('runId'), ref: f.opt('ref'), inputs: f.map('inputs') }),
};

const secret: ArgSpec<SecretArg> = { node: () => null, json: (f) => clean({ name: f.opt('name'), value: f.text('value') }) };

const SPECS: { [K in ArgCommand]: ArgSpec<CommandArgs[K]> } = {
  'delivery.pipeline.run': { node: pipelineOf, json: (f) => clean({ ...f.pipeline(), jobs: f.strings('jobs'), inputs: f.map('inputs') }) },
  'delivery.job.run': {
    node: (t) => (t.node === 'job' ? { folder: t.folder, pipelineKey: t.pipelineKey, jobs: [t.jobId] } : pipelineOf(t)),
    json: (f) => clean({ ...f.pipeline(), jobs: f.strings('jobs'), withNeeds: f.has('withNeeds') ? f.bool('withNeeds', false) : undefined, inputs: f.map('inputs') }),
  },
  'delivery.run.cancel': { node: pipelineOf, json: (f) => (f.has('runId') ? { runId: f.str('runId') } : f.pipeline()) },
  'delivery.run.rerunFailed': {
    node: (t) => {
      const p = pipelineOf(t);
      return p ? { ...p, failedOnly: true } : null;
    },
    json: (f) => clean({ ...f.pipeline(), runId: f.opt('runId'), failedOnly: f.bool('failedOnly', true) }),
  },
  'delivery.run.showLog': {
    node: (t) => (t.node === 'job' || t.node === 'deploy' ? { logFile: t.logFile } : null),
    json: (f) => ({ logFile: f.opt('logFile') ?? null }),
  },
  'delivery.job.openWorkspace': {
    node: (t) => (t.node === 'job' ? { workspace: t.workspace ?? null } : null),
    json: (f) => ({ workspace: f.opt('workspace') ?? null }),
  },
  'delivery.run.show': {
    node: (t) => (t.node === 'localRun' ? { folder: t.folder, runId: t.runId } : null),
    json: (f) => ({ folder: f.str('folder'), runId: f.str('runId') }),
  },
  'delivery.run.compare': {
    node: (t) => (t.node === 'localRun' ? { folder: t.folder, runId: t.runId } : null),
    json: (f) => clean({ folder: f.str('folder'), runId: f.str('runId'), with: f.opt('with') }),
  },
  'delivery.commit.show': {
    node: (t) => (t.node === 'deploy' ? { folder: t.folder, sha: t.sha } : t.node === 'localRun' && t.sha ? { folder: t.folder, sha: t.sha } : null),
    json: (f) => ({ folder: f.str('folder'), sha: f.str('sha') }),
  },
  'delivery.panel.open': { node: () => null, json: (f) => clean({ runId: f.opt('runId') }) },
  'delivery.environment.deploy': environment,
  'delivery.environment.diff': environment,
  'delivery.environment.rollback': { node: (t) => (t.node === 'deploy' ? { folder: t.folder, environment: t.environment, to: t.sha } : environmentOf(t)), json: environment.json },
  'delivery.environment.promote': environment,
  'delivery.environment.openUrl': environment,
  'delivery.statusBar.selectEnvironment': environment,
  'delivery.secret.set': secret,
  'delivery.secret.delete': secret,
  'delivery.remote.trigger': remote,
  'delivery.remote.showRun': remote,
  'delivery.remote.cancel': remote,
  'delivery.remote.rerunFailed': remote,
  'delivery.remote.openInBrowser': remote,
  'delivery.remote.refresh': remote,
  'delivery.remote.showLog': {
    node: (t) => (t.node === 'remoteJob' ? { folder: t.folder, pipelineKey: t.pipelineKey, runId: t.runId, jobId: t.jobId, jobName: t.jobName } : null),
    json: (f) => clean({ folder: f.str('folder'), pipelineKey: f.str('pipelineKey'), runId: f.str('runId'), jobId: f.str('jobId'), jobName: f.opt('jobName') }),
  },
};

export function isArgCommand(id: string): id is ArgCommand {
  return Object.prototype.hasOwnProperty.call(SPECS, id);
}

function isTargetRow(v: object): v is TargetRow {
  return typeof (v as Partial<TargetRow>).target === 'function';
}

/** The one parser: a tree row, a JSON object of the command's shape, or nothing. */
export function parseCommandArg<K extends ArgCommand>(id: K, raw: unknown): ParsedArg<CommandArgs[K]> {
  const spec = SPECS[id] as ArgSpec<CommandArgs[K]>;
  if (raw === undefined || raw === null) return { arg: null };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { error: `${id} takes an object argument, not ${Array.isArray(raw) ? 'a list' : typeof raw}` };
  if (isTargetRow(raw)) return { arg: spec.node(raw.target()) };
  try {
    return { arg: spec.json(new Fields(raw as Record<string, unknown>)) };
  } catch (e) {
    if (e instanceof BadArg) return { error: `${id}: ${e.message}` };
    throw e;
  }
}
