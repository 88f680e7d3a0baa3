// Where a GitHub job runs locally, from its `runs-on` labels (act's `-P`): each label maps to this machine
// ("host") or to a container image. The run's map (CLI --platform, the delivery.platforms setting) comes first,
// then the defaults: ubuntu-* runners, self-hosted and linux are this machine. A label that maps to nothing
// (macos-*, windows-*, a custom runner's label) makes the job unsupported locally, naming the label: a macOS leg
// never runs on Linux silently.

/** Where one job runs: on this machine, or in a container of an image. */
export type Platform = { host: true } | { image: string };

/** The value of a platform map that means this machine. */
export const HOST_PLATFORM = 'host';

/** Labels that are this machine unless the run maps them elsewhere. */
export function defaultPlatform(label: string, hostArch: string): string | null {
  const l = label.toLowerCase();
  // GitHub's Arm runners (ubuntu-24.04-arm, ubuntu-22.04-arm) are this machine only when it is an Arm one.
  if (/^ubuntu-.*-arm(64)?$/.test(l)) return hostArch === 'arm64' ? HOST_PLATFORM : null;
  if (/^ubuntu-/.test(l) || l === 'self-hosted' || l === 'linux') return HOST_PLATFORM;
  // A self-hosted runner's architecture label ([self-hosted, linux, x64]) is this machine when it is this machine's.
  if ((l === 'x64' && hostArch === 'x64') || (l === 'arm64' && hostArch === 'arm64')) return HOST_PLATFORM;
  return null;
}

/** Checks one `LABEL=host|IMAGE` entry (CLI --platform, a setting's key and value). */
export function parsePlatformEntry(entry: string): { label: string; value: string } | { error: string } {
  const eq = entry.indexOf('=');
  if (eq <= 0) return { error: `needs LABEL=host or LABEL=IMAGE, not "${entry}"` };
  const label = entry.slice(0, eq).trim();
  const value = entry.slice(eq + 1).trim();
  return checkPlatform(label, value);
}

export function checkPlatform(label: string, value: string): { label: string; value: string } | { error: string } {
  if (label === '' || /\s/.test(label)) return { error: `"${label}" is not a runs-on label` };
  if (value === '') return { error: `label "${label}" needs "host" or an image name` };
  if (/\s/.test(value) || value.startsWith('-')) return { error: `"${value}" (for label "${label}") is neither "host" nor an image name` };
  return { label, value };
}

/** The map of a run: the given entries by lower-cased label (GitHub matches labels without regard to case). */
export function platformMap(given: Record<string, string> | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const [label, value] of Object.entries(given ?? {})) map.set(label.toLowerCase(), value);
  return map;
}

/**
 * Where a job with these labels runs: every label must map (a runner must have all of a job's labels); the first
 * label mapped to an image wins, else this machine. `unsupported` names the labels that map to nothing.
 */
export function platformOf(labels: readonly string[], given: Record<string, string> | undefined, hostArch: string): Platform | { unsupported: string } {
  const map = platformMap(given);
  const unmapped: string[] = [];
  let image: string | null = null;
  for (const label of labels) {
    const value = map.get(label.toLowerCase()) ?? defaultPlatform(label, hostArch);
    if (value === null) unmapped.push(label);
    else if (value.toLowerCase() !== HOST_PLATFORM) image ??= value;
  }
  if (unmapped.length > 0) {
    const names = unmapped.map((l) => `"${l}"`).join(', ');
    return {
      unsupported: `runs on ${names}, which ${unmapped.length === 1 ? 'has' : 'have'} no local platform (map one with --platform ${unmapped[0]}=host or the delivery.platforms setting)`,
    };
  }
  return image === null ? { host: true } : { image };
}

/**
 * The labels of `runs-on` as written: a label, a list of labels, or `{ group, labels }` (the group counts as a
 * label only when no labels are given). `evaluate` turns a label with `${{ }}` into its value (a string or a list).
 */
export function runsOnLabels(runsOn: unknown, evaluate: (template: string) => unknown): { labels: string[] } | { error: string } {
  const out: string[] = [];
  const add = (raw: unknown): string | null => {
    if (raw === null || raw === undefined) return null;
    if (typeof raw !== 'string') {
      if (typeof raw === 'number' || typeof raw === 'boolean') out.push(String(raw));
      return null;
    }
    if (!raw.includes('${{')) {
      if (raw.trim() !== '') out.push(raw.trim());
      return null;
    }
    let v: unknown;
    try {
      v = evaluate(raw);
    } catch (e) {
      return `runs-on ${raw} cannot be evaluated before the run (${(e as Error).message})`;
    }
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x === null || x === undefined) continue;
      const s = typeof x === 'string' ? x.trim() : typeof x === 'number' || typeof x === 'boolean' ? String(x) : JSON.stringify(x);
      if (s !== '') out.push(s);
    }
    return null;
  };
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);
  let items: unknown[];
  if (runsOn && typeof runsOn === 'object' && !Array.isArray(runsOn)) {
    const o = runsOn as { group?: unknown; labels?: unknown };
    items = o.labels !== undefined && o.labels !== null ? list(o.labels) : list(o.group);
  } else items = list(runsOn);
  for (const item of items) {
    const error = add(item);
    if (error) return { error };
  }
  return { labels: out };
}

/** A Windows runner's scripts are PowerShell (when such a label is mapped to this machine). */
export function isWindowsLabel(label: string): boolean {
  return /^windows/i.test(label);
}

/** The delivery.platforms setting as a platform map: entries that are not `label: "host" | image` are reported and left out. */
export function settingPlatforms(setting: unknown, report: (why: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  if (setting === null || setting === undefined) return out;
  if (typeof setting !== 'object' || Array.isArray(setting)) {
    report('must be an object of runs-on label -> "host" or an image');
    return out;
  }
  for (const [label, value] of Object.entries(setting as Record<string, unknown>)) {
    const p = typeof value === 'string' ? checkPlatform(label.trim(), value.trim()) : { error: `label "${label}" needs "host" or an image name` };
    if ('error' in p) report(p.error);
    else out[p.label] = p.value;
  }
  return out;
}
