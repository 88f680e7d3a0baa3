// Durations as people write them in pipeline files.

export { formatDuration } from '../shared/duration';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest wait a timer can express (2^31 - 1 ms, about 24.8 days); a longer timer would fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Parses `90`, `90s`, `10m`, `1h30m`, `500ms`, `2d` (a bare number is seconds). Null when malformed or zero. */
export function parseDuration(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : null;
  const s = v.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return parseDuration(Number(s));
  const re = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
    while (s[pos] === ' ') pos++;
  }
  return total > 0 ? Math.round(total) : null;
}
