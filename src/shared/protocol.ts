// The typed message protocol between the extension host and the webview: one union per direction,
// plus a validator for everything the host receives (a webview is a browser page; treat it as untrusted input).
import type { JobStatus, RunStatus, TestCounts } from './model';
import type { BoardState, DiffView, EnvironmentHealthView, EnvironmentRow, PanelView } from './views';
import { parseTriggerFormHostMessage, parseTriggerFormMessage, type TriggerFormHostMessage, type TriggerFormMessage } from './triggerForm';

/** Host -> webview. */
export type HostMessage =
  | { type: 'state'; state: BoardState }
  | { type: 'patch'; patch: RunPatch }
  | { type: 'environments'; rows: EnvironmentRow[]; loading: boolean }
  /** The overview's health charts: each environment with `verify: prometheus`, its checks over the last hours. */
  | { type: 'environmentHealth'; health: EnvironmentHealthView[]; loading: boolean }
  | { type: 'diff'; view: DiffView | null; loading: boolean; error: string | null }
  | { type: 'hunks'; path: string; text: string; truncated: boolean }
  | { type: 'show'; view: PanelView }
  | TriggerFormHostMessage;

/** A batch of changes to the run on the board, sent at most ~10 times a second. */
export interface RunPatch {
  runId: string;
  status: RunStatus;
  durationMs: number;
  jobs: {
    id: string;
    status: JobStatus;
    durationMs: number;
    startedAt: number | null;
    attempts: number;
    reason: string | null;
    /** It passed, but steps of it are unsupported locally. */
    partial?: boolean;
    tests: TestCounts | null;
    /** Lines appended since the last patch (already bounded). */
    append: string[];
  }[];
}

/** Webview -> host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'cancelRun'; runId: string }
  | { type: 'rerun'; runId: string; failedOnly: boolean }
  | { type: 'openLog'; runId: string; jobId: string }
  /** A `path:line:col` in a job card's output: the file opens there (resolved where the job ran). */
  | { type: 'openFileRef'; runId: string; jobId: string; file: string; line: number; column: number | null }
  | { type: 'openCommit'; runId: string }
  | { type: 'runPipeline'; folder: string; pipelineId: string }
  | { type: 'showView'; view: PanelView }
  | { type: 'refreshEnvironments' }
  | { type: 'deployEnvironment'; folder: string; environment: string }
  | { type: 'showDiff'; folder: string; environment: string; to?: string }
  | { type: 'openFileDiff'; path: string }
  | { type: 'loadHunks'; path: string }
  | TriggerFormMessage;

const MAX_ID = 512;
const MAX_PATH = 4096;
const VIEWS = ['board', 'environments', 'diff', 'trigger'];

function isPath(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_PATH && !v.includes('\u0000');
}

function isLineNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 10_000_000;
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;
}

/** Returns the message if it is well formed, otherwise null (unknown types, extra or wrong fields). */
export function parseWebviewMessage(raw: unknown): WebviewMessage | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const m = raw as Record<string, unknown>;
  const keys = Object.keys(m).sort().join(',');
  switch (m.type) {
    case 'ready':
      return keys === 'type' ? { type: 'ready' } : null;
    case 'cancelRun':
      return keys === 'runId,type' && isId(m.runId) ? { type: 'cancelRun', runId: m.runId } : null;
    case 'rerun':
      return keys === 'failedOnly,runId,type' && isId(m.runId) && typeof m.failedOnly === 'boolean'
        ? { type: 'rerun', runId: m.runId, failedOnly: m.failedOnly }
        : null;
    case 'openLog':
      return keys === 'jobId,runId,type' && isId(m.runId) && isId(m.jobId)
        ? { type: 'openLog', runId: m.runId, jobId: m.jobId }
        : null;
    case 'openCommit':
      return keys === 'runId,type' && isId(m.runId) ? { type: 'openCommit', runId: m.runId } : null;
    case 'runPipeline':
      return keys === 'folder,pipelineId,type' && isId(m.folder) && isId(m.pipelineId)
        ? { type: 'runPipeline', folder: m.folder, pipelineId: m.pipelineId }
        : null;
    case 'showView':
      return keys === 'type,view' && typeof m.view === 'string' && VIEWS.includes(m.view) ? { type: 'showView', view: m.view as PanelView } : null;
    case 'refreshEnvironments':
      return keys === 'type' ? { type: 'refreshEnvironments' } : null;
    case 'deployEnvironment':
      return keys === 'environment,folder,type' && isId(m.folder) && isId(m.environment)
        ? { type: 'deployEnvironment', folder: m.folder, environment: m.environment }
        : null;
    case 'showDiff':
      if (keys === 'environment,folder,type' && isId(m.folder) && isId(m.environment)) return { type: 'showDiff', folder: m.folder, environment: m.environment };
      return keys === 'environment,folder,to,type' && isId(m.folder) && isId(m.environment) && isId(m.to)
        ? { type: 'showDiff', folder: m.folder, environment: m.environment, to: m.to }
        : null;
    case 'openFileRef':
      return keys === 'column,file,jobId,line,runId,type' && isId(m.runId) && isId(m.jobId) && isPath(m.file) && isLineNumber(m.line) && (m.column === null || isLineNumber(m.column))
        ? { type: 'openFileRef', runId: m.runId, jobId: m.jobId, file: m.file, line: m.line, column: m.column }
        : null;
    case 'openFileDiff':
    case 'loadHunks':
      return keys === 'path,type' && isPath(m.path) ? { type: m.type, path: m.path } : null;
    default:
      return parseTriggerFormMessage(m);
  }
}

/** Returns the message if it is a well-formed host message (the webview validates what it receives too). */
export function parseHostMessage(raw: unknown): HostMessage | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  if (m.type === 'state' && typeof m.state === 'object' && m.state !== null) {
    const s = m.state as Record<string, unknown>;
    if (Array.isArray(s.pipelines) && typeof s.trusted === 'boolean' && (s.run === null || typeof s.run === 'object')) {
      return m as unknown as HostMessage;
    }
  }
  if (m.type === 'patch' && typeof m.patch === 'object' && m.patch !== null) {
    const p = m.patch as Record<string, unknown>;
    if (isId(p.runId) && typeof p.status === 'string' && Array.isArray(p.jobs)) return m as unknown as HostMessage;
  }
  if (m.type === 'environments' && Array.isArray(m.rows) && typeof m.loading === 'boolean') return m as unknown as HostMessage;
  if (m.type === 'environmentHealth' && Array.isArray(m.health) && m.health.every(isHealthView) && typeof m.loading === 'boolean') return m as unknown as HostMessage;
  if (m.type === 'diff' && (m.view === null || typeof m.view === 'object') && typeof m.loading === 'boolean') return m as unknown as HostMessage;
  if (m.type === 'hunks' && typeof m.path === 'string' && typeof m.text === 'string') return m as unknown as HostMessage;
  if (m.type === 'show' && typeof m.view === 'string' && VIEWS.includes(m.view)) return m as unknown as HostMessage;
  return parseTriggerFormHostMessage(m);
}

// ---- health charts: checked in full (the page draws every number it gets) ----

const LIMIT_OPS = ['≤', '≥'];
const MAX_POINTS = 2000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_PATH;
}

function isPoint(v: unknown): boolean {
  return Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1]);
}

function isSeries(v: unknown): boolean {
  if (!isObject(v)) return false;
  const limitOk = v.limit === null || (isObject(v.limit) && typeof v.limit.op === 'string' && LIMIT_OPS.includes(v.limit.op) && isNumber(v.limit.value));
  return (
    isText(v.name) &&
    Array.isArray(v.points) &&
    v.points.length <= MAX_POINTS &&
    v.points.every(isPoint) &&
    limitOk &&
    isText(v.boundText) &&
    (v.error === null || isText(v.error))
  );
}

function isMarker(v: unknown): boolean {
  return isObject(v) && isId(v.id) && isNumber(v.t) && (v.sha === null || isId(v.sha)) && isId(v.action) && isId(v.status);
}

/** One environment's health charts, every field checked. */
export function isHealthView(v: unknown): v is EnvironmentHealthView {
  return (
    isObject(v) &&
    isPath(v.folder) &&
    isId(v.environment) &&
    isText(v.name) &&
    isNumber(v.startMs) &&
    isNumber(v.endMs) &&
    v.endMs >= v.startMs &&
    isNumber(v.stepMs) &&
    v.stepMs > 0 &&
    Array.isArray(v.series) &&
    v.series.every(isSeries) &&
    Array.isArray(v.markers) &&
    v.markers.every(isMarker)
  );
}
