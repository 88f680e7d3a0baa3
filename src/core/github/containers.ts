// Where a GitHub job runs, as executor data: in a container of its `container:` image (or of the image its runs-on
// label is mapped to), with its `services:` beside it, or on this machine with its services. Expressions in images
// and variables are evaluated per matrix leg by the caller's `evaluate`.
import type { ExecutorSpec, ServiceSpec } from '../engine/ports';
import type { WorkflowJob } from './workflow';

export interface JobPlacement {
  executor: ExecutorSpec;
  /** Lines for the job's log: what differs from GitHub's runner. */
  notes: string[];
}

/**
 * The executor of a job. `image`: the container image (its `container:`, else its platform's image), null: the
 * runner itself. `folder`: the workspace, mounted at the same path; `tempRoot`: the machine's temp folder, where the
 * job's step files (GITHUB_ENV, GITHUB_OUTPUT, scripts of actions) are made.
 */
export function jobPlacement(job: WorkflowJob, image: string | null, evaluate: (text: string) => string, folder: string, tempRoot: string | null): JobPlacement {
  const notes: string[] = [];
  const services: ServiceSpec[] = [];
  for (const s of job.services) {
    const svcImage = s.image === null ? '' : evaluate(s.image);
    // GitHub skips a service whose image is empty (a service made conditional by an expression).
    if (svcImage === '') continue;
    const env = Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, evaluate(v)]));
    const options = s.options ? evaluate(s.options) : null;
    services.push({ image: svcImage, aliases: [s.name], entrypoint: null, command: null, env: { ...env, ...optionEnv(options) }, healthCmd: options ? optionValue(options, '--health-cmd') : null });
    for (const p of s.ports ?? []) {
      const [host, inner] = evaluate(p).split(':');
      if (inner !== undefined && host !== inner.replace(/\/.*$/, '')) notes.push(`service ${s.name}: port ${evaluate(p)} is not remapped locally: the service listens on ${inner} of this machine (services share its network)`);
    }
    if (s.credentials) notes.push(`service ${s.name}: credentials are not used locally; ${svcImage} must be on this machine or pullable`);
  }
  if (image === null) return { executor: { kind: 'host', ...(services.length ? { services } : {}) }, notes };
  const decl = job.containerSpec;
  const env = Object.fromEntries(Object.entries(decl?.env ?? {}).map(([k, v]) => [k, evaluate(v)]));
  if (decl?.credentials) notes.push(`container credentials are not used locally; ${image} must be on this machine or pullable`);
  if (decl?.options) notes.push(`container options "${evaluate(decl.options)}" are not applied locally`);
  if (decl?.volumes.length) notes.push(`container volumes (${decl.volumes.join(', ')}) are not mounted locally`);
  return {
    executor: { kind: 'container', what: 'GitHub container', image, env: { ...env, ...optionEnv(decl?.options ? evaluate(decl.options) : null) }, services, mounts: [folder, ...(tempRoot ? [tempRoot] : [])] },
    notes,
  };
}

/** The words of a docker options string, with single and double quotes (no variables, no escapes beyond `\"`). */
export function optionWords(text: string): string[] {
  const out: string[] = [];
  let cur: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"' && text[i + 1] === '"') cur += text[++i];
      else if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= '';
    } else if (/\s/.test(c)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** The value of `--name value` or `--name=value` in options, else null. */
export function optionValue(options: string, name: string): string | null {
  const words = optionWords(options);
  for (let i = 0; i < words.length; i++) {
    if (words[i] === name && i + 1 < words.length) return words[i + 1];
    if (words[i].startsWith(`${name}=`)) return words[i].slice(name.length + 1);
  }
  return null;
}

/** Variables set by `-e K=V` / `--env K=V` in options. */
function optionEnv(options: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!options) return out;
  const words = optionWords(options);
  for (let i = 0; i < words.length; i++) {
    let kv: string | null = null;
    if ((words[i] === '-e' || words[i] === '--env') && i + 1 < words.length) kv = words[++i];
    else if (words[i].startsWith('--env=')) kv = words[i].slice(6);
    if (kv && kv.includes('=')) out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  }
  return out;
}
