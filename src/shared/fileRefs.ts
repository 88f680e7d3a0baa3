// `path:line:col` and `path(line,col)` references in a line of job output: links in job log documents (the
// extension) and in the board's job cards (the webview), found the same way on both sides.

export interface FileReference {
  /** Offsets in the line: [start, end). */
  start: number;
  end: number;
  file: string;
  line: number;
  column: number | null;
}

// A path with an extension (or a slash), then `:line[:col]` or `(line[,col])`; not the host:port of a URL.
const REFERENCE = /(?<![\w/.\\:@-])((?:[A-Za-z]:[\\/])?(?:[\w.@~+-]*[\\/])*[\w@~+-][\w.@~+-]*\.[A-Za-z][\w]*|(?:[\w.@~+-]+[\\/])+[\w.@~+-]+)(?::(\d+)(?::(\d+))?|\((\d+)(?:,(\d+))?\))/g;
/** A line is searched for references over its first this many characters. */
const MAX_SCANNED = 4096;

/** The `file:line:col` references in a log line. */
export function fileReferences(text: string): FileReference[] {
  const out: FileReference[] = [];
  const head = text.length > MAX_SCANNED ? text.slice(0, MAX_SCANNED) : text;
  if (!/[:(]\d/.test(head)) return out;
  REFERENCE.lastIndex = 0;
  for (let m = REFERENCE.exec(head); m; m = REFERENCE.exec(head)) {
    // A URL's host and port (`http://localhost:8080`) is not a file.
    if (head.slice(Math.max(0, m.index - 3), m.index) === '://') continue;
    const line = Number(m[2] ?? m[4]);
    if (!(line >= 1)) continue;
    const col = m[3] ?? m[5];
    out.push({ start: m.index, end: m.index + m[0].length, file: m[1], line, column: col ? Number(col) || null : null });
  }
  return out;
}
