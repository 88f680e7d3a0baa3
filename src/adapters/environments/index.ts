// Environments: what is deployed where (statuses), what a deploy would change (diffs), and the probes behind them.
// The API the VS Code layer and the CLI use.
export { EnvironmentStatusService, environmentStatuses, type EnvironmentStatusOptions, type EnvironmentStatusServiceOptions } from './status';
export { environmentDiff, EnvironmentDiffError, type DiffTarget, type EnvironmentDiff, type EnvironmentDiffFailure } from './compare';
export { commitText, deployDiff, fileAtRevision, fileHunks, repositoryRoot } from './diff';
export { probeVersion, type ProbeContext } from './probes';
export { checkHealth, httpGet } from './http';
export { DeployRepo } from './repo';
