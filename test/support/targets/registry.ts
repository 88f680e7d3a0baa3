// A private OCI registry for tests (Debian's docker-registry) on 127.0.0.1, storage in a temp folder
// (real-targets.md §6). Plain HTTP: give `address` to startDockerd({ insecureRegistries }). Stopped by PID.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { alive, freePort, stopPid } from './common';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export function registryUnavailable(): string | null {
  return fs.existsSync(REGISTRY_BINARY) ? null : `${REGISTRY_BINARY} is missing (Debian package docker-registry)`;
}

export interface Registry {
  dir: string;
  port: number;
  /** host:port, the prefix of image names pushed here. */
  address: string;
  url: string;
  pid: number;
  /** Tags of a repository (GET /v2/<name>/tags/list); [] when it has none. */
  tags(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startRegistry(dir: string, opts: { port?: number } = {}): Promise<Registry> {
  fs.mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      'storage:',
      `  filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}`,
      '  delete: {enabled: true}',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const log = fs.openSync(path.join(dir, 'registry.log'), 'a');
  const child = spawn(REGISTRY_BINARY, ['serve', config], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid!;
  fs.writeFileSync(path.join(dir, 'registry.pid'), String(pid));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/v2/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (!alive(pid)) throw new Error(`docker-registry exited at start; see ${dir}/registry.log:\n${fs.readFileSync(path.join(dir, 'registry.log'), 'utf8')}`);
    if (Date.now() > deadline) {
      await stopPid(pid, /registry/);
      throw new Error(`docker-registry not ready on ${url}; see ${dir}/registry.log`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    port,
    address: `127.0.0.1:${port}`,
    url,
    pid,
    tags: async (name) => {
      const res = await fetch(`${url}/v2/${name}/tags/list`);
      if (res.status === 404) return [];
      const body = (await res.json()) as { tags?: string[] | null };
      return body.tags ?? [];
    },
    stop: () => stopPid(pid, /registry/),
  };
}
