// A throwaway OpenSSH sshd on 127.0.0.1 for tests: its own host key, client key, authorized_keys and config, all
// in a state folder. Adapted from the reference targets (real-targets.md §1). Stopped by its PID file.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SshTarget } from '../../../src/core/environments/config';
import { alive, freePort, stopPid, waitForPort, waitForPortClosed } from './common';

export interface Sshd {
  dir: string;
  host: string;
  port: number;
  user: string;
  /** Private key the server accepts. */
  clientKey: string;
  /** A known_hosts file with this server's host key. */
  knownHosts: string;
  pid: number;
  /** The target as delivery.yml would describe it (host key checked against knownHosts). */
  target(over?: Partial<SshTarget>): SshTarget;
  stop(): Promise<void>;
}

export function sshdAvailable(): boolean {
  return fs.existsSync('/usr/sbin/sshd') && fs.existsSync('/usr/bin/ssh');
}

/** Why a private sshd cannot run here, or null when it can (for requireTool). */
export function sshdUnavailable(): string | null {
  return sshdAvailable() ? null : 'OpenSSH is not installed (/usr/sbin/sshd, /usr/bin/ssh: Debian package openssh-server)';
}

/** `netns`: run sshd inside that network namespace (root only; see ../netns.ts), listening on `host` there. */
export async function startSshd(dir: string, opts: { host?: string; port?: number; netns?: string } = {}): Promise<Sshd> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keygen = (file: string, comment: string) => {
    if (!fs.existsSync(file)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  };
  keygen(path.join(dir, 'host_ed25519'), 'test-host');
  keygen(path.join(dir, 'client_key'), 'deploy-test');
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  fs.chmodSync(path.join(dir, 'authorized_keys'), 0o600);
  const hostKey = fs.readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[${host}]:${port} ${hostKey}\n`);
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${dir}/host_ed25519`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      // The sessions' $HOME is a folder of this sshd (the working directory stays root's home): what deploys keep
      // in the deploy user's home (the team's lock and history, ~/.delivery/<environment>) stays with the test.
      `SetEnv HOME=${dir}/home`,
      '',
    ].join('\n'),
  );
  fs.mkdirSync(path.join(dir, 'home'), { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0 && !fs.existsSync('/run/sshd')) fs.mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
  const sshd = (args: string[]) => (opts.netns ? execFileSync('ip', ['netns', 'exec', opts.netns, '/usr/sbin/sshd', ...args]) : execFileSync('/usr/sbin/sshd', args));
  sshd(['-t', '-f', path.join(dir, 'sshd_config')]);
  sshd(['-f', path.join(dir, 'sshd_config'), '-E', path.join(dir, 'sshd.log')]);
  await waitForPort(port, host);
  // sshd may accept connections a moment before its PID file is written.
  const pidFile = path.join(dir, 'sshd.pid');
  // The file may also exist a moment before its number is in it (an empty PID would make stop() a no-op).
  const readPid = () => {
    try {
      const text = fs.readFileSync(pidFile, 'utf8').trim();
      return /^\d+$/.test(text) ? Number(text) : 0;
    } catch {
      return 0;
    }
  };
  let pid = readPid();
  for (let i = 0; i < 400 && pid <= 1; i++) {
    await new Promise((r) => setTimeout(r, 25));
    pid = readPid();
  }
  if (pid <= 1) throw new Error(`sshd in ${dir} wrote no PID to ${pidFile}`);
  const user = 'root';
  return {
    dir,
    host,
    port,
    user,
    clientKey: path.join(dir, 'client_key'),
    knownHosts: path.join(dir, 'known_hosts'),
    pid,
    target: (over = {}) => ({
      host,
      port,
      user,
      identityFile: path.join(dir, 'client_key'),
      knownHostsFile: path.join(dir, 'known_hosts'),
      strictHostKeyChecking: 'yes',
      connectTimeoutSec: 5,
      ...over,
    }),
    stop: async () => {
      if (alive(pid)) await stopPid(pid, /sshd/);
      // Stopped means nothing answers on the port any more (what tests of a server that is down rely on).
      if (!opts.netns) await waitForPortClosed(port, host);
    },
  };
}
