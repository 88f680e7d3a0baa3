// Environments, deploys and remote engines: loaded on first use as their own bundle (dist/features.js), so the
// extension's main bundle — what activation loads — stays small. Everything the VS Code layer needs from them
// goes through here; the rest of src/vscode imports their types only.
export { EnvironmentStatusService, commitText, environmentDiff, fileAtRevision, fileHunks, repositoryRoot } from '../adapters/environments';
export { deployHistory, environmentHistory, prepareDeploy, preparePromote, prepareRollback, rollbackOptions, startDeploy, teamLock } from '../adapters/deploy/runner';
export { createRemoteEngine, resolveRemotePipeline } from '../adapters/remote';
export { loadCa } from '../adapters/remote/http';
export { followRun } from '../core/remote/follow';
export { historyItems, localHistoryEntry, teamStateView } from '../core/environments/deployService';
export { prometheusMetrics } from '../adapters/environments/prometheus';
export { checkNow, healthOverTime } from '../core/environments/healthOverTime';
