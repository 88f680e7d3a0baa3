// delivery.yml, version 1: our native pipeline and environment definitions.
// Every rule here is mirrored by schemas/delivery.schema.json (editor completion); a unit test keeps the two in step.
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import type { EnvironmentDef, JobDef, PipelineDef, Problem, StepDef, When } from '../../shared/model';
import { MapReader } from './reader';
import { describe, keyOf, YamlFile } from './yamlFile';
import { findCycle } from '../graph';
import { readEnvironmentSpecs, type EnvironmentSpecs } from '../environments/config';
import { readRemoteTarget } from '../remote/engines';
import { readMatcherRefs, type ProblemMatcherRef } from '../problems/matchers';

export const DELIVERY_FILE = 'delivery.yml';

export const TOP_KEYS = ['version', 'pipelines', 'environments'] as const;
export const PIPELINE_KEYS = ['name', 'description', 'env', 'stages', 'jobs', 'remote'] as const;
export const JOB_KEYS = [
  'name', 'description', 'run', 'steps', 'needs', 'stage', 'cwd', 'env', 'shell', 'timeout', 'retries',
  'allowFailure', 'when', 'reports', 'artifacts', 'environment', 'workspace', 'problemMatcher',
] as const;
export const STEP_KEYS = ['name', 'run', 'cwd', 'env', 'shell'] as const;
export const REPORT_KEYS = ['junit'] as const;
export const ENVIRONMENT_KEYS = ['name', 'url', 'promotesFrom', 'protected', 'version', 'deploy', 'health', 'state', 'verify'] as const;
export const WHEN_VALUES: readonly When[] = ['on_success', 'on_failure', 'always', 'manual'];

/** Ids of pipelines, jobs and environments: safe in file names, URLs and command lines. */
export const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** An environment as written in delivery.yml, with its version probe, deploy method and health check. */
export interface EnvironmentConfig extends EnvironmentDef, EnvironmentSpecs {}

export interface DeliveryConfig {
  file: string;
  pipelines: PipelineDef[];
  environments: EnvironmentConfig[];
  problems: Problem[];
  /** The parsed file, for modules that read more of it (environments). */
  yaml: YamlFile;
}

export function parseDeliveryConfig(text: string, file = DELIVERY_FILE): DeliveryConfig {
  const f = new YamlFile(file, text);
  const out: DeliveryConfig = { file, pipelines: [], environments: [], problems: f.problems, yaml: f };
  if (!f.ok) return out;
  const root = f.root;
  if (root === null || (isScalar(root) && root.value === null)) {
    f.error(root, `${file} is empty: add "version: 1" and at least one pipeline or environment`);
    return out;
  }
  const top = MapReader.from(f, root, file, TOP_KEYS);
  if (!top) return out;

  if (top.required('version')) {
    const v = top.value('version');
    if (!(isScalar(v) && (v.value === 1 || v.value === '1'))) {
      f.error(v, `${file}: unsupported version ${describe(v)}; this extension reads version 1`);
    }
  }
  if (!top.has('pipelines') && !top.has('environments')) {
    f.error(root, `${file}: define "pipelines", "environments" or both`);
  }
  const pipelines = top.value('pipelines');
  if (pipelines !== undefined) {
    const reader = MapReader.from(f, pipelines, 'pipelines', null);
    for (const pair of (reader?.node.items ?? []) as Pair[]) {
      const p = readPipeline(f, pair);
      if (p) out.pipelines.push(p);
    }
  }
  const envs = top.value('environments');
  if (envs !== undefined) {
    const reader = MapReader.from(f, envs, 'environments', null);
    const promoteNodes = new Map<string, Node | Pair>();
    for (const pair of (reader?.node.items ?? []) as Pair[]) {
      const e = readEnvironment(f, pair, promoteNodes);
      if (e) out.environments.push(e);
    }
    const ids = new Set(out.environments.map((e) => e.id));
    const pipelineIds = new Set(out.pipelines.map((p) => p.id));
    for (const e of out.environments) {
      if (e.deploy?.pipeline && !pipelineIds.has(e.deploy.pipeline)) {
        f.errorAt(e.location, `environment "${e.id}": deploy pipeline "${e.deploy.pipeline}" is not a pipeline in ${file}`);
      } else if (e.deploy?.pipeline && out.pipelines.find((p) => p.id === e.deploy!.pipeline)?.jobs.length === 0) {
        f.errorAt(e.location, `environment "${e.id}": deploy pipeline "${e.deploy.pipeline}" has no local jobs; to deploy through its remote engine use "workflow: { pipeline: ${e.deploy.pipeline} }"`);
      }
      checkWorkflowPipeline(f, e, out.pipelines);
      if (e.promotesFrom === null) continue;
      if (e.promotesFrom === e.id) f.error(promoteNodes.get(e.id), `environment "${e.id}" promotes from itself`);
      else if (!ids.has(e.promotesFrom)) {
        f.error(promoteNodes.get(e.id), `environment "${e.id}": promotesFrom names "${e.promotesFrom}", which is not an environment in ${file}`);
      }
    }
  }
  f.sortedProblems();
  return out;
}

/** `workflow.pipeline` naming a delivery.yml pipeline: it must say where it runs (`remote:`). */
function checkWorkflowPipeline(f: YamlFile, e: EnvironmentConfig, pipelines: readonly PipelineDef[]): void {
  const m = e.deploy?.method;
  if (m?.kind !== 'workflow') return;
  const [source, id] = m.pipeline.includes(':') ? m.pipeline.split(':', 2) : [null, m.pipeline];
  if (source !== null && source !== 'delivery') return; // a GitHub or GitLab file: checked when the deploy starts
  const p = pipelines.find((x) => x.id === id);
  if (p && !p.remote) f.errorAt(e.location, `environment "${e.id}": workflow pipeline "${id}" has no "remote:" saying which engine runs it`);
  else if (!p && source === 'delivery') f.errorAt(e.location, `environment "${e.id}": workflow pipeline "${id}" is not a pipeline in ${f.file}`);
}

function checkId(f: YamlFile, pair: Pair, what: string): string | null {
  const id = keyOf(pair);
  if (!ID_PATTERN.test(id)) {
    f.error(pair.key as Node, `${what} id "${id}" may contain only letters, digits, "_", "." and "-" (at most 100, not starting with "." or "-")`);
    return null;
  }
  return id;
}

function readPipeline(f: YamlFile, pair: Pair): PipelineDef | null {
  const id = checkId(f, pair, 'pipeline');
  const what = `pipeline "${keyOf(pair)}"`;
  const r = MapReader.from(f, pair.value, what, PIPELINE_KEYS);
  if (!r || id === null) return null;
  const stages = r.stringList('stages', { single: false }) ?? null;
  const pipeline: PipelineDef = {
    id,
    name: r.string('name', { nonEmpty: true }) ?? id,
    source: { kind: 'delivery', file: f.file },
    stages,
    env: r.stringMap('env') ?? {},
    jobs: [],
    location: f.location(pair),
  };
  r.string('description');
  if (r.has('remote')) pipeline.remote = readRemoteTarget(f, r.value('remote'), id);
  // A pipeline with `remote:` may live only on its engine (no local jobs).
  if (!r.has('jobs') && r.has('remote')) return pipeline;
  if (!r.required('jobs')) return pipeline;
  const jobsNode = MapReader.from(f, r.value('jobs'), `${what}: "jobs"`, null);
  if (!jobsNode) return pipeline;
  const needNodes = new Map<string, Map<string, Node>>();
  for (const jp of jobsNode.node.items as Pair[]) {
    const job = readJob(f, jp, needNodes);
    if (job) pipeline.jobs.push(job);
  }
  if ((jobsNode.node.items as Pair[]).length === 0) f.error(jobsNode.node, `${what} has no jobs`);

  const jobIds = new Set(pipeline.jobs.map((j) => j.id));
  for (const job of pipeline.jobs) {
    for (const need of job.needs) {
      const node = needNodes.get(job.id)?.get(need);
      if (need === job.id) f.error(node, `job "${job.id}" needs itself`);
      else if (!jobIds.has(need)) f.error(node, `job "${job.id}" needs "${need}", which is not a job of pipeline "${id}"`);
    }
    if (stages && job.stage !== null && !stages.includes(job.stage)) {
      f.errorAt(job.location, `job "${job.id}": stage "${job.stage}" is not listed in the pipeline's stages (${stages.join(', ')})`);
    }
  }
  const cycle = findCycle(
    pipeline.jobs.map((j) => j.id),
    (jid) => pipeline.jobs.find((j) => j.id === jid)?.needs.filter((n) => jobIds.has(n) && n !== jid) ?? [],
  );
  if (cycle) {
    const first = cycle[0];
    f.error(needNodes.get(first)?.get(cycle[1]), `jobs form a cycle through "needs": ${[...cycle, first].join(' → ')}`);
  }
  return pipeline;
}

function readJob(f: YamlFile, pair: Pair, needNodes: Map<string, Map<string, Node>>): JobDef | null {
  const id = checkId(f, pair, 'job');
  const what = `job "${keyOf(pair)}"`;
  const r = MapReader.from(f, pair.value, what, JOB_KEYS);
  if (!r || id === null) return null;
  const location = f.location(pair);
  const shell = r.string('shell', { nonEmpty: true }) ?? null;
  const steps: StepDef[] = [];
  if (r.has('run') && r.has('steps')) f.error(r.pair('steps'), `${what}: use either "run" or "steps", not both`);
  else if (!r.has('run') && !r.has('steps')) f.error(pair.key as Node, `${what}: add "run" (a script) or "steps" (a list of {name, run})`);
  if (r.has('run')) {
    const script = r.string('run', { nonEmpty: true });
    if (script !== undefined) steps.push({ name: null, kind: 'run', script, uses: null, unsupported: null, location: f.location(r.value('run')) });
  } else if (r.has('steps')) {
    const list = r.value('steps');
    if (!isSeq(list)) f.error(list, `${what}: "steps" must be a list of {name, run}, not ${describe(list)}`);
    else {
      if (list.items.length === 0) f.error(list, `${what}: "steps" is empty`);
      list.items.forEach((item, i) => {
        const sr = MapReader.from(f, item, `${what}, step ${i + 1}`, STEP_KEYS);
        if (!sr) return;
        const script = sr.required('run') ? sr.string('run', { nonEmpty: true }) : undefined;
        sr.string('cwd');
        sr.stringMap('env');
        sr.string('shell', { nonEmpty: true });
        if (script === undefined) return;
        steps.push({ name: sr.string('name') ?? null, kind: 'run', script, uses: null, unsupported: null, location: f.location(item as Node) });
      });
    }
  }
  const needs = r.stringList('needs') ?? [];
  const seen = new Map<string, Node>();
  const needsNode = r.value('needs');
  const items = isSeq(needsNode) ? (needsNode.items as Node[]) : needsNode ? [needsNode] : [];
  for (const item of items) {
    if (!isScalar(item) || typeof item.value !== 'string') continue;
    if (seen.has(item.value)) f.error(item, `${what}: "${item.value}" is listed twice in needs`);
    seen.set(item.value, item);
  }
  needNodes.set(id, seen);
  const reports = r.has('reports') ? MapReader.from(f, r.value('reports'), `${what}: "reports"`, REPORT_KEYS) : undefined;
  let environment: JobDef['environment'] = null;
  if (r.has('environment')) {
    const ev = r.value('environment');
    if (isScalar(ev) && typeof ev.value === 'string') environment = { name: ev.value, url: null };
    else f.error(ev, `${what}: "environment" must be the id of an environment, not ${describe(ev)}`);
  }
  const cwd = r.string('cwd', { nonEmpty: true }) ?? null;
  if (cwd !== null && (cwd.startsWith('/') || cwd.split(/[\\/]/).includes('..'))) {
    f.error(r.value('cwd'), `${what}: "cwd" must be a path inside the workspace folder, not "${cwd}"`);
  }
  r.string('description');
  const problemMatchers = r.has('problemMatcher') ? readProblemMatchers(f, r.value('problemMatcher'), what) : [];
  return {
    id,
    name: r.string('name', { nonEmpty: true }) ?? id,
    stage: r.string('stage', { nonEmpty: true }) ?? null,
    needs: [...new Set(needs)],
    when: r.oneOf('when', WHEN_VALUES) ?? null,
    allowFailure: r.bool('allowFailure') ?? false,
    retries: r.int('retries', 0, 10) ?? 0,
    timeoutMs: r.duration('timeout') ?? null,
    cwd,
    shell,
    env: r.stringMap('env') ?? {},
    matrix: false,
    uses: null,
    environment,
    steps,
    reports: { junit: reports?.stringList('junit') ?? [] },
    artifacts: r.stringList('artifacts') ?? [],
    unsupported: null,
    ...((w) => (w ? { workspace: w } : {}))(r.oneOf('workspace', ['shared', 'isolated'] as const)),
    ...(problemMatchers.length ? { problemMatchers } : {}),
    location,
  };
}

/** `problemMatcher:` — a built-in's name, an inline matcher, or a list of them; each problem at its node. */
function readProblemMatchers(f: YamlFile, node: Node | undefined, what: string): ProblemMatcherRef[] {
  const { refs, issues } = readMatcherRefs(node === undefined || node === null ? node : (node.toJSON() as unknown));
  for (const issue of issues) f.error(nodeAt(node, issue.path), `${what}: ${issue.message}`);
  return refs;
}

/** The node at a path of keys and indexes under `node` (as deep as the path goes). */
function nodeAt(node: Node | undefined, at: (string | number)[]): Node | undefined {
  let cur = node;
  for (const k of at) {
    const next = isMap(cur) || isSeq(cur) ? (cur.get(k, true) as Node | undefined) : undefined;
    if (next === undefined) break;
    cur = next;
  }
  return cur;
}

function readEnvironment(f: YamlFile, pair: Pair, promoteNodes: Map<string, Node | Pair>): EnvironmentConfig | null {
  const id = checkId(f, pair, 'environment');
  const what = `environment "${keyOf(pair)}"`;
  const r = MapReader.from(f, pair.value, what, ENVIRONMENT_KEYS);
  if (!r || id === null) return null;
  promoteNodes.set(id, r.at('promotesFrom'));
  return {
    id,
    name: r.string('name', { nonEmpty: true }) ?? id,
    url: r.string('url', { nonEmpty: true }) ?? null,
    promotesFrom: r.string('promotesFrom', { nonEmpty: true }) ?? null,
    protected: r.bool('protected') ?? false,
    location: f.location(pair),
    ...readEnvironmentSpecs(f, id, { version: r.value('version') ?? null, deploy: r.value('deploy') ?? null, health: r.value('health') ?? null, state: r.value('state') ?? null, verify: r.value('verify') ?? null }),
  };
}
