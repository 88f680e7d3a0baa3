// The diff view of the Delivery panel: what deploying a ref (or promoting another environment) changes in an
// environment — commits, files, the hunks of one file on demand, a file opened in VS Code's diff editor.
import * as vscode from 'vscode';
import { shortSha } from '../../core/environments/diff';
import { revertWarning } from '../../core/environments/status';
import type { DiffView } from '../../shared/views';
import type { EnvironmentService } from '../environments/environmentService';
import { revisionUri } from '../environments/revisionProvider';
import { features } from '../lazy';
import type { FolderState } from '../workspaceModel';
import type { MessageHandlers, PanelSurface } from './panelHost';

type DiffMessage = 'showDiff' | 'openFileDiff' | 'loadHunks';

const MAX_HUNKS_CHARS = 200_000;

export class DiffController {
  /** The diff shown (or being computed). */
  diff: { view: DiffView | null; loading: boolean; error: string | null } = { view: null, loading: false, error: null };
  private diffRequest = 0;

  /** What the shown diff was asked for: computed again after a deploy of its environment (the view never goes stale). */
  private shown: { state: FolderState; envId: string; ref?: string; toEnv?: string } | null = null;

  constructor(
    private readonly host: PanelSurface,
    private readonly envs: EnvironmentService,
  ) {
    envs.onDidEndDeploy((d) => {
      const s = this.shown;
      if (s && (d.environment === s.envId || d.environment === s.toEnv) && s.state.folder.uri.fsPath === this.diff.view?.folder) {
        void this.showDiff(s.state, s.envId, s.ref, s.toEnv, { reveal: false });
      }
    });
  }

  readonly handlers: MessageHandlers<DiffMessage> = {
    showDiff: async (msg) => {
      const found = this.envs.find(msg.folder, msg.environment);
      if (found) await this.showDiff(found.state, msg.environment, undefined, msg.to);
    },
    openFileDiff: (msg) => this.openFileDiff(msg.path),
    loadHunks: (msg) => this.loadHunks(msg.path),
  };

  post(): void {
    this.host.post({ type: 'diff', ...this.diff });
  }

  /** Shows what deploying `ref` (default: local HEAD), or what environment `toEnv` runs, to the environment changes. */
  async showDiff(state: FolderState, envId: string, ref?: string, toEnv?: string, opts: { reveal?: boolean } = {}): Promise<DiffView | null> {
    const request = ++this.diffRequest;
    this.shown = { state, envId, ref, toEnv };
    if (opts.reveal !== false) {
      this.diff = { view: null, loading: true, error: null };
      this.host.show('diff');
      this.post();
    }
    const folder = state.folder.uri.fsPath;
    const envs = state.snapshot?.environments ?? [];
    const env = envs.find((e) => e.id === envId);
    try {
      const target = toEnv ? { kind: 'environment' as const, id: toEnv } : ref ? { kind: 'ref' as const, ref } : { kind: 'head' as const };
      const { environmentDiff } = await features();
      const r = await environmentDiff(folder, envs, envId, target, { service: await this.envs.statusService(), secrets: this.envs.secrets.resolver });
      const toName = toEnv ? (envs.find((e) => e.id === toEnv)?.name ?? toEnv) : null;
      const view: DiffView = {
        folder,
        environment: envId,
        environmentName: env?.name ?? envId,
        fromLabel: `deployed ${shortSha(r.diff.from.sha)}`,
        toLabel: toName
          ? `${toName} ${shortSha(r.diff.to.sha)}`
          : ref
            ? ref.length === 40
              ? shortSha(ref)
              : `${ref} (${shortSha(r.diff.to.sha)})`
            : `local HEAD ${shortSha(r.diff.to.sha)}`,
        diff: r.diff,
        warning:
          r.diff.commits.toRevert.length > 0
            ? (ref || toEnv ? null : revertWarning(r.from)) ??
              `This deploy would revert ${r.diff.commits.toRevert.length} commit${r.diff.commits.toRevert.length === 1 ? '' : 's'} that ${env?.name ?? envId} runs now.`
            : null,
      };
      if (request === this.diffRequest) this.diff = { view, loading: false, error: null };
      return view;
    } catch (e) {
      if (request === this.diffRequest) this.diff = { view: null, loading: false, error: (e as Error).message };
      return null;
    } finally {
      if (request === this.diffRequest) this.post();
    }
  }

  private async openFileDiff(file: string): Promise<void> {
    const v = this.diff.view;
    const change = v?.diff.files.find((f) => f.path === file);
    if (!v || !change) return;
    const root = (await (await features()).repositoryRoot(v.folder)) ?? v.folder;
    const left = revisionUri(v.folder, v.diff.from.sha, change.oldPath ?? change.path);
    const workingTree = v.diff.to.ref === 'HEAD';
    const right = workingTree && change.status !== 'D' ? vscode.Uri.file(`${root}/${change.path}`) : revisionUri(v.folder, v.diff.to.sha, change.path);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${change.path} (${v.fromLabel} ↔ ${v.toLabel})`, { preview: true });
  }

  private async loadHunks(file: string): Promise<void> {
    const v = this.diff.view;
    const change = v?.diff.files.find((f) => f.path === file);
    if (!v || !change) return;
    let text: string;
    try {
      const { fileHunks } = await features();
      text = change.binary ? 'Binary file: open it to compare.' : await fileHunks(v.folder, { from: v.diff.from.sha, to: v.diff.to.sha, path: change.path, oldPath: change.oldPath });
    } catch (e) {
      text = `Could not read the changes: ${(e as Error).message}`;
    }
    this.host.post({ type: 'hunks', path: file, text: text.slice(0, MAX_HUNKS_CHARS), truncated: text.length > MAX_HUNKS_CHARS });
  }
}
