// A private Docker engine for tests: Debian's dockerd with all its state in a temp folder, its own socket, no
// bridge, no iptables, no ip forwarding (nothing on the machine's network changes), lowered ulimits
// (real-targets.md §5). Base images are made locally from busybox-static (Docker Hub is unreachable).
// Stopped by PID; the mounts it leaves behind are unmounted so the folder can be removed.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { alive, stopPid } from './common';

export const DOCKERD = '/usr/sbin/dockerd';
export const BUSYBOX = '/bin/busybox';
export const BASE_IMAGE = 'localhost/busybox-base:1';
export const REVISION_LABEL = 'org.opencontainers.image.revision';

/** Why a private dockerd cannot run here, or null when it can (tests skip with this reason). */
export function dockerUnavailable(): string | null {
  if (process.platform !== 'linux') return 'dockerd runs on Linux only';
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  if (!fs.existsSync(DOCKERD)) return `${DOCKERD} is missing (Debian package docker.io; test/harness/setup.sh installs it)`;
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian package busybox-static) for the local base image`;
  if (!which('docker')) return 'the docker CLI is missing (Debian package docker.io)';
  return null;
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

export interface Dockerd {
  dir: string;
  socket: string;
  /** unix://<socket> */
  host: string;
  pid: number;
  /** Variables that point a docker CLI at this engine (DOCKER_HOST; the legacy builder: no buildx here). */
  env(): Record<string, string>;
  /** Runs the docker CLI against this engine; returns stdout (trimmed). Throws with stderr on failure. */
  docker(args: string[], opts?: { cwd?: string }): string;
  /** Imports the busybox base image once (BASE_IMAGE). */
  baseImage(): string;
  /**
   * Builds a tiny app image for a commit: label org.opencontainers.image.revision=<sha>, /www/version = {"sha"},
   * `CMD httpd -f -p 8080 -h /www`. Returns the image reference (default `<repo>:<sha>`).
   */
  buildAppImage(sha: string, opts?: { repo?: string; tag?: string; label?: boolean }): string;
  stop(): Promise<void>;
}

/** Starts dockerd with its state in `dir`; `insecureRegistries` may be pushed to over plain HTTP (registry.ts). */
export async function startDockerd(dir: string, opts: { insecureRegistries?: string[]; readyTimeoutMs?: number } = {}): Promise<Dockerd> {
  fs.mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'docker.sock');
  const config = {
    'data-root': path.join(dir, 'data'),
    'exec-root': path.join(dir, 'exec'),
    pidfile: path.join(dir, 'dockerd.pid'),
    hosts: [`unix://${socket}`],
    bridge: 'none',
    iptables: false,
    ip6tables: false,
    'ip-forward': false,
    'ip-masq': false,
    // Root on the CI machines lacks CAP_SYS_RESOURCE and the hard nofile limit is 20000: higher values fail with
    // "error setting rlimit type 7: operation not permitted".
    'default-ulimits': { nofile: { Name: 'nofile', Hard: 1024, Soft: 1024 }, nproc: { Name: 'nproc', Hard: 4096, Soft: 4096 } },
    'insecure-registries': opts.insecureRegistries ?? [],
    'storage-driver': 'overlay2',
  };
  fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify(config, null, 2));
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
  const child = spawn(DOCKERD, ['--config-file', path.join(dir, 'daemon.json')], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid!;
  fs.writeFileSync(path.join(dir, 'dockerd.pid.launch'), String(pid));
  const host = `unix://${socket}`;
  const env = () => ({ DOCKER_HOST: host, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' });
  const docker = (args: string[], o: { cwd?: string } = {}) => {
    try {
      return execFileSync('docker', args, { cwd: o.cwd, env: { ...process.env, ...env() }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`docker ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
    }
  };
  const d: Dockerd = {
    dir,
    socket,
    host,
    pid,
    env,
    docker,
    baseImage: () => {
      if (docker(['image', 'ls', '-q', BASE_IMAGE]) === '') docker(['import', makeBaseRootfs(path.join(dir, 'base')), BASE_IMAGE]);
      return BASE_IMAGE;
    },
    buildAppImage: (sha, o = {}) => {
      d.baseImage();
      const ctx = path.join(dir, 'app-image');
      fs.mkdirSync(ctx, { recursive: true });
      fs.writeFileSync(
        path.join(ctx, 'Containerfile'),
        [
          `FROM ${BASE_IMAGE}`,
          'ARG SHA=unknown',
          o.label === false ? '' : `LABEL ${REVISION_LABEL}=$SHA`,
          'RUN mkdir -p /www && echo "{\\"sha\\":\\"$SHA\\"}" > /www/version',
          'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
          '',
        ].join('\n'),
      );
      const ref = `${o.repo ?? 'localhost/app'}:${o.tag ?? sha}`;
      docker(['build', '-q', '-f', path.join(ctx, 'Containerfile'), '--network', 'host', '--build-arg', `SHA=${sha}`, '-t', ref, ctx]);
      return ref;
    },
    stop: () => stopDockerd(dir, pid, docker),
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (!(await ping(socket))) {
    if (!alive(pid)) {
      await unmountUnder(dir);
      throw new Error(`dockerd exited at start; last lines of ${dir}/dockerd.log:\n${tail(path.join(dir, 'dockerd.log'))}`);
    }
    if (Date.now() > deadline) {
      await d.stop();
      throw new Error(`dockerd not ready after ${opts.readyTimeoutMs ?? 30_000} ms; see ${dir}/dockerd.log:\n${tail(path.join(dir, 'dockerd.log'))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return d;
}

/** GET /_ping on the engine's socket. */
function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!fs.existsSync(socket)) return resolve(false);
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Removes this engine's containers, stops dockerd by PID (it stops its containerd), then unmounts leftovers. */
async function stopDockerd(dir: string, pid: number, docker: (args: string[]) => string): Promise<void> {
  if (alive(pid)) {
    try {
      const ids = docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length) docker(['rm', '-f', ...ids]);
    } catch {
      // the daemon is going away anyway
    }
    const containerd = readPid(path.join(dir, 'exec', 'containerd', 'containerd.pid'));
    await stopPid(pid, /dockerd/, 15_000);
    if (containerd && alive(containerd)) await stopPid(containerd, /containerd/, 5000);
  }
  await unmountUnder(dir);
}

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return n > 1 ? n : null;
  } catch {
    return null;
  }
}

/** dockerd keeps EXEC_ROOT/netns/default (nsfs) and sometimes overlay mounts: unmount all under `dir`, deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return;
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\040/g, ' '))
    .filter((m) => m === real || m.startsWith(`${real}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}

/** A root filesystem tar with busybox (sh, cat, echo, ls, sleep, httpd, mkdir), /etc/passwd and /www. */
export function makeBaseRootfs(outDir: string): string {
  const root = path.join(outDir, 'rootfs');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'www'), { recursive: true });
  fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'cat', 'echo', 'ls', 'sleep', 'httpd', 'mkdir', 'wget']) {
    const link = path.join(root, 'bin', applet);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  const tar = path.join(outDir, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}
