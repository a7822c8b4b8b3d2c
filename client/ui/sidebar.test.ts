import { describe, expect, test } from "@jest/globals";
import { moveCursor, sidebarLines, sortChannels, type SidebarInput } from "./sidebar.js";
import { displayWidth } from "./text.js";

function input(over: Partial<SidebarInput> = {}): SidebarInput {
  return {
    channels: [
      { id: "c3", label: "random" },
      { id: "c1", label: "General" },
      { id: "c2", label: "dev" },
    ],
    unread: new Map(),
    voiceRooms: [],
    users: [],
    ...over,
  };
}

const section = (lines: { text: string }[], heading: string) => {
  const start = lines.findIndex((l) => l.text === heading);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.text === "");
  return end === -1 ? rest : rest.slice(0, end);
};

describe("channels", () => {
  test("sorted by label (case-insensitive), then id; cursor '> ', active '• ', unread ' (N)'", () => {
    const lines = sidebarLines(
      input({
        activeId: "c3",
        cursorId: "c2",
        unread: new Map([
          ["c1", 4],
          ["c3", 9],
        ]),
      }),
      26,
    );
    expect(section(lines, "Channels")).toEqual([
      { text: "> dev", style: "cursor" },
      { text: "  General (4)", style: "unread" },
      { text: "• random", style: "active" }, // active: its unread count is not shown
    ]);
    expect(lines[0]).toEqual({ text: "Channels", style: "heading" });
  });

  test("the cursor on the active channel shows '> '; equal labels order by id", () => {
    const lines = sidebarLines(
      input({
        channels: [
          { id: "b", label: "<encrypted>" },
          { id: "a", label: "<encrypted>" },
        ],
        activeId: "a",
        cursorId: "a",
      }),
      26,
    );
    expect(section(lines, "Channels")).toEqual([
      { text: "> <encrypted>", style: "cursor" },
      { text: "  <encrypted>", style: "normal" },
    ]);
  });

  test("no channels: (none)", () => {
    expect(section(sidebarLines(input({ channels: [] }), 26), "Channels")).toEqual([{ text: "(none)", style: "dim" }]);
  });

  test("large unread counts are capped", () => {
    const lines = sidebarLines(input({ unread: new Map([["c2", 1234]]) }), 26);
    expect(lines.map((l) => l.text)).toContain("  dev (99+)");
  });

  test("a long or wide label is cut so the unread count stays visible", () => {
    const lines = sidebarLines(input({ channels: [{ id: "x", label: "漢字漢字漢字漢字漢字漢字漢字" }], unread: new Map([["x", 12]]) }), 16);
    const row = section(lines, "Channels")[0]!.text;
    expect(row.endsWith("… (12)")).toBe(true);
    expect(displayWidth(row)).toBeLessThanOrEqual(16);
  });

  test("labels cannot inject escape sequences", () => {
    const lines = sidebarLines(input({ channels: [{ id: "x", label: "evil\u001b[2J" }] }), 26);
    expect(lines.map((l) => l.text).join("")).not.toContain("\u001b");
  });

  test("sortChannels and moveCursor follow the display order and clamp", () => {
    const chans = input().channels;
    expect(sortChannels(chans).map((c) => c.id)).toEqual(["c2", "c1", "c3"]);
    expect(moveCursor(chans, "c2", 1)).toBe("c1");
    expect(moveCursor(chans, "c3", 1)).toBe("c3");
    expect(moveCursor(chans, "c2", -1)).toBe("c2");
    expect(moveCursor(chans, undefined, 1)).toBe("c2");
    expect(moveCursor(chans, undefined, -1)).toBe("c3");
    expect(moveCursor([], undefined, 1)).toBeUndefined();
  });
});

describe("in voice", () => {
  test("(not connected) without rooms", () => {
    expect(section(sidebarLines(input(), 26), "In Voice")).toEqual([{ text: "(not connected)", style: "dim" }]);
  });

  test("rooms sorted by label; '+ ' while speaking, ' (admin)', a volume note; online and offline styles", () => {
    const lines = sidebarLines(
      input({
        voiceRooms: [
          {
            channelId: "c3",
            label: "random",
            joined: true,
            members: [
              { label: "alice", speaking: true, admin: true, online: true },
              { label: "bob", speaking: false, admin: false, online: false },
              { label: "dave", speaking: true, admin: false, online: true, note: "50%" },
            ],
          },
          { channelId: "c2", label: "dev", members: [{ label: "carol", speaking: false, admin: false, online: true }] },
        ],
      }),
      26,
    );
    expect(section(lines, "In Voice")).toEqual([
      { text: "  dev", style: "normal" },
      { text: "    carol", style: "online" },
      { text: "• random", style: "active" },
      { text: "  + alice (admin)", style: "speaking" },
      { text: "    bob", style: "offline" },
      { text: "  + dave · 50%", style: "speaking" },
    ]);
  });

  test("an empty room says so", () => {
    const lines = sidebarLines(input({ voiceRooms: [{ channelId: "c", label: "lounge", members: [] }] }), 26);
    expect(section(lines, "In Voice")).toEqual([
      { text: "  lounge", style: "normal" },
      { text: "    (empty)", style: "dim" },
    ]);
  });
});

describe("users", () => {
  test("online first (you count as online), then by label; (admin) and (you) suffixes", () => {
    const lines = sidebarLines(
      input({
        users: [
          { label: "zed", online: false, admin: false, me: false },
          { label: "bob", online: true, admin: true, me: false },
          { label: "me", online: false, admin: false, me: true },
          { label: "amy", online: false, admin: false, me: false },
        ],
      }),
      26,
    );
    expect(section(lines, "Users")).toEqual([
      { text: "● bob (admin)", style: "online" },
      { text: "● me (you)", style: "online" },
      { text: "○ amy", style: "offline" },
      { text: "○ zed", style: "offline" },
    ]);
  });

  test("a member not admitted is marked; a verified one carries a check mark", () => {
    const lines = sidebarLines(
      input({
        users: [
          { label: "eve", online: true, admin: false, me: false, pending: true },
          { label: "bob", online: true, admin: false, me: false, verified: true },
        ],
      }),
      30,
    );
    expect(section(lines, "Users")).toEqual([
      { text: "● bob ✓", style: "online" },
      { text: "● eve (not admitted)", style: "online" },
    ]);
  });

  test("no users: (none)", () => {
    expect(section(sidebarLines(input(), 26), "Users")).toEqual([{ text: "(none)", style: "dim" }]);
  });
});

test("every line fits the width, however narrow", () => {
  const full = input({
    activeId: "c1",
    unread: new Map([["c2", 7]]),
    voiceRooms: [
      { channelId: "c1", label: "General 👨‍👩‍👧", members: [{ label: "ａｌｉｃｅ", speaking: true, admin: true, online: true }] },
    ],
    users: [{ label: "🇯🇵 someone with a long name", online: true, admin: true, me: true }],
  });
  for (let w = 1; w <= 30; w++) {
    for (const l of sidebarLines(full, w)) expect(displayWidth(l.text)).toBeLessThanOrEqual(w);
  }
  expect(sidebarLines(full, 26).map((l) => l.text)).toEqual([
    "Channels",
    "  dev (7)",
    "• General",
    "  random",
    "",
    "In Voice",
    "  General 👨‍👩‍👧",
    "  + ａｌｉｃｅ (admin)",
    "",
    "Users",
    "● 🇯🇵 someon… (admin) (you)",
  ]);
});

describe("the system view", () => {
  test("listed first under Channels, with its unread count, marked when open or under the cursor", () => {
    const withSystem = (over: Partial<SidebarInput>) =>
      section(sidebarLines(input({ system: { id: "sys", unread: 2 }, ...over }), 26), "Channels");
    expect(withSystem({ activeId: "c1", cursorId: "c1" })[0]).toEqual({ text: "  (system) (2)", style: "unread" });
    expect(withSystem({ activeId: "sys", cursorId: "sys" })[0]).toEqual({ text: "> (system)", style: "cursor" });
    expect(withSystem({ activeId: "sys", cursorId: "c1" })[0]).toEqual({ text: "• (system)", style: "active" });
    expect(section(sidebarLines(input({ system: { id: "sys", unread: 0 } }), 26), "Channels")[0]).toEqual({
      text: "  (system)",
      style: "dim",
    });
  });
});
