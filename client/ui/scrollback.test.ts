import { describe, expect, test } from "@jest/globals";
import { clock, formatEntry, markerText, Scrollback, type PaneEntry } from "./scrollback.js";
import { displayWidth } from "./text.js";

const at = (h: number, m: number) => new Date(2024, 0, 15, h, m);

function msg(i: number, over: Partial<PaneEntry> = {}): PaneEntry {
  return { id: `m${i}`, order: BigInt(i), time: at(9, i % 60), kind: "other", name: "alice", body: `message ${i}`, ...over };
}

/** A pane of `n` one-line messages 1..n. */
function filled(n: number, width = 40): Scrollback {
  const sb = new Scrollback(width);
  for (let i = 1; i <= n; i++) sb.add(msg(i));
  return sb;
}

const texts = (sb: Scrollback, h: number) => sb.view(h).lines.map((l) => l.text);
const content = (sb: Scrollback, h: number) =>
  sb
    .view(h)
    .lines.filter((l) => l.style !== "marker")
    .map((l) => l.text);

describe("line format", () => {
  test("[HH:MM] name: body in local 24 h time; system lines have no name", () => {
    expect(clock(at(9, 5))).toBe("09:05");
    expect(clock(at(23, 59))).toBe("23:59");
    expect(clock(new Date(Number.NaN))).toBe("--:--");
    expect(formatEntry(msg(1, { time: at(14, 7), body: "hi" }), 80)).toEqual([{ id: "m1", text: "[14:07] alice: hi", style: "other" }]);
    expect(formatEntry({ id: "s", order: 1n, time: at(8, 0), kind: "system", body: "voice connected" }, 80)).toEqual([
      { id: "s", text: "[08:00] voice connected", style: "system" },
    ]);
  });

  test("continuation lines are indented to the prefix width", () => {
    const lines = formatEntry(msg(1, { time: at(9, 0), name: "bob", body: "one two three four five six seven eight" }), 30);
    expect(lines.map((l) => l.text)).toEqual(["[09:00] bob: one two three", "             four five six", "             seven eight"]);
    expect(lines.every((l) => l.style === "other")).toBe(true);
  });

  test("multi-line bodies keep their line breaks, indented", () => {
    const lines = formatEntry(msg(1, { time: at(9, 0), name: "bob", body: "first\nsecond" }), 40);
    expect(lines.map((l) => l.text)).toEqual(["[09:00] bob: first", "             second"]);
  });

  test("a narrow pane indents less than a long prefix so the body keeps room", () => {
    const lines = formatEntry(msg(1, { name: "a-rather-long-name", body: "words words words words" }), 30);
    expect(lines.slice(1).every((l) => l.text.startsWith("        ") && !l.text.startsWith("         "))).toBe(true);
    for (const l of lines) expect(displayWidth(l.text)).toBeLessThanOrEqual(30);
  });

  test("names and bodies cannot inject escape sequences; long names are cut", () => {
    const lines = formatEntry(msg(1, { name: `ev\u001b[2Jil${"x".repeat(60)}`, body: "\u001b]52;c;AAAA\u0007 hi" }), 200);
    const all = lines.map((l) => l.text).join("\n");
    expect(all).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(all).toContain("\uFFFD");
    expect(all).toContain("…: ");
  });

  test("wide and emoji bodies never exceed the width", () => {
    const body = "漢字かな交じり 👨‍👩‍👧‍👦 🇯🇵 é 한국어 ".repeat(6);
    for (let w = 20; w <= 50; w++) {
      for (const l of formatEntry(msg(1, { body }), w)) expect(displayWidth(l.text)).toBeLessThanOrEqual(w);
    }
  });

  test("the marker names the count and fills the width", () => {
    expect(markerText(200, 60)).toContain("200 new messages below (End)");
    expect(markerText(1, 60)).toContain("1 new message below");
    expect(displayWidth(markerText(7, 60))).toBe(60);
    expect(markerText(7, 60).startsWith("─")).toBe(true);
    expect(displayWidth(markerText(12345, 10))).toBeLessThanOrEqual(10);
  });
});

describe("ordering and identity", () => {
  test("entries sort by order whatever the arrival order; equal orders keep arrival order", () => {
    const sb = new Scrollback(60);
    sb.add(msg(3));
    sb.add(msg(1));
    sb.add(msg(2));
    sb.add({ id: "sys", order: 2n, time: at(9, 2), kind: "system", body: "after two" });
    expect(texts(sb, 10)).toEqual([
      "[09:01] alice: message 1",
      "[09:02] alice: message 2",
      "[09:02] after two",
      "[09:03] alice: message 3",
    ]);
    expect(sb.size).toBe(4);
    expect(sb.oldest?.id).toBe("m1");
    expect(sb.newest?.id).toBe("m3");
  });

  test("a second add with the same id replaces it instead of duplicating", () => {
    const sb = filled(3);
    sb.add(msg(2, { body: "edited" }));
    expect(sb.size).toBe(3);
    expect(texts(sb, 10)).toEqual(["[09:01] alice: message 1", "[09:02] alice: edited", "[09:03] alice: message 3"]);
    expect(sb.has("m2")).toBe(true);
    expect(sb.has("m9")).toBe(false);
  });

  test("replace swaps a placeholder for the decrypted text in place", () => {
    const sb = filled(3);
    sb.add(msg(4, { kind: "placeholder", name: "3f2a9c1e", body: "<encrypted: waiting for key>" }));
    sb.add(msg(5));
    sb.replace("m4", msg(4, { body: "secret revealed" }));
    const v = sb.view(10).lines;
    expect(v[3]).toEqual({ id: "m4", text: "[09:04] alice: secret revealed", style: "other" });
    expect(v.map((l) => l.text)[4]).toBe("[09:05] alice: message 5");
  });

  test("a replacement whose order changed moves to its new place", () => {
    const sb = filled(3);
    sb.add({ ...msg(99), order: 3n, kind: "own", body: "pending" }); // local echo, after m3
    sb.add(msg(4));
    sb.replace("m99", { ...msg(99), order: 5n, kind: "own", body: "sent" });
    expect(texts(sb, 10).at(-1)).toBe("[09:39] alice: sent");
  });

  test("a pending entry replaced by its message after the live copy arrived leaves one entry", () => {
    const sb = filled(3);
    sb.add({ id: "pending-1", order: 3n, time: at(9, 30), kind: "placeholder", name: "me", body: "hi" });
    sb.add(msg(4)); // someone else's message
    sb.add(msg(5, { kind: "own", name: "me", body: "hi" })); // the live echo of ours, first
    sb.replace("pending-1", msg(5, { kind: "own", name: "me", body: "hi" }));
    expect(sb.size).toBe(5);
    expect(sb.has("pending-1")).toBe(false);
    expect(texts(sb, 10).slice(-2)).toEqual(["[09:04] alice: message 4", "[09:05] me: hi"]);
  });

  test("remove and clear", () => {
    const sb = filled(3);
    sb.remove("m2");
    expect(sb.size).toBe(2);
    expect(texts(sb, 10)).toEqual(["[09:01] alice: message 1", "[09:03] alice: message 3"]);
    sb.clear();
    expect(sb.size).toBe(0);
    expect(sb.view(10)).toEqual({ lines: [], newBelow: 0 });
  });
});

describe("following the bottom", () => {
  test("an empty pane shows nothing", () => {
    const sb = new Scrollback(40);
    expect(sb.view(10)).toEqual({ lines: [], newBelow: 0 });
    expect(sb.atBottom).toBe(true);
    expect(sb.atTop(10)).toBe(true);
  });

  test("fewer lines than the height: all of them, no marker", () => {
    const sb = filled(3);
    const v = sb.view(10);
    expect(v.lines).toHaveLength(3);
    expect(v.newBelow).toBe(0);
    expect(sb.atTop(10)).toBe(true);
  });

  test("at the bottom the view follows new entries", () => {
    const sb = filled(20);
    expect(texts(sb, 5)).toEqual([16, 17, 18, 19, 20].map((i) => `[09:${String(i).padStart(2, "0")}] alice: message ${i}`));
    sb.add(msg(21));
    expect(texts(sb, 5).at(-1)).toBe("[09:21] alice: message 21");
    expect(sb.view(5).lines.some((l) => l.style === "marker")).toBe(false);
    expect(sb.atTop(5)).toBe(false);
  });

  test("scrolling down at the bottom or up with nothing to scroll stays at the bottom", () => {
    const sb = filled(3);
    sb.scroll(-5, 10);
    expect(sb.atBottom).toBe(true);
    const big = filled(20);
    big.scroll(5, 5);
    expect(big.atBottom).toBe(true);
  });
});

describe("scrolled up", () => {
  test("while 200 messages arrive, a user scrolled up keeps seeing the same lines, with the marker", () => {
    const height = 10;
    const sb = filled(100);
    sb.pageUp(height);
    sb.pageUp(height);
    expect(sb.atBottom).toBe(false);
    const before = content(sb, height);
    expect(before).toHaveLength(height - 1);
    for (let i = 101; i <= 300; i++) sb.add(msg(i));
    const v = sb.view(height);
    expect(v.lines).toHaveLength(height);
    expect(v.lines.filter((l) => l.style !== "marker").map((l) => l.text)).toEqual(before);
    expect(v.newBelow).toBe(200);
    expect(v.lines.at(-1)!.style).toBe("marker");
    expect(v.lines.at(-1)!.text).toContain("200 new messages below");
    expect(sb.atBottom).toBe(false);
  });

  test("the same holds when each arrival is rendered (the app redraws per message)", () => {
    const sb = filled(50);
    sb.scroll(-20, 8);
    const before = content(sb, 8);
    for (let i = 51; i <= 250; i++) {
      sb.add(msg(i));
      expect(content(sb, 8)).toEqual(before);
    }
    expect(sb.view(8).newBelow).toBe(200);
  });

  test("the marker is shown even before anything new arrives, so lines do not jump when it appears", () => {
    const sb = filled(30);
    sb.scroll(-5, 6);
    const v = sb.view(6);
    expect(v.lines).toHaveLength(6);
    expect(v.newBelow).toBe(0);
    expect(v.lines.at(-1)).toEqual({ text: markerText(0, 40), style: "marker" });
    expect(v.lines.at(-1)!.text).toContain("(End)");
  });

  test("scrolling one line up shows one earlier line at the top", () => {
    const sb = filled(30);
    const bottom = texts(sb, 6);
    sb.scroll(-1, 6);
    expect(content(sb, 6)[0]).toBe("[09:24] alice: message 24");
    expect(bottom[0]).toBe("[09:25] alice: message 25");
  });

  test("scrolling back down shows new entries, the count drops, and the bottom follows again", () => {
    const sb = filled(30);
    sb.scroll(-10, 6);
    for (let i = 31; i <= 40; i++) sb.add(msg(i));
    expect(sb.view(6).newBelow).toBe(10);
    sb.scroll(12, 6); // top moves past 31..36 (the first lines of the new ones come into view)
    const v = sb.view(6);
    expect(v.newBelow).toBeLessThan(10);
    expect(v.newBelow).toBeGreaterThan(0);
    sb.pageDown(6);
    sb.pageDown(6);
    sb.pageDown(6);
    expect(sb.atBottom).toBe(true);
    expect(sb.view(6).newBelow).toBe(0);
    expect(texts(sb, 6).at(-1)).toBe("[09:40] alice: message 40");
  });

  test("toBottom jumps back and clears the count", () => {
    const sb = filled(30);
    sb.pageUp(6);
    sb.add(msg(31));
    expect(sb.view(6).newBelow).toBe(1);
    sb.toBottom();
    expect(sb.atBottom).toBe(true);
    expect(sb.view(6)).toEqual({ lines: expect.any(Array), newBelow: 0 });
    expect(texts(sb, 6).at(-1)).toBe("[09:31] alice: message 31");
  });

  test("pageUp and pageDown keep one line of the previous page in view", () => {
    const sb = filled(60);
    const h = 10;
    const first = texts(sb, h);
    sb.pageUp(h);
    const up = content(sb, h);
    expect(up.at(-1)).toBe(first[0]); // the old top line is the new bottom content line
    sb.pageUp(h);
    const up2 = content(sb, h);
    expect(up2.at(-1)).toBe(up[0]);
    sb.pageDown(h);
    expect(content(sb, h)).toEqual(up);
  });

  test("entries that arrive above the view (late, lower order) do not move it and are not counted", () => {
    const sb = new Scrollback(40);
    for (let i = 10; i <= 60; i++) sb.add(msg(i));
    sb.scroll(-10, 6);
    const before = content(sb, 6);
    sb.add(msg(5));
    expect(content(sb, 6)).toEqual(before);
    expect(sb.view(6).newBelow).toBe(0);
  });

  test("replacing an entry above the view with a longer one does not move the view", () => {
    const sb = filled(40);
    sb.scroll(-10, 6);
    const before = content(sb, 6);
    sb.replace("m3", msg(3, { body: "a much longer text that will wrap onto several lines in a narrow pane" }));
    expect(content(sb, 6)).toEqual(before);
  });

  test("the view clamps to the bottom when content below shrinks away", () => {
    const sb = new Scrollback(40);
    for (let i = 1; i <= 6; i++) sb.add(msg(i, { body: "x ".repeat(60) })); // 4 lines each at width 40
    sb.scroll(-2, 6);
    expect(sb.atBottom).toBe(false);
    for (let i = 1; i <= 6; i++) sb.replace(`m${i}`, msg(i));
    const v = sb.view(6);
    expect(sb.atBottom).toBe(true);
    expect(v.lines.map((l) => l.text).at(-1)).toBe("[09:06] alice: message 6");
  });
});

describe("older history", () => {
  test("atTop tells when the first line is visible", () => {
    const sb = filled(30);
    expect(sb.atTop(6)).toBe(false);
    sb.scroll(-1000, 6);
    expect(sb.atTop(6)).toBe(true);
    expect(content(sb, 6)[0]).toBe("[09:01] alice: message 1");
  });

  test("prependOlder does not move the view and counts nothing as new", () => {
    const sb = new Scrollback(40);
    for (let i = 101; i <= 130; i++) sb.add(msg(i));
    sb.scroll(-1000, 6);
    const before = content(sb, 6);
    sb.prependOlder(Array.from({ length: 50 }, (_, k) => msg(51 + k, { kind: "history" })));
    expect(content(sb, 6)).toEqual(before);
    expect(sb.view(6).newBelow).toBe(0);
    expect(sb.atTop(6)).toBe(false);
    expect(sb.size).toBe(80);
    sb.scroll(-1, 6);
    expect(content(sb, 6)[0]).toBe("[09:40] alice: message 100");
    expect(sb.view(6).lines[0]!.style).toBe("history");
  });

  test("prependOlder at the bottom keeps the bottom and dedups ids already shown", () => {
    const sb = filled(10);
    const bottom = texts(sb, 5);
    sb.prependOlder([msg(9, { kind: "history" }), msg(10, { kind: "history" }), msg(0, { kind: "history" })]);
    expect(sb.size).toBe(11);
    expect(texts(sb, 5)).toEqual(bottom);
  });
});

describe("resizing", () => {
  test("setWidth re-wraps and keeps the top visible entry in view", () => {
    const sb = new Scrollback(80);
    for (let i = 1; i <= 40; i++) sb.add(msg(i, { body: `entry ${i} ${"word ".repeat(10)}` }));
    sb.scroll(-20, 8);
    const topEntry = content(sb, 8)[0]!;
    const m = /entry (\d+)/.exec(topEntry)!;
    sb.setWidth(30);
    const after = content(sb, 8);
    expect(after.some((l) => l.includes(`entry ${m[1]} `))).toBe(true);
    for (const l of sb.view(8).lines) expect(displayWidth(l.text)).toBeLessThanOrEqual(30);
    expect(sb.width).toBe(30);
  });

  test("the bottom stays followed across a resize", () => {
    const sb = filled(30, 80);
    sb.setWidth(20);
    expect(sb.atBottom).toBe(true);
    expect(texts(sb, 3).at(-1)).toContain("30");
  });
});

describe("maxEntries", () => {
  test("live adds drop the oldest entries beyond the cap", () => {
    const sb = new Scrollback(40, { maxEntries: 10 });
    for (let i = 1; i <= 25; i++) sb.add(msg(i));
    expect(sb.size).toBe(10);
    expect(sb.oldest?.id).toBe("m16");
  });

  test("but not the entry the user is reading at the top", () => {
    const sb = new Scrollback(40, { maxEntries: 10 });
    for (let i = 1; i <= 10; i++) sb.add(msg(i));
    sb.scroll(-1000, 4);
    const before = content(sb, 4);
    for (let i = 11; i <= 20; i++) sb.add(msg(i));
    expect(content(sb, 4)).toEqual(before);
    expect(sb.view(4).newBelow).toBe(10);
  });
});

describe("showFromStart", () => {
  test("an entry taller than the pane is shown from its first line; one that fits leaves the view at the bottom", () => {
    const sb = filled(3);
    const body = Array.from({ length: 12 }, (_, i) => `help line ${i}`).join("\n");
    sb.add({ id: "help", order: 4n, time: at(10, 0), kind: "system", body });
    sb.showFromStart("help");
    const shown = texts(sb, 6);
    expect(shown[0]).toContain("help line 0");
    expect(shown.join("\n")).not.toContain("help line 11");
    const short = filled(3);
    short.add({ id: "note", order: 4n, time: at(10, 0), kind: "system", body: "one line" });
    short.showFromStart("note");
    expect(texts(short, 6).at(-1)).toContain("one line");
    expect(short.atBottom).toBe(true);
  });
});
