// actions/setup-node, setup-python, setup-go and setup-java: a local run installs nothing, it uses this machine's
// toolchain when its version satisfies the one the step asks for, and says so. Otherwise the step is unsupported
// locally ("asks for Node 24, this machine has 20.20.2"): a leg never claims a version it did not run with.

/** A toolchain a setup action provides; this machine's version comes from PlanIO.toolVersion. */
export type Toolchain = 'node' | 'python' | 'go' | 'java';

export interface SetupAction {
  tool: Toolchain;
  /** As people name it in messages. */
  label: string;
  /** The command whose version is this machine's (for "this machine has no …"). */
  command: string;
  /** The input naming the version, and the one naming a file that holds it. */
  input: string;
  fileInput: string;
  /** The outputs the action sets (steps may read them), given this machine's version. */
  outputs: (version: string) => Record<string, string>;
}

const SETUP_ACTIONS: Record<string, SetupAction> = {
  'actions/setup-node': { tool: 'node', label: 'Node', command: 'node', input: 'node-version', fileInput: 'node-version-file', outputs: (v) => ({ 'node-version': `v${v}` }) },
  'actions/setup-python': { tool: 'python', label: 'Python', command: 'python3', input: 'python-version', fileInput: 'python-version-file', outputs: (v) => ({ 'python-version': v }) },
  'actions/setup-go': { tool: 'go', label: 'Go', command: 'go', input: 'go-version', fileInput: 'go-version-file', outputs: (v) => ({ 'go-version': v }) },
  'actions/setup-java': { tool: 'java', label: 'Java', command: 'java', input: 'java-version', fileInput: 'java-version-file', outputs: (v) => ({ version: v }) },
};

/** The setup action a remote `uses:` names (`actions/setup-node`, lower-cased, without @ref), if it is one. */
export function setupActionOf(name: string): SetupAction | null {
  return SETUP_ACTIONS[name.toLowerCase()] ?? null;
}

/** Node's LTS code names (lts/iron) and their majors. */
const NODE_LTS: Record<string, number> = { argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14, gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24 };

/** The numbers of a version as tools print it: `v20.20.2`, `go1.22.3`, Java's `1.8.0_292` (= 8.0.292), `17`. */
export function versionNumbers(version: string, tool?: Toolchain): number[] | null {
  const m = /(\d+(?:\.\d+)*)/.exec(version.trim().replace(/_/g, '.'));
  if (!m) return null;
  let nums = m[1].split('.').map(Number);
  if (tool === 'java' && nums[0] === 1 && nums.length > 1) nums = nums.slice(1);
  return nums;
}

/** `a` compared with `b`, a missing part counting as 0. */
function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The parts of `want` (x, X and * are wildcards, ending it) that `have` must share. */
function prefix(want: string, tool: Toolchain): number[] | null {
  const parts: number[] = [];
  for (const p of want.replace(/^v/i, '').split('.')) {
    if (p === 'x' || p === 'X' || p === '*' || p === '') break;
    if (!/^\d+$/.test(p)) return null;
    parts.push(Number(p));
  }
  if (tool === 'java' && parts[0] === 1 && parts.length > 1) parts.shift();
  return parts;
}

/** One comparator (`>=18`, `^1.21`, `~3.10`, `20.x`, `3.11`): null when it is not a version range we read. */
function comparator(c: string, have: number[], tool: Toolchain): boolean | null {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*v?(.+)$/.exec(c);
  if (!m) return null;
  const op = m[1] ?? '';
  const want = prefix(m[2], tool);
  if (want === null) return null;
  const lower = (): number => compare(have, want);
  switch (op) {
    case '>=':
      return lower() >= 0;
    case '>':
      // `>20` is above every 20.x (as semver reads a partial version).
      return compare(have.slice(0, want.length), want) > 0;
    case '<=':
      return compare(have.slice(0, want.length), want) <= 0;
    case '<':
      return lower() < 0;
    case '^': {
      if (lower() < 0) return false;
      const fixed = want[0] === 0 && want.length > 1 ? 2 : 1;
      return compare(have.slice(0, fixed), want.slice(0, fixed)) === 0;
    }
    case '~':
      if (lower() < 0) return false;
      return compare(have.slice(0, Math.min(2, Math.max(1, want.length))), want.slice(0, Math.min(2, Math.max(1, want.length)))) === 0;
    default:
      // A plain or wildcard version is a prefix: `20` is any 20.x.y, `3.11` any 3.11.z, `1.22.3` exactly that.
      return want.every((n, i) => have[i] === n);
  }
}

/**
 * Whether this machine's `local` version satisfies what the step asks for (`want`, one version or range as the
 * action reads it). `note` explains a match that is not exact (lts/*, latest, stable); null when `want` is not a
 * version this reads (the caller says so).
 */
export function satisfies(tool: Toolchain, want: string, local: string): { ok: boolean; note: string | null } | null {
  const have = versionNumbers(local, tool);
  if (!have) return null;
  const w = want.trim();
  const lw = w.toLowerCase();
  if (tool === 'node') {
    if (lw === 'latest' || lw === 'node' || lw === 'current') return { ok: true, note: `"${w}" is taken as this machine's Node ${local}` };
    const lts = /^lts\/(.+)$/.exec(lw);
    if (lts) {
      if (lts[1] === '*' || lts[1] === '-1' || lts[1] === 'latest') {
        const ok = have[0] >= 18 && have[0] % 2 === 0;
        return { ok, note: ok ? `"${w}" is taken as this machine's Node ${local} (an LTS line)` : null };
      }
      const major = NODE_LTS[lts[1]];
      return major === undefined ? null : { ok: have[0] === major, note: null };
    }
  }
  if (tool === 'go' && (lw === 'stable' || lw === 'oldstable')) return { ok: true, note: `"${w}" is taken as this machine's Go ${local}` };
  if (tool === 'java' && (lw === 'latest' || lw === 'lts')) return { ok: true, note: `"${w}" is taken as this machine's Java ${local}` };
  // `a || b`: either; `>=1.2 <2`: both.
  let read = false;
  for (const alt of w.split('||')) {
    const parts = alt.trim().replace(/(>=|<=|>|<|=)\s+/g, '$1').split(/\s+/).filter((p) => p !== '');
    if (parts.length === 0) continue;
    const results = parts.map((p) => comparator(p, have, tool));
    if (results.some((r) => r === null)) continue;
    read = true;
    if (results.every((r) => r === true)) return { ok: true, note: null };
  }
  return read ? { ok: false, note: null } : null;
}

/**
 * The version a version file names, when it is simple (.nvmrc, .node-version, .python-version, .go-version,
 * .java-version, .tool-versions, go.mod, package.json, pyproject.toml, .sdkmanrc); null when it says none we read.
 */
export function versionFromFile(tool: Toolchain, file: string, text: string): string | null {
  const base = file.split('/').pop()!.toLowerCase();
  const lines = text.split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');
  if (base === '.tool-versions') {
    const names: Record<Toolchain, string[]> = { node: ['nodejs', 'node'], python: ['python'], go: ['golang', 'go'], java: ['java'] };
    for (const l of lines) {
      const [name, version] = l.split(/\s+/);
      if (names[tool].includes(name) && version) return tool === 'java' ? (/(\d+(?:\.\d+)*)/.exec(version)?.[1] ?? null) : version;
    }
    return null;
  }
  if (base === 'package.json' && tool === 'node') {
    try {
      const pkg = JSON.parse(text) as { volta?: { node?: unknown }; engines?: { node?: unknown }; devEngines?: { runtime?: { name?: unknown; version?: unknown } } };
      const runtime = pkg.devEngines?.runtime;
      const v = pkg.volta?.node ?? (runtime?.name === 'node' ? runtime.version : undefined) ?? pkg.engines?.node;
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
    } catch {
      return null;
    }
  }
  if (base === 'go.mod' && tool === 'go') {
    const toolchain = lines.map((l) => /^toolchain\s+go(\S+)$/.exec(l)?.[1]).find((v) => v);
    return toolchain ?? lines.map((l) => /^go\s+(\S+)$/.exec(l)?.[1]).find((v) => v) ?? null;
  }
  if (base === 'pyproject.toml' && tool === 'python') {
    return /^\s*requires-python\s*=\s*["']([^"']+)["']/m.exec(text)?.[1]?.trim() ?? null;
  }
  if (base === '.sdkmanrc' && tool === 'java') {
    const v = lines.map((l) => /^java\s*=\s*(\S+)$/.exec(l)?.[1]).find((x) => x);
    return v ? (/(\d+(?:\.\d+)*)/.exec(v)?.[1] ?? null) : null;
  }
  // .nvmrc, .node-version, .python-version, .go-version, .java-version: the first line.
  return lines[0] ?? null;
}

/** The outcome of a setup step on this machine. */
export type SetupDecision = { ok: true; note: string; outputs: Record<string, string> } | { unsupported: string };

/**
 * What a setup step does here: `wants` are the versions it asks for (one per line of the input; empty: none asked),
 * `local` this machine's version (null: the command is missing). `uses` names the step in messages.
 */
export function decideSetup(action: SetupAction, uses: string, wants: string[], local: string | null, notes: string[] = []): SetupDecision {
  const asked = wants.length ? wants.join(', ') : null;
  if (local === null) {
    return { unsupported: `${uses} ${asked ? `asks for ${action.label} ${asked}` : `needs ${action.label}`}, and this machine has no ${action.command}` };
  }
  const extra: string[] = [...notes];
  for (const w of wants) {
    const r = satisfies(action.tool, w, local);
    if (r === null) return { unsupported: `${uses} asks for ${action.label} ${w}, which a local run cannot compare with this machine's ${local}` };
    if (!r.ok) return { unsupported: `${uses} asks for ${action.label} ${w}, this machine has ${local}` };
    if (r.note) extra.push(r.note);
  }
  const head = asked ? `uses this machine's ${action.label} ${local} (asks for ${asked}); nothing is installed` : `uses this machine's ${action.label} ${local} (no version asked); nothing is installed`;
  return { ok: true, note: [head, ...extra].join('; '), outputs: action.outputs(local) };
}
