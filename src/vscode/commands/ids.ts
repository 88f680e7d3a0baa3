// Every command the extension contributes (package.json "contributes.commands"). No `vscode` import, so the unit
// tests can compare this list with package.json; the registration table in index.ts is typed against it.
export const COMMAND_IDS = [
  'delivery.refresh',
  'delivery.pipeline.run',
  'delivery.job.run',
  'delivery.run.cancel',
  'delivery.run.rerunFailed',
  'delivery.run.showLog',
  'delivery.job.openWorkspace',
  'delivery.panel.open',
  'delivery.environment.deploy',
  'delivery.environment.diff',
  'delivery.environment.rollback',
  'delivery.environment.promote',
  'delivery.environment.refresh',
  'delivery.statusBar.actions',
  'delivery.environment.openUrl',
  'delivery.statusBar.selectEnvironment',
  'delivery.config.create',
  'delivery.definition.open',
  'delivery.output.show',
  'delivery.secret.set',
  'delivery.secret.delete',
  'delivery.remote.trigger',
  'delivery.remote.showRun',
  'delivery.remote.cancel',
  'delivery.remote.rerunFailed',
  'delivery.remote.openInBrowser',
  'delivery.remote.showLog',
  'delivery.remote.refresh',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
