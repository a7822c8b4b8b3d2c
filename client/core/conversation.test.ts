import { describe, expect, test } from "@jest/globals";
import { editsOf, firstLine, foldConversation } from "./conversation.js";
import { unreadCounts } from "./unread.js";
import type { MessageRelation } from "./messages.js";
import { chatMessage } from "../../test/support/chat-message.js";

const msg = (id: string, sender: string, body: string | undefined, relation?: MessageRelation) =>
  chatMessage({ messageId: id, sender, body, relation });

describe("foldConversation", () => {
  test("the sender's latest edit is shown once, marked edited; another person's edit is ignored", () => {
    const m = [
      msg("a", "alice", "helo"),
      msg("e1", "alice", "hello", { kind: "edit", messageId: "a" }),
      msg("e2", "alice", "hello!", { kind: "edit", messageId: "a" }),
      msg("x", "mallory", "pwned", { kind: "edit", messageId: "a" }),
    ];
    const entries = foldConversation(m, new Set(), "bob");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ text: "hello!", edited: { messageId: "e2" }, deleted: false });
  });

  test("reactions gather under their message, one per person per emoji; mine are listed for taking back", () => {
    const m = [
      msg("a", "alice", "lunch?"),
      msg("r1", "bob", "👍", { kind: "reaction", messageId: "a" }),
      msg("r2", "carol", "👍", { kind: "reaction", messageId: "a" }),
      msg("r3", "bob", "👍", { kind: "reaction", messageId: "a" }),
      msg("r4", "bob", "🍕", { kind: "reaction", messageId: "a" }),
    ];
    const [entry] = foldConversation(m, new Set(), "bob");
    expect(entry!.reactions).toEqual([
      { emoji: "👍", userIds: ["bob", "carol"], mine: ["r1", "r3"] },
      { emoji: "🍕", userIds: ["bob"], mine: ["r4"] },
    ]);
    // A deleted reaction is a reaction taken back.
    const [after] = foldConversation(m, new Set(["r2"]), "bob");
    expect(after!.reactions[0]).toEqual({ emoji: "👍", userIds: ["bob"], mine: ["r1", "r3"] });
  });

  test("a reply points at its message; a deleted message keeps its place without text or reactions", () => {
    const m = [
      msg("a", "alice", "first"),
      msg("r", "bob", "👍", { kind: "reaction", messageId: "a" }),
      msg("b", "bob", "answer", { kind: "reply", messageId: "a" }),
      msg("c", "bob", "to an old one", { kind: "reply", messageId: "not-loaded" }),
    ];
    const entries = foldConversation(m, new Set(["a"]), "bob");
    expect(entries.map((e) => [e.message.messageId, e.text, e.deleted])).toEqual([
      ["a", undefined, true],
      ["b", "answer", false],
      ["c", "to an old one", false],
    ]);
    expect(entries[0]!.reactions).toEqual([]);
    expect(entries[1]!.replyTo).toEqual({ messageId: "a", target: undefined, text: undefined });
    expect(foldConversation(m, new Set(), "bob")[1]!.replyTo?.target?.messageId).toBe("a");
  });

  test("edits and reactions of messages not loaded take no line; edits of reactions do not count", () => {
    const m = [
      msg("e", "alice", "new", { kind: "edit", messageId: "gone" }),
      msg("r", "bob", "👍", { kind: "reaction", messageId: "gone" }),
      msg("x", "bob", "🎉", { kind: "reaction", messageId: "r" }),
      msg("ok", "bob", "plain"),
    ];
    expect(foldConversation(m, new Set(), "bob").map((e) => e.message.messageId)).toEqual(["ok"]);
  });

  test("a deleted edit falls back to the one before it", () => {
    const m = [
      msg("a", "alice", "v1"),
      msg("e1", "alice", "v2", { kind: "edit", messageId: "a" }),
      msg("e2", "alice", "v3", { kind: "edit", messageId: "a" }),
    ];
    expect(foldConversation(m, new Set(["e2"]), "bob")[0]!.text).toBe("v2");
    expect(editsOf(m, m[0]!).map((e) => e.messageId)).toEqual(["e1", "e2"]);
  });
});

test("firstLine quotes the first line, cut", () => {
  expect(firstLine("hello\nworld")).toBe("hello");
  expect(firstLine("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
});

describe("unreadCounts", () => {
  test("counts others' messages past the marker, and those that mention or reply to me", () => {
    const m = [
      msg("old", "alice", "seen"),
      msg("mine", "bob", "my question"),
      { ...msg("m1", "alice", "hey @bob"), mentions: ["bob"] },
      msg("r1", "carol", "answer", { kind: "reply", messageId: "mine" }),
      msg("p", "carol", "plain"),
      msg("gone", "carol", "deleted one"),
      msg("x", "carol", "👍", { kind: "reaction", messageId: "p" }),
    ];
    const entries = foldConversation(m, new Set(["gone"]), "bob");
    const marker = m[1]!.seq; // read up to my own question
    expect(unreadCounts(entries, marker, "bob")).toEqual({ unread: 3, mentions: 2, firstUnreadSeq: m[2]!.seq });
    expect(unreadCounts(entries, m.at(-1)!.seq, "bob")).toEqual({ unread: 0, mentions: 0, firstUnreadSeq: undefined });
  });
});
