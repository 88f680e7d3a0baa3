// A "remote host" in its own network namespace (real-targets.md §4, after ../shared/reference/targets/netns):
// namespace + veth pair dplNh (this side, 10.77.N.1) <-> dplNg (inside, 10.77.N.2), with an OpenSSH sshd inside on
// 10.77.N.2:22. Its link can be cut and restored. Root only. Every namespace made here is recorded and only those
// are deleted (never by name pattern); destroyHosts() in an `after` hook removes them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startSshd, type Sshd } from './targets/sshd';

export interface NetnsHost {
  name: string;
  /** The host's address (inside the namespace). */
  address: string;
  sshd: Sshd;
  /** Takes the host's side of the link down: packets to it go nowhere (as when its cable is pulled). */
  cut(): void;
  restore(): void;
  destroy(): void;
}

const PREFIX = '10.77';
const made = new Set<string>();

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why network namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    ip('-V');
  } catch {
    return '`ip` (iproute2) is not installed';
  }
  if (!fs.existsSync('/usr/sbin/sshd')) return 'OpenSSH sshd is not installed';
  return null;
}

/** A free N (1..254): no dplN* interface and no 10.77.N.0/24 route exist yet. */
function freeIndex(): number {
  const links = ip('-o', 'link', 'show');
  const routes = ip('route', 'show');
  for (let attempt = 0; attempt < 200; attempt++) {
    const n = 100 + Math.floor(Math.random() * 150);
    if (!links.includes(`dpl${n}h`) && !links.includes(`dpl${n}g`) && !routes.includes(`${PREFIX}.${n}.`)) return n;
  }
  throw new Error('no free 10.77.N.0/24 network for a test host');
}

/** Creates the namespace, the link and the sshd inside. `stateDir` holds the sshd's keys and config. */
export async function makeHost(stateDir: string): Promise<NetnsHost> {
  const n = freeIndex();
  const name = `dlv-${process.pid}-${n}`;
  const hostIf = `dpl${n}h`;
  const nsIf = `dpl${n}g`;
  const address = `${PREFIX}.${n}.2`;
  ip('netns', 'add', name);
  made.add(name);
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', name);
    ip('addr', 'add', `${PREFIX}.${n}.1/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', name, 'addr', 'add', `${address}/24`, 'dev', nsIf);
    ip('-n', name, 'link', 'set', nsIf, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
    const sshd = await startSshd(path.join(stateDir, `sshd-${name}`), { host: address, port: 22, netns: name });
    // On port 22 ssh looks the host key up under the bare address, not "[address]:22".
    const hostKey = fs.readFileSync(path.join(sshd.dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    fs.appendFileSync(sshd.knownHosts, `${address} ${hostKey}\n`);
    return {
      name,
      address,
      sshd,
      // Down inside the namespace: this side keeps its route, so packets are sent and lost (no quick "network
      // unreachable" from a missing route), the way a pulled cable looks from here.
      cut: () => ip('-n', name, 'link', 'set', nsIf, 'down'),
      restore: () => ip('-n', name, 'link', 'set', nsIf, 'up'),
      destroy: () => destroyHost(name),
    };
  } catch (e) {
    destroyHost(name);
    throw e;
  }
}

/** Kills what runs inside a namespace this module made (sshd, what it started) and deletes it with its link. */
export function destroyHost(name: string): void {
  if (!made.has(name)) throw new Error(`namespace ${name} was not made by this test`);
  const pids = () => ip('netns', 'pids', name).split('\n').map(Number).filter((p) => p > 1);
  try {
    for (const p of pids()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  } catch {
    // the namespace is already gone
  }
  try {
    ip('netns', 'del', name);
  } catch {
    // already deleted
  }
  made.delete(name);
}

export function destroyHosts(): void {
  for (const name of [...made]) destroyHost(name);
}
