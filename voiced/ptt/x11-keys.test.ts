import { expect, test } from "@jest/globals";
import { MOD, parseHotkey } from "./x11-keys.js";

test("key names: X11 keysym names, case-insensitive, with modifiers; a letter is its unshifted key", () => {
  expect(parseHotkey("F12")).toMatchObject({ modifiers: 0, keysymName: "F12", keysym: 0xffc9 });
  expect(parseHotkey("f12")).toMatchObject({ keysymName: "F12" });
  expect(parseHotkey("ctrl+space")).toMatchObject({ modifiers: MOD.control, keysymName: "space", keysym: 0x20 });
  expect(parseHotkey("Ctrl+Shift+V")).toMatchObject({ modifiers: MOD.control | MOD.shift, keysymName: "v", keysym: 0x76 });
  expect(parseHotkey("super+alt+Pause")).toMatchObject({ modifiers: MOD.mod4 | MOD.mod1, keysymName: "Pause" });
  expect(parseHotkey("scroll_lock")).toMatchObject({ keysymName: "Scroll_Lock" });
  expect(parseHotkey("capslock")).toMatchObject({ keysymName: "Caps_Lock" });
});

test("bad keys name the part that is wrong", () => {
  expect(() => parseHotkey("")).toThrow(/push-to-talk key is empty/);
  expect(() => parseHotkey("ctrl+")).toThrow(/push-to-talk key "ctrl\+": an empty part/);
  expect(() => parseHotkey("hyper+v")).toThrow(/push-to-talk key "hyper\+v": "hyper" is not a modifier/);
  expect(() => parseHotkey("ctrl+nosuchkey")).toThrow(/"nosuchkey" is not an X11 key name/);
});
