// Where a position of a saved file is in the document being edited: the pipeline sources give positions of the file
// on disk, the editor shows unsaved text. Pure: positions and edits are plain numbers (0-based, like the editor's).

export interface TextPosition {
  line: number;
  character: number;
}

/** One replacement, as the editor reports it: the range it replaced and the text put there. */
export interface TextEdit {
  start: TextPosition;
  end: TextPosition;
  text: string;
}

/**
 * `pos` after `edit`: before the edit, it stays; after it, it moves with the text; inside the replaced text (the key
 * it points at was rewritten), null.
 */
export function shiftPosition(pos: TextPosition, edit: TextEdit): TextPosition | null {
  if (before(pos, edit.start)) return pos;
  if (before(pos, edit.end)) return null;
  // An insertion exactly at the position pushes it along, like typing before a word.
  const lines = edit.text.split('\n');
  const added = lines.length - 1;
  const line = pos.line + added - (edit.end.line - edit.start.line);
  if (pos.line !== edit.end.line) return { line, character: pos.character };
  const last = lines[added].replace(/\r$/, '').length;
  const character = (added === 0 ? edit.start.character + last : last) + (pos.character - edit.end.character);
  return { line, character };
}

/** `pos` after every edit, in the order they were made; null once one of them rewrote it. */
export function shiftThrough(pos: TextPosition, edits: readonly TextEdit[]): TextPosition | null {
  let at: TextPosition | null = pos;
  for (const e of edits) {
    at = shiftPosition(at, e);
    if (!at) return null;
  }
  return at;
}

function before(a: TextPosition, b: TextPosition): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}
