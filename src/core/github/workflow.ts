// Reads a GitHub Actions workflow file into a typed model with located problems. Expressions are checked here
// (syntax, known contexts and functions); they are evaluated when a run is planned or when a step starts.
import { isMap, isScalar, isSeq, type Scalar, type Node, type Pair, type YAMLMap } from 'yaml';
import type { SourceLocation } from '../../shared/model';
import { describe, keyOf, YamlFile } from '../config/yamlFile';
import { suggest } from '../config/reader';
import { findCycle } from '../graph';
import { type ExpressionError, parseExpression, references, splitTemplate, soleExpression, type Expr } from './expressions';
import { arithmeticExpressions, arithmeticWarning } from './script';
import { inlineAliases } from './aliases';

export const WORKFLOW_KEYS = ['name', 'run-name', 'on', 'permissions', 'env', 'defaults', 'concurrency', 'jobs'] as const;
export const JOB_KEYS = [
  'name', 'permissions', 'needs', 'if', 'runs-on', 'environment', 'concurrency', 'outputs', 'env', 'defaults', 'steps',
  'timeout-minutes', 'strategy', 'continue-on-error', 'container', 'services', 'uses', 'with', 'secrets',
] as const;
export const STEP_KEYS = ['id', 'if', 'name', 'uses', 'run', 'working-directory', 'shell', 'with', 'env', 'continue-on-error', 'timeout-minutes'] as const;
/** A job's steps also have GitHub's background steps (2026: `background`, and the `wait`, `wait-all`, `cancel` steps). */
const JOB_STEP_KEYS = [...STEP_KEYS, 'background', 'wait', 'wait-all', 'cancel'] as const;
const STRATEGY_KEYS = ['matrix', 'fail-fast', 'max-parallel'] as const;

const JOB_ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export type InputType = 'string' | 'boolean' | 'number' | 'choice' | 'environment';

export interface InputDecl {
  name: string;
  type: InputType;
  required: boolean;
  /** As written (may hold `${{ }}`); absent: no default. */
  default?: string | boolean | number;
  /** What the input is for, as written (shown when a run is triggered remotely). */
  description?: string;
  /** The values a `choice` input accepts. */
  options?: string[];
  /** Where the input is declared (its name under `inputs:`). */
  location?: SourceLocation;
}

export interface WorkflowCall {
  inputs: InputDecl[];
  outputs: { name: string; value: string; location: SourceLocation }[];
  secrets: { name: string; required: boolean }[];
}

export interface RunDefaults {
  shell: string | null;
  workingDirectory: string | null;
}

export interface WorkflowStep {
  index: number;
  id: string | null;
  name: string | null;
  if: string | null;
  run: string | null;
  uses: string | null;
  shell: string | null;
  workingDirectory: string | null;
  env: Record<string, string>;
  with: Record<string, string>;
  continueOnError: boolean | string;
  timeoutMinutes: number | string | null;
  location: SourceLocation;
  /** `background: true`: GitHub starts it and goes on to the next step at once. */
  background?: boolean;
  /** A step that only waits for or cancels background steps (no run, no uses). */
  control?: { wait: string[] } | { waitAll: true } | { cancel: string };
  /** Index (in the job's `steps:`) of the `parallel:` group the step belongs to. */
  parallelGroup?: number;
}

/**
 * Why a job with background steps (`background`, `wait`, `wait-all`, `cancel`) does not run here, or null. Steps of
 * `parallel:` groups do run (one after another).
 */
export function backgroundStepsReason(job: { steps: WorkflowStep[] }): string | null {
  const uses = job.steps.some((s) => s.background || s.control);
  return uses ? 'has background steps (background, wait, wait-all, cancel), which local runs do not run yet' : null;
}

/** What a `container:` or a service says besides its image. */
export interface ContainerDecl {
  env: Record<string, string>;
  /** `options:` as written (docker create options; only --health-cmd, -e and --env are read). */
  options: string | null;
  ports: string[];
  volumes: string[];
  /** Has `credentials:` (a private registry; locally the image must already be here). */
  credentials: boolean;
}

export interface WorkflowJob {
  id: string;
  name: string | null;
  needs: string[];
  /** Where each of `needs` is written. */
  needsAt: SourceLocation[];
  if: string | null;
  /** runs-on as written (ignored locally, but a Windows label changes the default shell). */
  runsOn: unknown;
  /** strategy.matrix as written: a mapping (values may hold expressions) or one expression. */
  matrix: unknown;
  failFast: boolean | string;
  maxParallel: number | null;
  environment: { name: string; url: string | null } | null;
  defaults: RunDefaults;
  env: Record<string, string>;
  outputs: Record<string, string>;
  container: string | null;
  /** `container:` details (a mapping): env, options, volumes as written (expressions evaluated per leg). */
  containerSpec: ContainerDecl | null;
  services: ({ name: string; image: string | null } & Partial<ContainerDecl>)[];
  /** A reusable workflow called by the job. */
  uses: string | null;
  /** The called workflow's inputs (`with:` of a job with `uses:`), as written. */
  with: Record<string, string>;
  /** The secrets passed to the called workflow: `inherit`, a mapping as written, or none. */
  secrets: 'inherit' | Record<string, string> | null;
  timeoutMinutes: number | string | null;
  continueOnError: boolean | string;
  steps: WorkflowStep[];
  location: SourceLocation;
}

export interface Workflow {
  file: string;
  id: string;
  name: string;
  events: string[];
  /** workflow_dispatch inputs, else workflow_call inputs. */
  inputs: InputDecl[];
  /** `on.workflow_dispatch.inputs`; null: the workflow is not started by hand on GitHub (no workflow_dispatch). */
  dispatchInputs: InputDecl[] | null;
  /** The secrets its expressions read (`secrets.NAME`), in the order first read; GITHUB_TOKEN left out. */
  secretNames: string[];
  /** `on.workflow_call`: what the workflow takes and gives when another workflow calls it; null: not reusable. */
  call: WorkflowCall | null;
  env: Record<string, string>;
  defaults: RunDefaults;
  jobs: WorkflowJob[];
  location: SourceLocation;
}

/** Reads a workflow; the model is null when the file cannot be used at all. Problems are in `f.problems`. */
export function readWorkflow(file: string, text: string): { workflow: Workflow | null; f: YamlFile } {
  const f = new YamlFile(file, text);
  if (!f.ok || !inlineAliases(f)) return { workflow: null, f };
  const read = readWorkflowRoot(file, f);
  dedupeProblems(f);
  return read;
}

function readWorkflowRoot(file: string, f: YamlFile): { workflow: Workflow | null; f: YamlFile } {
  const root = f.root;
  if (root === null || (isScalar(root) && root.value === null)) {
    f.error(root, 'the workflow is empty: it needs "on" and "jobs"');
    return { workflow: null, f };
  }
  if (!isMap(root)) {
    f.error(root, `a workflow must be a mapping, not ${describe(root)}`);
    return { workflow: null, f };
  }
  const r = new Reader(f);
  const top = r.map(root, 'workflow', WORKFLOW_KEYS);
  const base = file.split('/').pop()!.replace(/\.ya?ml$/, '');
  const wf: Workflow = {
    file,
    id: base,
    name: r.str(top.get('name'), 'workflow "name"') ?? base,
    events: [],
    inputs: [],
    dispatchInputs: null,
    secretNames: [],
    call: null,
    env: r.env(top.get('env'), 'workflow "env"'),
    defaults: r.defaults(top.get('defaults'), 'workflow "defaults"'),
    jobs: [],
    location: f.location(root),
  };
  if (top.has('name')) r.template(top.get('name')!.value as Node);
  const on = top.get('on');
  if (!on) f.error(root, 'the workflow has no "on": it needs at least one event');
  else r.events(on.value as Node, wf);
  const jobs = top.get('jobs');
  if (!jobs) {
    f.error(root, 'the workflow has no "jobs"');
    return { workflow: null, f };
  }
  const jobsNode = jobs.value as Node;
  if (!isMap(jobsNode) || jobsNode.items.length === 0) {
    f.error(jobsNode ?? jobs, isMap(jobsNode) ? '"jobs" is empty: a workflow needs at least one job' : `"jobs" must be a mapping of job ids to jobs, not ${describe(jobsNode)}`);
    return { workflow: null, f };
  }
  for (const pair of jobsNode.items as Pair[]) {
    const job = r.job(pair);
    if (job) wf.jobs.push(job);
  }
  // needs: every job named exists; no cycles.
  const ids = new Set(wf.jobs.map((j) => j.id));
  for (const job of wf.jobs) {
    for (const [i, n] of job.needs.entries()) {
      if (!ids.has(n)) {
        const hint = suggest(n, [...ids]);
        f.errorAt(job.needsAt[i] ?? job.location, `job "${job.id}" needs "${n}", which is not a job of this workflow${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    }
  }
  const cycle = findCycle(wf.jobs.map((j) => j.id), (id) => wf.jobs.find((j) => j.id === id)?.needs.filter((n) => ids.has(n)) ?? []);
  if (cycle) {
    const first = wf.jobs.find((j) => j.id === cycle[0])!;
    f.errorAt(first.location, `jobs need each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }
  wf.secretNames = [...r.secretNames];
  return { workflow: wf, f };
}

/** A node reached through several aliases is read once per alias: the same problem at the same place is said once. */
function dedupeProblems(f: YamlFile): void {
  const seen = new Set<string>();
  const kept = f.problems.filter((p) => {
    const k = `${p.line}:${p.column}:${p.severity}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  f.problems.splice(0, f.problems.length, ...kept);
}

/** Located, typed reading of the workflow's parts; every problem goes to the file and reading goes on. */
class Reader {
  /** The secrets expressions read (`secrets.NAME`), except the GitHub token. */
  readonly secretNames = new Set<string>();

  constructor(readonly f: YamlFile) {}

  map(node: Node, what: string, known: readonly string[]): Map<string, Pair> {
    const out = new Map<string, Pair>();
    for (const pair of (node as YAMLMap).items as Pair[]) {
      if (!isScalar(pair.key)) {
        this.f.error(pair.key as Node, `${what}: keys must be plain strings`);
        continue;
      }
      const key = keyOf(pair);
      out.set(key, pair);
      if (!known.includes(key)) {
        const hint = suggest(key, known);
        this.f.error(pair.key as Node, `${what}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; it is ignored`, 'warning');
      }
    }
    return out;
  }

  /** The mapping under a key, or null (reported when it is something else). */
  sub(pair: Pair | undefined, what: string): YAMLMap | null {
    if (!pair) return null;
    const v = pair.value as Node | null;
    if (isMap(v)) return v;
    if (isScalar(v) && v.value === null) return null;
    this.f.error(v ?? pair, `${what} must be a mapping, not ${describe(v)}`);
    return null;
  }

  str(pair: Pair | undefined, what: string, opts: { numbers?: boolean } = {}): string | undefined {
    if (!pair) return undefined;
    const v = pair.value as Node | null;
    if (isScalar(v) && typeof v.value === 'string') return v.value;
    if (opts.numbers && isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'boolean')) return String(v.value);
    this.f.error(v ?? pair, `${what} must be a string, not ${describe(v)}`);
    return undefined;
  }

  /** A scalar as text (numbers and booleans too), or null when empty; reports lists and mappings. */
  scalar(node: Node | null, what: string): string | null {
    if (isScalar(node)) {
      if (node.value === null) return null;
      if (typeof node.value === 'string' || typeof node.value === 'number' || typeof node.value === 'boolean') return String(node.value);
    }
    this.f.error(node, `${what} must be a string, not ${describe(node)}`);
    return null;
  }

  /** `env:` and `with:` mappings (scalar values become strings). */
  env(pair: Pair | undefined, what: string, opts: { names?: boolean } = { names: true }): Record<string, string> {
    const out: Record<string, string> = {};
    const m = this.sub(pair, what);
    if (!m) return out;
    for (const p of m.items as Pair[]) {
      const name = keyOf(p);
      if (opts.names && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        this.f.error(p.key as Node, `${what}: "${name}" is not a valid environment variable name`);
        continue;
      }
      const v = p.value as Node | null;
      if (isScalar(v) && v.value === null) out[name] = '';
      else {
        const s = this.scalar(v, `${what}: "${name}"`);
        if (s !== null) {
          out[name] = s;
          this.template(v!);
        }
      }
    }
    return out;
  }

  defaults(pair: Pair | undefined, what: string): RunDefaults {
    const out: RunDefaults = { shell: null, workingDirectory: null };
    const m = this.sub(pair, what);
    if (!m) return out;
    const keys = this.map(m, what, ['run']);
    const run = this.sub(keys.get('run'), `${what}: "run"`);
    if (!run) return out;
    const rk = this.map(run, `${what}: "run"`, ['shell', 'working-directory']);
    out.shell = this.str(rk.get('shell'), `${what}: "run.shell"`) ?? null;
    out.workingDirectory = this.str(rk.get('working-directory'), `${what}: "run.working-directory"`) ?? null;
    for (const k of ['shell', 'working-directory']) if (rk.get(k)) this.template(rk.get(k)!.value as Node);
    return out;
  }

  events(node: Node, wf: Workflow): void {
    const inputsOf = (eventNode: Node | null, event: string): InputDecl[] => {
      if (!isMap(eventNode)) return [];
      const inputs = (eventNode.items as Pair[]).find((p) => keyOf(p) === 'inputs');
      const m = this.sub(inputs, `on.${event}.inputs`);
      if (!m) return [];
      const list: InputDecl[] = [];
      for (const p of m.items as Pair[]) {
        const name = keyOf(p);
        const decl: InputDecl = { name, type: 'string', required: false, location: this.f.location(p.key as Node) };
        const spec = p.value as Node | null;
        if (isMap(spec)) {
          for (const q of spec.items as Pair[]) {
            const k = keyOf(q);
            const v = q.value as Node | null;
            if (k === 'type' && isScalar(v) && typeof v.value === 'string') {
              if (['string', 'boolean', 'number', 'choice', 'environment'].includes(v.value)) decl.type = v.value as InputType;
              else this.f.error(v, `on.${event}.inputs.${name}: unknown type "${v.value}" (string, boolean, number, choice or environment)`);
            } else if (k === 'required' && isScalar(v)) decl.required = v.value === true;
            else if (k === 'default' && isScalar(v) && v.value !== null) {
              decl.default = v.value as string | number | boolean;
              if (typeof v.value === 'string') this.template(v);
            } else if (k === 'description' && isScalar(v) && v.value !== null) decl.description = String(v.value);
            else if (k === 'options' && isSeq(v)) {
              decl.options = (v.items as Node[]).filter((o): o is Scalar => isScalar(o) && o.value !== null).map((o) => String(o.value));
            }
          }
        }
        list.push(decl);
      }
      // A workflow that is both dispatched and called takes dispatch inputs first.
      if (event === 'workflow_dispatch' || wf.inputs.length === 0) wf.inputs = list;
      if (event === 'workflow_dispatch') wf.dispatchInputs = list;
      return list;
    };
    if (isScalar(node) && typeof node.value === 'string') wf.events = [node.value];
    else if (isSeq(node)) {
      for (const item of node.items as Node[]) {
        if (isScalar(item) && typeof item.value === 'string') wf.events.push(item.value);
        else this.f.error(item, `"on" must list event names, not ${describe(item)}`);
      }
    } else if (isMap(node)) {
      const pairs = node.items as Pair[];
      for (const p of pairs.filter((q) => keyOf(q) === 'workflow_call')) wf.call = this.call(p.value as Node, inputsOf(p.value as Node, 'workflow_call'));
      for (const p of pairs) {
        wf.events.push(keyOf(p));
        if (keyOf(p) === 'workflow_dispatch') inputsOf(p.value as Node, 'workflow_dispatch');
      }
    } else this.f.error(node, `"on" must be an event name, a list or a mapping of events, not ${describe(node)}`);
    if (!wf.call && wf.events.includes('workflow_call')) wf.call = { inputs: [], outputs: [], secrets: [] };
    if (!wf.dispatchInputs && wf.events.includes('workflow_dispatch')) wf.dispatchInputs = [];
  }

  /** `on.workflow_call`: its outputs (`value:` expressions over `jobs`) and declared secrets. */
  call(node: Node | null, inputs: InputDecl[]): WorkflowCall {
    const call: WorkflowCall = { inputs, outputs: [], secrets: [] };
    if (!isMap(node)) return call;
    const pairs = node.items as Pair[];
    const outputs = this.sub(pairs.find((p) => keyOf(p) === 'outputs'), 'on.workflow_call.outputs');
    for (const p of (outputs?.items ?? []) as Pair[]) {
      const spec = p.value as Node | null;
      const value = isMap(spec) ? (spec.items as Pair[]).find((q) => keyOf(q) === 'value') : undefined;
      if (!value) {
        this.f.error(spec ?? p, `on.workflow_call.outputs.${keyOf(p)}: missing "value" (an expression such as \${{ jobs.<job>.outputs.<name> }})`);
        continue;
      }
      const v = this.str(value, `on.workflow_call.outputs.${keyOf(p)}.value`, { numbers: true });
      if (v === undefined) continue;
      this.template(value.value as Node);
      call.outputs.push({ name: keyOf(p), value: v, location: this.f.location(value.value as Node) });
    }
    const secrets = this.sub(pairs.find((p) => keyOf(p) === 'secrets'), 'on.workflow_call.secrets');
    for (const p of (secrets?.items ?? []) as Pair[]) {
      const spec = p.value as Node | null;
      const req = isMap(spec) ? (spec.items as Pair[]).find((q) => keyOf(q) === 'required') : undefined;
      call.secrets.push({ name: keyOf(p), required: !!req && isScalar(req.value) && (req.value as Scalar).value === true });
    }
    return call;
  }

  job(pair: Pair): WorkflowJob | null {
    const f = this.f;
    const id = keyOf(pair);
    const what = `job "${id}"`;
    if (!JOB_ID.test(id)) {
      f.error(pair.key as Node, `${what}: a job id must start with a letter or _ and contain only letters, digits, - and _`);
      return null;
    }
    const node = pair.value as Node | null;
    if (!isMap(node)) {
      f.error(node ?? pair, `${what} must be a mapping, not ${describe(node)}`);
      return null;
    }
    const k = this.map(node, what, JOB_KEYS);
    const job: WorkflowJob = {
      id,
      name: null,
      needs: [],
      needsAt: [],
      if: null,
      runsOn: null,
      matrix: null,
      failFast: true,
      maxParallel: null,
      environment: null,
      defaults: { shell: null, workingDirectory: null },
      env: {},
      outputs: {},
      container: null,
      containerSpec: null,
      services: [],
      uses: null,
      with: {},
      secrets: null,
      timeoutMinutes: null,
      continueOnError: false,
      steps: [],
      location: f.location(pair),
    };
    job.uses = this.str(k.get('uses'), `${what}: "uses"`) ?? null;
    const local = job.uses === null;
    if (k.has('name')) {
      job.name = this.scalar(k.get('name')!.value as Node, `${what}: "name"`);
      this.template(k.get('name')!.value as Node);
    }
    const needs = k.get('needs');
    if (needs) {
      const v = needs.value as Node;
      if (isScalar(v) && typeof v.value === 'string') {
        job.needs = [v.value];
        job.needsAt = [f.location(v)];
      } else if (isSeq(v)) {
        for (const item of v.items as Node[]) {
          if (isScalar(item) && typeof item.value === 'string') {
            job.needs.push(item.value);
            job.needsAt.push(f.location(item));
          }
          else f.error(item, `${what}: "needs" must list job ids, not ${describe(item)}`);
        }
      } else f.error(v ?? needs, `${what}: "needs" must be a job id or a list of job ids, not ${describe(v)}`);
    }
    job.if = this.condition(k.get('if'), what);
    job.env = this.env(k.get('env'), `${what}: "env"`);
    job.defaults = this.defaults(k.get('defaults'), `${what}: "defaults"`);
    const outputs = k.get('outputs');
    if (outputs) job.outputs = this.env(outputs, `${what}: "outputs"`, { names: false });
    const timeout = this.numberOrExpression(k.get('timeout-minutes'), `${what}: "timeout-minutes"`);
    if (timeout !== undefined) job.timeoutMinutes = timeout;
    const coe = this.boolOrExpression(k.get('continue-on-error'), `${what}: "continue-on-error"`);
    if (coe !== undefined) job.continueOnError = coe;
    this.environment(k.get('environment'), job);
    this.strategy(k.get('strategy'), job);
    this.containers(k, job);
    if (job.uses !== null) {
      if (k.has('steps')) f.error(k.get('steps')!.key as Node, `${what}: a job that calls a reusable workflow ("uses") cannot have "steps"`);
      job.with = this.envLike(k.get('with'), `${what}: "with"`, /^[.$]\//.test(job.uses));
      const secrets = k.get('secrets');
      const sv = secrets?.value as Node | null | undefined;
      if (secrets && isScalar(sv) && sv.value === 'inherit') job.secrets = 'inherit';
      else if (secrets && isScalar(sv) && typeof sv.value === 'string') f.error(sv, `${what}: "secrets" must be "inherit" or a mapping of secret names to values, not "${sv.value}"`);
      else if (secrets) job.secrets = this.envLike(secrets, `${what}: "secrets"`, /^[.$]\//.test(job.uses));
      return job;
    }
    if (!k.has('runs-on')) f.error(node, `${what}: missing "runs-on" (where the job runs on GitHub; locally it runs on this machine)`);
    else {
      this.templatesIn(k.get('runs-on')!.value as Node);
      job.runsOn = (k.get('runs-on')!.value as Node | null)?.toJSON() ?? null;
    }
    const steps = k.get('steps');
    if (!steps) {
      f.error(node, `${what}: missing "steps" (or "uses" to call a reusable workflow)`);
      return job;
    }
    const list = steps.value as Node;
    if (!isSeq(list) || list.items.length === 0) {
      f.error(list ?? steps, isSeq(list) ? `${what}: "steps" is empty` : `${what}: "steps" must be a list, not ${describe(list)}`);
      return job;
    }
    const seen = new Set<string>();
    const background = new Set<string>();
    let backgroundSaid = false;
    const add = (step: WorkflowStep) => {
      if (step.id !== null) {
        if (seen.has(step.id)) f.errorAt(step.location, `${what}: step id "${step.id}" is used twice`);
        seen.add(step.id);
      }
      if (step.background && step.id !== null) background.add(step.id);
      const c = step.control;
      if (c) {
        const named = 'wait' in c ? c.wait : 'cancel' in c ? [c.cancel] : [];
        for (const id of named) if (!background.has(id)) f.errorAt(step.location, `${what}: "${id}" is not the id of an earlier background step (background: true)`);
      }
      if ((step.background || c) && !backgroundSaid) {
        backgroundSaid = true;
        f.errorAt(step.location, `${what}: background steps (background, wait, wait-all, cancel) do not run locally yet: the job is unsupported locally`, 'warning');
      }
      job.steps.push(step);
    };
    (list.items as Node[]).forEach((s, i) => {
      if (isMap(s) && (s.items as Pair[]).some((p) => isScalar(p.key) && keyOf(p) === 'parallel')) {
        for (const step of this.parallelGroup(s, i, what, local)) add(step);
        return;
      }
      const step = this.step(s, i, what, local, true);
      if (step) add(step);
    });
    return job;
  }

  /**
   * `- parallel: [steps]` (GitHub, 2026): the steps run at the same time, and the job goes on when all have ended.
   * Locally they run one after another, in the order written; the info says what that changes.
   */
  parallelGroup(node: YAMLMap, index: number, jobWhat: string, local: boolean): WorkflowStep[] {
    const f = this.f;
    const what = `${jobWhat}, step ${index + 1}`;
    const k = this.map(node, what, ['parallel']);
    const pair = k.get('parallel')!;
    const list = pair.value as Node | null;
    if (!isSeq(list) || list.items.length === 0) {
      f.error(list ?? pair, isSeq(list) ? `${what}: "parallel" is empty` : `${what}: "parallel" must be a list of steps, not ${describe(list)}`);
      return [];
    }
    const out: WorkflowStep[] = [];
    (list.items as Node[]).forEach((item, j) => {
      const itemWhat = `${what}, parallel step ${j + 1}`;
      if (isMap(item) && (item.items as Pair[]).some((p) => isScalar(p.key) && keyOf(p) === 'parallel')) {
        f.error(item, `${itemWhat}: a parallel group cannot hold another one`);
        return;
      }
      const step = this.step(item, index, jobWhat, local, true, itemWhat);
      if (!step) return;
      step.parallelGroup = index;
      out.push(step);
    });
    if (out.length > 1) {
      f.error(pair.key as Node, `${what}: the ${out.length} steps of this parallel group run one after another locally (at the same time on GitHub); when one fails, the group's later steps do not run here`, 'info');
    }
    return out;
  }

  step(node: Node, index: number, jobWhat: string, local: boolean, jobStep = false, label?: string): WorkflowStep | null {
    const f = this.f;
    const what = label ?? `${jobWhat}, step ${index + 1}`;
    if (!isMap(node)) {
      f.error(node, `${what} must be a mapping, not ${describe(node)}`);
      return null;
    }
    const k = this.map(node, what, jobStep ? JOB_STEP_KEYS : STEP_KEYS);
    const step: WorkflowStep = {
      index,
      id: this.str(k.get('id'), `${what}: "id"`) ?? null,
      name: null,
      if: this.condition(k.get('if'), what),
      run: null,
      uses: this.str(k.get('uses'), `${what}: "uses"`) ?? null,
      shell: this.str(k.get('shell'), `${what}: "shell"`) ?? null,
      workingDirectory: this.str(k.get('working-directory'), `${what}: "working-directory"`) ?? null,
      env: this.env(k.get('env'), `${what}: "env"`),
      with: {},
      continueOnError: this.boolOrExpression(k.get('continue-on-error'), `${what}: "continue-on-error"`) ?? false,
      timeoutMinutes: this.numberOrExpression(k.get('timeout-minutes'), `${what}: "timeout-minutes"`) ?? null,
      location: f.location(node),
    };
    if (step.id !== null && !JOB_ID.test(step.id)) f.error(k.get('id')!.value as Node, `${what}: a step id must start with a letter or _ and contain only letters, digits, - and _`);
    if (k.has('name')) {
      step.name = this.scalar(k.get('name')!.value as Node, `${what}: "name"`);
      this.template(k.get('name')!.value as Node);
    }
    const run = k.get('run');
    if (run) {
      step.run = this.str(run, `${what}: "run"`, { numbers: true }) ?? null;
      if (step.run !== null) {
        this.template(run.value as Node);
        // Outside values where bash evaluates arithmetic run code (a[$(cmd)]): say where, before any run.
        if (!/^(python|pwsh|powershell|cmd)\b/.test(step.shell ?? '')) {
          for (const a of arithmeticExpressions(step.run)) this.exprProblem(run.value as Node, a.offset - 3, arithmeticWarning(a.expr), 'warning');
        }
      }
    }
    for (const key of ['shell', 'working-directory'] as const) if (k.has(key)) this.template(k.get(key)!.value as Node);
    // The inputs of an action that cannot run here are not evaluated: no warnings about what they read.
    const runnableUses = step.uses !== null && (step.uses.startsWith('./') || step.uses.startsWith('$/') || /^actions\/checkout@/i.test(step.uses));
    step.with = this.envLike(k.get('with'), `${what}: "with"`, runnableUses && local);
    if (jobStep) this.backgroundKeys(k, step, what);
    if (step.run === null && step.uses === null && !step.control) f.error(node, `${what}: needs "run" (a script) or "uses" (an action)`);
    if (step.run !== null && step.uses !== null) f.error(k.get('uses')!.key as Node, `${what}: has both "run" and "uses"; use one`);
    if (step.uses !== null && k.has('shell')) f.error(k.get('shell')!.key as Node, `${what}: "shell" applies only to "run" steps`, 'warning');
    return step;
  }

  /** `background: true`, and the control steps `wait: id | [ids]`, `wait-all:`, `cancel: id`. */
  backgroundKeys(k: Map<string, Pair>, step: WorkflowStep, what: string): void {
    const f = this.f;
    const bg = k.get('background');
    if (bg) {
      const v = bg.value as Node | null;
      if (isScalar(v) && typeof v.value === 'boolean') step.background = v.value;
      else f.error(v ?? bg, `${what}: "background" must be true or false, not ${describe(v)}`);
    }
    const controls = (['wait', 'wait-all', 'cancel'] as const).filter((key) => k.has(key));
    if (controls.length === 0) return;
    const key = controls[0];
    const pair = k.get(key)!;
    if (controls.length > 1) f.error(k.get(controls[1])!.key as Node, `${what}: has both "${key}" and "${controls[1]}"; use one`);
    if (step.run !== null || step.uses !== null || step.background) {
      f.error(pair.key as Node, `${what}: a "${key}" step does nothing else: it cannot have ${step.run !== null ? '"run"' : step.uses !== null ? '"uses"' : '"background"'}`);
    }
    if (step.if !== null) f.error(k.get('if')!.key as Node, `${what}: a "${key}" step always runs: GitHub does not take "if" on it; it is ignored`, 'warning');
    const v = pair.value as Node | null;
    const ids = (n: Node | null): string[] | null => {
      if (isScalar(n) && typeof n.value === 'string' && n.value !== '') return [n.value];
      if (isSeq(n) && n.items.length > 0 && (n.items as Node[]).every((x) => isScalar(x) && typeof x.value === 'string')) return (n.items as Node[]).map((x) => String((x as Scalar).value));
      return null;
    };
    if (key === 'wait-all') {
      if (!(isScalar(v) && (v.value === null || v.value === true))) f.error(v ?? pair, `${what}: "wait-all" takes no value`);
      step.control = { waitAll: true };
      step.name ??= 'Wait for all background steps';
      return;
    }
    const named = ids(v);
    if (!named || (key === 'cancel' && named.length !== 1)) {
      f.error(v ?? pair, key === 'cancel' ? `${what}: "cancel" names one background step by its id` : `${what}: "wait" names background steps by their id (one, or a list)`);
      return;
    }
    step.control = key === 'wait' ? { wait: named } : { cancel: named[0] };
    step.name ??= `${key === 'wait' ? 'Wait for' : 'Cancel'} ${named.join(', ')}`;
  }

  /** A `with:` mapping: like env, any input name; `warn`: report what a local run cannot evaluate. */
  envLike(pair: Pair | undefined, what: string, warn: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    const m = this.sub(pair, what);
    if (!m) return out;
    for (const p of m.items as Pair[]) {
      const v = p.value as Node | null;
      const s = isScalar(v) && v.value === null ? '' : this.scalar(v, `${what}: "${keyOf(p)}"`);
      if (s === null) continue;
      out[keyOf(p)] = s;
      if (v) this.template(v, warn);
    }
    return out;
  }

  condition(pair: Pair | undefined, what: string): string | null {
    if (!pair) return null;
    const v = pair.value as Node | null;
    if (!isScalar(v) || v.value === null || typeof v.value === 'object') {
      this.f.error(v ?? pair, `${what}: "if" must be an expression, not ${describe(v)}`);
      return null;
    }
    const text = String(v.value);
    if (text.includes('${{')) this.template(v);
    else this.expression(v, text, 0);
    return text;
  }

  numberOrExpression(pair: Pair | undefined, what: string): number | string | undefined {
    if (!pair) return undefined;
    const v = pair.value as Node | null;
    if (isScalar(v) && typeof v.value === 'number' && v.value > 0) return v.value;
    if (isScalar(v) && typeof v.value === 'string' && soleExpression(v.value)) {
      this.template(v);
      return v.value;
    }
    this.f.error(v ?? pair, `${what} must be a positive number of minutes or an expression, not ${describe(v)}`);
    return undefined;
  }

  boolOrExpression(pair: Pair | undefined, what: string): boolean | string | undefined {
    if (!pair) return undefined;
    const v = pair.value as Node | null;
    if (isScalar(v) && typeof v.value === 'boolean') return v.value;
    if (isScalar(v) && typeof v.value === 'string' && soleExpression(v.value)) {
      this.template(v);
      return v.value;
    }
    this.f.error(v ?? pair, `${what} must be true, false or an expression, not ${describe(v)}`);
    return undefined;
  }

  environment(pair: Pair | undefined, job: WorkflowJob): void {
    if (!pair) return;
    const v = pair.value as Node | null;
    const what = `job "${job.id}": "environment"`;
    if (isScalar(v) && typeof v.value === 'string') {
      job.environment = { name: v.value, url: null };
      this.template(v);
      return;
    }
    if (isMap(v)) {
      const k = this.map(v, what, ['name', 'url', 'deployment']);
      const name = this.str(k.get('name'), `${what}: "name"`);
      if (name === undefined) {
        if (!k.has('name')) this.f.error(v, `${what}: missing "name"`);
        return;
      }
      job.environment = { name, url: this.str(k.get('url'), `${what}: "url"`) ?? null };
      for (const key of ['name', 'url']) if (k.has(key)) this.template(k.get(key)!.value as Node);
      return;
    }
    this.f.error(v ?? pair, `${what} must be a name or a mapping with "name" and "url", not ${describe(v)}`);
  }

  strategy(pair: Pair | undefined, job: WorkflowJob): void {
    const m = this.sub(pair, `job "${job.id}": "strategy"`);
    if (!m) return;
    const what = `job "${job.id}": "strategy"`;
    const k = this.map(m, what, STRATEGY_KEYS);
    const ff = this.boolOrExpression(k.get('fail-fast'), `${what}: "fail-fast"`);
    if (ff !== undefined) job.failFast = ff;
    const mp = k.get('max-parallel');
    if (mp) {
      const v = mp.value as Node;
      if (isScalar(v) && typeof v.value === 'number' && Number.isInteger(v.value) && v.value > 0) job.maxParallel = v.value;
      else if (isScalar(v) && v.value === 0) job.maxParallel = null; // GitHub runs it: no limit (nodejs/undici's CI)
      else if (!(isScalar(v) && typeof v.value === 'string' && soleExpression(v.value))) this.f.error(v, `${what}: "max-parallel" must be a whole number (0: no limit), not ${describe(v)}`);
    }
    const matrix = k.get('matrix');
    if (!matrix) return;
    const v = matrix.value as Node | null;
    if (isScalar(v) && typeof v.value === 'string' && soleExpression(v.value)) {
      this.template(v);
      job.matrix = v.value.trim();
      return;
    }
    if (!isMap(v)) {
      this.f.error(v ?? matrix, `${what}: "matrix" must be a mapping or an expression, not ${describe(v)}`);
      return;
    }
    for (const p of v.items as Pair[]) {
      const key = keyOf(p);
      const val = p.value as Node | null;
      const isExpr = isScalar(val) && typeof val.value === 'string' && soleExpression(val.value) !== null;
      if (/^\$\{\{\s*insert\s*\}\}$/.test(key)) {
        // GitHub's insert directive: the keys of a mapping (usually an expression's) join the matrix.
        if (!isMap(val) && !isExpr) this.f.error(val ?? p, `${what}: "\${{ insert }}" needs a mapping or an expression, not ${describe(val)}`);
      } else if (key === 'include' || key === 'exclude') {
        if (!isSeq(val) && !isExpr) this.f.error(val ?? p, `${what}: "matrix.${key}" must be a list of mappings, not ${describe(val)}`);
        else if (isSeq(val)) for (const item of val.items as Node[]) if (!isMap(item) && !(isScalar(item) && typeof item.value === 'string' && soleExpression(item.value))) this.f.error(item, `${what}: "matrix.${key}" entries must be mappings, not ${describe(item)}`);
      } else if (!isSeq(val) && !isExpr) {
        this.f.error(val ?? p, `${what}: "matrix.${key}" must be a list of values, not ${describe(val)}`);
      } else if (isSeq(val) && val.items.length === 0) {
        this.f.error(val, `${what}: "matrix.${key}" is empty`);
      }
      this.templatesIn(val);
    }
    job.matrix = v.toJSON() as unknown;
  }

  containers(k: Map<string, Pair>, job: WorkflowJob): void {
    const c = k.get('container');
    if (c) {
      const v = c.value as Node | null;
      if (isScalar(v) && typeof v.value === 'string') job.container = v.value;
      else if (isMap(v)) {
        const image = (v.items as Pair[]).find((p) => keyOf(p) === 'image');
        job.container = image ? (this.str(image, `job "${job.id}": "container.image"`) ?? null) : null;
        if (!image) this.f.error(v, `job "${job.id}": "container" needs an "image"`);
        job.containerSpec = this.containerDecl(v, `job "${job.id}": "container`);
      } else this.f.error(v ?? c, `job "${job.id}": "container" must be an image name or a mapping, not ${describe(v)}`);
    }
    const services = this.sub(k.get('services'), `job "${job.id}": "services"`);
    for (const p of (services?.items ?? []) as Pair[]) {
      const v = p.value as Node | null;
      const image = isMap(v) ? (v.items as Pair[]).find((q) => keyOf(q) === 'image') : undefined;
      const name = image ? this.str(image, `job "${job.id}": "services.${keyOf(p)}.image"`) : undefined;
      job.services.push({ name: keyOf(p), image: name ?? null, ...(isMap(v) ? this.containerDecl(v, `job "${job.id}": "services.${keyOf(p)}`) : {}) });
    }
  }

  /** env, options, ports, volumes and credentials of a container or service mapping. */
  private containerDecl(m: YAMLMap, what: string): ContainerDecl {
    const items = m.items as Pair[];
    const get = (k: string) => items.find((p) => keyOf(p) === k);
    const list = (k: string): string[] => {
      const pair = get(k);
      const v = pair?.value as Node | null | undefined;
      if (!pair || v === null || v === undefined || (isScalar(v) && v.value === null)) return [];
      if (isSeq(v)) return (v.items as Node[]).map((i) => this.scalar(i, `${what}.${k}" item`)).filter((x): x is string => x !== null);
      this.f.error(v, `${what}.${k}" must be a list, not ${describe(v)}`);
      return [];
    };
    return { env: this.env(get('env'), `${what}.env"`), options: this.str(get('options'), `${what}.options"`) ?? null, ports: list('ports'), volumes: list('volumes'), credentials: get('credentials') !== undefined };
  }

  /** Checks the expressions of every string under a node (matrix values). */
  templatesIn(node: Node | null): void {
    if (isScalar(node)) {
      if (typeof node.value === 'string') this.template(node);
    } else if (isSeq(node)) for (const i of node.items as Node[]) this.templatesIn(i);
    else if (isMap(node)) for (const p of node.items as Pair[]) this.templatesIn(p.value as Node);
  }

  /** Checks every `${{ }}` of a scalar's text; `warn`: also say what a local run cannot evaluate. */
  template(node: Node, warn = true): void {
    if (!isScalar(node) || typeof node.value !== 'string') return;
    let parts;
    try {
      parts = splitTemplate(node.value);
    } catch (e) {
      this.exprProblem(node, (e as ExpressionError).pos ?? 0, (e as Error).message);
      return;
    }
    for (const p of parts ?? []) if ('expr' in p) this.expression(node, p.expr, p.offset, warn);
  }

  expression(node: Scalar, text: string, offset: number, warn = true): Expr | null {
    let e: Expr;
    try {
      e = parseExpression(text);
    } catch (err) {
      const x = err as ExpressionError;
      this.exprProblem(node, offset + (x.pos ?? 0), `expression "${text.trim()}": ${x.message}`);
      return null;
    }
    const refs = references(e);
    for (const c of refs.contexts) if (c.name === 'secrets' && c.key && c.key.toUpperCase() !== 'GITHUB_TOKEN') this.secretNames.add(c.key);
    if (!warn) return e;
    for (const c of refs.contexts) {
      if (c.name === 'secrets' && c.key?.toUpperCase() !== 'GITHUB_TOKEN') {
        const give = c.key ? ` (--secret ${c.key}; in VS Code: Delivery: Set Secret)` : '';
        this.exprProblem(node, offset + c.pos, `secrets${c.key ? `.${c.key}` : ''} is not available to local runs unless given${give}: a step that needs it fails without it`, 'warning');
      } else if ((c.name === 'secrets' && c.key?.toUpperCase() === 'GITHUB_TOKEN') || (c.name === 'github' && c.key?.toLowerCase() === 'token')) {
        this.exprProblem(node, offset + c.pos, 'the GitHub token is not available to local runs: a step that needs it fails there', 'warning');
      } else if (c.name === 'vars') {
        this.exprProblem(node, offset + c.pos, `vars${c.key ? `.${c.key}` : ''} is not known locally: give it as a variable (--variable ${c.key ?? 'NAME'}=value), or a step that needs it fails`, 'warning');
      }
    }
    return e;
  }

  /** A problem at an offset inside a scalar's value (exact when the scalar is written plainly on one line). */
  exprProblem(node: Node, offset: number, message: string, severity: 'error' | 'warning' = 'error'): void {
    const range = node.range;
    const value = isScalar(node) ? String(node.value) : '';
    if (range && isScalar(node)) {
      const raw = this.f.text.slice(range[0], range[1]);
      const delta = raw === value ? 0 : raw.length >= 2 && raw.slice(1, -1) === value && /^['"]/.test(raw) ? 1 : -1;
      if (delta >= 0 && !value.slice(0, offset).includes('\n')) {
        this.f.errorAt(this.f.posAt(range[0] + delta + offset), message, severity);
        return;
      }
      const at = node.type === 'BLOCK_LITERAL' ? blockLiteralOffset(raw, value, offset) : null;
      if (at !== null) {
        this.f.errorAt(this.f.posAt(range[0] + at), message, severity);
        return;
      }
    }
    this.f.error(node, message, severity);
  }
}

/** Where an offset of a `|` block scalar's value is in its source text (`raw`, from the `|`); null when unsure. */
function blockLiteralOffset(raw: string, value: string, offset: number): number | null {
  const headerEnd = raw.indexOf('\n');
  if (headerEnd < 0 || /\d/.test(raw.slice(0, headerEnd))) return null;
  const lines = raw.slice(headerEnd + 1).split('\n');
  const first = lines.find((l) => l.trim() !== '');
  if (first === undefined) return null;
  const indent = first.length - first.trimStart().length;
  const k = value.slice(0, offset).split('\n').length - 1;
  const column = offset - (value.lastIndexOf('\n', offset - 1) + 1);
  if (k >= lines.length) return null;
  let at = headerEnd + 1;
  for (let j = 0; j < k; j++) at += lines[j].length + 1;
  at += indent + column;
  return raw.slice(at, at + 3) === value.slice(offset, offset + 3) ? at : null;
}

/** How GitHub names a step without a name: `Run <first line of the script>` or `Run <action>`. */
export function stepLabel(s: WorkflowStep): string {
  if (s.name !== null) return s.name;
  if (s.run !== null) {
    const line = (s.run.split('\n').find((l) => l.trim() !== '') ?? '').trim();
    return `Run ${line.length > 80 ? `${line.slice(0, 80)}…` : line}`;
  }
  return `Run ${s.uses}`;
}

// ---- action.yml of local actions ----

export interface ActionDef {
  file: string;
  name: string;
  /** runs.using: composite, docker, node20, … */
  using: string;
  image: string | null;
  /** Docker actions: the container's arguments and variables as written (expressions over inputs), its entrypoint. */
  args: string[];
  env: Record<string, string>;
  entrypoint: string | null;
  /** JavaScript actions: the scripts (relative to the action's folder) and the conditions of pre and post. */
  main: string | null;
  pre: string | null;
  post: string | null;
  preIf: string | null;
  postIf: string | null;
  inputs: { name: string; default: string | undefined; required: boolean }[];
  outputs: { name: string; value: string | null }[];
  steps: WorkflowStep[];
}

const ACTION_KEYS = ['name', 'author', 'description', 'inputs', 'outputs', 'runs', 'branding'] as const;
const RUNS_KEYS = ['using', 'steps', 'image', 'args', 'env', 'entrypoint', 'pre', 'main', 'post', 'pre-if', 'post-if', 'pre-entrypoint', 'post-entrypoint'] as const;

/** Reads an action.yml; `action` is null when it has errors (they are in `f.problems`). */
export function readAction(file: string, text: string): { action: ActionDef | null; f: YamlFile } {
  const f = new YamlFile(file, text);
  if (!f.ok || !inlineAliases(f)) return { action: null, f };
  const root = f.root;
  if (!isMap(root)) {
    f.error(root, `an action must be a mapping, not ${describe(root)}`);
    return { action: null, f };
  }
  const r = new Reader(f);
  const top = r.map(root, 'action', ACTION_KEYS);
  const action: ActionDef = { file, name: r.str(top.get('name'), 'action "name"') ?? file, using: '', image: null, args: [], env: {}, entrypoint: null, main: null, pre: null, post: null, preIf: null, postIf: null, inputs: [], outputs: [], steps: [] };
  const inputs = r.sub(top.get('inputs'), 'action "inputs"');
  for (const p of (inputs?.items ?? []) as Pair[]) {
    const spec = p.value as Node | null;
    const input = { name: keyOf(p), default: undefined as string | undefined, required: false };
    if (isMap(spec)) {
      for (const q of spec.items as Pair[]) {
        const v = q.value as Node | null;
        if (keyOf(q) === 'default' && isScalar(v) && v.value !== null) {
          input.default = String(v.value);
          r.template(v);
        } else if (keyOf(q) === 'required' && isScalar(v)) input.required = v.value === true || v.value === 'true';
      }
    }
    action.inputs.push(input);
  }
  const outputs = r.sub(top.get('outputs'), 'action "outputs"');
  for (const p of (outputs?.items ?? []) as Pair[]) {
    const spec = p.value as Node | null;
    const value = isMap(spec) ? (spec.items as Pair[]).find((q) => keyOf(q) === 'value') : undefined;
    const v = value ? r.str(value, `action output "${keyOf(p)}": "value"`, { numbers: true }) : undefined;
    if (value) r.template(value.value as Node);
    action.outputs.push({ name: keyOf(p), value: v ?? null });
  }
  const runs = r.sub(top.get('runs'), 'action "runs"');
  if (!runs) {
    f.error(root, 'the action has no "runs"');
    return { action: null, f };
  }
  const rk = r.map(runs, 'action "runs"', RUNS_KEYS);
  action.using = r.str(rk.get('using'), 'action "runs.using"') ?? '';
  if (!action.using) f.error(runs, 'the action has no "runs.using" (composite, docker or node20)');
  action.image = r.str(rk.get('image'), 'action "runs.image"') ?? null;
  if (action.using === 'docker') {
    if (!action.image) f.error(runs, 'the Docker action has no "runs.image" (Dockerfile, a path to one, or docker://image)');
    const args = rk.get('args')?.value as Node | null | undefined;
    if (isSeq(args)) action.args = (args.items as Node[]).map((a, i) => r.scalar(a, `action "runs.args" item ${i + 1}`) ?? '');
    else if (args !== undefined && args !== null && !(isScalar(args) && args.value === null)) f.error(args, `action "runs.args" must be a list, not ${describe(args)}`);
    action.env = r.env(rk.get('env'), 'action "runs.env"');
    action.entrypoint = r.str(rk.get('entrypoint'), 'action "runs.entrypoint"') ?? null;
  }
  if (/^node\d+$/.test(action.using)) {
    action.main = r.str(rk.get('main'), 'action "runs.main"') ?? null;
    if (!action.main && !rk.has('main')) f.error(runs, `the JavaScript action has no "runs.main" (the script ${action.using} runs)`);
    action.pre = r.str(rk.get('pre'), 'action "runs.pre"') ?? null;
    action.post = r.str(rk.get('post'), 'action "runs.post"') ?? null;
    action.preIf = r.condition(rk.get('pre-if'), 'action "runs.pre-if"');
    action.postIf = r.condition(rk.get('post-if'), 'action "runs.post-if"');
  }
  if (action.using === 'composite') {
    const steps = rk.get('steps');
    const list = steps?.value as Node | undefined;
    if (!isSeq(list) || list.items.length === 0) f.error(list ?? runs, 'the composite action has no steps');
    else {
      (list.items as Node[]).forEach((s, i) => {
        const step = r.step(s, i, `action "${action.name}"`, true);
        if (!step) return;
        if (step.run !== null && step.shell === null) f.errorAt(step.location, `action "${action.name}", step ${i + 1}: "shell" is required for run steps of a composite action`);
        action.steps.push(step);
      });
    }
  }
  return { action: f.problems.some((p) => p.severity === 'error') ? null : action, f };
}
