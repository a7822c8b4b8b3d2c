// Per-person nick colours: a stable hash of the user id picks one of a few 256-colour styles that
// read on dark and on light backgrounds (mid-lightness hues, no near-white or near-black), and
// never the colours of one's own lines (green) or of system lines (grey).
import type { Style } from "./frame.js";

export const NICK_STYLES = ["nick0", "nick1", "nick2", "nick3", "nick4", "nick5", "nick6", "nick7"] as const satisfies readonly Style[];
export type NickStyle = (typeof NICK_STYLES)[number];

/** xterm-256 colours of NICK_STYLES, in order (terminal.ts draws them). */
export const NICK_COLOURS: Readonly<Record<NickStyle, number>> = {
  nick0: 33, // blue
  nick1: 37, // teal
  nick2: 133, // magenta
  nick3: 166, // orange
  nick4: 98, // violet
  nick5: 168, // pink
  nick6: 31, // sea blue
  nick7: 130, // brown
};

/** FNV-1a over the id's UTF-16 units: the same id gets the same colour on every run and device. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function nickStyle(userId: string): NickStyle {
  return NICK_STYLES[fnv1a(userId) % NICK_STYLES.length]!;
}
