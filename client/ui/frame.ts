// A screen as rows of styled segments, and the diff that turns one frame into the next with as
// few bytes as possible: only rows that changed are rewritten (cursor to the row, the row's
// segments, erase to its end), all in one write, so there is no flicker. Pure: the escape codes
// come from the palette the terminal layer builds.
import { displayWidth, graphemeWidth, graphemes, padEnd, sanitize, truncate } from "./text.js";

export type Style =
  | "normal"
  | "dim"
  | "bold"
  | "title"
  | "border"
  | "own"
  | "other"
  | "system"
  | "history"
  | "highlight"
  | "placeholder"
  | "marker"
  | "error"
  | "ok"
  | "warn"
  | "heading"
  | "cursor"
  | "active"
  | "unread"
  | "speaking"
  | "focus"
  | "label"
  | "selected"
  | "nick0"
  | "nick1"
  | "nick2"
  | "nick3"
  | "nick4"
  | "nick5"
  | "nick6"
  | "nick7"
  | "link";

export interface Segment {
  readonly text: string;
  readonly style: Style;
}

export type Row = readonly Segment[];

export interface Frame {
  /** Exactly the screen's height, each row at most the screen's width in columns. */
  readonly rows: readonly Row[];
  /** Where the text cursor shows (0-based); absent hides it. */
  readonly cursor?: { readonly x: number; readonly y: number };
}

export interface Palette {
  /** The escape sequence that switches to a style (after a reset). */
  sgr(style: Style): string;
  readonly reset: string;
  moveTo(x: number, y: number): string;
  readonly eraseLineAfter: string;
  readonly hideCursor: string;
  readonly showCursor: string;
}

export const seg = (text: string, style: Style = "normal"): Segment => ({ text, style });

/** A row of exactly `width` columns: the segments, cut at the edge, padded with `fill`. */
export function fitRow(segments: readonly Segment[], width: number, fill: Style = "normal"): Row {
  const out: Segment[] = [];
  let used = 0;
  for (const s of segments) {
    if (used >= width) break;
    const text = truncate(sanitize(s.text), width - used, "");
    if (text.length === 0) continue;
    out.push({ text, style: s.style });
    used += displayWidth(text);
  }
  if (used < width) out.push({ text: " ".repeat(width - used), style: fill });
  return out;
}

/** Left and right parts on one row of `width` columns; the left part is cut first. */
export function splitRow(left: readonly Segment[], right: readonly Segment[], width: number, fill: Style = "normal"): Row {
  const rightWidth = Math.min(
    width,
    right.reduce((n, s) => n + displayWidth(sanitize(s.text)), 0),
  );
  const leftRow = fitRow(left, width - rightWidth, fill);
  return [...leftRow, ...fitRow(right, rightWidth, fill)];
}

/** Help items ("enter: send") packed into lines of at most `width` columns, never split inside an item. */
export function packItems(items: readonly string[], width: number, sep = " · "): string[] {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    const next = line === "" ? item : line + sep + item;
    if (line !== "" && displayWidth(next) > width) {
      lines.push(line);
      line = item;
    } else line = next;
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => truncate(l, width));
}

/** Text padded (or cut) to exactly `width` columns, in one style. */
export const cell = (text: string, width: number, style: Style = "normal"): Segment => ({ text: padEnd(sanitize(text), width), style });

/** The columns [from, to) of a row; a wide character cut in half becomes a space. */
export function sliceRow(row: Row, from: number, to: number): Segment[] {
  const out: Segment[] = [];
  let x = 0;
  for (const s of row) {
    let text = "";
    for (const g of graphemes(s.text)) {
      const w = graphemeWidth(g);
      if (x >= from && x + w <= to) text += g;
      else if (x < to && x + w > from) text += " ".repeat(Math.min(x + w, to) - Math.max(x, from));
      x += w;
    }
    if (text) out.push({ text, style: s.style });
    if (x >= to) break;
  }
  return out;
}

/** `row` with `over` drawn on it from column `x` (rows are `width` columns wide). */
export function overlayRow(row: Row, x: number, over: readonly Segment[], width: number): Row {
  const overWidth = over.reduce((n, s) => n + displayWidth(s.text), 0);
  return fitRow([...sliceRow(row, 0, x), ...over, ...sliceRow(row, x + overWidth, width)], width);
}

export class FrameWriter {
  readonly #palette: Palette;
  #previous: string[] = [];
  #width = -1;

  constructor(palette: Palette) {
    this.#palette = palette;
  }

  /** Forget what is on screen (after a resize or anything else that scribbled on it). */
  invalidate(): void {
    this.#previous = [];
  }

  /** The bytes that bring the screen from the previous frame to this one. */
  diff(frame: Frame, width: number): string {
    if (width !== this.#width) {
      this.#width = width;
      this.#previous = [];
    }
    const p = this.#palette;
    let out = "";
    frame.rows.forEach((row, y) => {
      const line = row.map((s) => p.sgr(s.style) + sanitize(s.text) + p.reset).join("");
      if (this.#previous[y] === line) return;
      this.#previous[y] = line;
      // A full row needs no erase (and an erase in the last column would wipe its last cell).
      const full = row.reduce((n, s) => n + displayWidth(sanitize(s.text)), 0) >= width;
      out += p.moveTo(0, y) + p.reset + line + (full ? "" : p.eraseLineAfter);
    });
    this.#previous.length = frame.rows.length;
    if (out === "" && !frame.cursor) return p.hideCursor;
    const cursor = frame.cursor ? p.moveTo(frame.cursor.x, frame.cursor.y) + p.showCursor : "";
    return p.hideCursor + out + cursor;
  }
}
