// The merged configuration as GitLab reads it: `!reference` tags resolved, `extends` applied (deep merge, lists
// replaced), `default:` and `inherit:` applied, every visible job read (job.ts), and checks across jobs.
// When some includes cannot be read here (templates, other projects, components, the network), what they would
// define is unknown: a job extending a template from one of them is still listed, with a located warning, and is
// unsupported locally only when what is missing is needed to run it (its script).
import { findCycle } from '../graph';
import { needIndex, normalInstanceName, readJob, resolveNeed, type GitlabJob, type JobGaps, type NeedDecl } from './job';
import { unresolvedSource, type LoadedConfig, type UnresolvedInclude } from './load';
import { readStringList, readVariables, ValReader } from './reader';
import { readRules, type Rule } from './rules';
import type { VarDecl } from './variables';
import { deepMerge, describeVal, isNull, mapVal, type Entry, type Loc, type MapVal, type Problems, type Val } from './yaml';

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
  const unresolved = loaded.unresolved;
  // GitLab applies `extends` to every key first, then resolves `!reference` against the result (a reference may
  // name what a template only has through its own extends).
  const ext: ExtendsContext = { root: raw, done: new Map(), gaps: new Map(), unresolved, problems };
  const extended = extendAll(ext);
  // Templates (or !reference targets) that are not defined here, by the top-level key that uses them.
  const refGaps = new Map<string, string[]>();
  const root = resolveReferences(extended, problems, unresolved, refGaps, ext.gaps);
  const stages = readStages(root, problems);
  const variables = readVariables(problems, root.entries.get('variables')?.value, 'variables');
  const workflow = readWorkflow(root, problems);
  const defaults = readDefaults(root, problems);
  // Stages declared in an include that is not read are unknown; the local files' own `stages:` wins over them.
  const openStages = unresolved.length > 0 && !root.entries.has('stages');
  const jobs: GitlabJob[] = [];
  for (const e of root.entries.values()) {
    if (TOP_KEYWORDS.includes(e.key)) continue;
    if (e.key.startsWith('.')) continue; // hidden job or anchor holder: never a job
    if (e.value.t !== 'map') {
      problems.error(e.keyLoc, `"${e.key}" is not a job: a job is a mapping with a script (found ${describeVal(e.value)})`);
      continue;
    }
    if (ext.done.get(e.key) === null) continue; // its extends could not be applied (reported)
    const withDefaults = applyDefaults(e.value, defaults, problems, `job "${e.key}"`);
    const templates = [...new Set([...(ext.gaps.get(e.key) ?? []), ...(refGaps.get(e.key) ?? [])])];
    const jobGaps: JobGaps = { templates, unresolved, openStages };
    const job = readJob(e, withDefaults, stages, loaded.texts, problems, jobGaps);
    if (job) jobs.push(job);
  }
  placeUnknownStages(jobs, stages, problems);
  if (jobs.length === 0 && !problems.hasErrors) {
    if (unresolved.length > 0) {
      problems.warn(raw.loc, `the pipeline has no visible jobs in this file or its local includes; its jobs must come from ${unresolvedSource(unresolved)}`);
    } else {
      problems.error(raw.loc, 'the pipeline has no visible jobs (jobs whose names start with "." are hidden templates)');
    }
  }
  checkJobs(jobs, stages, problems, unresolved);
  return { stages, variables, workflow, jobs };
}

// ---- !reference ----

function resolveReferences(
  root: MapVal,
  problems: Problems,
  unresolved: readonly UnresolvedInclude[],
  gaps: Map<string, string[]>,
  extendsGaps: ReadonlyMap<string, string[]>,
): MapVal {
  // A reference to something an unread include may define resolves to nothing (dropped from lists), with a warning.
  const holes = new WeakSet<Val>();
  const cache = new Map<string, { value: Val; gaps: string[] }>();
  let found: string[] = [];
  const lookup = (ref: Extract<Val, { t: 'ref' }>, trail: string[]): Val => {
    const key = ref.path.join('\u0000');
    const hit = cache.get(key);
    if (hit) {
      found.push(...hit.gaps);
      return hit.value;
    }
    const fail = (message: string): Val => {
      problems.error(ref.loc, `!reference [${ref.path.join(', ')}]: ${message}`);
      return { t: 'scalar', loc: ref.loc, value: null };
    };
    if (trail.includes(key)) return fail('refers to itself through other references');
    if (trail.length >= MAX_REFERENCE_DEPTH) return fail(`references are nested more than ${MAX_REFERENCE_DEPTH} levels deep`);
    const outer = found;
    found = [];
    let node: Val | undefined = root;
    for (const [i, part] of ref.path.entries()) {
      if (node?.t !== 'map') {
        found = outer;
        return fail(`"${ref.path.slice(0, i).join('.')}" is not a mapping`);
      }
      node = node.entries.get(part)?.value;
      // Not here, but an unread include may define it: the template itself, or a key of a template it extends.
      const unread = i === 0 ? (unresolved.length > 0 ? [part] : []) : (extendsGaps.get(ref.path[0]) ?? []);
      if (!node && unread.length > 0) {
        const what = i === 0 ? `"${part}" is not defined in this file or its local includes` : `"${ref.path.slice(0, i + 1).join('.')}" is not defined here, and "${ref.path[0]}" extends ${unread.map((t) => `"${t}"`).join(', ')}`;
        problems.warn(ref.loc, `!reference [${ref.path.join(', ')}]: ${what}; it must come from ${unresolvedSource(unresolved)}. Locally the reference is empty`);
        outer.push(...unread);
        found = outer;
        const hole: Val = { t: 'scalar', loc: ref.loc, value: null };
        holes.add(hole);
        return hole;
      }
      if (!node) {
        found = outer;
        return fail(`"${ref.path.slice(0, i + 1).join('.')}" is not defined`);
      }
      if (node.t === 'ref') node = lookup(node, [...trail, key]);
    }
    const value = walk(node!, [...trail, key]);
    cache.set(key, { value, gaps: found });
    outer.push(...found);
    found = outer;
    return value;
  };
  const walk = (v: Val, trail: string[]): Val => {
    switch (v.t) {
      case 'ref':
        return lookup(v, trail);
      case 'scalar':
        return v;
      case 'seq':
        return v.items.some(hasRef) ? { ...v, items: v.items.map((i) => walk(i, trail)).filter((i) => !holes.has(i)) } : v;
      case 'map': {
        if (![...v.entries.values()].some((e) => hasRef(e.value))) return v;
        const entries = new Map<string, Entry>();
        for (const [k, e] of v.entries) entries.set(k, { ...e, value: walk(e.value, trail) });
        return { ...v, entries };
      }
    }
  };
  if (![...root.entries.values()].some((e) => hasRef(e.value))) return root;
  const entries = new Map<string, Entry>();
  for (const [k, e] of root.entries) {
    found = [];
    entries.set(k, { ...e, value: walk(e.value, []) });
    if (found.length) gaps.set(k, [...new Set(found)]);
  }
  return { ...root, entries };
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

/** The root with `extends` applied to every job and template (the others as they are). */
function extendAll(ctx: ExtendsContext): MapVal {
  const entries = new Map<string, Entry>();
  for (const [k, e] of ctx.root.entries) {
    if (TOP_KEYWORDS.includes(k) || e.value.t !== 'map') {
      entries.set(k, e);
      continue;
    }
    entries.set(k, { ...e, value: applyExtends(ctx, k, []) ?? e.value });
  }
  return { ...ctx.root, entries };
}

interface ExtendsContext {
  root: MapVal;
  done: Map<string, MapVal | null>;
  /** Templates not defined here that a key needs (its own or through what it extends), by key. */
  gaps: Map<string, string[]>;
  unresolved: readonly UnresolvedInclude[];
  problems: Problems;
}

function applyExtends(ctx: ExtendsContext, name: string, stack: string[]): MapVal | null {
  const { root, done, problems } = ctx;
  if (done.has(name)) return done.get(name)!;
  const job = root.entries.get(name)?.value as MapVal;
  const ext = job.entries.get('extends');
  if (!ext || isNull(ext.value)) {
    done.set(name, job);
    return job;
  }
  const targets = readStringList(problems, ext.value, `job "${name}": extends`);
  const gaps = [...(ctx.gaps.get(name) ?? [])];
  // Templates it names that no readable file defines: one warning for the key, naming them all.
  const missing: string[] = [];
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
    if (!target && ctx.unresolved.length > 0) {
      missing.push(t);
      gaps.push(t);
      continue;
    }
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
    const resolved = applyExtends(ctx, t, [...stack, name]);
    if (!resolved) {
      base = null;
      break;
    }
    gaps.push(...(ctx.gaps.get(t) ?? []));
    base = deepMerge(base, resolved);
  }
  if (missing.length) warnMissingTemplates(ctx, name, ext.value, missing);
  if (gaps.length) ctx.gaps.set(name, [...new Set(gaps)]);
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

/** One warning per job or template for the templates it extends that must come from includes that cannot be read. */
function warnMissingTemplates(ctx: ExtendsContext, name: string, ext: Val, missing: string[]): void {
  const what = name.startsWith('.') ? `template "${name}"` : `job "${name}"`;
  const names = missing.map((t) => `"${t}"`);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const one = missing.length === 1;
  ctx.problems.warn(
    itemLoc(ext, missing[0]),
    `${what}: extends ${list}, which ${one ? 'is' : 'are'} not defined in this file or its local includes; ${one ? 'it' : 'they'} must come from ${unresolvedSource(ctx.unresolved)}. ` +
      `The job is listed with what this file says; what ${one ? list : 'they'} set${one ? 's' : ''} (script, stage, image, variables, rules…) is missing locally`,
  );
}

/** Where one name of an `extends:` list is written (the value itself when it is a single name). */
function itemLoc(v: Val, name: string): Loc {
  if (v.t !== 'seq') return v.loc;
  return v.items.find((i) => i.t === 'scalar' && i.value === name)?.loc ?? v.loc;
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

/**
 * A job whose stage comes from a template that is not read here, when GitLab's default stage (test) is not declared:
 * GitLab must take the stage from the template. Locally it goes to the latest stage of what it needs (or the last
 * stage), so that stage order still runs it after them.
 */
function placeUnknownStages(jobs: GitlabJob[], stages: string[], problems: Problems): void {
  const index = needIndex(jobs);
  for (const job of jobs) {
    if (!job.stageUnknown || stages.includes(job.stage)) continue;
    const needed = (job.needs ?? []).map((n) => resolveNeed(n, job.instances[0], index).job).filter((j): j is GitlabJob => j !== null && stages.includes(j.stage));
    const at = Math.max(-1, ...needed.map((j) => stages.indexOf(j.stage)));
    const stage = at > 0 ? stages[at] : stages[Math.max(0, stages.length - 2)];
    problems.warn(
      job.loc,
      `job "${job.name}": its stage is set by a template that is not read here (GitLab's default stage "${job.stage}" is not declared); ` +
        `locally it is in stage "${stage}"${needed.length ? ', with what it needs' : ', the last one'}`,
    );
    job.stage = stage;
  }
}

function checkJobs(jobs: GitlabJob[], stages: string[], problems: Problems, unresolved: readonly UnresolvedInclude[]): void {
  const index = needIndex(jobs);
  const byName = index.jobs;
  const stageIndex = (j: GitlabJob) => stages.indexOf(j.stage);
  const reported = new Set<string>();
  const report = (loc: Loc, message: string, severity: 'error' | 'warning' = 'error') => {
    const key = `${loc.file}:${loc.line}:${loc.column}:${message}`;
    if (reported.has(key)) return;
    reported.add(key);
    if (severity === 'error') problems.error(loc, message);
    else problems.warn(loc, message);
  };
  const elsewhere = unresolved.length > 0 ? unresolvedSource(unresolved) : null;
  for (const job of jobs) {
    const lists: NeedDecl[][] = [job.needs ?? [], ...(job.rules ?? []).map((r) => r.parsedNeeds ?? [])];
    for (const need of lists.flat()) {
      // Matrix expressions make a need depend on the instance that has it: check each instance.
      const from = need.expressions ? job.instances : job.instances.slice(0, 1);
      for (const instance of from) {
        const r = resolveNeed(need, instance, index);
        if (r.error) {
          report(need.loc, `job "${job.name}": ${r.error}`);
          continue;
        }
        if (!r.job) {
          if (need.optional) continue;
          if (elsewhere && !r.name.startsWith('.')) {
            report(need.loc, `job "${job.name}" needs "${r.name}", which is not defined in this file or its local includes; it must come from ${elsewhere}. Locally the need is left out`, 'warning');
          } else {
            report(need.loc, `job "${job.name}" needs "${r.name}", which is not a job in this pipeline${r.name.startsWith('.') ? ' (hidden jobs never run)' : ''}`);
          }
          continue;
        }
        if (!job.stageUnknown && !r.job.stageUnknown && stageIndex(r.job) > stageIndex(job)) {
          report(need.loc, `job "${job.name}" (stage ${job.stage}) needs "${r.name}", which is in a later stage (${r.job.stage})`);
        }
        if (need.matrix && r.instances.length === 0 && !need.optional) {
          report(need.loc, `job "${job.name}" needs "${r.name}" with a parallel:matrix selection that matches none of its jobs`);
        }
      }
    }
    // `needs: []` starts the job at once: GitLab (and gitlab-ci-local) then accept any dependencies.
    if (job.dependencies && job.needs && job.needs.length > 0) {
      const needed = job.needs.map((n) => normalInstanceName(n.job));
      const missing = job.dependencies.filter((d) => !needed.includes(normalInstanceName(d)));
      if (missing.length) {
        problems.error(job.loc, `job "${job.name}": dependencies (${job.dependencies.join(', ')}) must all be in needs (${job.needs.map((n) => n.job).join(', ')}); not in needs: ${missing.join(', ')}`);
      }
    }
    for (const d of job.dependencies ?? []) {
      const target = byName.get(d) ?? index.instances.get(normalInstanceName(d))?.job;
      if (!target) {
        if (elsewhere) problems.warn(job.loc, `job "${job.name}": dependencies names "${d}", which is not defined in this file or its local includes; it must come from ${elsewhere}`);
        else problems.error(job.loc, `job "${job.name}": dependencies names "${d}", which is not a job in this pipeline`);
      } else if (!job.stageUnknown && !target.stageUnknown && stageIndex(target) > stageIndex(job)) {
        problems.error(job.loc, `job "${job.name}" (stage ${job.stage}): dependency "${d}" is in a later stage (${target.stage}); dependencies must be in the current or an earlier stage`);
      }
    }
  }
  const neededJobs = (j: GitlabJob) =>
    (j.needs ?? []).flatMap((n) => j.instances.slice(0, 1).map((i) => resolveNeed(n, i, index).job?.name ?? '')).filter((n) => byName.has(n));
  const cycle = findCycle(jobs.map((j) => j.name), (id) => neededJobs(byName.get(id)!));
  if (cycle) {
    const at = byName.get(cycle[0])!;
    problems.error(at.needs?.[0]?.loc ?? at.loc, `jobs need each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }
}
