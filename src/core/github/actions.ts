// `uses:` references: which action a step names, and what a local run can do with it. Remote actions
// (`owner/repo[/path]@ref`) are fetched with git from the configured host when the step runs (PlanIO.actions);
// their names come from the workflow file, so every part is checked here before it reaches git or a path. The few
// whose local meaning is certain — a checkout of the workspace we already have — are a no-op.
import type { RemoteActionRef } from '../sources';
import { stepJunitReports } from './testReports';

export type UsesRef =
  | { kind: 'local'; path: string }
  | { kind: 'docker'; image: string }
  | { kind: 'remote'; ref: string; name: string }
  | { kind: 'invalid'; reason: string };

export function parseUses(uses: string): UsesRef {
  const u = uses.trim();
  if (u.startsWith('$/')) {
    // GitHub's self-repository reference (2026): this repository's action at the running commit, no checkout
    // needed. A local run's workspace is that commit: it reads as ./path.
    if (u.includes('@')) return { kind: 'invalid', reason: `"${u}": a self-repository action ($/path) is named without @ref` };
    return parseUses(`./${u.slice(2)}`);
  }
  if (u.startsWith('./')) {
    const rel = u.slice(2).replace(/\/+$/, '');
    // A local action is a folder of this repository: `./../x` or `.//etc` would run code from outside it.
    let depth = 0;
    let leaves = rel.startsWith('/') || rel.includes('\0');
    for (const part of rel.split('/')) {
      if (part === '..') depth--;
      else if (part !== '' && part !== '.') depth++;
      if (depth < 0) leaves = true;
    }
    if (leaves) return { kind: 'invalid', reason: `"${u}" is outside the repository: a local action must be a folder inside it; not run` };
    return { kind: 'local', path: rel };
  }
  if (u.startsWith('docker://')) return { kind: 'docker', image: u.slice('docker://'.length) };
  const m = /^([^/@\s]+\/[^/@\s]+(?:\/[^@\s]*)?)@(\S+)$/.exec(u);
  if (m) return { kind: 'remote', ref: u, name: m[1].toLowerCase() };
  return { kind: 'invalid', reason: `"${u}" is not an action reference (./path, $/path, docker://image or owner/repo[/path]@ref)` };
}

const OWNER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const REPO = /^[A-Za-z0-9_.-]{1,100}$/;
const SEGMENT = /^[A-Za-z0-9_.+-]{1,255}$/;
const REF = /^[A-Za-z0-9_.+/-]{1,255}$/;

/**
 * The parts of `owner/repo[/path]@ref`, checked: they become a URL, git arguments and a folder, so only what
 * GitHub allows in names is let through (no `..`, no leading `-`, no characters a shell or git would read).
 */
export function remoteRef(uses: string): RemoteActionRef | { invalid: string } {
  const u = uses.trim();
  const at = u.lastIndexOf('@');
  if (at <= 0) return { invalid: `"${u}" has no @ref (owner/repo[/path]@ref)` };
  const [owner = '', repo = '', ...rest] = u.slice(0, at).split('/');
  const ref = u.slice(at + 1);
  if (!OWNER.test(owner) || owner.includes('..')) return { invalid: `"${u}": "${owner}" is not a repository owner` };
  if (!REPO.test(repo) || repo === '.' || repo === '..' || repo.startsWith('-')) return { invalid: `"${u}": "${repo}" is not a repository name` };
  const parts = rest.filter((p, i) => !(p === '' && i === rest.length - 1));
  if (parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')) return { invalid: `"${u}": "${rest.join('/')}" is not a folder of the repository` };
  if (!REF.test(ref) || /^[-./]|\.\.|\/\/|[/.]$|\.lock$/.test(ref)) return { invalid: `"${u}": "${ref}" is not a git branch, tag or commit` };
  return { owner, repo, path: parts.join('/'), ref };
}

/** A full commit SHA (fetched by id; a name is resolved on the host first). */
export function isCommitSha(ref: string): boolean {
  return /^[0-9a-f]{40}$/.test(ref) || /^[0-9a-f]{64}$/.test(ref);
}

/** The files a local action may be described in (relative to the workspace folder). */
export function actionFiles(dir: string): string[] {
  const base = dir === '' || dir === '.' ? '' : `${dir}/`;
  return [`${base}action.yml`, `${base}action.yaml`];
}

/** What a local run does with a step's remote or Docker action: a no-op, why it cannot run here, the action to fetch, or the image to run. */
export function remoteActionPlan(ref: UsesRef, inputs: Record<string, string>): { noop: string } | { unsupported: string } | { fetch: RemoteActionRef } | { container: string } {
  switch (ref.kind) {
    case 'docker':
      // Runs in a container of the image (when a container engine answers: decided when the step starts).
      return { container: ref.image };
    case 'invalid':
      return { unsupported: ref.reason };
    case 'local':
      return { unsupported: 'a local action is read when the step runs' };
    case 'remote':
      break;
  }
  if (ref.name === 'actions/checkout') {
    // The same repository at the same commit is the workspace itself; anything else would fetch code.
    const other = Object.entries(inputs).filter(([k, v]) => {
      const key = k.toLowerCase();
      if (key === 'repository') return !/^\$\{\{\s*github\.repository\s*\}\}$/i.test(v.trim());
      if (key === 'ref') return !/^\$\{\{\s*github\.(sha|ref)\s*\}\}$/i.test(v.trim());
      return key === 'path' || key === 'sparse-checkout';
    });
    if (other.length === 0) return { noop: 'the workspace is already checked out here (actions/checkout does nothing locally)' };
    return { unsupported: `uses remote action ${ref.ref} to check out ${other.map(([k, v]) => `${k}: ${v}`).join(', ')}, which runs only on GitHub` };
  }
  // It publishes the job's test reports on GitHub; here the reports it names are the job's (github/testReports.ts).
  if (stepJunitReports(ref.ref, inputs) !== null) return { noop: `${ref.name} publishes test reports on GitHub; locally the Test Explorer shows them` };
  const r = remoteRef(ref.ref);
  if ('invalid' in r) return { unsupported: r.invalid };
  return { fetch: r };
}

/** `INPUT_<NAME>`: how the runner hands a JavaScript action its inputs (spaces become _, upper case). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** The JavaScript runtimes of `runs.using` a local run runs with this machine's `node`. */
export function isNodeRuntime(using: string): boolean {
  return /^node(12|16|20|24)$/.test(using);
}
