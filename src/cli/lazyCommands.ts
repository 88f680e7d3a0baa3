// The CLI's environment, deploy and remote commands: a bundle of their own (dist/lazyCommands.js), loaded only when
// one of them runs, so `delivery run` and `delivery pipelines` start without them.
export { envsCommand } from './envs';
export { diffCommand } from './diff';
export { deployCommand, promoteCommand, rollbackCommand } from './deploy';
export { remoteCommand } from './remote';
export { historyCommand, lockCommand } from './team';
export { verifyCommand } from './verify';
