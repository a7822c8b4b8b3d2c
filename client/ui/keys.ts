// Key names: terminal-kit's ("CTRL_UP", "PAGE_UP", "ALT_ENTER", "CTRL__") turned into the short,
// lower-case names the screens match on ("ctrl+up", "pgup", "alt+enter", "ctrl+/"). Printable
// input is { name: "char", char }. Pure.

export interface KeyPress {
  /** "enter", "ctrl+q", "pgup", "f1", ... or "char" for printable input. */
  readonly name: string;
  /** The character(s) typed, for name "char". */
  readonly char?: string;
}

const SPECIAL: Readonly<Record<string, string>> = {
  PAGE_UP: "pgup",
  PAGE_DOWN: "pgdn",
  ESCAPE: "esc",
  SHIFT_TAB: "shift+tab",
  KP_ENTER: "enter",
  CTRL_ALT_J: "alt+enter", // ESC LF: what tmux sends for M-Enter
  CTRL_ALT_M: "alt+enter",
  CTRL__: "ctrl+/", // ctrl+/ and ctrl+_ both send 0x1f
  CTRL_H: "backspace", // many terminals send 0x08 for backspace
  CTRL_I: "tab",
  CTRL_M: "enter",
  // tmux and some terminals send these without the modifier table terminal-kit knows.
  CTRL_PAGE_UP: "ctrl+pgup",
  CTRL_PAGE_DOWN: "ctrl+pgdn",
};

const MODIFIERS = new Set(["CTRL", "ALT", "SHIFT", "META"]);

export function normaliseKey(name: string, isCharacter: boolean): KeyPress {
  if (isCharacter) return { name: "char", char: name };
  const special = SPECIAL[name];
  if (special) return { name: special };
  const parts = name.split("_");
  const mods: string[] = [];
  while (parts.length > 1 && MODIFIERS.has(parts[0]!)) mods.push(parts.shift()!.toLowerCase());
  let key = parts.join("_").toLowerCase();
  if (key === "page_up") key = "pgup";
  else if (key === "page_down") key = "pgdn";
  else if (key === "escape") key = "esc";
  return { name: [...mods, key].join("+") };
}
