// Which commands each option applies to: an option given to a command it does not apply to is refused (exit 2),
// never silently ignored (`delivery deploy staging --event push`). Subcommands refine this themselves
// (`remote`: which remote subcommands take --input; `lock`: --force only for release).

/** Option (long name) -> the commands that take it. An option not listed applies to every command. */
export const OPTION_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  needs: ['run'],
  parallel: ['run'],
  variable: ['run'],
  manual: ['run'],
  'unset-variable': ['run'],
  stage: ['run'],
  'allow-images': ['run'],
  'shell-executor-no-image': ['run'],
  'force-shell-executor': ['run'],
  'actions-host': ['run'],
  workspace: ['run'],
  platform: ['run'],
  event: ['run'],
  'event-payload': ['run'],
  secret: ['run'],
  'secret-file': ['run'],
  input: ['run', 'remote'],
  yes: ['deploy', 'rollback', 'promote'],
  ref: ['deploy', 'diff', 'remote'],
  to: ['rollback', 'diff'],
  message: ['deploy', 'rollback', 'promote', 'lock'],
  force: ['lock'],
  wait: ['remote'],
  follow: ['remote'],
  branch: ['remote'],
  pipeline: ['remote'],
  'trust-api-host': ['remote'],
  limit: ['remote', 'history'],
};

/** Why `command` cannot take one of the options given (their long names, as parseArgs' tokens name them), else null. */
export function misplacedOption(command: string, given: Iterable<string>): string | null {
  for (const name of given) {
    const commands = OPTION_COMMANDS[name];
    if (commands && !commands.includes(command)) {
      // The option the user probably meant, where one exists.
      const instead = command === 'rollback' && name === 'ref' ? ' (use --to)' : '';
      return `${command}: --${name} applies to ${commands.join(', ')}, not to ${command}${instead}`;
    }
  }
  return null;
}
