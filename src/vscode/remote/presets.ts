// Trigger presets per pipeline (remote triggers and local runs with inputs): the inputs used last time (a slot of
// its own) and presets the user named.
// Pure (no vscode): the command reads and writes the stored value through these functions.

export interface Preset {
  ref: string;
  inputs: Record<string, string>;
}

export interface PipelinePresets {
  /** What the last trigger used; not a named preset, so no user name can collide with it. */
  lastUsed: Preset | null;
  saved: Record<string, Preset>;
}

/** The stored value (workspace state): version 2 keeps "last used" apart from the named presets. */
export interface PresetStore {
  version: 2;
  pipelines: Record<string, PipelinePresets>;
}

/** The name version 1 gave the last-used inputs among the user's presets. */
const V1_LAST_USED = 'last used';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readPreset(v: unknown): Preset | null {
  if (!isRecord(v) || typeof v.ref !== 'string' || !isRecord(v.inputs)) return null;
  return { ref: v.ref, inputs: Object.fromEntries(Object.entries(v.inputs).filter((e): e is [string, string] => typeof e[1] === 'string')) };
}

function readSaved(v: unknown, skip?: string): Record<string, Preset> {
  const out: Record<string, Preset> = {};
  if (!isRecord(v)) return out;
  for (const [name, p] of Object.entries(v)) {
    const preset = readPreset(p);
    if (preset && name !== skip) out[name] = preset;
  }
  return out;
}

/**
 * The stored value as a PresetStore, whatever was stored: version 2 as it is, version 1 (`{[pipeline]: {[name]:
 * preset}}` with the magic name "last used") migrated, anything unreadable as empty.
 */
export function readPresets(raw: unknown): PresetStore {
  const store: PresetStore = { version: 2, pipelines: {} };
  if (!isRecord(raw)) return store;
  if (raw.version === 2 && isRecord(raw.pipelines)) {
    for (const [key, p] of Object.entries(raw.pipelines)) {
      if (isRecord(p)) store.pipelines[key] = { lastUsed: readPreset(p.lastUsed), saved: readSaved(p.saved) };
    }
    return store;
  }
  for (const [key, named] of Object.entries(raw)) {
    if (isRecord(named)) store.pipelines[key] = { lastUsed: readPreset(named[V1_LAST_USED]), saved: readSaved(named, V1_LAST_USED) };
  }
  return store;
}

export function presetsOf(store: PresetStore, key: string): PipelinePresets {
  return store.pipelines[key] ?? { lastUsed: null, saved: {} };
}

export function withLastUsed(store: PresetStore, key: string, preset: Preset): PresetStore {
  const mine = presetsOf(store, key);
  return { version: 2, pipelines: { ...store.pipelines, [key]: { ...mine, lastUsed: preset } } };
}

export function withSaved(store: PresetStore, key: string, name: string, preset: Preset): PresetStore {
  const mine = presetsOf(store, key);
  return { version: 2, pipelines: { ...store.pipelines, [key]: { ...mine, saved: { ...mine.saved, [name]: preset } } } };
}
