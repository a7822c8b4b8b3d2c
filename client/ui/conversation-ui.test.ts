// The pure parts of the conversation UI: nick colours, date lines, selection, completion.
import { describe, expect, test } from "@jest/globals";
import { chatMessage } from "../../test/support/chat-message.js";
import { foldConversation, type ChatMessage } from "../core/index.js";
import { complete } from "./completion.js";
import { dayLabel, dayRules } from "./day-rules.js";
import { NICK_COLOURS, NICK_STYLES, nickStyle } from "./nick-colour.js";
import { ruleText } from "./scrollback.js";
import { commandTarget, moveSelection } from "./selection.js";
import { sidebarLines } from "./sidebar.js";

describe("nick colours", () => {
  test("the same id always gets the same colour; ids spread over the palette", () => {
    expect(nickStyle("0b5c3c2e-8f0a-4a57-9a7e-1d7d0f3e9a11")).toBe(nickStyle("0b5c3c2e-8f0a-4a57-9a7e-1d7d0f3e9a11"));
    const used = new Set(Array.from({ length: 200 }, (_, i) => nickStyle(`user-${i}`)));
    expect(used.size).toBe(NICK_STYLES.length);
  });

  test("the palette avoids own (114), system (243) and near-black/near-white colours", () => {
    for (const fg of Object.values(NICK_COLOURS)) {
      expect([114, 243, 69, 214]).not.toContain(fg);
      expect(fg).toBeGreaterThanOrEqual(16); // not the 16 theme colours (light themes remap them)
      expect(fg).toBeLessThan(232); // not the grey ramp
    }
  });
});

describe("date lines", () => {
  test("one before the first entry of each day, ordered just before it", () => {
    const d = (day: number, h: number) => new Date(2026, 11, day, h);
    const rules = dayRules(
      [
        { seq: 5n, time: d(1, 9) },
        { seq: 6n, time: d(1, 23) },
        { seq: 9n, time: d(2, 8) },
      ],
      d(2, 12),
    );
    expect(rules.map((r) => [r.order, r.label])).toEqual([
      [4n, "Tuesday 1 December"],
      [8n, "Wednesday 2 December"],
    ]);
    expect(dayLabel(new Date(2025, 0, 3), new Date(2026, 0, 1))).toBe("Friday 3 January 2025");
    expect(ruleText("Tuesday 1 December", 30)).toBe("── Tuesday 1 December ──".padStart(27, "─").padEnd(30, "─"));
  });
});

const m = (id: string, sender: string, body: string | undefined): ChatMessage =>
  chatMessage({ messageId: id, sender, body, senderDeviceId: "d" });

describe("selection", () => {
  const entries = foldConversation(
    [m("a", "alice", "1"), m("b", "bob", "2"), m("x", "carol", undefined), m("c", "alice", "3")],
    new Set(["b"]),
    "bob",
  );

  test("up from nothing selects the newest; moving skips deleted and unopened messages; past the newest ends it", () => {
    expect(moveSelection(entries, undefined, -1)).toBe("c");
    expect(moveSelection(entries, "c", -1)).toBe("a");
    expect(moveSelection(entries, "a", -1)).toBe("a");
    expect(moveSelection(entries, "a", 1)).toBe("c");
    expect(moveSelection(entries, "c", 1)).toBeUndefined();
  });

  test("a command acts on the selection, else the newest (mine for edit and delete)", () => {
    const all = foldConversation([m("a", "alice", "1"), m("b", "bob", "mine"), m("c", "alice", "3")], new Set(), "bob");
    expect(commandTarget(all, undefined, "any", "bob")?.message.messageId).toBe("c");
    expect(commandTarget(all, undefined, "mine", "bob")?.message.messageId).toBe("b");
    expect(commandTarget(all, "a", "any", "bob")?.message.messageId).toBe("a");
    expect(commandTarget(all, "a", "mine", "bob")).toBeUndefined();
  });
});

describe("completion", () => {
  const sources = { users: ["alice", "alfred", "bob"], channels: ["general", "random"] };

  test("@ completes members, # channels, a unique match with a space after it", () => {
    expect(complete("hi @bo", sources)).toEqual({ text: "hi @bob ", choices: [] });
    expect(complete("see #gen", sources)).toEqual({ text: "see #general ", choices: [] });
    expect(complete("@AL", sources)).toEqual({ text: "@AL", choices: ["alfred", "alice"] });
    expect(complete("hi @zed", sources)).toBeUndefined();
    expect(complete("mail a@b", sources)).toBeUndefined();
  });

  test("the user argument of /verify and the like", () => {
    expect(complete("/verify ali", sources)).toEqual({ text: "/verify alice ", choices: [] });
    expect(complete("/admin promote b", sources)).toEqual({ text: "/admin promote bob ", choices: [] });
    expect(complete("/join ali", sources)).toBeUndefined();
  });
});

describe("sidebar counts", () => {
  test("mentions show beside the unread count, distinct from it; a muted channel is marked", () => {
    const lines = sidebarLines(
      {
        channels: [
          { id: "1", label: "general" },
          { id: "2", label: "random" },
        ],
        activeId: "x",
        unread: new Map([
          ["1", 5],
          ["2", 2],
        ]),
        mentions: new Map([["1", 1]]),
        muted: new Set(["2"]),
        voiceRooms: [],
        users: [],
      },
      24,
    );
    expect(lines[1]).toEqual({ text: "  general (5 @1)", style: "mention" });
    expect(lines[2]).toEqual({ text: "  random (2) ~", style: "unread" });
  });
});
