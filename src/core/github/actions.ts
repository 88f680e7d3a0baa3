// `uses:` references: which action a step names, and what a local run can do with it. Remote actions never run
// here (that would mean downloading and executing code we have not seen); a short allow-list maps the few whose
// local meaning is certain — a checkout of the workspace we already have — to a no-op.

export type UsesRef =
  | { kind: 'local'; path: string }
  | { kind: 'docker'; image: string }
  | { kind: 'remote'; ref: string; name: string }
  | { kind: 'invalid'; reason: string };

export function parseUses(uses: string): UsesRef {
  const u = uses.trim();
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
  return { kind: 'invalid', reason: `"${u}" is not an action reference (./path, docker://image or owner/repo[/path]@ref)` };
}

/** The files a local action may be described in (relative to the workspace folder). */
export function actionFiles(dir: string): string[] {
  const base = dir === '' || dir === '.' ? '' : `${dir}/`;
  return [`${base}action.yml`, `${base}action.yaml`];
}

/** What a local run does with a step's remote or Docker action: a no-op, or why it cannot run here. */
export function remoteActionPlan(ref: UsesRef, inputs: Record<string, string>): { noop: string } | { unsupported: string } {
  switch (ref.kind) {
    case 'docker':
      return { unsupported: `uses a Docker action docker://${ref.image} (needs a container engine)` };
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
  return { unsupported: `uses remote action ${ref.ref} (remote actions are not downloaded or run locally)` };
}
