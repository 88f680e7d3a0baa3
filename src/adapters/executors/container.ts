// The container executor: a job's steps run in a container of its image, through the docker (or podman) CLI with
// argv only. One container per job attempt is started idle and each step is `docker exec`'d in it, so what a step
// leaves running lives until the job ends, like on a CI runner. The job's workspace and scratch folders are mounted
// at the same paths, so every path in the plan means the same inside. Services run beside it on the host network
// and the job reaches them by their aliases (added to its /etc/hosts). Every container carries the run's labels
// and is removed when the job ends or is cancelled; ones left by a process that died are removed at the next start.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CommandSpec, ContainerExecutorSpec, JobSession, OpenJob, ProcessIO, ProcessResult, ServiceSpec } from '../../core/engine/ports';
import type { Masker } from '../../core/secrets';
import { LocalProcessRunner } from '../processRunner';
import { nodeCrypto, randomHex } from '../random';

export interface ContainerExecutorOptions {
  /** The engine's command (docker, podman, or a path); default: DELIVERY_CONTAINER_ENGINE, else docker, else podman. */
  engine?: string;
  masker?: Masker;
  /** The run's mark (orphanMark()), for the docker CLI processes. */
  ownerMark?: string;
  /** How long a service may take to become ready (default 60 s). */
  serviceTimeoutMs?: number;
}

export const LABEL_RUN = 'delivery.run';
const LABEL_JOB = 'delivery.job';
const LABEL_PID = 'delivery.pid';
const LABEL_HOST = 'delivery.host';
const PULL_TIMEOUT_MS = 10 * 60_000;
const IDLE = 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done';

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(engine: string, args: string[], opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(
      engine,
      args,
      { env: opts.env ?? process.env, signal: opts.signal, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : null) : 0;
        const why = err && code === null ? `${err.message}\n` : '';
        resolve({ code, stdout: String(stdout), stderr: why + String(stderr) });
      },
    );
  });
}

function lastLine(text: string): string {
  // The engine's CLI colours some messages (the legacy builder's errors): not ours to show.
  const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  const lines = plain.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? 'no message';
}

/** The engine command to use, or null when this machine has none. */
export function findEngine(preferred?: string): string | null {
  const wanted = preferred || process.env.DELIVERY_CONTAINER_ENGINE;
  const candidates = wanted ? [wanted] : ['docker', 'podman'];
  for (const c of candidates) {
    if (c.includes('/')) {
      if (isExecutable(c)) return c;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (dir && isExecutable(path.join(dir, c))) return path.join(dir, c);
    }
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

const answering = new Set<string>();

/** Null when the engine answers (remembered once it has), else why not. */
async function engineDown(engine: string): Promise<string | null> {
  const key = `${engine} ${process.env.DOCKER_HOST ?? ''} ${process.env.CONTAINER_HOST ?? ''}`;
  if (answering.has(key)) return null;
  const r = await run(engine, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  if (r.code === 0 && r.stdout.trim() !== '') {
    answering.add(key);
    return null;
  }
  return lastLine(r.stderr);
}

const orphansSwept = new Map<string, Promise<void>>();

/** Removes containers of runs whose process on this machine is gone (an engine killed with SIGKILL). */
export function removeOrphanContainers(engine: string): Promise<void> {
  let p = orphansSwept.get(engine);
  if (!p) {
    p = (async () => {
      const r = await run(engine, ['ps', '-a', '--filter', `label=${LABEL_PID}`, '--format', `{{.ID}} {{.Label "${LABEL_PID}"}} {{.Label "${LABEL_HOST}"}}`]);
      if (r.code !== 0) return;
      const dead = r.stdout
        .split('\n')
        .map((l) => l.trim().split(' '))
        .filter(([id, pid, host]) => id && host === os.hostname() && Number(pid) !== process.pid && !alive(Number(pid)))
        .map(([id]) => id);
      if (dead.length > 0) await run(engine, ['rm', '-f', '-v', ...dead]);
    })();
    orphansSwept.set(engine, p);
  }
  return p;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Null when the image is here (pulled now if it was not), else why it cannot be had. */
async function ensureImage(engine: string, image: string, job: OpenJob): Promise<string | null> {
  const have = await run(engine, ['image', 'inspect', '--format', '{{.Id}}', image]);
  if (have.code === 0) return null;
  job.log(`pulling image ${image}`);
  const pulled = await run(engine, ['pull', image], { signal: job.signal, timeoutMs: PULL_TIMEOUT_MS });
  if (pulled.code === 0) return null;
  if (job.signal.aborted) return 'cancelled';
  return `image ${image} is not on this machine and cannot be pulled: ${lastLine(pulled.stderr)}`;
}

/** Variables that steer the engine's own CLI (a job's DOCKER_HOST is for the job, not for us). */
const CLI_VARIABLE = /^(DOCKER_|CONTAINER_|CONTAINERS_|PODMAN_|BUILDAH_|REGISTRY_AUTH_FILE$)/;

/**
 * The `-e NAME` arguments that pass variables into a container and the CLI environment holding their values, so
 * values stay out of argv; only variables that would steer the CLI itself are given as `-e NAME=VALUE`.
 */
function envArgs(vars: Record<string, string>): { args: string[]; env: NodeJS.ProcessEnv } {
  const args: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue;
    if (CLI_VARIABLE.test(k)) args.push('-e', `${k}=${v}`);
    else {
      args.push('-e', k);
      env[k] = v;
    }
  }
  return { args, env };
}

function labelArgs(job: OpenJob): string[] {
  return ['--label', `${LABEL_RUN}=${job.runId}`, '--label', `${LABEL_JOB}=${job.jobId}`, '--label', `${LABEL_PID}=${process.pid}`, '--label', `${LABEL_HOST}=${os.hostname()}`];
}

/** The engine to use and that it answers, or why a job in `what` cannot run. */
async function readyEngine(what: string, opts: ContainerExecutorOptions): Promise<{ engine: string } | { unsupported: string }> {
  const engine = findEngine(opts.engine);
  if (!engine) {
    const wanted = opts.engine || process.env.DELIVERY_CONTAINER_ENGINE;
    const why = wanted ? `${wanted} is not an executable` : 'neither docker nor podman is on this machine';
    return { unsupported: `${what} needs a container engine: ${why} (or run it in the local shell with --force-shell-executor)` };
  }
  const down = await engineDown(engine);
  if (down) return { unsupported: `${what}: the container engine ${path.basename(engine)} does not answer: ${down}` };
  await removeOrphanContainers(engine);
  return { engine };
}

/** Containers started for a job, removed together. */
interface Started {
  names: string[];
  remove(): Promise<void>;
}

function started(engine: string): Started {
  const names: string[] = [];
  return {
    names,
    remove: async () => {
      if (names.length === 0) return;
      const all = names.splice(0);
      await run(engine, ['rm', '-f', '-v', ...all], { timeoutMs: 60_000 });
    },
  };
}

/** Starts a job's services (ready, or the reason they are not) under `prefix`. */
async function startServices(engine: string, prefix: string, services: readonly ServiceSpec[], job: OpenJob, opts: ContainerExecutorOptions, into: Started): Promise<string | null> {
  for (const image of services.map((s) => s.image)) {
    const missing = await ensureImage(engine, image, job);
    if (missing) return missing;
  }
  for (const [i, svc] of services.entries()) {
    const name = `${prefix}-svc${i}`;
    const failed = await startService(engine, name, svc, job, opts);
    into.names.push(name);
    if (failed && failed !== 'cancelled' && svc.optional) job.log(`warning: ${failed}; the job runs without it (as GitLab's runner does)`);
    else if (failed) return failed;
  }
  return null;
}

/** Services beside a job that runs on this machine (GitHub `services:` without `container:`), reached on 127.0.0.1. */
export async function openServicesForHost(
  services: readonly ServiceSpec[],
  job: OpenJob,
  opts: ContainerExecutorOptions = {},
): Promise<{ remove: () => Promise<void>; notes: string[] } | { unsupported: string } | { error: string }> {
  const ready = await readyEngine(`services ${services.map((s) => s.image).join(', ')}`, opts);
  if ('unsupported' in ready) return ready;
  const all = started(ready.engine);
  const failed = await startServices(ready.engine, `delivery-${randomHex(4)}`, services, job, opts, all);
  if (failed) {
    await all.remove();
    return failed.startsWith('image ') ? { unsupported: failed } : { error: failed };
  }
  return { remove: () => all.remove(), notes: [`services on this machine's network (127.0.0.1): ${services.map((s) => `${s.image} (${s.aliases.join(', ')})`).join('; ')}`] };
}

export async function openContainerJob(
  spec: ContainerExecutorSpec,
  job: OpenJob,
  opts: ContainerExecutorOptions = {},
): Promise<{ session: JobSession; notes?: string[] } | { unsupported: string } | { error: string }> {
  const ready = await readyEngine(`${spec.what} ${spec.image}`, opts);
  if ('unsupported' in ready) return ready;
  const engine = ready.engine;
  const missing = await ensureImage(engine, spec.image, job);
  if (missing) return { unsupported: missing };
  const prefix = `delivery-${randomHex(4)}`;
  const all = started(engine);
  try {
    const failed = await startServices(engine, prefix, spec.services, job, opts, all);
    if (failed) {
      await all.remove();
      return failed.startsWith('image ') ? { unsupported: failed } : { error: failed };
    }
    const name = `${prefix}-job`;
    const { args: eArgs, env } = envArgs(spec.env);
    const mounts = [...new Set(spec.mounts)].flatMap((m) => ['-v', `${m}:${m}`]);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-container-'));
    const hosts = spec.services.flatMap((s) => s.aliases).flatMap((a) => ['--add-host', `${a}:127.0.0.1`]);
    const created = await run(
      engine,
      ['run', '-d', '--name', name, ...labelArgs(job), '--network', 'host', ...hosts, ...mounts, '-v', `${scratch}:${scratch}`, ...eArgs, '--entrypoint', 'sh', spec.image, '-c', IDLE],
      { env, signal: job.signal },
    );
    if (created.code !== 0) {
      fs.rmSync(scratch, { recursive: true, force: true });
      await all.remove();
      return { error: `could not start a container of ${spec.image}: ${lastLine(created.stderr)}` };
    }
    all.names.push(name);
    const imagePath = (await run(engine, ['image', 'inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', spec.image])).stdout
      .split('\n')
      .find((l) => l.startsWith('PATH='))
      ?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    const runner = new LocalProcessRunner({ masker: opts.masker, ownerMark: opts.ownerMark });
    let steps = 0;
    const session: JobSession = {
      run: (cmd, io) => runner.run(execSpec(engine, name, cmd, scratch, ++steps, imagePath), io),
      close: async () => {
        await all.remove();
        fs.rmSync(scratch, { recursive: true, force: true });
        return { leftovers: 0, notes: [] };
      },
    };
    const notes = [`running in a container of ${spec.image} (${path.basename(engine)})${spec.services.length ? `, services: ${spec.services.map((s) => `${s.image} as ${s.aliases.join(', ')}`).join('; ')}` : ''}`];
    return { session, notes };
  } catch (e) {
    await all.remove();
    return { error: `could not start the job's containers: ${(e as Error).message}` };
  }
}

/**
 * The host command that runs `cmd` in the job's container: `docker exec` with the step's variables passed by name
 * (values in the CLI's environment, not its argv), its script written where the container sees it.
 */
function execSpec(engine: string, container: string, cmd: CommandSpec, scratch: string, n: number, imagePath: string): CommandSpec {
  let args = cmd.args;
  if (cmd.scriptFile) {
    const file = path.join(scratch, `step-${n}${cmd.scriptFile.extension}`);
    fs.writeFileSync(file, cmd.scriptFile.text, { mode: 0o755 });
    args = args.map((a) => a.split('{0}').join(file));
  }
  const vars = { ...cmd.env };
  // A PATH made from this machine's (GITHUB_PATH additions) is made from the image's inside.
  const hostPath = process.env.PATH ?? '';
  if (vars.PATH !== undefined && hostPath && vars.PATH.includes(hostPath)) vars.PATH = vars.PATH.split(hostPath).join(imagePath);
  const { args: eArgs, env } = envArgs(vars);
  return {
    command: engine,
    args: ['exec', ...(cmd.stdin !== undefined ? ['-i'] : []), '-w', cmd.cwd, ...eArgs, container, cmd.command, ...args],
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    cwd: os.tmpdir(),
    stdin: cmd.stdin,
    cleanEnv: true,
  };
}

/** Starts a service and waits until it is ready; the reason when it cannot be. */
async function startService(engine: string, name: string, svc: ServiceSpec, job: OpenJob, opts: ContainerExecutorOptions): Promise<string | null> {
  const { args: eArgs, env } = envArgs(svc.env);
  const entry = svc.entrypoint === null ? [] : ['--entrypoint', svc.entrypoint[0] ?? ''];
  const after = [...(svc.entrypoint?.slice(1) ?? []), ...(svc.command ?? [])];
  job.log(`starting service ${svc.image} (${svc.aliases.join(', ')})`);
  const r = await run(engine, ['run', '-d', '--name', name, ...labelArgs(job), '--network', 'host', ...eArgs, ...entry, svc.image, ...after], { env, signal: job.signal });
  if (r.code !== 0) return `service ${svc.image} did not start: ${lastLine(r.stderr)}`;
  const deadline = Date.now() + (opts.serviceTimeoutMs ?? 60_000);
  const ports = svc.healthCmd ? [] : await exposedPorts(engine, svc.image);
  for (;;) {
    if (job.signal.aborted) return 'cancelled';
    const state = await run(engine, ['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', name]);
    const [running, code] = state.stdout.trim().split(' ');
    if (running !== 'true') {
      const logs = await run(engine, ['logs', '--tail', '5', name]);
      return `service ${svc.image} exited with code ${code ?? '?'}: ${lastLine(logs.stdout + logs.stderr)}`;
    }
    let ready: boolean;
    if (svc.healthCmd) ready = (await run(engine, ['exec', name, 'sh', '-c', svc.healthCmd], { timeoutMs: 30_000 })).code === 0;
    else ready = (await Promise.all(ports.map(portOpen))).every(Boolean);
    if (ready) return null;
    if (Date.now() > deadline) return `service ${svc.image} was not ready after ${Math.round((opts.serviceTimeoutMs ?? 60_000) / 1000)} s${svc.healthCmd ? ` (health command: ${svc.healthCmd})` : ` (ports ${ports.join(', ')})`}`;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** TCP ports the image declares (EXPOSE): a service on them is ready when they accept connections. */
async function exposedPorts(engine: string, image: string): Promise<number[]> {
  const r = await run(engine, ['image', 'inspect', '--format', '{{json .Config.ExposedPorts}}', image]);
  try {
    const ports = JSON.parse(r.stdout.trim() || 'null') as Record<string, unknown> | null;
    return Object.keys(ports ?? {})
      .filter((p) => p.endsWith('/tcp'))
      .map((p) => Number(p.split('/')[0]))
      .filter((p) => Number.isInteger(p) && p > 0);
  } catch {
    return [];
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/** Null when steps can run in containers here (an engine that answers), else why not: PlanIO.containerReady. */
export async function containerReady(engine?: string): Promise<string | null> {
  const found = findEngine(engine);
  if (!found) {
    const wanted = engine || process.env.DELIVERY_CONTAINER_ENGINE;
    return `no container engine: ${wanted ? `${wanted} is not an executable` : 'neither docker nor podman is on this machine'}`;
  }
  const down = await engineDown(found);
  return down ? `the container engine ${path.basename(found)} does not answer: ${down}` : null;
}

/**
 * Runs a step in a one-off container of its image (CommandSpec.image: GitHub Docker actions): built first from its
 * Dockerfile when it has one (tagged by the Dockerfile's folder and text, so an unchanged action is built once),
 * then `docker run --rm` with the step's variables by name and its folders mounted at their own paths. The
 * container is removed when the step ends or is cancelled.
 */
export async function runImageStep(spec: CommandSpec, io: ProcessIO, job: OpenJob, opts: ContainerExecutorOptions = {}): Promise<ProcessResult> {
  const image = spec.image!;
  const fail = (error: string): ProcessResult => ({ exitCode: null, signal: null, error, leftovers: 0 });
  const ready = await readyEngine(`image ${image.ref}`, opts);
  if ('unsupported' in ready) return fail(ready.unsupported);
  const engine = ready.engine;
  let ref = image.ref;
  if (image.build) {
    let text = '';
    try {
      text = fs.readFileSync(image.build.dockerfile, 'utf8');
    } catch (e) {
      return fail(`cannot read the action's Dockerfile ${image.build.dockerfile}: ${(e as Error).message}`);
    }
    ref = `delivery-action:${nodeCrypto().createHash('sha256').update(image.build.context).update('\0').update(text).digest('hex').slice(0, 16)}`;
    const have = await run(engine, ['image', 'inspect', '--format', '{{.Id}}', ref]);
    if (have.code !== 0) {
      io.onLine('stderr', `building the action's image from ${path.basename(image.build.dockerfile)}`);
      const built = await run(engine, ['build', '-q', '--network', 'host', '-f', image.build.dockerfile, '-t', ref, image.build.context], { signal: io.signal, timeoutMs: PULL_TIMEOUT_MS });
      if (built.code !== 0) return fail(`could not build the action's image: ${lastLine(built.stderr)}`);
    }
  } else {
    const missing = await ensureImage(engine, ref, { ...job, log: (t) => io.onLine('stderr', t), signal: io.signal });
    if (missing) return fail(missing);
  }
  let vars: Record<string, string> = { ...spec.env };
  // The runner's PATH and HOME mean nothing inside: the image's own apply.
  delete vars.PATH;
  delete vars.HOME;
  let mounts = [...new Set([spec.cwd, ...image.mounts])].flatMap((m) => ['-v', `${m}:${m}`]);
  let workdir = spec.cwd;
  let home: string | null = null;
  if (image.github) {
    const g = githubLayout(image.github, spec.cwd, vars);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-github-home-'));
    vars = { ...g.vars, HOME: '/github/home' };
    workdir = g.workdir;
    mounts = ['-v', `${image.github.workspace}:/github/workspace`, '-v', `${image.github.files}:/github/file_commands`, '-v', `${image.github.files}:/github/workflow`, '-v', `${home}:/github/home`];
  }
  const { args: eArgs, env } = envArgs(vars);
  const name = `delivery-${randomHex(4)}-step`;
  const entry = image.entrypoint === null ? [] : ['--entrypoint', image.entrypoint];
  const runner = new LocalProcessRunner({ masker: opts.masker, ownerMark: opts.ownerMark });
  try {
    return await runner.run(
      {
        command: engine,
        args: ['run', '--rm', ...(spec.stdin !== undefined ? ['-i'] : []), '--name', name, ...labelArgs(job), '--network', 'host', ...mounts, '-w', workdir, ...eArgs, ...entry, ref, ...spec.args],
        env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
        cwd: os.tmpdir(),
        stdin: spec.stdin,
        cleanEnv: true,
      },
      io,
    );
  } finally {
    await run(engine, ['rm', '-f', name], { timeoutMs: 60_000 });
    if (home) fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * A Docker action's variables and working directory in GitHub's layout: host paths under the workspace become
 * /github/workspace/…, the step files /github/file_commands/…, the event /github/workflow/event.json.
 */
export function githubLayout(g: { workspace: string; files: string }, cwd: string, vars: Record<string, string>): { vars: Record<string, string>; workdir: string } {
  const map = (v: string): string => {
    if (v === g.workspace) return '/github/workspace';
    if (v.startsWith(`${g.workspace}/`)) return `/github/workspace/${v.slice(g.workspace.length + 1)}`;
    if (v.startsWith(`${g.files}/`)) return `/github/file_commands/${v.slice(g.files.length + 1)}`;
    return v;
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = k === 'GITHUB_EVENT_PATH' && v.startsWith(`${g.files}/`) ? `/github/workflow/${v.slice(g.files.length + 1)}` : map(v);
  return { vars: out, workdir: map(cwd) };
}
