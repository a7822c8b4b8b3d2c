// The push-to-talk key in X11 terms: "ctrl+space", "F12", "super+shift+v" → a modifier mask and
// a keysym (X11 keysym names, case-insensitive: "f12" = "F12", "scroll_lock", "pause", "space").
// Names come from the `x11` package's copy of X.Org's keysymdef.h.
import { createRequire } from "node:module";

/** Core protocol modifier bits (KeyButMask). */
export const MOD = { shift: 0x01, lock: 0x02, control: 0x04, mod1: 0x08, mod2: 0x10, mod4: 0x40 } as const;

const MODIFIERS: Record<string, number> = {
  ctrl: MOD.control,
  control: MOD.control,
  shift: MOD.shift,
  alt: MOD.mod1,
  super: MOD.mod4,
  logo: MOD.mod4,
  meta: MOD.mod4,
};

/** Our spellings that are not keysym names. */
const ALIASES: Record<string, string> = { caps: "Caps_Lock", capslock: "Caps_Lock", esc: "Escape", enter: "Return", del: "Delete" };

export interface Hotkey {
  /** What the user wrote, for notices. */
  spec: string;
  modifiers: number;
  keysymName: string;
  keysym: number;
}

let byName: Map<string, { name: string; code: number }> | undefined;

function keysymTable(): Map<string, { name: string; code: number }> {
  if (byName) return byName;
  const table = createRequire(import.meta.url)("x11").keySyms as Record<string, { code: number }>;
  byName = new Map();
  for (const [xk, { code }] of Object.entries(table)) {
    const name = xk.replace(/^XK_/, "");
    // Exact names win over case-folded ones ("v" and "V" are different keysyms).
    byName.set(name, { name, code });
    if (!byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), { name, code });
  }
  return byName;
}

/** Parses a push-to-talk key; throws an error naming the part it does not know. */
export function parseHotkey(spec: string): Hotkey {
  if (!spec.trim()) throw new Error("push-to-talk key is empty");
  const parts = spec.split("+").map((p) => p.trim());
  if (parts.some((p) => !p)) throw new Error(`push-to-talk key "${spec}": an empty part around "+"`);
  const last = parts.pop()!;
  let modifiers = 0;
  for (const p of parts) {
    const m = MODIFIERS[p.toLowerCase()];
    if (m === undefined) throw new Error(`push-to-talk key "${spec}": "${p}" is not a modifier (ctrl, shift, alt, super)`);
    modifiers |= m;
  }
  const table = keysymTable();
  // A single letter means its key: the keysym of the unshifted level ("V" → "v").
  const wanted = ALIASES[last.toLowerCase()] ?? (last.length === 1 ? last.toLowerCase() : last);
  const hit = table.get(wanted) ?? table.get(wanted.toLowerCase());
  if (!hit) throw new Error(`push-to-talk key "${spec}": "${last}" is not an X11 key name (e.g. F12, space, Pause, v)`);
  return { spec, modifiers, keysymName: hit.name, keysym: hit.code };
}
