// Shared bits of the real test targets: free ports, waiting for ports, stopping by PID file.
import * as fs from 'node:fs';
import * as net from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts a connection on host:port now. */
function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until host:port accepts connections (`open`), or until nothing does (`!open`: a stopped server). */
async function waitForPortState(port: number, host: string, open: boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while ((await accepts(port, host)) !== open) {
    if (Date.now() - t0 > timeoutMs) throw new Error(open ? `nothing listens on ${host}:${port} after ${timeoutMs} ms` : `${host}:${port} still accepts connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10000): Promise<void> {
  await waitForPortState(port, host, true, timeoutMs);
}

/** Waits until nothing accepts connections on host:port (a stopped server's socket is closed). */
export async function waitForPortClosed(port: number, host = '127.0.0.1', timeoutMs = 10000): Promise<void> {
  await waitForPortState(port, host, false, timeoutMs);
}

/** Alive and not a zombie (a killed daemon stays <defunct> until PID 1 reaps it). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The program a process runs (its command line, NULs as spaces); '' when it is gone. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/**
 * SIGTERM, wait up to `ms`, then SIGKILL — by PID only, and only if the process still runs the program `expect`
 * names. This machine's PID counter wraps quickly under the tests' load (pid_max 32768): a PID read from a file or
 * kept since the start of a suite may belong to an unrelated process by the time it is stopped.
 */
export async function stopPid(pid: number, expect: RegExp, ms = 3000): Promise<void> {
  if (!alive(pid) || !expect.test(commandLine(pid))) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const t0 = Date.now();
  while (alive(pid) && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 25));
  if (alive(pid) && expect.test(commandLine(pid))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Stops the process whose PID a file holds, if it still runs the program `expect` names (default: a node app). */
export async function stopPidFile(file: string, expect: RegExp = /\bnode\b/): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return;
  }
  if (pid > 1) await stopPid(pid, expect);
}
