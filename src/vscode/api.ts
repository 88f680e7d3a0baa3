// The extension's exported API (what `vscode.extensions.getExtension(...).exports` returns): read-only views of
// its state, for other extensions and for the integration tests. Counters that only tests and benchmarks read live
// in `testing`, which exists only when the extension host runs with DELIVERY_TEST_HOOKS=1 (the test harnesses set it).
import * as vscode from 'vscode';
import type { RunRecord } from '../shared/model';
import type { EnvironmentsTreeProvider } from './views/environmentsTree';
import type { PipelinesTreeProvider } from './views/pipelinesTree';
import type { BoardState, DiffView, EnvironmentRow } from '../shared/views';
import type { TriggerFormView } from '../shared/triggerForm';
import type { EnvironmentService } from './environments/environmentService';
import type { DeployStatusItem } from './statusBar/deployStatusItem';
import type { RunManager } from './runManager';
import type { RunStatusItem } from './statusBar/runStatusItem';
import type { DeliveryPanel } from './panel/deliveryPanel';
import type { PipelineCodeLensProvider } from './editor/pipelineCodeLens';
import { pipelineKey, type WorkspaceModel } from './workspaceModel';
import type { ReportedResult, TestExplorer, TestTreeRow } from './testing/testExplorer';

export interface DeliveryApi {
  readonly version: 1;
  /** Resolves when the first load of every folder's pipelines (and its run history) is done. */
  ready: Promise<void>;
  activationMs: number;
  pipelines(): { folder: string; key: string; id: string; name: string; kind: string; jobs: string[] }[];
  problems(): { folder: string; file: string; line: number; column: number; severity: string; message: string }[];
  environments(): { folder: string; id: string; name: string; url: string | null }[];
  /** The newest run (active or from the history). */
  latestRun(): RunRecord | null;
  /** Resolves with the final record when the run ends (immediately if it already ended). */
  waitForRun(runId: string): Promise<RunRecord | null>;
  statusBarText(): { run: string; deploy: string; deployTone: string };
  /** Statuses of every environment (as the tree shows them); `refresh` probes again first. */
  environmentRows(refresh?: boolean): Promise<EnvironmentRow[]>;
  /** The diff view's current content. */
  diffView(): { view: DiffView | null; loading: boolean; error: string | null };
  /** The rows of a tree as the user sees them (labels, descriptions, icons, context values), recursively. */
  tree(view: 'pipelines' | 'environments'): Promise<TreeRow[]>;
  board(): Promise<{ open: boolean; state: BoardState }>;
  /** Test-only counters: present only when the extension host runs with DELIVERY_TEST_HOOKS=1. */
  readonly testing?: DeliveryTestHooks;
}

/** What tests and benchmarks measure, never part of the API another extension relies on. */
export interface DeliveryTestHooks {
  /** How often a tree was refreshed whole, and how many single rows were refreshed. */
  treeRefreshes(view: 'pipelines' | 'environments'): { whole: number; rows: number };
  /** How many state patches the board posted to its webview. */
  patchesPosted(): number;
  /** performance.now() of the last job output that reached the Output channel, and the board's webview (0: none yet). */
  lastOutputAt(): { channel: number; board: number };
  /**
   * The Test Explorer's items, what it reported for each case (by item id), and how long its last report took to
   * become items and results (and its longest stretch without a turn of the event loop); after every report heard
   * of so far is shown.
   */
  testExplorer(): Promise<{ rows: TestTreeRow[]; results: Record<string, ReportedResult>; lastBuild: { cases: number; ms: number; longestSliceMs: number } }>;
  /** Runs Test Explorer items (by id) through its Run profile; the ids of the pipeline runs it started. */
  runTests(ids: string[]): Promise<string[]>;
  /** How often VS Code asked for the pipeline files' CodeLens (never for a file that is not a pipeline). */
  codeLensRequests(): number;
  /** The Delivery panel's trigger form as the page is told to show it (null: no run waits for inputs). */
  triggerForm(): TriggerFormView | null;
  /** Hands `message` to the Delivery panel as if its page had sent it (checked and handled the same way). */
  panelMessage(message: unknown): Promise<void>;
}

/** The environment variable that turns the test hooks on (set by test/harness and bench for their extension hosts). */
export const TEST_HOOKS_ENV = 'DELIVERY_TEST_HOOKS';

export interface TreeRow {
  label: string;
  description: string;
  icon: string | null;
  contextValue: string;
  children: TreeRow[];
}

interface TreeSource<T> {
  getChildren(node?: T): T[] | Thenable<T[]> | null | undefined;
  getTreeItem(node: T): vscode.TreeItem | Thenable<vscode.TreeItem>;
}

async function rows<T>(provider: TreeSource<T>, node?: T, depth = 0): Promise<TreeRow[]> {
  const out: TreeRow[] = [];
  for (const child of (await provider.getChildren(node)) ?? []) {
    const item = await provider.getTreeItem(child);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    out.push({
      label,
      description: typeof item.description === 'string' ? item.description : '',
      icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : null,
      contextValue: item.contextValue ?? '',
      children: depth < 5 && item.collapsibleState !== vscode.TreeItemCollapsibleState.None ? await rows(provider, child, depth + 1) : [],
    });
  }
  return out;
}

export function createApi(s: {
  model: WorkspaceModel;
  runs: RunManager;
  board: DeliveryPanel;
  runStatus: RunStatusItem;
  deployStatus: DeployStatusItem;
  envs: EnvironmentService;
  pipelinesTree: PipelinesTreeProvider;
  environmentsTree: EnvironmentsTreeProvider;
  tests: TestExplorer;
  codeLens: PipelineCodeLensProvider;
  ready: Promise<void>;
  activationMs: number;
}): DeliveryApi {
  const testing: DeliveryTestHooks | undefined =
    process.env[TEST_HOOKS_ENV] === '1'
      ? {
          treeRefreshes: (view) => (view === 'pipelines' ? s.pipelinesTree.refreshes : s.environmentsTree.refreshes),
          patchesPosted: () => s.board.postedPatches,
          lastOutputAt: () => ({ channel: s.runs.lastOutputAt, board: s.board.lastLinePatchAt }),
          testExplorer: async () => {
            await s.tests.settled();
            return { rows: s.tests.rows(), results: Object.fromEntries(s.tests.results), lastBuild: s.tests.lastBuild };
          },
          runTests: (ids) => s.tests.run(ids),
          codeLensRequests: () => s.codeLens.requests,
          triggerForm: () => s.board.triggerForm(),
          panelMessage: (message) => s.board.receive(message),
        }
      : undefined;
  return {
    version: 1,
    ready: s.ready,
    activationMs: s.activationMs,
    pipelines: () =>
      s.model.folders().flatMap((f) =>
        (f.snapshot?.pipelines ?? []).map((p) => ({
          folder: f.folder.uri.fsPath,
          key: pipelineKey(p),
          id: p.def.id,
          name: p.def.name,
          kind: p.def.source.kind,
          jobs: p.def.jobs.map((j) => j.id),
        })),
      ),
    problems: () =>
      s.model.folders().flatMap((f) =>
        (f.snapshot?.problems ?? []).map((p) => ({ folder: f.folder.uri.fsPath, file: p.file, line: p.line, column: p.column, severity: p.severity, message: p.message })),
      ),
    environments: () =>
      s.model.folders().flatMap((f) => (f.snapshot?.environments ?? []).map((e) => ({ folder: f.folder.uri.fsPath, id: e.id, name: e.name, url: e.url }))),
    latestRun: () => s.runs.latestRun(),
    waitForRun: async (runId) => {
      const active = s.runs.getActive(runId);
      if (active) return active.handle.done;
      const latest = s.runs.latestRun();
      return latest?.id === runId ? latest : null;
    },
    statusBarText: () => ({ run: s.runStatus.text, deploy: s.deployStatus.text, deployTone: s.deployStatus.tone }),
    environmentRows: async (refresh) => {
      if (refresh) await s.envs.refresh(true);
      return s.envs.rows();
    },
    diffView: () => s.board.diff,
    tree: (view) => (view === 'pipelines' ? rows(s.pipelinesTree) : rows(s.environmentsTree)),
    board: async () => ({ open: s.board.isOpen, state: await s.board.state() }),
    ...(testing ? { testing } : {}),
  };
}
