// Text from targets (version and health answers, ssh and docker output), from jobs and from errors is data: shown
// to a person, it must not drive the terminal or the editor. One set of functions makes it inert:
//
// - terminalText: for the CLI. Control characters are made visible as escapes a person can read:
//   C0 except \t and \n (ESC is shown as `\x1b`, BEL as `\x07`, a bare CR as `\x0d`; CR right before LF is kept),
//   DEL (`\x7f`), C1 (U+0080–U+009F, `\x9b` for the one-byte CSI) and the bidi controls that reorder what is shown
//   (U+202A–U+202E, U+2066–U+2069 as `\u202e`...). So no window title (OSC 0/2), clipboard write (OSC 52),
//   hidden text (SGR 8), cursor movement, erase or overwrite reaches the terminal.
//   With `colours`, SGR colour and style sequences (ESC [ … m) are kept, except conceal (8) and anything but plain
//   numeric parameters, and a reset (ESC [ 0 m) ends every line that set one: a job's colours stay its own and cannot
//   hide or restyle the lines that follow. Only a job's own output (`delivery run`) keeps colours.
// - jsonText: JSON.stringify escapes C0, not DEL, C1, bidi controls or U+2028/U+2029; those are written as \uXXXX
//   escapes too, so the JSON means the same and its bytes are inert in a terminal.
// - plainText / markdownText: for the editor (tree rows, tooltips, the status bar, notifications).
// A backslash already in the text is left as it is: the escapes are for reading, not for decoding.

/** C0 but \t \n \r, a CR not followed by LF, DEL, C1, bidi embedding/override/isolate controls. */
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;
/** Any character UNSAFE may match (a CR as well): text without one is safe as it is. One class, scanned twice as fast. */
const MAYBE_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** What JSON.stringify leaves raw that a terminal or an editor acts on. */
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
/** An SGR sequence with plain numeric parameters (candidates to keep with `colours`). */
const SGR = /\u001b\[([0-9;]*)m/y;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Whether an SGR parameter list only sets colours and styles (no conceal, nothing unknown). */
export function isSafeSgr(params: string): boolean {
  const p = params === '' ? [0] : params.split(';').map((x) => (x === '' ? 0 : Number(x)));
  for (let i = 0; i < p.length; i++) {
    const n = p[i];
    if (n === 38 || n === 48 || n === 58) {
      if (p[i + 1] === 5 && i + 2 < p.length && p[i + 2] <= 255) i += 2;
      else if (p[i + 1] === 2 && i + 4 < p.length && p.slice(i + 2, i + 5).every((x) => x <= 255)) i += 4;
      else return false;
      continue;
    }
    const ok = (n >= 0 && n <= 7) || n === 9 || (n >= 21 && n <= 29 && n !== 28) || (n >= 30 && n <= 37) || n === 39 || (n >= 40 && n <= 47) || n === 49 || (n >= 90 && n <= 97) || (n >= 100 && n <= 107);
    if (!ok) return false;
  }
  return true;
}

function jsonEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Text made safe to write to a terminal (see above). `colours`: keep safe SGR sequences, reset at each line end.
 * `json`: the text is JSON (stdout of --json): what is unsafe is written as a \uXXXX escape, which inside a JSON
 * string means the same character (jsonText leaves none outside strings).
 */
export function terminalText(text: string, opts: { colours?: boolean; json?: boolean } = {}): string {
  if (opts.json) return text.replace(UNSAFE, jsonEscape).replace(JSON_UNSAFE, jsonEscape);
  // Most text has no control character at all (a job's output comes here a batch at a time): one quick look.
  if (!MAYBE_UNSAFE.test(text)) return text;
  // Without an escape character no colour can start: the same result as the loop below, without it (the CLI's
  // progress goes through here line by line).
  if (!opts.colours || text.indexOf('\u001b') < 0) return text.replace(UNSAFE, visible);
  let out = '';
  let coloured = false;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x1b) {
      SGR.lastIndex = i;
      const m = SGR.exec(text);
      if (m && isSafeSgr(m[1])) {
        out += text.slice(at, i).replace(UNSAFE, visible) + m[0];
        coloured = m[1] !== '' && m[1] !== '0';
        i += m[0].length - 1;
        at = i + 1;
      }
    } else if (c === 0x0a && coloured) {
      const end = i > 0 && text.charCodeAt(i - 1) === 0x0d ? i - 1 : i;
      out += `${text.slice(at, end).replace(UNSAFE, visible)}\u001b[0m`;
      at = end;
      coloured = false;
    }
  }
  out += text.slice(at).replace(UNSAFE, visible);
  return coloured ? `${out}\u001b[0m` : out;
}

/** JSON.stringify, with the characters it leaves raw that a terminal or an editor acts on written as \uXXXX. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, jsonEscape);
}

/** Text for the editor's plain-text places (tree labels and descriptions, the status bar, notifications). */
export function plainText(text: string, opts: { oneLine?: boolean } = {}): string {
  const safe = text.replace(UNSAFE, visible);
  return opts.oneLine ? safe.replace(/\r?\n/g, ' ') : safe;
}

/**
 * Notifications turn [text](link) into links (command: links too): text from targets must not make one. A space
 * between `]` and `(` is enough, so job names such as "build: [linux]" keep their brackets.
 */
export function notificationText(text: string): string {
  return plainText(text).replace(/\]\s*\(/g, '] (');
}

/**
 * Text to put in a MarkdownString as it is: control characters made visible, every character markdown (or VS Code's
 * $(icon) syntax, or HTML) gives a meaning escaped, newlines kept as line breaks. Use it with isTrusted false and
 * supportHtml false: then no link in it can run a command either.
 */
export function markdownText(text: string): string {
  return plainText(text)
    .replace(/[\\`*_{}[\]()#+\-.!|<>$~:&"'=]/g, '\\$&')
    .replace(/\r?\n/g, '  \n');
}
