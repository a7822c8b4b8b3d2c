import { expect, test } from "@jest/globals";
import { fitRow, type Row } from "./frame.js";
import { Picker } from "./picker.js";

const blank = (w: number, h: number): Row[] => Array.from({ length: h }, () => fitRow([], w));
const screen = (rows: Row[]) => rows.map((r) => r.map((s) => s.text).join("")).join("\n");

test("up/down (or k/j) move, enter picks, esc cancels; the box is drawn with the selection marked", () => {
  const picked: string[] = [];
  let canceled = 0;
  const p = new Picker<string>({
    title: "Select a channel",
    items: ["general (1a2b3c4d)", "general (9f8e7d6c)", "random (55aa55aa)"].map((l) => ({ label: l, value: l.slice(-9, -1) })),
    onPick: (v) => picked.push(v),
    onCancel: () => canceled++,
  });
  p.key({ name: "down" });
  p.key({ name: "char", char: "j" });
  p.key({ name: "char", char: "k" });
  const drawn = screen(p.overlay(blank(50, 12), 50, 12));
  expect(drawn).toContain("Select a channel");
  expect(drawn).toContain("> general (9f8e7d6c)");
  expect(drawn).toContain("enter: select  esc: cancel");
  expect(drawn).toMatch(/\+-+\+/);
  p.key({ name: "enter" });
  expect(picked).toEqual(["9f8e7d6c"]);
  p.key({ name: "esc" });
  expect(canceled).toBe(1);
});

test("with nothing to pick it says so", () => {
  const p = new Picker<string>({ title: "Saved servers", items: [], empty: "no saved servers yet", onPick: () => {}, onCancel: () => {} });
  expect(screen(p.overlay(blank(60, 10), 60, 10))).toContain("no saved servers yet");
});
