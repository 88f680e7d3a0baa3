// Version probes: ask an environment which commit it runs. One function per source kind of delivery.yml
// (`version:`), each returning {sha, raw, error} and never throwing for an expected failure. What a target answers
// is data: it is checked to look like a revision before anything uses it.
import type { EnvironmentConfig } from '../../core/config/delivery';
import type { SshTarget, VersionSource } from '../../core/environments/config';
import { shellCommand } from '../../core/engine/shell';
import { excerpt, extractVersion, waitedFor, type ProbeResult } from '../../core/environments/status';
import { expandSecrets, expandSecretsIn, Masker, type SecretResolver } from '../../core/secrets';
import { sshDestination, sshScriptCommand } from '../ssh';
import { capture, lastLine, type Captured } from './capture';
import { probeDocker } from './docker';
import { httpGet, noSecrets } from './http';
import type { DeployRepo } from './repo';

export interface ProbeContext {
  /** The workspace folder: commands run there. */
  folder: string;
  signal: AbortSignal;
  secrets?: SecretResolver;
  /** Base environment of probe commands (PATH, DOCKER_HOST, SSH_AUTH_SOCK...); default: this process's. */
  env?: NodeJS.ProcessEnv;
  repo: DeployRepo;
  /** Secrets to mask in what a probe reports, besides those its own URL and headers name (see Masker). */
  masker?: Masker;
}

type Probe<K extends VersionSource['kind']> = (v: Extract<VersionSource, { kind: K }>, envId: string, ctx: ProbeContext) => Promise<ProbeResult>;

const PROBES: { [K in VersionSource['kind']]: Probe<K> } = {
  http: probeHttp,
  command: probeCommand,
  git: probeGit,
  ssh: probeSsh,
  docker: (v, _envId, ctx) => probeDocker(v, { signal: ctx.signal, env: ctx.env, cwd: ctx.folder }),
};

/** What the environment's `version:` source reports; an error when it has none. */
export async function probeVersion(env: Pick<EnvironmentConfig, 'id' | 'version'>, ctx: ProbeContext): Promise<ProbeResult> {
  const v = env.version;
  if (!v) return { sha: null, raw: null, error: `environment "${env.id}" has no version source in delivery.yml` };
  if (ctx.signal.aborted) return { sha: null, raw: null, error: 'cancelled' };
  const r = await (PROBES[v.kind] as Probe<typeof v.kind>)(v, env.id, ctx);
  // A target may echo a secret back (a header in its answer, an environment variable in a script's output).
  const mask = ctx.masker?.mask ?? ((t: string) => t);
  return { sha: r.sha, raw: r.raw === null ? null : mask(r.raw), error: r.error === null ? null : mask(r.error) };
}

/** A command's output with the known secrets masked, before anything quotes or cuts it. */
function masked(c: Captured, masker: Masker | undefined): Captured {
  return masker && !masker.empty ? { ...c, stdout: masker.mask(c.stdout), stderr: masker.mask(c.stderr) } : c;
}

function found(value: string, raw: string | null): ProbeResult {
  return { sha: value, raw, error: null };
}

function failed(error: string, raw: string | null = null): ProbeResult {
  return { sha: null, raw, error };
}

/**
 * The version out of a probe's text answer, or why not (with where the answer came from). `mask`: the answer is
 * quoted in the error with secrets masked before it is collapsed and cut (a secret cut in half would show its start).
 */
function fromAnswer(text: string, how: { json: string | null; regex: string | null }, source: string, raw: string, mask?: (t: string) => string): ProbeResult {
  const got = extractVersion(text, how);
  if ('value' in got) return found(got.value, raw);
  const quoted = mask ? extractVersion(mask(text), how) : got;
  return failed(`${'error' in quoted ? quoted.error : got.error} (${source})`, raw);
}

async function probeHttp(v: Extract<VersionSource, { kind: 'http' }>, _envId: string, ctx: ProbeContext): Promise<ProbeResult> {
  const secretValues = new Set<string>();
  let url: string;
  let headers: Record<string, string>;
  try {
    url = await expandSecrets(v.url, ctx.secrets ?? noSecrets, secretValues);
    headers = await expandSecretsIn(v.headers, ctx.secrets ?? noSecrets, secretValues);
  } catch (e) {
    return failed((e as Error).message);
  }
  const { mask } = new Masker(secretValues).with(ctx.masker);
  const r = await httpGet(url, { headers, timeoutMs: v.timeoutMs, signal: ctx.signal, what: v.url });
  if ('error' in r) return failed(mask(r.error));
  const { status, statusText, body, truncated } = r.answer;
  // Masked before excerpt() collapses whitespace and cuts: a secret with two spaces in a row, or cut at the end,
  // would no longer match (the result is masked again in probeVersion, collapsed forms included).
  const raw = excerpt(mask(body), 200);
  if (status < 200 || status > 299) return failed(`HTTP ${status}${statusText ? ` ${mask(statusText)}` : ''} from ${v.url}: ${raw}`, raw);
  if (truncated) return failed(`the answer from ${v.url} is larger than 1 MB; a version endpoint should answer with a few bytes`, raw);
  return fromAnswer(body, v, v.url, raw, mask);
}

async function probeCommand(v: Extract<VersionSource, { kind: 'command' }>, envId: string, ctx: ProbeContext): Promise<ProbeResult> {
  const c = masked(await capture(shellCommand('bash', v.command, ctx.folder, { DELIVERY_ENV: envId }), { timeoutMs: v.timeoutMs, signal: ctx.signal, baseEnv: ctx.env }), ctx.masker);
  const problem = commandProblem(c, 'the version command', v.timeoutMs);
  if (problem) return problem;
  return fromAnswer(c.stdout, v, 'the version command', excerpt(c.stdout, 200));
}

function commandProblem(c: Captured, what: string, timeoutMs: number): ProbeResult | null {
  if (c.cancelled) return failed('cancelled');
  if (c.timedOut) return failed(`no answer within ${waitedFor(timeoutMs)} from ${what} (it was stopped)`, excerpt(c.stdout, 200));
  if (c.startError) return failed(`${what} did not start: ${c.startError}`);
  if (c.exitCode !== 0) {
    const why = lastLine(c.stderr) || lastLine(c.stdout);
    return failed(`${what} exited with code ${c.exitCode}${why ? `: ${why}` : ''}`, excerpt(c.stderr || c.stdout, 200));
  }
  return null;
}

async function probeSsh(v: Extract<VersionSource, { kind: 'ssh' }>, envId: string, ctx: ProbeContext): Promise<ProbeResult> {
  const c = masked(await capture(sshScriptCommand(v.ssh, v.command, { DELIVERY_ENV: envId }, ctx.folder), { timeoutMs: v.timeoutMs, signal: ctx.signal, baseEnv: ctx.env }), ctx.masker);
  const where = `${sshDestination(v.ssh)}:${v.ssh.port}`;
  if (!c.cancelled && !c.timedOut && c.exitCode === 255) return failed(describeSshFailure(c.stderr, v.ssh), excerpt(c.stderr, 200));
  const problem = commandProblem(c, `the version command on ${where}`, v.timeoutMs);
  if (problem) return problem;
  return fromAnswer(c.stdout, v, `ssh ${where}`, excerpt(c.stdout, 200));
}

/** ssh exits 255 for its own failures; say which one. */
export function describeSshFailure(stderr: string, t: SshTarget): string {
  const where = `${t.host}:${t.port}`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed/i.test(stderr)) {
    return `ssh: the host key of ${where} does not match the one in ${t.knownHostsFile ?? '~/.ssh/known_hosts'} (the host was reinstalled, or this is not the host you expect)`;
  }
  if (/No \S+ host key is known|Host key verification failed/i.test(stderr)) {
    return `ssh: host key verification failed for ${where}: its key is not the one in ${t.knownHostsFile ?? '~/.ssh/known_hosts'}`;
  }
  if (/Connection refused/i.test(stderr)) return `ssh: connection refused by ${where} (no ssh server listens there)`;
  if (/Permission denied/i.test(stderr)) return `ssh: permission denied for ${sshDestination(t)} on ${where} (the key${t.identityFile ? ` ${t.identityFile}` : ''} is not accepted)`;
  if (/timed out/i.test(stderr)) return `ssh: connection to ${where} timed out`;
  if (/Could not resolve hostname/i.test(stderr)) return `ssh: unknown host ${t.host}`;
  if (/No route to host|Network is unreachable/i.test(stderr)) return `ssh: ${where} is unreachable`;
  const why = lastLine(stderr);
  // A session on a shared connection (sshMux.ts) says nothing when that connection dies.
  if (!why && t.controlPath) return `ssh: the connection to ${where} was lost (the host stopped answering)`;
  return `ssh to ${where} failed${why ? `: ${why}` : ' (exit code 255)'}`;
}

async function probeGit(v: Extract<VersionSource, { kind: 'git' }>, _envId: string, ctx: ProbeContext): Promise<ProbeResult> {
  if (v.remote !== null) {
    const r = await ctx.repo.lsRemote(v.remote, v.ref, ctx.signal, v.timeoutMs);
    return 'error' in r ? failed(r.error) : found(r.sha, r.line);
  }
  const timeout = AbortSignal.timeout(v.timeoutMs);
  let sha: string | null;
  try {
    sha = await ctx.repo.commitOf(v.ref, AbortSignal.any([ctx.signal, timeout]));
  } catch {
    return failed(ctx.signal.aborted ? 'cancelled' : `no answer within ${waitedFor(v.timeoutMs)} from git rev-parse`);
  }
  return sha ? found(sha, null) : failed(`this repository has no ref "${v.ref}" (the version source names a local ref or tag)`);
}
