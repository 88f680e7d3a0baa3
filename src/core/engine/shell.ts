// How a script is handed to a shell: always as one argv element (or a file), never spliced into another string.
import type { CommandSpec } from './ports';

/**
 * The command that runs `script` with `shell`:
 * - bash (default): `bash --noprofile --norc -eo pipefail -c <script>`
 * - sh: `sh -e -c <script>`
 * - python / node / pwsh: the script is written to a file and passed as an argument
 * - a template such as `perl {0}` (GitHub's custom shells): the file's path replaces {0}
 */
export function shellCommand(shell: string | null, script: string, cwd: string, env: Record<string, string>): CommandSpec {
  const s = (shell ?? 'bash').trim();
  switch (s) {
    case 'bash':
      return { command: 'bash', args: ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], cwd, env };
    case 'sh':
      return { command: 'sh', args: ['-e', '-c', script], cwd, env };
    case 'python':
    case 'python3':
      return { command: 'python3', args: ['{0}'], cwd, env, scriptFile: { text: script, extension: '.py' } };
    case 'node':
      return { command: 'node', args: ['{0}'], cwd, env, scriptFile: { text: script, extension: '.js' } };
    case 'pwsh':
    case 'powershell':
      return { command: 'pwsh', args: ['-command', ". '{0}'"], cwd, env, scriptFile: { text: script, extension: '.ps1' } };
  }
  const parts = s.split(/\s+/);
  if (!parts.some((p) => p.includes('{0}'))) parts.push('{0}');
  return { command: parts[0], args: parts.slice(1), cwd, env, scriptFile: { text: script, extension: '.sh' } };
}
