// The merged configuration as GitLab reads it: `!reference` tags resolved, `extends` applied (deep merge, lists
// replaced), `default:` and `inherit:` applied, every visible job read (job.ts), and checks across jobs.
import { findCycle } from '../graph';
import { matchesSelector, readJob, type GitlabJob, type NeedDecl } from './job';
import type { LoadedConfig } from './load';
import { readStringList, readVariables, ValReader } from './reader';
import { readRules, type Rule } from './rules';
import type { VarDecl } from './variables';
import { deepMerge, describeVal, isNull, mapVal, type Entry, type MapVal, type Problems, type Val } from './yaml';

export const DEFAULT_STAGES = ['build', 'test', 'deploy'];
const TOP_KEYWORDS = ['default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script', 'spec'];
const DEFAULT_KEYS = ['after_script', 'artifacts', 'before_script', 'cache', 'hooks', 'id_tokens', 'image', 'interruptible', 'retry', 'services', 'tags', 'timeout'];
const MAX_EXTENDS_DEPTH = 11;
const MAX_REFERENCE_DEPTH = 10;

export interface GitlabConfig {
  /** `.pre`, the declared (or default) stages, `.post`. */
  stages: string[];
  variables: VarDecl[];
  workflow: { name: string | null; rules: Rule[] | null };
  jobs: GitlabJob[];
}

/** Reads the merged configuration. Problems are reported; the jobs that could be read are returned. */
export function readConfig(loaded: LoadedConfig, problems: Problems): GitlabConfig | null {
  const raw = loaded.root;
  if (!raw) return null;
  const root = resolveReferences(raw, problems);
  const stages = readStages(root, problems);
  const variables = readVariables(problems, root.entries.get('variables')?.value, 'variables');
  const workflow = readWorkflow(root, problems);
  const defaults = readDefaults(root, problems);
  const extended = new Map<string, MapVal | null>();
  const jobs: GitlabJob[] = [];
  for (const e of root.entries.values()) {
    if (TOP_KEYWORDS.includes(e.key)) continue;
    if (e.key.startsWith('.')) continue; // hidden job or anchor holder: never a job
    if (e.value.t !== 'map') {
      problems.error(e.keyLoc, `"${e.key}" is not a job: a job is a mapping with a script (found ${describeVal(e.value)})`);
      continue;
    }
    const merged = applyExtends(root, e.key, extended, [], problems);
    if (!merged) continue;
    const withDefaults = applyDefaults(merged, defaults, problems, `job "${e.key}"`);
    const job = readJob(e, withDefaults, stages, loaded.texts, problems);
    if (job) jobs.push(job);
  }
  if (jobs.length === 0 && !problems.hasErrors) {
    problems.error(raw.loc, 'the pipeline has no visible jobs (jobs whose names start with "." are hidden templates)');
  }
  checkJobs(jobs, stages, problems);
  return { stages, variables, workflow, jobs };
}

// ---- !reference ----

function resolveReferences(root: MapVal, problems: Problems): MapVal {
  const cache = new Map<string, Val>();
  const lookup = (ref: Extract<Val, { t: 'ref' }>, trail: string[]): Val => {
    const key = ref.path.join('\u0000');
    const hit = cache.get(key);
    if (hit) return hit;
    const fail = (message: string): Val => {
      problems.error(ref.loc, `!reference [${ref.path.join(', ')}]: ${message}`);
      return { t: 'scalar', loc: ref.loc, value: null };
    };
    if (trail.includes(key)) return fail('refers to itself through other references');
    if (trail.length >= MAX_REFERENCE_DEPTH) return fail(`references are nested more than ${MAX_REFERENCE_DEPTH} levels deep`);
    let node: Val | undefined = root;
    for (const [i, part] of ref.path.entries()) {
      if (node?.t !== 'map') return fail(`"${ref.path.slice(0, i).join('.')}" is not a mapping`);
      node = node.entries.get(part)?.value;
      if (!node) return fail(`"${ref.path.slice(0, i + 1).join('.')}" is not defined`);
      if (node.t === 'ref') node = lookup(node, [...trail, key]);
    }
    const value = walk(node!, [...trail, key]);
    cache.set(key, value);
    return value;
  };
  const walk = (v: Val, trail: string[]): Val => {
    switch (v.t) {
      case 'ref':
        return lookup(v, trail);
      case 'scalar':
        return v;
      case 'seq':
        return v.items.some(hasRef) ? { ...v, items: v.items.map((i) => walk(i, trail)) } : v;
      case 'map': {
        if (![...v.entries.values()].some((e) => hasRef(e.value))) return v;
        const entries = new Map<string, Entry>();
        for (const [k, e] of v.entries) entries.set(k, { ...e, value: walk(e.value, trail) });
        return { ...v, entries };
      }
    }
  };
  return walk(root, []) as MapVal;
}

function hasRef(v: Val): boolean {
  switch (v.t) {
    case 'ref':
      return true;
    case 'scalar':
      return false;
    case 'seq':
      return v.items.some(hasRef);
    case 'map':
      return [...v.entries.values()].some((e) => hasRef(e.value));
  }
}

// ---- stages, workflow, default ----

function readStages(root: MapVal, problems: Problems): string[] {
  const v = root.entries.get('stages')?.value;
  let declared = DEFAULT_STAGES;
  if (v && !isNull(v)) {
    if (v.t !== 'seq') problems.error(v.loc, `stages: must be a list of stage names, not ${describeVal(v)}`);
    else declared = readStringList(problems, v, 'stages') ?? DEFAULT_STAGES;
  }
  return [...new Set(['.pre', ...declared.filter((s) => s !== '.pre' && s !== '.post'), '.post'])];
}

function readWorkflow(root: MapVal, problems: Problems): GitlabConfig['workflow'] {
  const v = root.entries.get('workflow')?.value;
  if (!v || isNull(v)) return { name: null, rules: null };
  const r = ValReader.from(problems, v, 'workflow', ['name', 'rules', 'auto_cancel']);
  if (!r) return { name: null, rules: null };
  return { name: r.string('name') ?? null, rules: readRules(problems, r.value('rules'), 'workflow', 'workflow') };
}

function readDefaults(root: MapVal, problems: Problems): MapVal {
  // Top-level image/services/cache/before_script/after_script are GitLab's older spelling of `default:`.
  const legacy = mapVal(root.loc, ['image', 'services', 'cache', 'before_script', 'after_script'].flatMap((k) => root.entries.get(k) ?? []));
  const v = root.entries.get('default')?.value;
  if (!v || isNull(v)) return legacy;
  const r = ValReader.from(problems, v, 'default', DEFAULT_KEYS);
  return r ? deepMerge(legacy, r.map) : legacy;
}

// ---- extends and inherit ----

function applyExtends(root: MapVal, name: string, done: Map<string, MapVal | null>, stack: string[], problems: Problems): MapVal | null {
  if (done.has(name)) return done.get(name)!;
  const job = root.entries.get(name)?.value as MapVal;
  const ext = job.entries.get('extends');
  if (!ext || isNull(ext.value)) {
    done.set(name, job);
    return job;
  }
  const targets = readStringList(problems, ext.value, `job "${name}": extends`);
  let base: MapVal | null = mapVal(job.loc);
  for (const t of targets ?? []) {
    if (t === name || stack.includes(t)) {
      problems.error(ext.value.loc, `job "${name}": circular extends: ${[...stack, name, t].join(' → ')}`);
      base = null;
      break;
    }
    if (stack.length + 1 >= MAX_EXTENDS_DEPTH) {
      problems.error(ext.value.loc, `job "${name}": extends is nested more than ${MAX_EXTENDS_DEPTH} levels deep`);
      base = null;
      break;
    }
    const target = root.entries.get(t);
    if (!target) {
      problems.error(ext.value.loc, `job "${name}": extends "${t}", which is not defined`);
      base = null;
      break;
    }
    if (target.value.t !== 'map') {
      problems.error(ext.value.loc, `job "${name}": extends "${t}", which is not a job or template mapping`);
      base = null;
      break;
    }
    const resolved = applyExtends(root, t, done, [...stack, name], problems);
    if (!resolved) {
      base = null;
      break;
    }
    base = deepMerge(base, resolved);
  }
  if (!base) {
    done.set(name, null);
    return null;
  }
  const own = new Map(job.entries);
  own.delete('extends');
  const merged = deepMerge(base, { ...job, entries: own });
  done.set(name, merged);
  return merged;
}

function applyDefaults(job: MapVal, defaults: MapVal, problems: Problems, what: string): MapVal {
  const inherit = job.entries.get('inherit')?.value;
  let keys: string[] | null = null; // null: all
  if (inherit && !isNull(inherit)) {
    const r = ValReader.from(problems, inherit, `${what}: inherit`, ['default', 'variables']);
    const d = r?.value('default');
    if (d && d.t === 'scalar' && typeof d.value === 'boolean') keys = d.value ? null : [];
    else if (d) keys = readStringList(problems, d, `${what}: inherit:default`) ?? null;
  }
  const entries = new Map(job.entries);
  for (const [k, e] of defaults.entries) {
    if (entries.has(k) || (keys !== null && !keys.includes(k))) continue;
    entries.set(k, e);
  }
  return { ...job, entries };
}

// ---- checks across jobs ----

function checkJobs(jobs: GitlabJob[], stages: string[], problems: Problems): void {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const stageIndex = (j: GitlabJob) => stages.indexOf(j.stage);
  for (const job of jobs) {
    const lists: NeedDecl[][] = [job.needs ?? [], ...(job.rules ?? []).map((r) => r.parsedNeeds ?? [])];
    for (const need of lists.flat()) {
      const target = byName.get(need.job);
      if (!target) {
        if (!need.optional) problems.error(need.loc, `job "${job.name}" needs "${need.job}", which is not a job in this pipeline${need.job.startsWith('.') ? ' (hidden jobs never run)' : ''}`);
        continue;
      }
      if (stageIndex(target) > stageIndex(job)) {
        problems.error(need.loc, `job "${job.name}" (stage ${job.stage}) needs "${need.job}", which is in a later stage (${target.stage})`);
      }
      if (need.matrix && !target.instances.some((i) => matchesSelector(i, need.matrix!)) && !need.optional) {
        problems.error(need.loc, `job "${job.name}" needs "${need.job}" with a parallel:matrix selection that matches none of its jobs`);
      }
    }
    if (job.dependencies && job.needs) {
      const needed = job.needs.map((n) => n.job);
      const missing = job.dependencies.filter((d) => !needed.includes(d));
      if (missing.length) {
        problems.error(job.loc, `job "${job.name}": dependencies (${job.dependencies.join(', ')}) must all be in needs (${needed.join(', ')}); not in needs: ${missing.join(', ')}`);
      }
    }
    for (const d of job.dependencies ?? []) {
      if (!byName.has(d)) problems.error(job.loc, `job "${job.name}": dependencies names "${d}", which is not a job in this pipeline`);
    }
  }
  const cycle = findCycle(jobs.map((j) => j.name), (id) => (byName.get(id)?.needs ?? []).map((n) => n.job).filter((n) => byName.has(n)));
  if (cycle) {
    const at = byName.get(cycle[0])!;
    problems.error(at.needs?.[0]?.loc ?? at.loc, `jobs need each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }
}
