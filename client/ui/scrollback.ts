// The message pane model: entries sorted by order, wrapped to the pane width, and a scroll
// position that stays put while messages arrive. Pure: the chat screen draws view() results.
import { displayWidth, sanitize, truncate, wrap } from "./text.js";

export type LineStyle = "own" | "other" | "system" | "history" | "highlight" | "placeholder" | "marker" | "dim";

export interface StyledLine {
  text: string;
  style: LineStyle;
  /** The entry the line belongs to (the selected message is drawn highlighted). */
  id?: string;
  /** Where the sender's name stands on the line (columns), to draw it in their colour. */
  nick?: { start: number; width: number; userId: string };
  /** Links and mentions of me on the line, by string index. */
  marks?: { start: number; end: number; style: MarkStyle }[];
}

export interface PaneEntry {
  /** Message id, or a generated id for system lines. */
  id: string;
  /** Sort key: the message seq; system lines use the seq of the latest entry (so they append). */
  order: bigint;
  time: Date;
  kind: "own" | "other" | "system" | "history" | "highlight" | "placeholder";
  /** Sender label; absent for system lines. */
  name?: string;
  body: string;
  /** The sender's user id (nick colour); absent for system lines. */
  userId?: string;
  /** A "/me" action: drawn "* name body". */
  action?: boolean;
  /** A dim line above the message: the quoted first line of what it replies to. */
  quote?: string;
  /** A line under the message: its reactions ("👍 2  [🍕 1]"). */
  reactions?: string;
  /** A dim note after it (the sender's clock is off). */
  note?: string;
  /** A rule across the pane with `body` in its middle (date lines, "new messages"). */
  rule?: boolean;
  /** Parts of `body` drawn apart: links, mentions of me. */
  marks?: readonly { readonly text: string; readonly style: MarkStyle }[];
}

export type MarkStyle = "link" | "mention";

export interface ScrollbackOptions {
  /** Live adds beyond this many entries drop the oldest ones above the view (default: no cap). */
  maxEntries?: number;
}

interface Row {
  entry: PaneEntry;
  lines: StyledLine[];
}

/** Sender labels longer than this are cut, so a name cannot push the message off the screen. */
export const NAME_MAX_WIDTH = 24;
/** Below this many columns for the body, continuation lines indent less than the prefix. */
const MIN_BODY_WIDTH = 12;
const TIME_PREFIX_WIDTH = "[00:00] ".length;

const two = (n: number) => String(n).padStart(2, "0");

/** "HH:MM" in local time, 24 h. */
export function clock(time: Date): string {
  return Number.isNaN(time.getTime()) ? "--:--" : `${two(time.getHours())}:${two(time.getMinutes())}`;
}

/**
 * Lines of one entry: `[HH:MM] name: body` (system: `[HH:MM] body`; an action: `[HH:MM] * name
 * body`), wrapped to `width`, with the reply's quote above and the reactions and note below.
 */
export function formatEntry(entry: PaneEntry, width: number): StyledLine[] {
  if (entry.rule) return [{ text: ruleText(entry.body, width), style: entry.kind === "highlight" ? "highlight" : "dim" }];
  const name = entry.kind === "system" || entry.name === undefined ? undefined : truncate(sanitize(entry.name), NAME_MAX_WIDTH);
  const time = `[${clock(entry.time)}] `;
  const prefix = name === undefined ? time : entry.action ? `${time}* ${name} ` : `${time}${name}: `;
  const prefixWidth = displayWidth(prefix);
  const indent = width - prefixWidth >= MIN_BODY_WIDTH ? prefixWidth : Math.min(TIME_PREFIX_WIDTH, prefixWidth);
  const side = (text: string): string[] => wrap(" ".repeat(indent) + sanitize(text), width, indent);
  const lines: StyledLine[] = [];
  if (entry.quote) for (const text of side(entry.quote)) lines.push({ text, style: "dim" });
  const body = wrap(prefix + entry.body, width, indent);
  body.forEach((text, i) => {
    const line: StyledLine = { text, style: entry.kind };
    // The sender's name in their own colour (the chat screen picks it from the user id).
    if (i === 0 && name !== undefined && entry.userId !== undefined && entry.kind !== "placeholder")
      line.nick = { start: displayWidth(entry.action ? `${time}* ` : time), width: displayWidth(name), userId: entry.userId };
    const marks = entry.marks ? markLine(text, entry.marks, i === 0 ? prefix.length : 0) : [];
    if (marks.length > 0) line.marks = marks;
    lines.push(line);
  });
  if (entry.reactions)
    for (const text of side(entry.reactions)) lines.push({ text, style: entry.kind === "history" ? "history" : "other" });
  if (entry.note) for (const text of side(`(${entry.note})`)) lines.push({ text, style: "dim" });
  for (const l of lines) l.id = entry.id;
  return lines;
}

/** Where each mark's text stands on one wrapped line (a mark split by the wrap is not marked). */
function markLine(line: string, marks: NonNullable<PaneEntry["marks"]>, from: number): NonNullable<StyledLine["marks"]> {
  const out: NonNullable<StyledLine["marks"]> = [];
  for (const m of marks) {
    if (m.text === "") continue;
    for (let at = line.indexOf(m.text, from); at !== -1; at = line.indexOf(m.text, at + m.text.length)) {
      if (!out.some((o) => at < o.end && o.start < at + m.text.length)) out.push({ start: at, end: at + m.text.length, style: m.style });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** `── label ──`, centred and filled to `width`. */
export function ruleText(label: string, width: number): string {
  const core = ` ${sanitize(label)} `;
  const coreWidth = displayWidth(core);
  if (coreWidth + 4 > width) return truncate(label, width);
  const left = Math.floor((width - coreWidth) / 2);
  return "─".repeat(left) + core + "─".repeat(width - coreWidth - left);
}

/** The marker's text: `── N new messages below (End) ──`, centred and filled to `width`. */
export function markerText(newBelow: number, width: number): string {
  const label = newBelow > 0 ? `${newBelow} new message${newBelow === 1 ? "" : "s"} below (End)` : "more below (End)";
  const core = ` ${label} `;
  const coreWidth = displayWidth(core);
  if (coreWidth + 4 > width) return truncate(label, width);
  const left = Math.floor((width - coreWidth) / 2);
  return "─".repeat(left) + core + "─".repeat(width - coreWidth - left);
}

export class Scrollback {
  #width: number;
  readonly #maxEntries: number;
  readonly #rows: Row[] = [];
  readonly #byId = new Map<string, Row>();
  #totalLines = 0;
  // Scroll state: following the bottom, or anchored to a line of one entry (its id + line offset).
  #follow = true;
  #anchor: { id: string; offset: number } | undefined;
  // Entries added below the view since the user left the bottom and not yet on screen.
  readonly #unseen = new Set<string>();

  constructor(width: number, options: ScrollbackOptions = {}) {
    this.#width = Math.max(1, Math.floor(width));
    this.#maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
  }

  get width(): number {
    return this.#width;
  }

  get size(): number {
    return this.#rows.length;
  }

  get totalLines(): number {
    return this.#totalLines;
  }

  get atBottom(): boolean {
    return this.#follow;
  }

  /** The entry with the lowest order (where to page older history from). */
  get oldest(): PaneEntry | undefined {
    return this.#rows[0]?.entry;
  }

  /** The entry with the highest order. */
  get newest(): PaneEntry | undefined {
    return this.#rows[this.#rows.length - 1]?.entry;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  get(id: string): PaneEntry | undefined {
    return this.#byId.get(id)?.entry;
  }

  /** Re-wraps every entry; the top visible entry stays in view. */
  setWidth(width: number): void {
    const w = Math.max(1, Math.floor(width));
    if (w === this.#width) return;
    this.#width = w;
    this.#totalLines = 0;
    for (const row of this.#rows) {
      row.lines = formatEntry(row.entry, w);
      this.#totalLines += row.lines.length;
    }
    this.#clampAnchor();
  }

  /** Inserts by order (after entries of equal order); an id already present is replaced. */
  add(entry: PaneEntry): void {
    if (this.#byId.has(entry.id)) {
      this.replace(entry.id, entry);
      return;
    }
    const index = this.#insert(entry);
    if (!this.#follow && index > this.#anchorIndex()) this.#unseen.add(entry.id);
    this.#trim();
  }

  /** Older history: inserted by order; the view does not move and nothing counts as new. */
  prependOlder(entries: PaneEntry[]): void {
    for (const entry of entries) {
      if (this.#byId.has(entry.id)) this.replace(entry.id, entry);
      else this.#insert(entry);
    }
  }

  /** Swaps an entry in place (placeholder → decrypted text); adds it when `id` is unknown. */
  replace(id: string, entry: PaneEntry): void {
    const row = this.#byId.get(id);
    if (!row) {
      this.add(entry);
      return;
    }
    if (entry.id !== id) {
      const clash = this.#byId.get(entry.id);
      if (clash) this.remove(entry.id);
      this.#byId.delete(id);
      this.#byId.set(entry.id, row);
      if (this.#anchor?.id === id) this.#anchor.id = entry.id;
      if (this.#unseen.delete(id)) this.#unseen.add(entry.id);
    }
    this.#totalLines -= row.lines.length;
    row.entry = entry;
    row.lines = formatEntry(entry, this.#width);
    this.#totalLines += row.lines.length;
    // A changed order (say a local echo that got its real seq) moves the entry only if it must.
    const index = this.#rows.indexOf(row);
    const before = this.#rows[index - 1]?.entry.order;
    const after = this.#rows[index + 1]?.entry.order;
    if ((before !== undefined && before > entry.order) || (after !== undefined && after < entry.order)) {
      this.#rows.splice(index, 1);
      this.#rows.splice(this.#upperBound(entry.order), 0, row);
    }
    this.#clampAnchor();
  }

  /** Drops an entry (e.g. a deleted message); an anchor on it moves to the entry that follows. */
  remove(id: string): void {
    const row = this.#byId.get(id);
    if (!row) return;
    const index = this.#rows.indexOf(row);
    if (this.#anchor?.id === id) {
      const next = this.#rows[index + 1] ?? this.#rows[index - 1];
      this.#anchor = next ? { id: next.entry.id, offset: 0 } : undefined;
      if (!this.#anchor) this.#follow = true;
    }
    this.#rows.splice(index, 1);
    this.#byId.delete(id);
    this.#unseen.delete(id);
    this.#totalLines -= row.lines.length;
  }

  clear(): void {
    this.#rows.length = 0;
    this.#byId.clear();
    this.#unseen.clear();
    this.#totalLines = 0;
    this.toBottom();
  }

  /** Moves the view by `deltaLines` (negative = up) for a pane of `height` rows. */
  scroll(deltaLines: number, height: number): void {
    const h = Math.max(1, Math.floor(height));
    const bottomTop = Math.max(0, this.#totalLines - h);
    const top = this.#follow ? bottomTop : this.#anchorLine();
    const next = Math.min(Math.max(0, top + Math.trunc(deltaLines)), bottomTop);
    if (next >= bottomTop) {
      this.toBottom();
      return;
    }
    if (this.#follow) this.#unseen.clear(); // leaving the bottom: count from now
    this.#follow = false;
    this.#anchor = this.#anchorAt(next);
  }

  /**
   * Shows entry `id` from its first line (long command output such as /help, read from its
   * top); when everything from there down fits the pane, the view simply follows the bottom.
   */
  showFromStart(id: string): void {
    if (!this.#byId.has(id)) return;
    if (this.#follow) this.#unseen.clear();
    this.#follow = false;
    this.#anchor = { id, offset: 0 };
  }

  /** Scrolls so that entry `id` is in view (a selected message); nothing when it already is. */
  reveal(id: string, height: number): void {
    const h = Math.max(1, Math.floor(height));
    let start = 0;
    let found: Row | undefined;
    for (const row of this.#rows) {
      if (row.entry.id === id) {
        found = row;
        break;
      }
      start += row.lines.length;
    }
    if (!found) return;
    const end = start + found.lines.length;
    const bottomTop = Math.max(0, this.#totalLines - h);
    const top = this.#follow ? bottomTop : this.#anchorLine();
    // Scrolled up, the last row is the marker line: one row less shows entries.
    const rows = this.#follow ? h : h - 1;
    if (start >= top && end <= top + rows) return;
    this.scroll((start < top ? start : Math.max(0, end - (h - 1))) - top, h);
  }

  /** One page up, keeping one line of the previous page in view. */
  pageUp(height: number): void {
    this.scroll(-Math.max(1, Math.floor(height) - 2), height);
  }

  pageDown(height: number): void {
    this.scroll(Math.max(1, Math.floor(height) - 2), height);
  }

  toBottom(): void {
    this.#follow = true;
    this.#anchor = undefined;
    this.#unseen.clear();
  }

  /** True when the first line is visible: time to load older history. */
  atTop(height: number): boolean {
    if (this.#rows.length === 0) return true;
    if (this.#follow) return this.#totalLines <= Math.max(1, Math.floor(height));
    return this.#anchorLine() === 0;
  }

  /**
   * The lines to draw in a pane of `height` rows. At the bottom: the last `height` lines (fewer
   * when there are fewer). Scrolled up: exactly `height` lines, the last one a marker line that
   * says how many new entries wait below.
   */
  view(height: number): { lines: StyledLine[]; newBelow: number } {
    const h = Math.max(0, Math.floor(height));
    if (h === 0 || this.#rows.length === 0) return { lines: [], newBelow: 0 };
    const bottomTop = Math.max(0, this.#totalLines - h);
    if (!this.#follow && this.#anchorLine() >= bottomTop) this.toBottom(); // the bottom is in view again
    if (this.#follow) return { lines: this.#slice(bottomTop, h), newBelow: 0 };

    const top = this.#anchorLine();
    const lines = this.#slice(top, h - 1);
    const end = top + lines.length; // first line below the view
    let start = 0;
    for (const row of this.#rows) {
      if (start >= end) break;
      this.#unseen.delete(row.entry.id); // it reached the screen: no longer "new below"
      start += row.lines.length;
    }
    const newBelow = this.#unseen.size;
    lines.push({ text: markerText(newBelow, this.#width), style: "marker" });
    return { lines, newBelow };
  }

  /** The index after every entry with order <= `order`, so equal orders keep arrival order. */
  #upperBound(order: bigint): number {
    let lo = 0;
    let hi = this.#rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#rows[mid]!.entry.order <= order) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(entry: PaneEntry): number {
    const lo = this.#upperBound(entry.order);
    const row: Row = { entry, lines: formatEntry(entry, this.#width) };
    this.#rows.splice(lo, 0, row);
    this.#byId.set(entry.id, row);
    this.#totalLines += row.lines.length;
    return lo;
  }

  #trim(): void {
    while (this.#rows.length > this.#maxEntries) {
      const first = this.#rows[0]!;
      if (!this.#follow && this.#anchor?.id === first.entry.id) return; // the user is reading it
      this.remove(first.entry.id);
    }
  }

  #anchorIndex(): number {
    const row = this.#anchor && this.#byId.get(this.#anchor.id);
    return row ? this.#rows.indexOf(row) : this.#rows.length;
  }

  /** Global line number of the anchored top line. */
  #anchorLine(): number {
    if (!this.#anchor) return Math.max(0, this.#totalLines - 1);
    let line = 0;
    for (const row of this.#rows) {
      if (row.entry.id === this.#anchor.id) return line + Math.min(this.#anchor.offset, row.lines.length - 1);
      line += row.lines.length;
    }
    return 0;
  }

  #anchorAt(line: number): { id: string; offset: number } | undefined {
    let start = 0;
    for (const row of this.#rows) {
      if (line < start + row.lines.length) return { id: row.entry.id, offset: line - start };
      start += row.lines.length;
    }
    return undefined;
  }

  #clampAnchor(): void {
    if (!this.#anchor) return;
    const row = this.#byId.get(this.#anchor.id);
    if (row) this.#anchor.offset = Math.min(this.#anchor.offset, row.lines.length - 1);
  }

  /** `count` lines starting at global line `from`. */
  #slice(from: number, count: number): StyledLine[] {
    const out: StyledLine[] = [];
    if (count <= 0) return out;
    let start = 0;
    for (const row of this.#rows) {
      const end = start + row.lines.length;
      if (end > from) {
        for (let i = Math.max(0, from - start); i < row.lines.length && out.length < count; i++) out.push(row.lines[i]!);
        if (out.length >= count) break;
      }
      start = end;
    }
    return out;
  }
}
