// ssh and rsync without shell strings built from configuration or server values.
//
// - ssh options are argv elements; the destination is validated by the config reader.
// - A script runs on the host through a CONSTANT remote command (below): the DELIVERY_* variables and the script
//   itself travel on standard input as data, so no value is ever parsed by the remote shell as code.
// - rsync and git get a constant wrapper script (`-e` / GIT_SSH) that reads the ssh options from environment
//   variables, and rsync runs with --protect-args so remote paths are not split by the remote shell.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CommandSpec } from '../core/engine/ports';
import type { SshTarget } from '../core/environments/config';

/** Reads NUL-separated NAME=value records until an empty one, exports them, then runs the rest of stdin with bash. */
export const REMOTE_RUNNER =
  'set -e; while IFS= read -r -d "" kv; do [ -z "$kv" ] && break; export "$kv"; done; s=$(cat); exec bash -eo pipefail -c "$s"';

const WRAPPER = `#!/bin/sh
# Written by Software Delivery: ssh with options from the environment (never from a command string).
set -- -o BatchMode=yes -o "StrictHostKeyChecking=\${DELIVERY_SSH_STRICT:-yes}" -o "ConnectTimeout=\${DELIVERY_SSH_TIMEOUT:-10}" -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o LogLevel=ERROR "$@"
[ -n "\${DELIVERY_SSH_PORT:-}" ] && set -- -p "$DELIVERY_SSH_PORT" "$@"
[ -n "\${DELIVERY_SSH_IDENTITY:-}" ] && set -- -i "$DELIVERY_SSH_IDENTITY" -o IdentitiesOnly=yes "$@"
[ -n "\${DELIVERY_SSH_KNOWN_HOSTS:-}" ] && set -- -o "UserKnownHostsFile=$DELIVERY_SSH_KNOWN_HOSTS" "$@"
[ -n "\${DELIVERY_SSH_CONTROL_PATH:-}" ] && set -- -o "ControlPath=$DELIVERY_SSH_CONTROL_PATH" -o ControlMaster=no "$@"
exec ssh "$@"
`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

export function sshDestination(t: SshTarget): string {
  return t.user ? `${t.user}@${t.host}` : t.host;
}

/** ssh options as argv (for a direct `ssh` call). */
export function sshArgs(t: SshTarget, opts: { withPort?: boolean } = { withPort: true }): string[] {
  // ServerAlive*: a link that dies silently ends the session within ~45 s, not at the deploy's timeout.
  const args = [
    '-o', 'BatchMode=yes',
    '-o', `StrictHostKeyChecking=${t.strictHostKeyChecking}`,
    '-o', `ConnectTimeout=${t.connectTimeoutSec}`,
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'LogLevel=ERROR',
  ];
  if (opts.withPort !== false) args.unshift('-p', String(t.port));
  if (t.identityFile) args.unshift('-i', expandHome(t.identityFile), '-o', 'IdentitiesOnly=yes');
  if (t.knownHostsFile) args.push('-o', `UserKnownHostsFile=${expandHome(t.knownHostsFile)}`);
  // A connection the deploy shares (sshMux.ts): used while it is up; without it ssh connects on its own.
  if (t.controlPath) args.push('-o', `ControlPath=${t.controlPath}`, '-o', 'ControlMaster=no');
  return args;
}

/** The same options for the wrapper script, as environment variables. */
export function sshWrapperEnv(t: SshTarget, opts: { withPort: boolean }): Record<string, string> {
  const env: Record<string, string> = { DELIVERY_SSH_STRICT: t.strictHostKeyChecking, DELIVERY_SSH_TIMEOUT: String(t.connectTimeoutSec) };
  if (opts.withPort) env.DELIVERY_SSH_PORT = String(t.port);
  if (t.identityFile) env.DELIVERY_SSH_IDENTITY = expandHome(t.identityFile);
  if (t.knownHostsFile) env.DELIVERY_SSH_KNOWN_HOSTS = expandHome(t.knownHostsFile);
  if (t.controlPath) env.DELIVERY_SSH_CONTROL_PATH = t.controlPath;
  return env;
}

let wrapper: { dir: string; file: string } | null = null;

/**
 * Path of the ssh wrapper script (constant content). It lives in a folder private to this process, made with
 * mkdtemp (random name, mode 0700, ours): never in a predictable shared folder such as `$TMPDIR/delivery-ssh-<uid>`,
 * which another local user could create first and fill with a wrapper of their own (run as us: as root when we
 * deploy as root). Before each reuse the folder and file are checked again; when anything is off (not ours, a
 * symlink, writable by others, other content) a fresh folder is made and the old one is left alone.
 */
export function sshWrapper(): string {
  if (wrapper && wrapperIntact(wrapper)) return wrapper.file;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-ssh-'));
  const file = path.join(dir, 'ssh-wrapper.sh');
  // 'wx': create, never follow or reuse something already there.
  fs.writeFileSync(file, WRAPPER, { mode: 0o700, flag: 'wx' });
  if (!wrapper) process.once('exit', removeWrapper);
  wrapper = { dir, file };
  return file;
}

function removeWrapper(): void {
  if (wrapper && wrapperIntact(wrapper)) fs.rmSync(wrapper.dir, { recursive: true, force: true });
}

/** A real folder and file (no symlinks), owned by us, the folder mode 0700, the file not writable by others, our content. */
function wrapperIntact(w: { dir: string; file: string }): boolean {
  try {
    const d = fs.lstatSync(w.dir);
    const f = fs.lstatSync(w.file);
    if (!d.isDirectory() || !f.isFile()) return false;
    if (process.platform !== 'win32') {
      const uid = process.getuid?.();
      if (uid !== undefined && (d.uid !== uid || f.uid !== uid)) return false;
      if ((d.mode & 0o777) !== 0o700 || (f.mode & 0o022) !== 0) return false;
    }
    return fs.readFileSync(w.file, 'utf8') === WRAPPER;
  } catch {
    return false;
  }
}

/** Standard input for REMOTE_RUNNER: the variables, an empty record, then the script. */
export function remoteStdin(env: Record<string, string>, script: string): string {
  let out = '';
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name: ${name}`);
    if (value.includes('\u0000')) throw new Error(`the value of ${name} contains a NUL byte`);
    out += `${name}=${value}\u0000`;
  }
  return `${out}\u0000${script}`;
}

/** A command that runs `script` on the host with `env` exported there. */
export function sshScriptCommand(t: SshTarget, script: string, env: Record<string, string>, cwd: string): CommandSpec {
  return {
    command: 'ssh',
    args: [...sshArgs(t), sshDestination(t), 'bash', '-c', shellQuoteConstant(REMOTE_RUNNER)],
    env: {},
    cwd,
    stdin: remoteStdin(env, script),
    killLeftovers: true,
  };
}

/**
 * rsync of a local folder to a path on the host. `to` is passed with --protect-args, so the remote shell never
 * splits or expands it.
 */
export function rsyncCommand(t: SshTarget, from: string, to: string, opts: { delete: boolean; exclude: string[]; cwd: string }): CommandSpec {
  if (/[\n\r\u0000]/.test(to)) throw new Error('the upload destination contains a line break');
  const args = ['-az', '--protect-args', '-e', sshWrapper()];
  if (opts.delete) args.push('--delete');
  for (const x of opts.exclude) args.push(`--exclude=${x}`);
  args.push('--', from.endsWith('/') ? from : `${from}/`, `${sshDestination(t)}:${to}`);
  return { command: 'rsync', args, env: sshWrapperEnv(t, { withPort: true }), cwd: opts.cwd };
}

/**
 * ssh passes the remote command to the host's login shell as ONE string; this quotes a constant of ours
 * (never a value from configuration or a server) for that shell.
 */
function shellQuoteConstant(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
