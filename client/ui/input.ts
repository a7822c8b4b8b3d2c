// The chat input: a multi-line editor with a grapheme-aware cursor, word motions and a history of
// sent lines. Pure: the chat screen maps keys to these methods and draws render().
import { graphemes, graphemeWidth } from "./text.js";

/** Longest input accepted, in UTF-16 units (the reference's CharLimit). */
export const INPUT_MAX_LENGTH = 16384;
export const HISTORY_MAX = 200;
const TAB = "    ";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

interface Seg {
  g: string;
  at: number;
}

function segments(text: string): Seg[] {
  const out: Seg[] = [];
  for (const { segment, index } of segmenter.segment(text)) out.push({ g: segment, at: index });
  return out;
}

const isSpace = (g: string) => /^\s+$/.test(g);

/** Typed or pasted text as the editor stores it: LF line ends, spaces for tabs, no controls. */
export function cleanInput(s: string): string {
  return s
    .replace(/\r\n?/g, "\n")
    .replace(/\t/g, TAB)
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "");
}

/** Columns of `s` as laid out in a box `width` wide (a too-wide grapheme shows as one "?"). */
function columns(s: string, width: number): number {
  let n = 0;
  for (const g of graphemes(s)) {
    const w = graphemeWidth(g);
    n += w > width ? 1 : w;
  }
  return n;
}

interface VisualRow {
  start: number; // code-unit offset of the first grapheme
  end: number; // offset after the last grapheme (a "\n" that ends the row is not included)
  text: string;
  width: number;
}

/**
 * Lays `text` out in rows of at most `width` columns, breaking between words as the messages do:
 * "\n" ends a row; a word that does not fit moves to the next row whole (a word longer than a row
 * is cut); a space at the edge hangs off the row, undrawn. A full last row is followed by an
 * empty one, so the cursor at the end has somewhere to be. (Before a "\n" that ends a full row
 * the cursor is drawn on the last column instead: an extra row there would look like a blank line.)
 */
function layout(text: string, width: number): VisualRow[] {
  const w = Math.max(1, Math.floor(width));
  const rows: VisualRow[] = [];
  let cur: VisualRow = { start: 0, end: 0, text: "", width: 0 };
  /** The current row's graphemes as drawn: a word carried to the next row takes its own along. */
  let cells: { raw: string; shown: string; at: number; width: number }[] = [];
  const close = (end: number, nextStart: number) => {
    cur.end = end;
    rows.push(cur);
    cur = { start: nextStart, end: nextStart, text: "", width: 0 };
    cells = [];
  };
  const put = (cell: (typeof cells)[number]) => {
    cur.text += cell.shown;
    cur.width += cell.width;
    cells.push(cell);
  };
  for (const { g, at } of segments(text)) {
    if (g === "\n") {
      close(at, at + g.length);
      continue;
    }
    let gw = graphemeWidth(g);
    const shown = gw > w ? "?" : g; // a wide character in a 1-column box
    if (gw > w) gw = 1;
    if (cur.width + gw > w && cur.width > 0) {
      if (isSpace(g)) {
        close(at + g.length, at + g.length);
        continue;
      }
      let space = cells.length - 1;
      while (space >= 0 && !isSpace(cells[space]!.raw)) space--;
      if (space < 0 || space === cells.length - 1) {
        close(at, at); // no space to break at (one long word), or the row ends with one
      } else {
        const kept = cells.slice(0, space + 1);
        const carried = cells.slice(space + 1);
        cur.text = kept.map((c) => c.shown).join("");
        cur.width = kept.reduce((n, c) => n + c.width, 0);
        close(carried[0]!.at, carried[0]!.at);
        for (const c of carried) put(c);
      }
    }
    put({ raw: g, shown, at, width: gw });
  }
  if (cur.width >= w) close(text.length, text.length);
  cur.end = text.length;
  rows.push(cur);
  return rows;
}

export interface RenderedInput {
  rows: string[];
  /** The whole text is selected: draw it so (typing replaces it). */
  selected: boolean;
  cursorRow: number;
  cursorCol: number;
  /** Rows of the text outside the window, above and below. */
  hiddenAbove: number;
  hiddenBelow: number;
}

export class LineEditor {
  #text = "";
  #cursor = 0; // UTF-16 offset, always on a grapheme boundary
  readonly #history: string[] = [];
  #historyIndex: number | undefined; // the entry shown while browsing
  #draft = ""; // what was typed before browsing started
  #viewTop = 0; // first row of the render window, kept between renders
  #selected = false; // the whole text, as after a refused command: typing replaces it
  readonly #maxLength: number;
  readonly #historyMax: number;

  constructor(opts: { maxLength?: number; historyMax?: number } = {}) {
    this.#maxLength = opts.maxLength ?? INPUT_MAX_LENGTH;
    this.#historyMax = opts.historyMax ?? HISTORY_MAX;
  }

  get text(): string {
    return this.#text;
  }

  /** The cursor as a UTF-16 offset into text. */
  get cursor(): number {
    return this.#cursor;
  }

  get history(): readonly string[] {
    return this.#history;
  }

  /** The whole text is selected (selectAll): typing replaces it, a motion keeps it to edit. */
  get selected(): boolean {
    return this.#selected;
  }

  /**
   * Selects the whole text (a command the screen refused): the next thing typed replaces it
   * rather than being appended to it; backspace or delete clears it; a cursor motion keeps it to
   * fix the typo.
   */
  selectAll(): void {
    this.#selected = this.#text !== "";
    this.#cursor = this.#text.length;
  }

  /** True while an entry recalled by historyUp is shown unchanged. */
  get browsingHistory(): boolean {
    return this.#historyIndex !== undefined;
  }

  /** Replaces the whole text (cursor at the end). */
  set(text: string): void {
    this.#edit(cleanInput(text).slice(0, this.#maxLength), Number.POSITIVE_INFINITY);
  }

  /** Typed or pasted text at the cursor. Returns false when the length limit cut it short. */
  insert(s: string): boolean {
    if (this.#selected) this.#edit("", 0);
    const clean = cleanInput(s);
    const room = this.#maxLength - this.#text.length;
    let add = clean;
    if (add.length > room) {
      add = "";
      for (const g of graphemes(clean)) {
        if (add.length + g.length > room) break;
        add += g;
      }
    }
    if (add !== "") this.#edit(this.#text.slice(0, this.#cursor) + add + this.#text.slice(this.#cursor), this.#cursor + add.length);
    return add.length === clean.length;
  }

  /** A line break inside the message (alt+enter / ctrl+j). */
  newline(): void {
    this.insert("\n");
  }

  backspace(): void {
    if (this.#dropSelection()) return;
    const prev = this.#boundaryBefore(this.#cursor);
    if (prev < this.#cursor) this.#edit(this.#text.slice(0, prev) + this.#text.slice(this.#cursor), prev);
  }

  del(): void {
    if (this.#dropSelection()) return;
    const next = this.#boundaryAfter(this.#cursor);
    if (next > this.#cursor) this.#edit(this.#text.slice(0, this.#cursor) + this.#text.slice(next), this.#cursor);
  }

  left(): void {
    this.#selected = false;
    this.#cursor = this.#boundaryBefore(this.#cursor);
  }

  right(): void {
    this.#selected = false;
    this.#cursor = this.#boundaryAfter(this.#cursor);
  }

  /** Start of the current line. */
  home(): void {
    this.#selected = false;
    this.#cursor = this.#text.lastIndexOf("\n", this.#cursor - 1) + 1;
  }

  /** End of the current line. */
  end(): void {
    this.#selected = false;
    const nl = this.#text.indexOf("\n", this.#cursor);
    this.#cursor = nl === -1 ? this.#text.length : nl;
  }

  /** Start of the whole text. */
  textStart(): void {
    this.#selected = false;
    this.#cursor = 0;
  }

  /** End of the whole text. */
  textEnd(): void {
    this.#selected = false;
    this.#cursor = this.#text.length;
  }

  /** To the start of this or the previous word. */
  wordLeft(): void {
    this.#selected = false;
    this.#cursor = this.#wordStartBefore(this.#cursor);
  }

  /** To the end of this or the next word. */
  wordRight(): void {
    this.#selected = false;
    const segs = segments(this.#text);
    let k = segs.findIndex((s) => s.at >= this.#cursor);
    if (k === -1) return;
    while (k < segs.length && isSpace(segs[k]!.g)) k++;
    while (k < segs.length && !isSpace(segs[k]!.g)) k++;
    this.#cursor = k < segs.length ? segs[k]!.at : this.#text.length;
  }

  /** ctrl+w: deletes back to the start of the word. */
  deleteWordBack(): void {
    if (this.#dropSelection()) return;
    const from = this.#wordStartBefore(this.#cursor);
    if (from < this.#cursor) this.#edit(this.#text.slice(0, from) + this.#text.slice(this.#cursor), from);
  }

  /** ctrl+u: deletes from the start of the line to the cursor. */
  deleteToLineStart(): void {
    if (this.#dropSelection()) return;
    const from = this.#text.lastIndexOf("\n", this.#cursor - 1) + 1;
    if (from < this.#cursor) this.#edit(this.#text.slice(0, from) + this.#text.slice(this.#cursor), from);
  }

  /** ctrl+k: deletes from the cursor to the end of the line. */
  deleteToLineEnd(): void {
    if (this.#dropSelection()) return;
    const nl = this.#text.indexOf("\n", this.#cursor);
    const to = nl === -1 ? this.#text.length : nl;
    if (to > this.#cursor) this.#edit(this.#text.slice(0, this.#cursor) + this.#text.slice(to), this.#cursor);
  }

  clear(): void {
    this.#selected = false;
    this.#text = "";
    this.#cursor = 0;
    this.#historyIndex = undefined;
    this.#draft = "";
    this.#viewTop = 0;
  }

  /** Returns the text, remembers it in the history when not blank, and clears the editor. */
  submit(): string {
    const text = this.#text;
    // A recovery code is a secret: it is not kept for recall.
    const secret = /^\/recover\s/i.test(text.trimStart());
    if (!secret && text.trim() !== "" && this.#history[this.#history.length - 1] !== text) {
      this.#history.push(text);
      if (this.#history.length > this.#historyMax) this.#history.splice(0, this.#history.length - this.#historyMax);
    }
    this.clear();
    return text;
  }

  /** Shows the previous history entry; the unsent draft is kept for historyDown. */
  historyUp(): void {
    if (this.#history.length === 0) return;
    if (this.#historyIndex === undefined) {
      this.#draft = this.#text;
      this.#historyIndex = this.#history.length - 1;
    } else if (this.#historyIndex > 0) {
      this.#historyIndex--;
    } else {
      return;
    }
    this.#show(this.#history[this.#historyIndex]!);
  }

  /** Shows the next history entry, and after the newest one the draft again. */
  historyDown(): void {
    if (this.#historyIndex === undefined) return;
    this.#historyIndex++;
    if (this.#historyIndex >= this.#history.length) {
      this.#historyIndex = undefined;
      this.#show(this.#draft);
      this.#draft = "";
    } else {
      this.#show(this.#history[this.#historyIndex]!);
    }
  }

  /**
   * Moves the cursor one row up in the layout of render(width); false on the first row (where
   * the screen can fall back to historyUp).
   */
  cursorUp(width: number): boolean {
    this.#selected = false;
    return this.#verticalMove(width, -1);
  }

  /** One row down; false on the last row (the screen can fall back to historyDown). */
  cursorDown(width: number): boolean {
    this.#selected = false;
    return this.#verticalMove(width, 1);
  }

  /**
   * The text wrapped to `width` columns, at most `maxRows` rows, scrolled to keep the cursor in
   * view; cursorRow/cursorCol are relative to the rows returned.
   */
  render(width: number, maxRows: number): RenderedInput {
    const rows = layout(this.#text, width);
    const { row, col } = this.#cursorCell(rows, width);
    const max = Math.max(1, Math.floor(maxRows));
    let top = Math.min(this.#viewTop, Math.max(0, rows.length - max));
    if (row < top) top = row;
    if (row >= top + max) top = row - max + 1;
    this.#viewTop = top;
    const shown = rows.slice(top, top + max);
    return {
      rows: shown.map((r) => r.text),
      selected: this.#selected,
      cursorRow: row - top,
      cursorCol: col,
      hiddenAbove: top,
      hiddenBelow: rows.length - top - shown.length,
    };
  }

  #show(text: string): void {
    this.#selected = false;
    this.#text = text;
    this.#cursor = text.length;
  }

  /** Applies an edit; editing a recalled entry makes it the draft (browsing ends). */
  #edit(text: string, cursor: number): void {
    this.#selected = false;
    this.#text = text;
    this.#historyIndex = undefined;
    // An insert can merge graphemes (a combining mark, a second regional indicator): snap forward.
    let snapped = text.length;
    for (const { at } of segments(text)) {
      if (at >= cursor) {
        snapped = at;
        break;
      }
    }
    this.#cursor = Math.min(snapped, text.length);
  }

  /** Deletes a selected text whole (backspace, delete, ctrl+w... on a selection); false when nothing was selected. */
  #dropSelection(): boolean {
    if (!this.#selected) return false;
    this.#edit("", 0);
    return true;
  }

  #boundaryBefore(offset: number): number {
    let prev = 0;
    for (const { at } of segments(this.#text)) {
      if (at >= offset) break;
      prev = at;
    }
    return prev;
  }

  #boundaryAfter(offset: number): number {
    for (const { at } of segments(this.#text)) if (at > offset) return at;
    return this.#text.length;
  }

  #wordStartBefore(offset: number): number {
    const segs = segments(this.#text).filter((s) => s.at < offset);
    let k = segs.length;
    while (k > 0 && isSpace(segs[k - 1]!.g)) k--;
    while (k > 0 && !isSpace(segs[k - 1]!.g)) k--;
    return k < segs.length ? segs[k]!.at : offset;
  }

  #cursorCell(rows: VisualRow[], width: number): { row: number; col: number } {
    let row = 0;
    for (let i = 0; i < rows.length; i++) if (rows[i]!.start <= this.#cursor) row = i;
    const r = rows[row]!;
    const col = columns(this.#text.slice(r.start, Math.min(this.#cursor, r.end)), width);
    return { row, col: Math.min(col, Math.max(1, Math.floor(width)) - 1) };
  }

  #verticalMove(width: number, delta: -1 | 1): boolean {
    const rows = layout(this.#text, width);
    const { row, col } = this.#cursorCell(rows, width);
    const target = rows[row + delta];
    if (!target) return false;
    // The offset in the target row whose column is the closest at or before `col`.
    let offset = target.start;
    let used = 0;
    for (const { g, at } of segments(this.#text.slice(target.start, target.end))) {
      const w = columns(g, width);
      if (used + w > col) break;
      used += w;
      offset = target.start + at + g.length;
    }
    // The end of a soft-wrapped row is the start of the next one: stay before its last grapheme.
    const soft = rows[row + delta + 1]?.start === target.end;
    if (soft && offset === target.end && offset > target.start) offset = this.#boundaryBefore(offset);
    this.#cursor = offset;
    return true;
  }
}
