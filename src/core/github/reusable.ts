// Local reusable workflows (`jobs.<id>.uses: ./.github/workflows/x.yml`): read before a run is planned, called
// with the caller's `with:` (typed by `on.workflow_call.inputs`) and `secrets:` (`inherit` or a mapping), and
// their jobs planned as part of the run, named `<caller> / <job>` as GitHub names them. What GitHub refuses before
// a run starts (a workflow that is not reusable, an input or a secret it does not declare, a required one not
// given, a call that loops) is an error of the plan, located at the caller job.
import type { DepState } from '../engine/plan';
import type { PlanContext } from '../sources';
import type { RunFacts, Trusted } from './context';
import { LazyObject, Unknown, evaluateTemplate, parseCached, references, splitTemplate, toText, type EvalScope, type Value, type ValueObject } from './expressions';
import type { JobRun } from './job';
import { message } from './scope';
import { readWorkflow, type InputDecl, type Workflow, type WorkflowJob } from './workflow';

/** GitHub allows ten levels of workflows calling workflows. */
export const MAX_CALL_DEPTH = 10;

/** Called workflows by path (`.github/workflows/x.yml`), read once per plan. */
export type CalledWorkflows = Map<string, Workflow | { unavailable: string }>;

/** Where a called workflow's jobs come from: the caller (one matrix combination of it) in the calling run. */
export interface CallSite {
  caller: JobRun;
  /** Planned ids every job of the called workflow waits for: what the caller waits for. */
  outerDeps: string[];
  idPrefix: string;
  namePrefix: string;
  /** The called files from the top workflow down to this one (loops, depth). */
  chain: string[];
  /** Inputs whose `with:` value reads `needs`: known once the caller's needs have ended. */
  runtimeInputs: Set<string>;
  facts: RunFacts;
  /** Evaluates what reads `needs` (inputs, secrets) with the results of the caller's needs. */
  resolve(deps: Record<string, DepState>): void;
}

/** A local reusable workflow reference: `./.github/workflows/<file>.yml`, or GitHub's self-repository `$/…` (the same file at the running commit). */
export function isLocalCall(uses: string): boolean {
  return /^[.$]\//.test(uses.trim());
}

function callPath(uses: string): { path: string } | { error: string } {
  const u = uses.trim();
  const m = /^[.$]\/(\.github\/workflows\/[^/\\\0]+\.ya?ml)$/.exec(u);
  if (!m) {
    if (u.includes('@')) return { error: `"${u}": a reusable workflow of this repository is named without @ref (./.github/workflows/<file>.yml)` };
    return { error: `"${u}" is not a workflow of this repository: local reusable workflows are files in .github/workflows (./.github/workflows/<file>.yml)` };
  }
  return { path: m[1] };
}

function at(wf: Workflow, job: WorkflowJob): string {
  return `${wf.file}:${job.location.line}:${job.location.column}: job "${job.id}"`;
}

/**
 * Reads every local reusable workflow the jobs call, and the ones those call: a map by path, or the first reason
 * the run cannot start (GitHub refuses such a run as a whole).
 */
export async function loadCalledWorkflows(wf: Workflow, jobs: WorkflowJob[], ctx: PlanContext): Promise<CalledWorkflows | { error: string }> {
  const out: CalledWorkflows = new Map();
  const queue: { from: Workflow; job: WorkflowJob }[] = jobs.filter((j) => j.uses !== null && isLocalCall(j.uses)).map((job) => ({ from: wf, job }));
  while (queue.length > 0) {
    const { from, job } = queue.shift()!;
    const p = callPath(job.uses!);
    if ('error' in p) return { error: `${at(from, job)}: ${p.error}` };
    if (out.has(p.path)) continue;
    const io = ctx.io;
    if (!io) {
      out.set(p.path, { unavailable: `calls ${job.uses}, and this plan cannot read files` });
      continue;
    }
    let text: string | null;
    try {
      text = await io.readRepoFile(ctx.folder, p.path);
    } catch (e) {
      return { error: `${at(from, job)}: ${job.uses}: ${message(e)}` };
    }
    if (text === null) return { error: `${at(from, job)}: calls ${job.uses}, which does not exist` };
    const read = readWorkflow(p.path, text);
    const err = read.f.problems.find((q) => q.severity === 'error');
    if (!read.workflow || err) {
      return { error: `${at(from, job)}: calls ${job.uses}, which has errors${err ? ` (${err.file}:${err.line}:${err.column}: ${err.message})` : ''}` };
    }
    if (!read.workflow.call) {
      return { error: `${at(from, job)}: calls ${job.uses}, which is not a reusable workflow (its "on" has no workflow_call)` };
    }
    out.set(p.path, read.workflow);
    for (const j of read.workflow.jobs) if (j.uses !== null && isLocalCall(j.uses)) queue.push({ from: read.workflow, job: j });
  }
  return out;
}

/** The called workflow of a caller job, or why its jobs cannot be planned. */
export function calledWorkflow(called: CalledWorkflows, from: Workflow, job: WorkflowJob, chain: string[]): Workflow | { unsupported: string } {
  const p = callPath(job.uses!);
  if ('error' in p) throw new Error(`${at(from, job)}: ${p.error}`);
  const target = called.get(p.path);
  if (!target) throw new Error(`${at(from, job)}: ${job.uses} was not read`);
  if ('unavailable' in target) return { unsupported: target.unavailable };
  if (chain.includes(p.path)) throw new Error(`${at(from, job)}: workflows call each other in a loop: ${[...chain, p.path].join(' → ')}`);
  if (chain.length >= MAX_CALL_DEPTH) throw new Error(`${at(from, job)}: workflows call workflows more than ${MAX_CALL_DEPTH} levels deep (${[...chain, p.path].join(' → ')})`);
  return target;
}

function readsNeeds(raw: string): boolean {
  try {
    return (splitTemplate(raw) ?? []).some((p) => 'expr' in p && references(parseCached(p.expr)).contexts.some((c) => c.name === 'needs'));
  } catch {
    return false;
  }
}

/** An input's value as its declared type makes it (GitHub converts `with:` values the same way). */
function typed(v: Value, type: InputDecl['type']): Value {
  if (v instanceof Unknown) return v;
  if (type === 'boolean') return v === true || (typeof v === 'string' && v.trim().toLowerCase() === 'true');
  if (type === 'number') {
    const n = typeof v === 'number' ? v : Number(toText(v));
    return Number.isNaN(n) ? toText(v) : n;
  }
  return typeof v === 'string' ? v : toText(v);
}

function findKey(obj: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

/**
 * The call of `called` by one caller instance: the facts its jobs see (the caller's github, vars and run
 * variables; inputs from `with:`; secrets as passed), what GitHub would refuse, and the id and name prefixes.
 */
export function callSite(parent: { wf: Workflow; facts: RunFacts; needsContext(declared: string[], deps: Record<string, DepState>): ValueObject }, caller: JobRun, called: Workflow, outerDeps: string[], chain: string[]): CallSite {
  const job = caller.job;
  const where = at(parent.wf, job);
  const decls = called.call?.inputs ?? [];
  for (const k of Object.keys(job.with)) {
    if (!decls.some((d) => d.name.toLowerCase() === k.toLowerCase())) {
      throw new Error(`${where}: input "${k}" is not defined in ${called.file} (its on.workflow_call.inputs: ${decls.map((d) => d.name).join(', ') || 'none'})`);
    }
  }
  const values: ValueObject = {};
  const trusted = new Set<string>();
  const runtime = new Map<string, { raw: string; decl: InputDecl }>();
  const planScope = caller.callScope();
  for (const decl of decls) {
    const key = findKey(job.with, decl.name);
    if (key === undefined) {
      if (decl.default !== undefined) {
        if (typeof decl.default !== 'string') {
          values[decl.name] = typed(decl.default, decl.type);
          trusted.add(decl.name);
          continue;
        }
        try {
          const r = evaluateTemplate(decl.default, planScope);
          values[decl.name] = typed(r.value, decl.type);
          if (!r.tainted) trusted.add(decl.name);
        } catch (e) {
          values[decl.name] = new Unknown(`inputs.${decl.name}: its default cannot be evaluated locally (${message(e)})`);
        }
      } else if (decl.required) {
        throw new Error(`${where}: input "${decl.name}" is required by ${called.file} but not given ("with:")`);
      } else {
        // What GitHub gives an optional input the caller left out.
        values[decl.name] = decl.type === 'boolean' ? false : decl.type === 'number' ? 0 : '';
        trusted.add(decl.name);
      }
      continue;
    }
    const raw = job.with[key];
    if (readsNeeds(raw)) {
      values[decl.name] = new Unknown(`inputs.${decl.name} is known only when the job runs (it reads needs)`);
      runtime.set(decl.name, { raw, decl });
      continue;
    }
    try {
      const r = evaluateTemplate(raw, planScope);
      values[decl.name] = typed(r.value, decl.type);
      if (!r.tainted) trusted.add(decl.name);
    } catch (e) {
      values[decl.name] = new Unknown(`inputs.${decl.name}: ${message(e)}`);
    }
  }
  const inputs: Trusted = { values, trusted };

  // Secrets: inherited, passed one by one, or none (a secret not passed is empty, as on GitHub).
  const declaredSecrets = called.call?.secrets ?? [];
  const passed = job.secrets;
  if (passed !== null && passed !== 'inherit') {
    for (const k of Object.keys(passed)) {
      if (!declaredSecrets.some((d) => d.name.toLowerCase() === k.toLowerCase())) {
        throw new Error(`${where}: secret "${k}" is not defined in ${called.file} (its on.workflow_call.secrets: ${declaredSecrets.map((d) => d.name).join(', ') || 'none'})`);
      }
    }
  }
  if (passed !== 'inherit') {
    for (const d of declaredSecrets) {
      if (d.required && (passed === null || findKey(passed, d.name) === undefined)) throw new Error(`${where}: secret "${d.name}" is required by ${called.file} but not passed ("secrets:")`);
    }
  }
  let needs: ValueObject | undefined;
  const token = (): Value => parent.facts.secrets.get('GITHUB_TOKEN') ?? parent.facts.github.token;
  const secrets =
    passed === 'inherit'
      ? parent.facts.secrets
      : new LazyObject('secrets', (key) => {
          if (key.toUpperCase() === 'GITHUB_TOKEN') return token();
          const k = passed === null ? undefined : findKey(passed, key);
          if (k === undefined) return '';
          try {
            return evaluateTemplate(passed![k], caller.callScope(needs)).value;
          } catch (e) {
            return new Unknown(`secrets.${key} (passed by ${where}): ${message(e)}`);
          }
        });
  const facts: RunFacts = { ...parent.facts, inputs, secrets };
  return {
    caller,
    outerDeps,
    idPrefix: `${caller.id} / `,
    namePrefix: `${caller.name} / `,
    chain,
    runtimeInputs: new Set(runtime.keys()),
    facts,
    resolve(deps) {
      needs = parent.needsContext(job.needs, deps);
      if (runtime.size === 0) return;
      const scope = caller.callScope(needs);
      for (const [name, { raw, decl }] of runtime) {
        try {
          const r = evaluateTemplate(raw, scope);
          values[name] = typed(r.value, decl.type);
          if (r.tainted) trusted.delete(name);
          else trusted.add(name);
        } catch (e) {
          values[name] = new Unknown(`inputs.${name}: ${message(e)}`);
        }
      }
    },
  };
}

/** `on.workflow_call.outputs` of a called workflow, evaluated over the `jobs` context of its jobs. */
export function callOutputs(wf: Workflow, facts: RunFacts, jobs: ValueObject): ValueObject {
  const scope: EvalScope = {
    context: (name) => (name === 'jobs' ? jobs : name === 'github' ? facts.github : name === 'inputs' ? facts.inputs.values : name === 'vars' ? facts.vars : undefined),
  };
  const out: ValueObject = {};
  for (const o of wf.call?.outputs ?? []) {
    try {
      out[o.name] = toText(evaluateTemplate(o.value, scope).value);
    } catch (e) {
      out[o.name] = new Unknown(`output "${o.name}" of ${wf.file} (${o.location.line}:${o.location.column}): ${message(e)}`);
    }
  }
  return out;
}
