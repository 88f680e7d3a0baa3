// The Delivery panel: one webview (PanelHost) with four views, each its own controller — the stage board
// (BoardController), the environments overview (EnvironmentsOverviewController), a deploy's diff
// (DiffController) and the form a run with inputs asks (TriggerFormController). This class wires them and is
// what commands and the API call.
import type * as vscode from 'vscode';
import type { PanelView } from '../../shared/views';
import type { RunRecord } from '../../shared/model';
import type { EnvironmentService } from '../environments/environmentService';
import type { Log } from '../log';
import type { RemoteRef, RemoteService } from '../remote/remoteService';
import type { RunManager } from '../runManager';
import type { FolderState, WorkspaceModel } from '../workspaceModel';
import type { JobPlace } from '../../core/problems/scanner';
import { BoardController } from './boardController';
import { DiffController } from './diffController';
import { EnvironmentsOverviewController } from './environmentsOverviewController';
import { PanelHost, type MessageHandlers, type PanelParts, type ViewMessage } from './panelHost';
import { TriggerFormController, type TriggerFormRequest, type TriggerFormResult } from './triggerFormController';

export { BOARD_VIEW_TYPE } from './panelHost';

export class DeliveryPanel implements PanelParts, vscode.Disposable {
  private readonly host: PanelHost;
  private readonly board: BoardController;
  private readonly environments: EnvironmentsOverviewController;
  private readonly diffs: DiffController;
  private readonly form: TriggerFormController;
  private readonly handlers: MessageHandlers;

  constructor(extensionUri: vscode.Uri, model: WorkspaceModel, runs: RunManager, envs: EnvironmentService, remote: RemoteService, log: Log, placeOf?: (logFile: string) => JobPlace | undefined) {
    this.host = new PanelHost(extensionUri, log, this);
    this.board = new BoardController(this.host, model, runs, remote, placeOf);
    this.environments = new EnvironmentsOverviewController(this.host, envs, log);
    this.diffs = new DiffController(this.host, envs);
    this.form = new TriggerFormController(this.host);
    this.handlers = {
      showView: (msg) => {
        this.host.view = msg.view;
        if (msg.view === 'environments') this.environments.shown();
      },
      ...this.board.handlers,
      ...this.environments.handlers,
      ...this.diffs.handlers,
      ...this.form.handlers,
    };
  }

  get isOpen(): boolean {
    return this.host.isOpen;
  }

  /** When the board last posted job output to the webview (performance.now(); for the bench). */
  get lastLinePatchAt(): number {
    return this.board.lastLinePatchAt;
  }

  /** Messages posted to the webview (counted for the flood benchmark and tests). */
  get postedPatches(): number {
    return this.board.postedPatches;
  }

  /** The diff shown (or being computed) in the diff view. */
  get diff(): DiffController['diff'] {
    return this.diffs.diff;
  }

  /** Opens or reveals the panel, on a local run and a view when given. */
  show(runId?: string, view?: PanelView): void {
    if (runId) this.board.select(runId);
    this.host.show(view);
  }

  /** Shows a run of the history on the board. */
  showRun(run: RunRecord): void {
    this.board.select(run.id, run);
    this.host.show('board');
    this.board.postState();
  }

  showDiff(state: FolderState, envId: string, ref?: string, toEnv?: string): ReturnType<DiffController['showDiff']> {
    return this.diffs.showDiff(state, envId, ref, toEnv);
  }

  showRemoteRun(ref: RemoteRef, runId: string): Promise<void> {
    return this.board.showRemoteRun(ref, runId);
  }

  /** Asks a run's inputs in the trigger form; null: cancelled. */
  askInputs(req: TriggerFormRequest): Promise<TriggerFormResult | null> {
    return this.form.ask(req);
  }

  /** The trigger form shown (null: none waiting). */
  triggerForm(): ReturnType<TriggerFormController['view']> {
    return this.form.view();
  }

  /** Handles `raw` as a message from the page (checked the same way; for the test hooks). */
  receive(raw: unknown): Promise<void> {
    return this.host.onMessage(raw);
  }

  state(): ReturnType<BoardController['state']> {
    return this.board.state();
  }

  // ---- PanelParts: the host tells the views what happened ----

  ready(): void {
    this.board.postState();
    this.environments.ready();
    this.diffs.post();
    this.form.ready();
  }

  shown(): void {
    this.board.postState();
  }

  closed(): void {
    this.board.leaveRemote();
    this.form.closed();
  }

  visibility(visible: boolean): void {
    this.board.visibility(visible);
  }

  async handle(msg: ViewMessage): Promise<void> {
    // Each handler takes its own message type; the table (checked complete above) pairs them.
    await (this.handlers[msg.type] as (m: ViewMessage) => Promise<void> | void)(msg);
  }

  dispose(): void {
    this.board.dispose();
    this.environments.dispose();
    this.host.dispose();
  }
}
