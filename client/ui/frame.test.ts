import { describe, expect, test } from "@jest/globals";
import { fitRow, FrameWriter, overlayRow, seg, sliceRow, splitRow, type Palette, type Row } from "./frame.js";
import { displayWidth } from "./text.js";

const text = (row: Row) => row.map((s) => s.text).join("");

const palette: Palette = {
  sgr: (style) => `<${style}>`,
  reset: "<r>",
  moveTo: (x, y) => `<@${x},${y}>`,
  eraseLineAfter: "<el>",
  hideCursor: "<hide>",
  showCursor: "<show>",
};

describe("rows", () => {
  test("fitRow cuts at the width (never half a wide character) and pads to it", () => {
    expect(text(fitRow([seg("ab"), seg("日本語", "own")], 6))).toBe("ab日本");
    expect(text(fitRow([seg("ab"), seg("日本語", "own")], 5))).toBe("ab日 ");
    expect(displayWidth(text(fitRow([seg("x")], 10)))).toBe(10);
  });

  test("control characters in text never reach the terminal", () => {
    expect(text(fitRow([seg("a\x1b[2Jb")], 8))).not.toContain("\x1b");
  });

  test("splitRow right-aligns the right part and cuts the left one first", () => {
    expect(text(splitRow([seg("left side")], [seg("● online")], 20))).toBe("left side   ● online");
    expect(text(splitRow([seg("a long left side")], [seg("online")], 12))).toBe("a longonline");
  });

  test("sliceRow and overlayRow work in columns, wide characters included", () => {
    const row = fitRow([seg("ab日本cd")], 8);
    expect(text(sliceRow(row, 2, 4))).toBe("日");
    expect(text(sliceRow(row, 3, 5))).toBe("  "); // both halves cut: spaces
    expect(text(overlayRow(row, 1, [seg("XY")], 8))).toBe("aXY 本cd"); // the half of 日 left uncovered is a space
  });
});

describe("FrameWriter", () => {
  test("the first frame draws every row; the next one only the rows that changed", () => {
    const w = new FrameWriter(palette);
    const frame = (a: string, b: string) => ({ rows: [fitRow([seg(a)], 4), fitRow([seg(b)], 4)], cursor: { x: 1, y: 1 } });
    const first = w.diff(frame("ab", "cd"), 4);
    expect(first).toContain("<@0,0>");
    expect(first).toContain("<@0,1>");
    const second = w.diff(frame("ab", "ce"), 4);
    expect(second).not.toContain("<@0,0>");
    expect(second).toContain("<@0,1><r><normal>ce<r>");
    expect(second.endsWith("<@1,1><show>")).toBe(true);
    w.invalidate();
    expect(w.diff(frame("ab", "ce"), 4)).toContain("<@0,0>");
  });

  test("a row narrower than the screen is erased to its end; a full one is not", () => {
    const w = new FrameWriter(palette);
    const out = w.diff({ rows: [[seg("ab")], fitRow([seg("abcd")], 4)] }, 4);
    expect(out).toContain("ab<r><el>");
    expect(out).not.toContain("abcd<r><el>");
    expect(out.endsWith("<hide>") || !out.includes("<show>")).toBe(true);
  });
});
