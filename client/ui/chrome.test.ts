import { describe, expect, test } from "@jest/globals";
import { footerLines, footerRoom, headerRow, type HeaderParts } from "./chrome.js";
import type { Row } from "./frame.js";
import { displayWidth } from "./text.js";

const text = (row: Row) => row.map((s) => s.text).join("");
const parts = (over: Partial<HeaderParts> = {}): HeaderParts => ({
  name: "alice",
  admin: true,
  channel: "general",
  voice: "voice: off",
  voiceActive: false,
  connection: { text: "● online", short: "●", style: "ok" },
  ...over,
});

describe("the header", () => {
  test("wide: title, name, channel, voice, and the connection on the right", () => {
    const row = text(headerRow(parts(), 80));
    expect(displayWidth(row)).toBe(80);
    expect(row).toMatch(/^ › dialtone {2}alice \(admin\) {2}· {2}#general {2}· {2}voice: off +● online $/);
  });

  test("narrower: the title and the name go before the channel; the connection stays", () => {
    for (const cols of [60, 50, 40, 30, 20]) {
      const row = text(headerRow(parts(), cols));
      expect(displayWidth(row)).toBe(cols);
      expect(row).toContain("#general");
      expect(row).toMatch(/● (online )?$/);
    }
    expect(text(headerRow(parts(), 40))).toMatch(/^ alice · #general · voice: off +● online $/);
    expect(text(headerRow(parts(), 20))).toMatch(/^ #general +● online $/);
  });

  test("voice that is on is kept longer than the name", () => {
    const row = text(headerRow(parts({ voice: "voice: #general (muted)", voiceActive: true }), 40));
    expect(row).toContain("#general · voice: #general (muted)");
    expect(row).not.toContain("alice");
  });

  test("narrowest, in voice: a word for the voice state stays", () => {
    const voice = { voice: "voice: #general (muted)", voiceActive: true, voiceShort: "muted" };
    expect(text(headerRow(parts(voice), 24))).toMatch(/^ #general · muted +● $/);
    expect(text(headerRow(parts({ ...voice, voiceShort: "voice" }), 24))).toMatch(/^ #general · voice +● $/);
  });

  test("tiny: the channel is cut with an ellipsis, the connection symbol stays", () => {
    const row = text(headerRow(parts({ channel: "a-very-long-channel-name" }), 16));
    expect(displayWidth(row)).toBe(16);
    expect(row).toMatch(/^ #a-very-long…? *● $/);
    expect(text(headerRow(parts({ channel: undefined }), 30))).toContain("no channel");
  });
});

describe("the footer", () => {
  const full = ["enter: send", "alt+enter: new line", "/help: commands", "pgup/pgdn: scroll", "ctrl+q: quit"];
  const short = [["ctrl+/ or f1: show help", "ctrl+q: quit"], ["f1: help", "ctrl+q: quit"], ["ctrl+q: quit"]];

  test("rows for help shrink with the terminal", () => {
    expect(footerRoom(40)).toBe(3);
    expect(footerRoom(20)).toBe(2);
    expect(footerRoom(12)).toBe(1);
    expect(footerRoom(8)).toBe(1);
  });

  test("the full help when it fits, else a short one that still says how to quit", () => {
    expect(footerLines(full, short, 120, 3, undefined)).toEqual({ lines: [full.join(" · ")], full: true });
    const small = footerLines(full, short, 40, 1, undefined);
    expect(small).toEqual({ lines: ["ctrl+/ or f1: show help · ctrl+q: quit"], full: false });
    expect(footerLines(full, short, 25, 1, undefined).lines).toEqual(["f1: help · ctrl+q: quit"]);
    expect(footerLines(full, short, 16, 1, undefined).lines).toEqual(["ctrl+q: quit"]);
  });

  test("f1 forces the full help (up to three rows) or the short one", () => {
    expect(footerLines(full, short, 40, 1, true)).toEqual({
      lines: ["enter: send · alt+enter: new line", "/help: commands · pgup/pgdn: scroll", "ctrl+q: quit"],
      full: true,
    });
    expect(footerLines(full, short, 30, 1, true, 6).lines).toEqual([
      "enter: send",
      "alt+enter: new line",
      "/help: commands",
      "pgup/pgdn: scroll",
      "ctrl+q: quit",
    ]);
    expect(footerLines(full, short, 120, 3, false)).toEqual({ lines: ["ctrl+/ or f1: show help · ctrl+q: quit"], full: false });
  });
});
