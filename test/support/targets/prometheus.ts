// A real Prometheus (Debian's /usr/bin/prometheus) for the verification tests: its config, TSDB and log in a temp
// folder, listening on 127.0.0.1, scraping the given targets every second. Optionally behind TLS (a certificate the
// test made), basic auth (a bcrypt hash) and a path prefix, through Prometheus's own --web.config.file and
// --web.external-url. Started detached, stopped by PID.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { alive, freePort, stopPid, waitForPortClosed } from './common';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

export function prometheusAvailable(): boolean {
  return fs.existsSync(PROMETHEUS_BINARY);
}

/** Why a private Prometheus cannot run here, or null when it can (for requireTool). */
export function prometheusUnavailable(): string | null {
  return prometheusAvailable() ? null : `${PROMETHEUS_BINARY} is missing (Debian package prometheus)`;
}

export interface PrometheusOptions {
  /** host:port of each target to scrape (job "app", path /metrics). */
  targets: string[];
  /** Default 1000. */
  scrapeIntervalMs?: number;
  port?: number;
  /** Serve https with this certificate; `caFile` is what signed it (used here to wait for readiness). */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** Ask for basic auth: `bcrypt` is the password's bcrypt hash ($2a$/$2b$/$2y$), as Prometheus's web config wants. */
  basicAuth?: { username: string; password: string; bcrypt: string };
  /** Serve under this path (e.g. "/prom"): every route, the API included, moves there. */
  pathPrefix?: string;
}

export interface Prometheus {
  dir: string;
  port: number;
  /** Base URL, with the path prefix when there is one (what verify.prometheus.url says). */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string, opts: PrometheusOptions): Promise<Prometheus> {
  fs.mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const interval = `${(opts.scrapeIntervalMs ?? 1000) / 1000}s`;
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: app',
      `    static_configs: [{targets: ${JSON.stringify(opts.targets)}}]`,
      '',
    ].join('\n'),
  );
  const scheme = opts.tls ? 'https' : 'http';
  const prefix = (opts.pathPrefix ?? '').replace(/\/+$/, '');
  const url = `${scheme}://127.0.0.1:${port}${prefix}`;
  const args = [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=${url}/`,
    '--log.level=info',
  ];
  if (opts.tls || opts.basicAuth) {
    const web = path.join(dir, 'web.yml');
    const lines: string[] = [];
    if (opts.tls) lines.push('tls_server_config:', `  cert_file: ${JSON.stringify(opts.tls.certFile)}`, `  key_file: ${JSON.stringify(opts.tls.keyFile)}`);
    if (opts.basicAuth) lines.push('basic_auth_users:', `  ${JSON.stringify(opts.basicAuth.username)}: ${JSON.stringify(opts.basicAuth.bcrypt)}`);
    fs.writeFileSync(web, `${lines.join('\n')}\n`);
    args.push(`--web.config.file=${web}`);
  }
  const logFile = path.join(dir, 'prometheus.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(PROMETHEUS_BINARY, args, { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid!;
  fs.writeFileSync(path.join(dir, 'prometheus.pid'), String(pid));
  const stop = async () => {
    await stopPid(pid, /prometheus/);
    await waitForPortClosed(port);
  };

  const headers: Record<string, string> = {};
  if (opts.basicAuth) headers.authorization = `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`;
  const ca = opts.tls ? fs.readFileSync(opts.tls.caFile, 'utf8') : undefined;
  const get = (p: string) => getText(`${url}${p}`, headers, ca);
  const failed = async (why: string): Promise<never> => {
    await stop();
    throw new Error(`Prometheus in ${dir} ${why}; ${logFile}:\n${tail(logFile)}`);
  };

  // Ready: the TSDB is open and the web handler answers.
  const readyBy = Date.now() + 20_000;
  for (;;) {
    const r = await get('/-/ready');
    if (r?.status === 200) break;
    if (!alive(pid)) return failed('exited at start');
    if (Date.now() > readyBy) return failed(`is not ready on ${url} after 20 s`);
    await sleep(50);
  }
  // Every target scraped once: service discovery hands targets over a few seconds after the start.
  const upBy = Date.now() + 30_000;
  for (;;) {
    const r = await get('/api/v1/targets?state=active');
    const active = r?.status === 200 ? ((JSON.parse(r.body) as { data: { activeTargets: { labels: { instance?: string }; health: string }[] } }).data.activeTargets ?? []) : [];
    const up = new Set(active.filter((t) => t.health === 'up').map((t) => t.labels.instance));
    if (opts.targets.every((t) => up.has(t))) break;
    if (!alive(pid)) return failed('exited');
    if (Date.now() > upBy) return failed(`has not scraped every target after 30 s (up: ${[...up].join(', ') || 'none'})`);
    await sleep(100);
  }
  return { dir, port, url, pid, stop };
}

/** One GET (http or https with `ca`); null when nothing answers. */
function getText(url: string, headers: Record<string, string>, ca: string | undefined): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? https : http).get(u, { headers, agent: false, timeout: 2000, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
