// Reusable workflows (`jobs.<id>.uses:`): `./.github/workflows/x.yml` of this repository, or
// `owner/repo/.github/workflows/x.yml@ref` of another one, fetched with git from the actions host into the action
// cache (PlanIO.actions, as remote actions are). Read before a run is planned, called with the caller's `with:`
// (typed by `on.workflow_call.inputs`) and `secrets:` (`inherit` or a mapping), and their jobs planned as part of the
// run, named `<caller> / <job>` as GitHub names them. A `./` call inside a workflow of another repository names a
// file of that repository at the same commit. What GitHub refuses before a run starts (a workflow that is not
// reusable, an input or a secret it does not declare, a required one not given, a call that loops) is an error of
// the plan, located at the caller job; a workflow that cannot be fetched (host unreachable, not in the cache) makes
// the caller job unsupported with the reason.
import type { DepState } from '../engine/plan';
import type { PlanContext, RemoteActionRef } from '../sources';
import { remoteRef } from './actions';
import type { RunFacts, Trusted } from './context';
import { LazyObject, Unknown, evaluateTemplate, parseCached, references, splitTemplate, toText, type EvalScope, type Value, type ValueObject } from './expressions';
import type { JobRun } from './job';
import { message } from './scope';
import { readWorkflow, type InputDecl, type Workflow, type WorkflowJob } from './workflow';

/** GitHub allows ten levels of workflows calling workflows. */
export const MAX_CALL_DEPTH = 10;

/** A workflow read from another repository: which one, at which commit, and where its files are on this machine. */
export interface RemoteOrigin {
  ref: RemoteActionRef;
  commit: string;
  root: string;
  /** How it was had: fetched from the host, or from the cache (and why the host was not asked). */
  note: string;
}

/** Called workflows by call key (`.github/workflows/x.yml`, or `owner/repo/.github/workflows/x.yml@ref`), read once per plan. */
export interface CalledWorkflows {
  byKey: Map<string, Workflow | { unavailable: string }>;
  /** The called workflows of other repositories: where they came from (their `./` calls are read there). */
  origins: Map<Workflow, RemoteOrigin>;
}

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

const WORKFLOW_FILE = /^\.github\/workflows\/[^/\\\0]+\.ya?ml$/;

function callPath(uses: string): { path: string } | { error: string } {
  const u = uses.trim();
  const m = /^[.$]\/(.*)$/.exec(u);
  if (!m || !WORKFLOW_FILE.test(m[1])) {
    if (u.includes('@')) return { error: `"${u}": a reusable workflow of this repository is named without @ref (./.github/workflows/<file>.yml)` };
    return { error: `"${u}" is not a workflow of this repository: local reusable workflows are files in .github/workflows (./.github/workflows/<file>.yml)` };
  }
  return { path: m[1] };
}

/**
 * `owner/repo/.github/workflows/<file>.yml@ref`, its parts checked (they reach git and the file system), or why it
 * is not a reusable workflow reference.
 */
export function remoteCall(uses: string): { ref: RemoteActionRef; path: string } | { invalid: string } {
  const r = remoteRef(uses);
  if ('invalid' in r) return r;
  if (!WORKFLOW_FILE.test(r.path)) {
    return { invalid: `"${uses.trim()}" is not a reusable workflow: one of another repository is named owner/repo/.github/workflows/<file>.yml@ref` };
  }
  return { ref: { owner: r.owner, repo: r.repo, path: '', ref: r.ref }, path: r.path };
}

/** Where a call made from `from` leads: a file of this repository, or of another one at a ref (or at a commit already had). */
type CallTarget = { key: string; local: string } | { key: string; remote: RemoteActionRef; path: string; origin: RemoteOrigin | null } | { error: string };

function callTarget(called: CalledWorkflows, from: Workflow, uses: string): CallTarget {
  const origin = called.origins.get(from) ?? null;
  if (isLocalCall(uses)) {
    const p = callPath(uses);
    if ('error' in p) return p;
    if (!origin) return { key: p.path, local: p.path };
    // The same repository as the calling workflow, at the same commit.
    const ref = { ...origin.ref, ref: origin.commit };
    return { key: remoteKey(ref, p.path), remote: ref, path: p.path, origin };
  }
  const r = remoteCall(uses);
  if ('invalid' in r) return { error: r.invalid };
  return { key: remoteKey(r.ref, r.path), remote: r.ref, path: r.path, origin: null };
}

function remoteKey(ref: RemoteActionRef, path: string): string {
  return `${ref.owner.toLowerCase()}/${ref.repo.toLowerCase()}/${path}@${ref.ref}`;
}

function at(wf: Workflow, job: WorkflowJob): string {
  return `${wf.file}:${job.location.line}:${job.location.column}: job "${job.id}"`;
}

/**
 * Reads every reusable workflow the jobs call, and the ones those call: this repository's from the folder, other
 * repositories' through the action source (fetched, or from its cache). A map by call key, or the first reason the
 * run cannot start (GitHub refuses such a run as a whole).
 */
export async function loadCalledWorkflows(wf: Workflow, jobs: WorkflowJob[], ctx: PlanContext, signal?: AbortSignal): Promise<CalledWorkflows | { error: string }> {
  const out: CalledWorkflows = { byKey: new Map(), origins: new Map() };
  const queue: { from: Workflow; job: WorkflowJob }[] = jobs.filter((j) => j.uses !== null).map((job) => ({ from: wf, job }));
  while (queue.length > 0) {
    const { from, job } = queue.shift()!;
    const t = callTarget(out, from, job.uses!);
    if ('error' in t) return { error: `${at(from, job)}: ${t.error}` };
    if (out.byKey.has(t.key)) continue;
    const io = ctx.io;
    if (!io) {
      out.byKey.set(t.key, { unavailable: `calls ${job.uses}, and this plan cannot read files` });
      continue;
    }
    let folder = ctx.folder;
    let file = t.key;
    let origin: RemoteOrigin | null = null;
    if ('remote' in t) {
      origin = t.origin;
      if (!origin) {
        if (!io.actions) {
          out.byKey.set(t.key, { unavailable: `calls reusable workflow ${job.uses!.trim()} of another repository, and workflows of other repositories are not fetched in this run` });
          continue;
        }
        const got = await io.actions.fetch(t.remote, signal);
        if ('unsupported' in got) {
          out.byKey.set(t.key, { unavailable: `reusable workflow ${job.uses!.trim()}: ${got.unsupported}` });
          continue;
        }
        const name = `${t.remote.owner}/${t.remote.repo}@${t.remote.ref}`;
        const note =
          got.source === 'cache'
            ? `Using workflow repository '${name}' (SHA:${got.commit}) from the action cache${got.note ? `: ${got.note}` : ''}`
            : `Downloaded workflow repository '${name}' (SHA:${got.commit}) from ${io.actions.host}`;
        origin = { ref: t.remote, commit: got.commit, root: got.root, note };
      }
      folder = origin.root;
      file = t.path;
    }
    let text: string | null;
    try {
      text = await io.readRepoFile(folder, file);
    } catch (e) {
      return { error: `${at(from, job)}: ${job.uses}: ${message(e)}` };
    }
    if (text === null) return { error: `${at(from, job)}: calls ${job.uses}, which does not exist` };
    const read = readWorkflow(t.key, text);
    const err = read.f.problems.find((q) => q.severity === 'error');
    if (!read.workflow || err) {
      return { error: `${at(from, job)}: calls ${job.uses}, which has errors${err ? ` (${err.file}:${err.line}:${err.column}: ${err.message})` : ''}` };
    }
    if (!read.workflow.call) {
      return { error: `${at(from, job)}: calls ${job.uses}, which is not a reusable workflow (its "on" has no workflow_call)` };
    }
    out.byKey.set(t.key, read.workflow);
    if (origin) out.origins.set(read.workflow, origin);
    for (const j of read.workflow.jobs) if (j.uses !== null) queue.push({ from: read.workflow, job: j });
  }
  return out;
}

/** The called workflow of a caller job, or why its jobs cannot be planned. */
export function calledWorkflow(called: CalledWorkflows, from: Workflow, job: WorkflowJob, chain: string[]): Workflow | { unsupported: string } {
  const t = callTarget(called, from, job.uses!);
  if ('error' in t) throw new Error(`${at(from, job)}: ${t.error}`);
  const target = called.byKey.get(t.key);
  if (!target) throw new Error(`${at(from, job)}: ${job.uses} was not read`);
  if ('unavailable' in target) return { unsupported: target.unavailable };
  if (chain.includes(t.key)) throw new Error(`${at(from, job)}: workflows call each other in a loop: ${[...chain, t.key].join(' → ')}`);
  if (chain.length >= MAX_CALL_DEPTH) throw new Error(`${at(from, job)}: workflows call workflows more than ${MAX_CALL_DEPTH} levels deep (${[...chain, t.key].join(' → ')})`);
  return target;
}

/** Where a called workflow of another repository came from (a line for its jobs' logs); null for this repository's. */
export function calledFrom(called: CalledWorkflows, wf: Workflow): string | null {
  return called.origins.get(wf)?.note ?? null;
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
