// The docker version probe: the commit label (default org.opencontainers.image.revision) of a container or an
// image on the Docker host of the environment (DOCKER_HOST), else a tag that is a commit SHA. `docker inspect`
// prints JSON, validated here before use.
import type { VersionSource } from '../../core/environments/config';
import { checkVersion, excerpt, waitedFor, type ProbeResult } from '../../core/environments/status';
import { isShaLike } from '../../core/environments/diff';
import { capture, lastLine } from './capture';

type DockerSource = Extract<VersionSource, { kind: 'docker' }>;

interface Inspected {
  labels: Record<string, string>;
  /** Tags the image is known by (image) or the image reference it was started from (container). */
  refs: string[];
  running: boolean | null;
}

export async function probeDocker(v: DockerSource, opts: { signal: AbortSignal; env?: NodeJS.ProcessEnv; cwd: string }): Promise<ProbeResult> {
  const deadline = AbortSignal.timeout(v.timeoutMs);
  const signal = AbortSignal.any([opts.signal, deadline]);
  type Answer = { error: string; stderr: string } | { stdout: string };
  const docker = async (args: string[]): Promise<Answer> => {
    const c = await capture({ command: 'docker', args, env: {}, cwd: opts.cwd }, { timeoutMs: v.timeoutMs, signal, baseEnv: opts.env });
    if (opts.signal.aborted) return { error: 'cancelled', stderr: '' };
    if (c.timedOut || deadline.aborted) return { error: `no answer within ${waitedFor(v.timeoutMs)} from the Docker daemon${dockerHost(opts.env)}`, stderr: '' };
    if (c.startError) return { error: c.startError.startsWith('command not found') ? 'docker is not installed here (command not found: docker)' : c.startError, stderr: '' };
    if (c.exitCode !== 0) return { error: describeDockerError(c.stderr, opts.env), stderr: c.stderr };
    return { stdout: c.stdout };
  };
  const target = v.container ? `container "${v.container}"` : `image "${v.image}"`;
  const inspectArgs = v.container ? ['container', 'inspect', '--', v.container] : ['image', 'inspect', '--', v.image];
  let r = await docker(inspectArgs);
  let ref = v.container ?? v.image;
  // An image named without a tag: the newest local image of that repository (deploys tag images by commit).
  if ('error' in r && !v.container && !hasTagOrDigest(v.image) && /no such/i.test(r.stderr)) {
    const list = await docker(['image', 'ls', '--format', '{{.Tag}}', '--', v.image]);
    const tags = 'stdout' in list ? list.stdout.split('\n').map((t) => t.trim()).filter((t) => t && t !== '<none>') : [];
    if (tags.length) {
      const refs = tags.map((t) => `${v.image}:${t}`);
      const all = await docker(['image', 'inspect', '--', ...refs]);
      const newest = 'stdout' in all ? newestImage(all.stdout, refs) : null;
      if (newest) {
        ref = newest.ref;
        r = { stdout: JSON.stringify([newest.image]) };
      }
    }
  }
  if ('error' in r) return { sha: null, raw: null, error: `${target}: ${r.error}` };
  const info = parseInspect(r.stdout, Boolean(v.container));
  if (!info) return { sha: null, raw: excerpt(r.stdout, 200), error: `${target}: docker inspect printed something that is not its JSON` };
  const label = info.labels[v.label];
  if (label !== undefined) {
    const checked = checkVersion(label.trim());
    const raw = `${ref} ${v.label}=${label}${info.running === false ? ' (the container is not running)' : ''}`;
    return 'value' in checked ? { sha: checked.value, raw, error: null } : { sha: null, raw, error: `${target}: label ${v.label}: ${checked.error}` };
  }
  const tag = info.refs.map(tagOf).find((t): t is string => t !== null && isShaLike(t));
  if (tag) return { sha: tag, raw: `${ref} (tag ${tag})`, error: null };
  return { sha: null, raw: info.refs.join(', ') || null, error: `${target} has no label "${v.label}" and no tag that is a commit SHA` };
}

function dockerHost(env: NodeJS.ProcessEnv | undefined): string {
  const host = (env ?? process.env).DOCKER_HOST;
  return host ? ` at ${host}` : '';
}

export function describeDockerError(stderr: string, env?: NodeJS.ProcessEnv): string {
  if (/Cannot connect to the Docker daemon|connect: no such file or directory|connection refused/i.test(stderr)) {
    return `cannot reach the Docker daemon${dockerHost(env)} (is it running? DOCKER_HOST selects it)`;
  }
  if (/permission denied.*docker/i.test(stderr)) return `no permission to use the Docker daemon${dockerHost(env)}`;
  const m = /No such (object|container|image)[^:]*:\s*(\S+)/i.exec(stderr);
  if (m) return `not found on the Docker host${dockerHost(env)} (${m[0].trim()})`;
  return lastLine(stderr).replace(/^Error( response from daemon)?:\s*/i, '') || 'docker failed';
}

function hasTagOrDigest(image: string): boolean {
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@');
}

function tagOf(ref: string): string | null {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const at = last.indexOf(':');
  return at >= 0 && !last.includes('@') ? last.slice(at + 1) : null;
}

/** Of images inspected by `refs` (docker answers in that order), the newest (by Created, to the nanosecond). */
function newestImage(stdout: string, refs: string[]): { ref: string; image: unknown } | null {
  let list: unknown;
  try {
    list = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (!Array.isArray(list)) return null;
  let best: { ref: string; image: unknown; at: [number, string] } | null = null;
  list.forEach((image: unknown, i) => {
    const created = (image as { Created?: unknown })?.Created;
    if (typeof created !== 'string' || i >= refs.length) return;
    const at = createdAt(created);
    if (!best || at[0] > best.at[0] || (at[0] === best.at[0] && at[1] > best.at[1])) best = { ref: refs[i], image, at };
  });
  return best;
}

/** RFC 3339 with up to nine fraction digits -> [whole seconds, fraction padded to 9 digits] (comparable). */
function createdAt(text: string): [number, string] {
  const m = /^(.*?\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(text);
  if (!m) return [Date.parse(text) || 0, ''];
  return [Date.parse(`${m[1]}${m[3]}`) || 0, (m[2] ?? '').padEnd(9, '0')];
}

/** The parts of `docker inspect` JSON the probe reads, validated; null when the output is not that JSON. */
export function parseInspect(stdout: string, container: boolean): Inspected | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return null;
  }
  const first = Array.isArray(parsed) ? parsed[0] : null;
  if (first === null || typeof first !== 'object') return null;
  const obj = first as { Config?: { Labels?: unknown; Image?: unknown }; RepoTags?: unknown; State?: { Running?: unknown } };
  const labels: Record<string, string> = {};
  const raw = obj.Config?.Labels;
  if (raw && typeof raw === 'object') for (const [k, val] of Object.entries(raw)) if (typeof val === 'string') labels[k] = val;
  const refs = container
    ? typeof obj.Config?.Image === 'string'
      ? [obj.Config.Image]
      : []
    : Array.isArray(obj.RepoTags)
      ? obj.RepoTags.filter((t): t is string => typeof t === 'string')
      : [];
  const running = typeof obj.State?.Running === 'boolean' ? obj.State.Running : null;
  return { labels, refs, running };
}
