// The chat screen's header and footer, laid out for any terminal size: what matters most
// survives when the width or height runs out (the channel and the connection before the title and
// your name; "ctrl+q: quit" and "/help" before the rest of the key help). Pure.
import { fitRow, packItems, seg, splitRow, type Row, type Segment, type Style } from "./frame.js";
import { displayWidth } from "./text.js";

export interface HeaderParts {
  readonly name: string;
  readonly admin: boolean;
  /** The active channel's label (without "#"), if any. */
  readonly channel?: string;
  /** A view that is not a channel ("system"), shown when no channel is. */
  readonly view?: string;
  /** "voice: off", "voice: #x (muted)", ... */
  readonly voice: string;
  readonly voiceActive: boolean;
  /** The voice state in a word or two ("in voice", "muted"), for the narrowest header. */
  readonly voiceShort?: string;
  /** "● online", "○ offline · reconnecting", ...; `short` is its first symbol alone. */
  readonly connection: { readonly text: string; readonly short: string; readonly style: Style };
}

const width = (segments: readonly Segment[]) => segments.reduce((n, s) => n + displayWidth(s.text), 0);

/** The header row: the first of ever more compact variants that fits in `cols` columns. */
export function headerRow(p: HeaderParts, cols: number): Row {
  const channel =
    p.channel !== undefined ? seg(`#${p.channel}`, "bold") : p.view !== undefined ? seg(p.view, "bold") : seg("no channel", "dim");
  const voice = seg(p.voice, "dim");
  const variants: Array<{ left: Segment[]; right: Segment[] }> = [];
  const right = [seg(`${p.connection.text} `, p.connection.style)];
  const rightShort = [seg(`${p.connection.short} `, p.connection.style)];
  const sep = (s: string) => seg(s, "border");
  const name = [seg(p.name, "bold"), ...(p.admin ? [seg(" (admin)", "dim")] : [])];
  variants.push({ left: [seg(" › dialtone  ", "title"), ...name, sep("  ·  "), channel, sep("  ·  "), voice], right });
  variants.push({ left: [seg(" "), ...name, sep("  ·  "), channel, sep("  ·  "), voice], right });
  variants.push({ left: [seg(" "), seg(p.name, "bold"), sep(" · "), channel, sep(" · "), voice], right });
  variants.push({ left: [seg(" "), channel, sep(" · "), voice], right });
  // Voice that is off says nothing worth a column here; voice that is on stays.
  const lean = p.voiceActive ? [seg(" "), channel, sep(" · "), voice] : [seg(" "), channel];
  variants.push({ left: lean, right });
  variants.push({ left: lean, right: rightShort });
  if (p.voiceActive && p.voiceShort) variants.push({ left: [seg(" "), channel, sep(" · "), seg(p.voiceShort, "dim")], right: rightShort });
  for (const v of variants) if (width(v.left) + width(v.right) <= cols) return splitRow(v.left, v.right, cols);
  // Nothing fits whole: the channel is cut (with "…") before the connection symbol goes.
  const room = Math.max(0, cols - width(rightShort));
  return splitRow([seg(" "), seg(cut(channel.text, room - 1), channel.style)], room > 2 ? rightShort : [], cols);
}

function cut(text: string, cols: number): string {
  if (cols <= 0) return "";
  if (displayWidth(text) <= cols) return text;
  return `${fitRow([seg(text)], cols - 1)
    .map((s) => s.text)
    .join("")
    .trimEnd()}…`;
}

/** How many footer rows a chat screen `rows` high can spare for key help. */
export function footerRoom(rows: number): number {
  return rows >= 24 ? 3 : rows >= 16 ? 2 : 1;
}

/**
 * The footer's help lines: the full help when it fits in `maxLines` (or when `full` forces it,
 * f1, in up to `forcedMax` lines), else the first of `short` (ever shorter variants, each keeping
 * "ctrl+q: quit") that fits.
 */
export function footerLines(
  fullHelp: readonly string[],
  short: readonly (readonly string[])[],
  cols: number,
  maxLines: number,
  full: boolean | undefined,
  forcedMax = 3,
): { lines: string[]; full: boolean } {
  const w = Math.max(1, cols - 2);
  const long = packItems(fullHelp, w);
  if (full === true) return { lines: long.slice(0, Math.max(maxLines, forcedMax)), full: true };
  if (full === undefined && long.length <= maxLines) return { lines: long, full: true };
  const fits = (items: readonly string[]) => packItems(items, w).length <= maxLines && items.every((i) => displayWidth(i) <= w);
  const pick = short.find(fits) ?? short[short.length - 1] ?? [];
  return { lines: packItems(pick, w).slice(0, Math.max(1, maxLines)), full: false };
}
