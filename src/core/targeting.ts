// Which pipeline a command means, and whether it may run now: the one place the CLI, the editor's commands, the
// task provider and the trees resolve a pipeline (by key or by name), check its file for blocking problems, keep
// one run per pipeline at a time and prune the run history.
import type { PipelineDef, Problem, RunRecord } from '../shared/model';

type HasDef = { readonly def: Pick<PipelineDef, 'id' | 'source'> & { readonly name?: string } };

/** A pipeline's key inside its folder, `<file>#<id>`: unique even when two sources use the same id. */
export function pipelineKey(p: HasDef): string {
  return `${p.def.source.file}#${p.def.id}`;
}

/** The key of the pipeline a run record belongs to (the same as pipelineKey of its pipeline). */
export function runPipelineKey(run: Pick<RunRecord, 'source' | 'pipelineId'>): string {
  return `${run.source.file}#${run.pipelineId}`;
}

/** How a user names a pipeline unambiguously: `<source>:<id>` (`github:ci`). */
export function qualifiedName(p: HasDef): string {
  return `${p.def.source.kind}:${p.def.id}`;
}

/**
 * The pipeline a user named, as `id` or `<source>:<id>` (e.g. `github:ci`): exactly one match, or an error that
 * lists the candidates (ambiguous) or every known pipeline (no match).
 */
export function pipelineByName<P extends HasDef>(pipelines: readonly P[], name: string): { pipeline: P } | { error: string } {
  const matches = matchName(pipelines, name);
  if (matches.length === 1) return { pipeline: matches[0] };
  return { error: nameError(pipelines, name, matches) };
}

function matchName<P extends HasDef>(pipelines: readonly P[], name: string): P[] {
  const [kind, id] = name.includes(':') ? (name.split(':', 2) as [string, string]) : [null, name];
  const byId = pipelines.filter((p) => p.def.id === id && (kind === null || p.def.source.kind === kind));
  if (byId.length > 0) return byId;
  // The name the file gives it (a workflow's `name: CMake build`), as GitHub shows it.
  const byName = pipelines.filter((p) => p.def.name === name);
  if (byName.length > 0) return byName;
  // Else without regard to case (`ci` for a workflow named "CI" in main.yml).
  const lower = (id ?? name).toLowerCase();
  return pipelines.filter((p) => (kind === null || p.def.source.kind === kind) && (p.def.id.toLowerCase() === lower || p.def.name?.toLowerCase() === name.toLowerCase()));
}

function nameError(pipelines: readonly HasDef[], name: string, matches: readonly HasDef[]): string {
  if (matches.length > 1) return `"${name}" is ambiguous: ${matches.map((m) => `${qualifiedName(m)} (${m.def.source.file})`).join(', ')}`;
  // Each with the name its file gives it, when that is not its id: either one selects it.
  const known = pipelines.map((p) => (p.def.name && p.def.name !== p.def.id ? `${qualifiedName(p)} "${p.def.name}"` : qualifiedName(p)));
  return `no pipeline "${name}" (pipelines: ${known.join(', ') || 'none'})`;
}

/** The pipeline with this key (`<file>#<id>`), if any. */
export function pipelineByKey<P extends HasDef>(pipelines: readonly P[], key: string): P | undefined {
  return pipelines.find((p) => pipelineKey(p) === key);
}

/** A key (`<file>#<id>`, what the editor stores), else a name as pipelineByName reads it. */
export function pipelineByKeyOrName<P extends HasDef>(pipelines: readonly P[], text: string): { pipeline: P } | { error: string } {
  const byKey = pipelineByKey(pipelines, text);
  return byKey ? { pipeline: byKey } : pipelineByName(pipelines, text);
}

// ---- blocking problems ----

/** A problem that stops a file's pipelines from running (locally, remotely, or as a deploy's build). */
export function isBlocking(p: Pick<Problem, 'severity'>): boolean {
  return p.severity === 'error';
}

/**
 * The blocking problems among `problems`: all of them, those of one file, or those of the files a predicate
 * accepts (e.g. `deliveryImporter.matches`).
 */
export function blockingProblems(problems: readonly Problem[], file?: string | ((file: string) => boolean)): Problem[] {
  const inScope = file === undefined ? () => true : typeof file === 'string' ? (f: string) => f === file : file;
  return problems.filter((p) => isBlocking(p) && inScope(p.file));
}

export interface Blocked {
  /** The pipeline's file. */
  file: string;
  errors: Problem[];
}

/** The errors in the pipeline's file, which block running it; null when it may run. */
export function pipelineBlocked(problems: readonly Problem[], pipeline: HasDef): Blocked | null {
  const errors = blockingProblems(problems, pipeline.def.source.file);
  return errors.length ? { file: pipeline.def.source.file, errors } : null;
}

/** "3 errors", "1 error". */
export function errorCount(n: number): string {
  return `${n} error${n === 1 ? '' : 's'}`;
}

/** "delivery.yml has 2 errors". */
export function describeBlocked(b: Blocked): string {
  return `${b.file} has ${errorCount(b.errors.length)}`;
}

/** One problem as a line: `file:line:column: severity: message`. */
export function problemLine(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}`;
}

/**
 * A named pipeline that may run: found (exactly one match) and its file free of errors. When the name matches
 * nothing and some file could not be read, `unreadable` holds that file's errors: the pipeline may be in it.
 */
export type Targeted<P> =
  | { pipeline: P }
  | { notFound: string; unreadable: Problem[] }
  | { pipeline: P; blocked: Blocked };

export function targetPipeline<P extends HasDef>(snapshot: { pipelines: readonly P[]; problems: readonly Problem[] }, name: string): Targeted<P> {
  const byKey = pipelineByKey(snapshot.pipelines, name);
  const matches = byKey ? [byKey] : matchName(snapshot.pipelines, name);
  if (matches.length !== 1) {
    // An ambiguous name is not unreadable: the message lists the candidates.
    return { notFound: nameError(snapshot.pipelines, name, matches), unreadable: matches.length === 0 ? blockingProblems(snapshot.problems) : [] };
  }
  const blocked = pipelineBlocked(snapshot.problems, matches[0]);
  return blocked ? { pipeline: matches[0], blocked } : { pipeline: matches[0] };
}

// ---- one run per pipeline ----

/**
 * One local run per pipeline (folder + key) at a time. A start claims the pipeline before it plans the run, so two
 * quick starts cannot both pass; the claim holds the run once it exists and is released when the run ends or
 * fails to start.
 */
export class RunGuard<T> {
  private readonly held = new Map<string, { value: T | null }>();

  private static id(folder: string, key: string): string {
    return JSON.stringify([folder, key]);
  }

  /** Claims the pipeline, or says what holds it (null: a run still starting). */
  claim(folder: string, key: string): RunClaim<T> | { busy: T | null } {
    const id = RunGuard.id(folder, key);
    const existing = this.held.get(id);
    if (existing) return { busy: existing.value };
    const slot: { value: T | null } = { value: null };
    this.held.set(id, slot);
    return {
      hold: (value) => {
        slot.value = value;
      },
      release: () => {
        if (this.held.get(id) === slot) this.held.delete(id);
      },
    };
  }

  /** What holds the pipeline now (undefined: free, or a run still starting). */
  holder(folder: string, key: string): T | undefined {
    return this.held.get(RunGuard.id(folder, key))?.value ?? undefined;
  }
}

export interface RunClaim<T> {
  /** The run that holds the claim (what `busy` and `holder` return). */
  hold(value: T): void;
  release(): void;
}

// ---- history ----

/** Local runs kept per workspace folder (the editor's `delivery.history.maxRuns` default). */
export const HISTORY_MAX_RUNS = 200;

/** The store's side of pruning: it deletes the oldest runs beyond `keep`, never a run in progress. */
export interface PrunableHistory {
  prune(keep: number): Promise<number>;
}

/** How many runs to keep: a whole number of at least 1 from a setting, else HISTORY_MAX_RUNS. */
export function historyLimit(setting?: unknown): number {
  return typeof setting === 'number' && Number.isInteger(setting) && setting >= 1 ? setting : HISTORY_MAX_RUNS;
}

/**
 * After a run ends, in every front end: keep the newest `limit` runs of the folder. Pruning never fails a run:
 * returns the number removed, or null when the store could not prune.
 */
export async function pruneHistory(store: PrunableHistory, limit = HISTORY_MAX_RUNS): Promise<number | null> {
  try {
    return await store.prune(historyLimit(limit));
  } catch {
    return null;
  }
}
