// One ssh connection per host for the whole deploy: the lock and history on the host, the folder, the upload, the
// remote script — each used to open its own connection (a handshake each, seconds under load). A deploy makes an
// SshMux; `target(t)` gives the target with a control socket in a private folder (mkdtemp, 0700) and starts the
// shared connection in the background (`ssh -M -N -f`, ControlPersist so that it ends by itself if we die). Every
// session of the deploy passes ControlPath with ControlMaster=no: it rides on the shared connection once that is
// up, and connects on its own before (or if the shared one could not be made) — never worse than without it.
// close() ends the shared connections (`ssh -O exit`) and removes the folder.
//
// The shared connection is started by us, not inside a step: a step's leftover processes are killed when the step
// ends, and the master must outlive the step that would otherwise have started it.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshTarget } from '../../core/environments/config';
import { sshArgs, sshDestination } from '../ssh';

/** How long a shared connection outlives its last session when nobody closes it (a killed deploy). */
const PERSIST_S = 60;

export class SshMux {
  private dir: string | null = null;
  private readonly masters = new Map<string, { path: string; target: SshTarget; ready: Promise<boolean> }>();
  private closed = false;

  /** `t` with the control socket of its host's shared connection (started now if it is the first use). */
  target(t: SshTarget): SshTarget {
    if (this.closed) return t;
    const key = JSON.stringify([t.user, t.host, t.port, t.identityFile, t.knownHostsFile, t.strictHostKeyChecking]);
    let m = this.masters.get(key);
    if (!m) {
      try {
        this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-mux-'));
      } catch {
        return t; // no private folder: every session connects on its own
      }
      const socket = path.join(this.dir, String(this.masters.size));
      m = { path: socket, target: t, ready: startMaster(t, socket) };
      this.masters.set(key, m);
    }
    return { ...t, controlPath: m.path };
  }

  /** Whether the shared connection of `t` came up (for tests and logs). */
  async ready(t: SshTarget): Promise<boolean> {
    const path = this.target(t).controlPath;
    const m = [...this.masters.values()].find((x) => x.path === path);
    return m ? m.ready : false;
  }

  /** Ends every shared connection now, synchronously (the process is exiting), and removes the sockets' folder. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.masters.values()) {
      if (fs.existsSync(m.path)) spawnSync('ssh', ['-o', `ControlPath=${m.path}`, '-O', 'exit', sshDestination(m.target)], { stdio: 'ignore', timeout: 5000 });
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Ends every shared connection and removes the sockets' folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      [...this.masters.values()].map(async (m) => {
        if (await m.ready) await run(['-o', `ControlPath=${m.path}`, '-O', 'exit', sshDestination(m.target)], 10_000);
      }),
    );
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * `ssh -M -N -f`: authenticates, then goes to the background holding the connection; true once it is up. It checks
 * the link every 3 s and gives up after three missed answers (ssh takes the first value of an option: these come
 * first): sessions waiting on a dead link fail within seconds, and the next ones connect on their own.
 */
function startMaster(t: SshTarget, socket: string): Promise<boolean> {
  const args = ['-o', 'ServerAliveInterval=3', '-o', 'ServerAliveCountMax=3', ...sshArgs({ ...t, controlPath: undefined }), '-o', 'ControlMaster=yes', '-o', `ControlPath=${socket}`, '-o', `ControlPersist=${PERSIST_S}`, '-N', '-f', sshDestination(t)];
  return run(args, (t.connectTimeoutSec + 10) * 1000);
}

function run(args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      // No stdio: the backgrounded master must not hold a pipe of ours open.
      child = spawn('ssh', args, { stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    } catch {
      return resolve(false);
    }
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}
