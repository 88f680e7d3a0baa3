// Reads a .gitlab-ci.yml with its `include:`s into one merged configuration. Local includes (with wildcards,
// inputs and rules) are read through the import context; remote, template, project and component includes need
// GitLab or the network, so they are listed as not resolvable offline and the rest of the pipeline still loads.
import { interpolate, readSpec, resolveInputs } from './inputs';
import { ValReader } from './reader';
import { firstMatch, readRules } from './rules';
import { SAFE_PREDEFINED } from './predefined';
import { expandKnown, referencedVariables } from './variables';
import { deepMerge, describeVal, fileLoc, flatten, isNull, mapVal, parseGitlabYaml, type Loc, type MapVal, type Problems, type Val } from './yaml';

export interface LoadContext {
  readFile(rel: string): Promise<string | null>;
  listFiles(glob: string): Promise<string[]>;
  /** Variables usable in include paths and include:rules (predefined, project and run variables). */
  variables: Record<string, string>;
  /**
   * Variables whose values come from the repository itself (project variables file), not overridden by run
   * variables; expand_vars on any other (branch names, commit messages, --variable values…) is warned about.
   */
  repositoryVariables?: ReadonlySet<string>;
  /** Variables given for this run (--variable, trigger variables): from outside, whatever their name. */
  runVariables?: ReadonlySet<string>;
  /**
   * True before a run, when git facts and run variables are not known yet: an include path that still refers to
   * an unknown variable is reported as resolved at run time instead of as a missing file.
   */
  preview: boolean;
}

/**
 * An include whose content is not read here: a remote, template, project or component include (they need GitLab or
 * the network), or, before a run, a local include whose path uses variables known only when the pipeline runs.
 */
export interface UnresolvedInclude {
  kind: 'remote' | 'template' | 'project' | 'component' | 'local';
  what: string;
  loc: Loc;
}

/** How an unresolved include is named in messages: `include:project group/ci /templates/x.yml@v1`. */
export function includeLabel(u: UnresolvedInclude): string {
  return u.kind === 'local' ? `include:local "${u.what}" (resolved when the pipeline runs)` : `include:${u.kind} ${u.what}`;
}

/** "include:project X, which cannot be read offline" or "one of the includes that cannot be read here (A; B)". */
export function unresolvedSource(all: readonly UnresolvedInclude[]): string {
  // Local files decided at run time first: a template is most often in one of the project's own files.
  const list = [...all.filter((u) => u.kind === 'local'), ...all.filter((u) => u.kind !== 'local')];
  if (list.length === 1) return `${includeLabel(list[0])}${list[0].kind === 'local' ? '' : ', which cannot be read offline'}`;
  const shown = list.slice(0, 4).map(includeLabel).join('; ');
  return `one of the includes that cannot be read here (${shown}${list.length > 4 ? `; and ${list.length - 4} more` : ''})`;
}

export interface LoadedConfig {
  /** The merged top-level mapping (without `include`); null when the entry file could not be read. */
  root: MapVal | null;
  /** Text of every file read, by path (for comment directives such as `# @Description`). */
  texts: Map<string, string>;
  /** Included files, relative to the project folder. */
  included: string[];
  /** Includes whose content is not part of `root`: templates, jobs and stages they define are unknown here. */
  unresolved: UnresolvedInclude[];
}

/** GitLab's limits: includes per pipeline and nesting depth. */
export const MAX_INCLUDES = 150;
const MAX_DEPTH = 100;

const INCLUDE_KEYS = ['local', 'remote', 'template', 'project', 'file', 'ref', 'component', 'inputs', 'rules', 'cache', 'integrity'];

export async function loadConfig(entry: { path: string; text: string }, ctx: LoadContext, problems: Problems): Promise<LoadedConfig> {
  const out: LoadedConfig = { root: null, texts: new Map([[entry.path, entry.text]]), included: [], unresolved: [] };
  let count = 0;

  const loadText = async (file: string, text: string, inputs: MapVal | null, at: Loc | null, stack: string[]): Promise<MapVal | null> => {
    const parsed = parseGitlabYaml(file, text, problems);
    if (!parsed.ok) return null;
    let body = parsed.body;
    if (body === null) {
      if (at) problems.error(at, `included file ${file} is empty`);
      else problems.error(fileLoc(file), `${file} is empty: add at least one job with a script`);
      return null;
    }
    if (body.t !== 'map') {
      problems.error(body.loc, `${file} must be a mapping of jobs and keywords, not ${describeVal(body)}`);
      return null;
    }
    if (parsed.header) {
      const specs = readSpec(parsed.header, problems);
      if (!specs) return null;
      const values = resolveInputs(specs, inputs, at ?? parsed.header.loc, file, problems);
      if (!values) return null;
      const before = problems.list.length;
      body = interpolate(body, values, problems, (s, loc) => {
        warnOutsideExpansion(s, loc, ctx, problems);
        return expandKnown(s, ctx.variables);
      });
      if (problems.list.slice(before).some((p) => p.severity === 'error')) return null;
    } else if (inputs && inputs.entries.size > 0 && at) {
      problems.error(at, `inputs are given, but ${file} has no spec:inputs header declaring them`);
    }
    if (body.t !== 'map') return null;
    let merged = mapVal(body.loc);
    const include = body.entries.get('include');
    if (include) {
      for (const item of includeItems(include.value, problems)) {
        const sub = await loadInclude(item, stack);
        for (const m of sub) merged = deepMerge(merged, m);
      }
    }
    const own = new Map(body.entries);
    own.delete('include');
    return deepMerge(merged, { ...body, entries: own });
  };

  const loadInclude = async (item: Val, stack: string[]): Promise<MapVal[]> => {
    if (item.t === 'scalar' && typeof item.value === 'string') {
      const s = item.value;
      if (/^https?:\/\//.test(s)) return offline('remote', s, item.loc);
      return loadLocal(s, item.loc, null, stack);
    }
    const r = ValReader.from(problems, item, 'include', INCLUDE_KEYS);
    if (!r) return [];
    const kinds = ['local', 'remote', 'template', 'project', 'component'].filter((k) => r.has(k));
    if (kinds.length !== 1) {
      problems.error(item.loc, `include: give exactly one of local, remote, template, project or component${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`);
      return [];
    }
    const rules = readRules(problems, r.value('rules'), 'include', 'include');
    // Before a run, rules on variables known only then (the project path, the server, the branch) cannot be decided:
    // the listing shows what the include brings, as it shows jobs whatever their own rules; a run decides.
    const undecided = ctx.preview && (rules ?? []).some((rule) => rule.if && referencedVariables(rule.if.text).some((n) => ctx.variables[n] === undefined));
    if (undecided) {
      problems.info(item.loc, 'include:rules use variables known only when the pipeline runs; the include is listed as if it applies, and a run decides');
    } else if (rules) {
      const rule = await firstMatch(rules, {
        lookup: (n) => ctx.variables[n],
        exists: async (patterns) => (await Promise.all(patterns.map((p) => ctx.listFiles(p)))).some((l) => l.length > 0),
      });
      if (!rule || rule.when === 'never') return [];
    }
    const inputs = r.value('inputs');
    if (inputs && inputs.t !== 'map') {
      problems.error(inputs.loc, `include: inputs must be a mapping of input names to values, not ${describeVal(inputs)}`);
      return [];
    }
    const kind = kinds[0] as UnresolvedInclude['kind'];
    const target = r.string(kind) ?? '';
    if (kind === 'local') return loadLocal(target, r.at('local'), inputs ?? null, stack);
    const what = kind === 'project' ? `${target}${r.has('file') ? ` ${(r.stringList('file') ?? []).join(', ')}` : ''}${r.has('ref') ? `@${r.string('ref') ?? ''}` : ''}` : target;
    return offline(kind, what, item.loc);
  };

  const offline = (kind: Exclude<UnresolvedInclude['kind'], 'local'>, what: string, loc: Loc): MapVal[] => {
    const why: Record<Exclude<UnresolvedInclude['kind'], 'local'>, string> = {
      remote: 'needs the network',
      template: "needs GitLab's template library (the network)",
      project: 'needs access to another GitLab project',
      component: 'needs the GitLab CI/CD catalog (the network)',
    };
    out.unresolved.push({ kind, what, loc });
    problems.warn(loc, `include:${kind} ${what} ${why[kind]}; it is not resolvable offline, so its jobs and settings are left out of local runs`);
    return [];
  };

  const loadLocal = async (raw: string, loc: Loc, inputs: MapVal | null, stack: string[]): Promise<MapVal[]> => {
    const expanded = expandKnown(raw, ctx.variables);
    if (/\$\{?[A-Za-z0-9_]/.test(expanded)) {
      if (ctx.preview) {
        out.unresolved.push({ kind: 'local', what: raw, loc });
        problems.info(loc, `include:local "${raw}" depends on variables known only when the pipeline runs; it is resolved then`);
        return [];
      }
      problems.error(loc, `include:local "${raw}": ${expanded} refers to variables that are not defined`);
      return [];
    }
    if (expanded.startsWith('./')) {
      problems.error(loc, `\`${expanded}\` for include:local is invalid: local includes are relative to the project root and cannot start with ./ (write "${expanded.slice(2)}" or "/${expanded.slice(2)}")`);
      return [];
    }
    if (expanded.split('/').includes('..')) {
      problems.error(loc, `\`${expanded}\` for include:local is invalid: GitLab does not support directory traversal (..) in local includes`);
      return [];
    }
    const rel = expanded.replace(/^\/+/, '');
    if (!/\.ya?ml$/.test(rel)) {
      problems.error(loc, `include:local "${expanded}" is not a YAML file (the name must end in .yml or .yaml)`);
      return [];
    }
    const files = /[*?]/.test(rel) ? (await ctx.listFiles(rel)).filter((f) => /\.ya?ml$/.test(f)) : [rel];
    if (files.length === 0) {
      problems.error(loc, `include:local "${expanded}" matches no file`);
      return [];
    }
    const result: MapVal[] = [];
    for (const file of files) {
      if (stack.includes(file)) {
        problems.error(loc, `include loop: ${[...stack, file].join(' includes ')}`);
        continue;
      }
      if (stack.length >= MAX_DEPTH) {
        problems.error(loc, `includes are nested more than ${MAX_DEPTH} levels deep`);
        continue;
      }
      if (++count > MAX_INCLUDES) {
        if (count === MAX_INCLUDES + 1) problems.error(loc, `more than ${MAX_INCLUDES} includes (GitLab's limit)`);
        continue;
      }
      let text: string | null;
      try {
        text = await ctx.readFile(file);
      } catch (e) {
        // Outside the project (a symlink), not a regular file (a FIFO, /dev/zero) or too large: never read.
        if (!out.included.includes(file)) out.included.push(file);
        problems.error(loc, `include ${(e as Error).message}`);
        continue;
      }
      if (!out.included.includes(file)) out.included.push(file);
      if (text === null) {
        problems.error(loc, `include:local: file "${file}" does not exist`);
        continue;
      }
      out.texts.set(file, text);
      const m = await loadText(file, text, inputs, loc, [...stack, file]);
      if (m) result.push(m);
    }
    return result;
  };

  out.root = await loadText(entry.path, entry.text, null, null, [entry.path]);
  return out;
}

/** `include:` as a list of entries: a string, a mapping, or a list of those. */
function includeItems(v: Val, problems: Problems): Val[] {
  if (isNull(v)) return [];
  if (v.t === 'seq') {
    const { items } = flatten(v);
    return items.filter((i) => {
      if (i.t === 'map' || (i.t === 'scalar' && typeof i.value === 'string')) return true;
      problems.error(i.loc, `include entries must be file paths or mappings (local, remote, template, project, component), not ${describeVal(i)}`);
      return false;
    });
  }
  if (v.t === 'map' || (v.t === 'scalar' && typeof v.value === 'string')) return [v];
  problems.error(v.loc, `include must be a file path, a mapping or a list of them, not ${describeVal(v)}`);
  return [];
}

/**
 * `$[[ inputs.x | expand_vars ]]` pastes variable values into the configuration itself: in a `script:` line the
 * value becomes shell code (as on GitLab). Said where it happens when a value may come from outside the repository.
 */
function warnOutsideExpansion(text: string, loc: Loc, ctx: LoadContext, problems: Problems): void {
  const inside = (n: string) => !ctx.runVariables?.has(n) && (SAFE_PREDEFINED.has(n) || ctx.repositoryVariables?.has(n) === true);
  const outside = [...new Set(referencedVariables(text))].filter((n) => !inside(n));
  if (outside.length === 0) return;
  const names = outside.map((n) => `$${n}`).join(', ');
  problems.warn(
    loc,
    `expand_vars pastes the value of ${names} into the configuration; it comes from outside the repository (a branch or tag name, a commit message, ` +
      `an author, a run variable), and in a script line it runs as shell code (as on GitLab). ` +
      `Write ${outside.length === 1 ? `"$${outside[0]}"` : 'the variables'} in the script instead, without expand_vars: the shell reads the value as data`,
  );
}
