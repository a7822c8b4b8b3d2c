import { expect, test } from "@jest/globals";
import { normaliseKey } from "./keys.js";

test("terminal-kit key names become short lower-case names", () => {
  const names = [
    "CTRL_UP",
    "CTRL_DOWN",
    "PAGE_UP",
    "PAGE_DOWN",
    "F1",
    "ALT_ENTER",
    "CTRL_ALT_J",
    "CTRL__",
    "CTRL_Q",
    "SHIFT_TAB",
    "ESCAPE",
    "BACKSPACE",
    "CTRL_H",
    "ENTER",
    "KP_ENTER",
    "CTRL_LEFT",
    "ALT_BACKSPACE",
    "SHIFT_UP",
  ];
  expect(names.map((n) => normaliseKey(n, false).name)).toEqual([
    "ctrl+up",
    "ctrl+down",
    "pgup",
    "pgdn",
    "f1",
    "alt+enter",
    "alt+enter",
    "ctrl+/",
    "ctrl+q",
    "shift+tab",
    "esc",
    "backspace",
    "backspace",
    "enter",
    "enter",
    "ctrl+left",
    "alt+backspace",
    "shift+up",
  ]);
});

test("printable input is a char, whatever it looks like", () => {
  expect(normaliseKey("é", true)).toEqual({ name: "char", char: "é" });
  expect(normaliseKey("UP", true)).toEqual({ name: "char", char: "UP" });
});
