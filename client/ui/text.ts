// Terminal text measurement: columns per grapheme, truncation, wrapping and the control-character
// scrub that keeps message bodies and names from writing terminal sequences. Pure: no I/O.

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The grapheme clusters of `s` (what a user sees as one character). */
export function graphemes(s: string): string[] {
  const out: string[] = [];
  for (const { segment } of graphemeSegmenter.segment(s)) out.push(segment);
  return out;
}

// East Asian Wide (W) and Fullwidth (F) code points, merged across unassigned gaps, without the
// emoji that the Emoji_Presentation test below already covers. Generated from the Unicode 14
// EastAsianWidth data; newer ideographs fall inside these blocks.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2329, 0x232a],
  [0x2e80, 0x303e],
  [0x3041, 0x3247],
  [0x3250, 0x4dbf],
  [0x4e00, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fff],
  [0x17000, 0x18d08],
  [0x1aff0, 0x1b2ff],
  [0x1f200, 0x1f2ff],
  [0x20000, 0x3fffd],
];

function inWideTable(cp: number): boolean {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
}

const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}/u;
const EMOJI = /^\p{Emoji}/u;
const PICTOGRAPHIC = /^\p{Extended_Pictographic}/u;
// Starts of graphemes that take no column: marks (only lead a cluster at the start of a string or
// after a control), format characters (ZWSP, ZWJ, BOM, bidi marks), other default ignorables
// except the Hangul filler letters, which terminals draw (U+3164 is wide).
const ZERO_WIDTH_START = /^(?:[\p{Mn}\p{Me}\p{Cf}]|(?!\p{Lo})\p{Default_Ignorable_Code_Point})/u;
const SOFT_HYPHEN = 0xad; // Cf, but terminals (glibc wcwidth) give it a column
// C0, DEL, C1. Each is its own grapheme (except CR LF, which starts with CR).
const CONTROL_START = /^[\u0000-\u001f\u007f-\u009f]/;

/** Columns one grapheme cluster occupies. */
export function graphemeWidth(g: string): number {
  const cp = g.codePointAt(0);
  if (cp === undefined) return 0;
  if (g.length === 1 && cp >= 0x20 && cp < 0x7f) return 1; // ASCII fast path
  if (CONTROL_START.test(g)) return 0;
  if (cp === SOFT_HYPHEN) return 1;
  if (ZERO_WIDTH_START.test(g)) return 0;
  if (inWideTable(cp)) return 2;
  // Emoji: presentation by default, or forced by VS16, or a ZWJ sequence / keycap of pictographs.
  if (EMOJI_PRESENTATION.test(g)) return g.includes("\ufe0e") ? 1 : 2;
  if (g.includes("\ufe0f") && EMOJI.test(g)) return 2;
  if (g.includes("\u200d") && PICTOGRAPHIC.test(g)) return 2;
  return 1;
}

/** Terminal columns `s` occupies: grapheme-aware, wide/fullwidth and emoji = 2, controls = 0. */
export function displayWidth(s: string): number {
  let width = 0;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.length;
  for (const { segment } of graphemeSegmenter.segment(s)) width += graphemeWidth(segment);
  return width;
}

/**
 * Cuts `s` to at most `width` columns without splitting a grapheme; `ellipsis` is appended only
 * when something was cut (and only if it fits).
 */
export function truncate(s: string, width: number, ellipsis = "…"): string {
  if (width <= 0) return "";
  if (displayWidth(s) <= width) return s;
  const ellipsisWidth = displayWidth(ellipsis);
  const room = ellipsisWidth <= width ? width - ellipsisWidth : width;
  let out = "";
  let used = 0;
  for (const g of graphemes(s)) {
    const w = graphemeWidth(g);
    if (used + w > room) break;
    out += g;
    used += w;
  }
  return ellipsisWidth <= width ? out + ellipsis : out;
}

/** `s` truncated (with ellipsis) and padded with spaces to exactly `width` columns. */
export function padEnd(s: string, width: number): string {
  if (width <= 0) return "";
  const t = truncate(s, width);
  return t + " ".repeat(Math.max(0, width - displayWidth(t)));
}

/** Like padEnd, but pads on the left (for right-aligned text). */
export function padStart(s: string, width: number): string {
  if (width <= 0) return "";
  const t = truncate(s, width);
  return " ".repeat(Math.max(0, width - displayWidth(t))) + t;
}

// Everything that could steer a terminal or reorder text: C0 (ESC, BEL, CR, BS, ...), DEL, C1
// (CSI 0x9b, OSC 0x9d), line/paragraph separators, bidi embeddings/overrides/isolates, and lone
// surrogates (which a terminal would receive as garbage bytes).
const UNSAFE =
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Replaces control and bidi-override characters with U+FFFD, and tabs with a space, so that
 * untrusted text (message bodies, names) can never inject terminal sequences.
 */
export function sanitize(s: string): string {
  return s.replace(UNSAFE, "\ufffd").replace(/\t/g, " ");
}

const TAB_STOP = 4;

function expandTabs(line: string): string {
  if (!line.includes("\t")) return line;
  let out = "";
  let col = 0;
  for (const g of graphemes(line)) {
    if (g === "\t") {
      const n = TAB_STOP - (col % TAB_STOP);
      out += " ".repeat(n);
      col += n;
    } else {
      out += g;
      col += graphemeWidth(g);
    }
  }
  return out;
}

/** Splits on CR LF, CR, LF: the paragraphs wrap() lays out one after another. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Word-wraps `text` to `width` columns. "\n" starts a new line; words longer than a line are
 * chunked by grapheme; every line after the first is prefixed by `indent` spaces and still fits
 * in `width` (the indent is capped at width - 2). Tabs become spaces, control characters U+FFFD.
 * No line is wider than `width` (a wide character in a 1-column layout becomes "?").
 */
export function wrap(text: string, width: number, indent = 0): string[] {
  const cols = Math.max(1, Math.floor(width));
  // The indent leaves at least two columns, so a wide character always fits a continuation line.
  const pad = " ".repeat(Math.max(0, Math.min(Math.floor(indent), cols - 2)));
  const lines: string[] = [];
  let line = "";
  let lineWidth = 0;
  let pendingSpaces = 0; // spaces before the next word; dropped where the line breaks
  let paragraphStart = true; // leading spaces of a paragraph are kept (indented code, lists)

  const room = () => cols - (lines.length === 0 ? 0 : pad.length);
  const breakLine = () => {
    lines.push(lines.length === 0 ? line : pad + line);
    line = "";
    lineWidth = 0;
  };
  const placeWord = (word: string[], widths: number[], total: number) => {
    let spaces = line === "" && !paragraphStart ? 0 : pendingSpaces;
    // A word wider than any continuation line is chunked anyway: it starts where it is (a lone
    // "[12:00] name:" row above a long URL would waste a row), unless not even one more grapheme fits.
    const chunked = total > cols - pad.length && lineWidth + spaces + (widths[0] ?? 0) <= room();
    if (lineWidth + spaces + total > room() && !chunked) {
      if (line !== "") breakLine();
      spaces = 0;
    }
    line += " ".repeat(spaces);
    lineWidth += spaces;
    pendingSpaces = 0;
    paragraphStart = false;
    for (let i = 0; i < word.length; i++) {
      let g = word[i]!;
      let w = widths[i]!;
      if (lineWidth + w > room()) {
        if (line !== "") breakLine();
        if (w > room()) {
          g = "?";
          w = 1;
        }
      }
      line += g;
      lineWidth += w;
    }
  };

  splitLines(text).forEach((raw, p) => {
    if (p > 0) breakLine();
    pendingSpaces = 0;
    paragraphStart = true;
    let word: string[] = [];
    let widths: number[] = [];
    let total = 0;
    for (const g of graphemes(sanitize(expandTabs(raw)).trimEnd())) {
      if (g === " ") {
        if (word.length > 0) {
          placeWord(word, widths, total);
          word = [];
          widths = [];
          total = 0;
        }
        pendingSpaces++;
        continue;
      }
      const w = graphemeWidth(g);
      word.push(g);
      widths.push(w);
      total += w;
    }
    if (word.length > 0) placeWord(word, widths, total);
  });
  breakLine();
  return lines;
}

/** `s` split after its first `columns` columns (a wide character that straddles the cut goes to `rest`). */
export function splitColumns(s: string, columns: number): { head: string; rest: string } {
  let used = 0;
  let at = 0;
  for (const g of graphemes(s)) {
    const w = graphemeWidth(g);
    if (used + w > columns) break;
    used += w;
    at += g.length;
  }
  return { head: s.slice(0, at), rest: s.slice(at) };
}
