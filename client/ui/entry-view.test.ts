import { describe, expect, test } from "@jest/globals";
import { foldConversation, type ChatMessage, type MessageRelation } from "../core/index.js";
import { entryView, reactionsText } from "./entry-view.js";
import { textMarks } from "./marks.js";
import { formatEntry } from "./scrollback.js";
import { chatMessage } from "../../test/support/chat-message.js";

const msg = (id: string, sender: string, body: string | undefined, relation?: MessageRelation, over: Partial<ChatMessage> = {}) =>
  chatMessage({ messageId: id, sender, body, relation, sentAt: new Date(2026, 11, 1, 12, 30), ...over });

const ctx = { myUserId: "bob", labelOf: (id: string) => id, history: false };
const view = (messages: ChatMessage[], deleted: string[] = []) =>
  foldConversation(messages, new Set(deleted), "bob").map((e) => entryView(e, ctx));
const lines = (messages: ChatMessage[], deleted: string[] = []) =>
  view(messages, deleted).map((p) => formatEntry(p, 60).map((l) => l.text));

describe("entryView", () => {
  test("an edited message shows its latest text once, marked (edited)", () => {
    expect(lines([msg("a", "alice", "helo"), msg("e", "alice", "hello", { kind: "edit", messageId: "a" })])).toEqual([
      ["[12:30] alice: hello (edited)"],
    ]);
  });

  test("reactions are gathered under the message, counted per emoji, mine in brackets; one taken back is gone", () => {
    const m = [
      msg("a", "alice", "pizza?"),
      msg("r1", "carol", "👍", { kind: "reaction", messageId: "a" }),
      msg("r2", "bob", "👍", { kind: "reaction", messageId: "a" }),
      msg("r3", "dave", "🍕", { kind: "reaction", messageId: "a" }),
    ];
    expect(lines(m)[0]).toEqual(["[12:30] alice: pizza?", "               [👍 2]  🍕 1"]);
    expect(lines(m, ["r3"])[0]).toEqual(["[12:30] alice: pizza?", "               [👍 2]"]);
    expect(reactionsText(foldConversation(m, new Set(["r1", "r2", "r3"]), "bob")[0]!)).toBeUndefined();
  });

  test("a reply quotes the first line of its target above it; a target not loaded reads 'an earlier message'", () => {
    const m = [msg("a", "alice", "lunch?\nat noon"), msg("b", "bob", "yes", { kind: "reply", messageId: "a" })];
    expect(lines(m)[1]).toEqual(["             ↱ alice: lunch?", "[12:30] bob: yes"]);
    expect(lines([msg("b2", "bob", "yes", { kind: "reply", messageId: "gone" })])[0]).toEqual([
      "             ↱ an earlier message",
      "[12:30] bob: yes",
    ]);
  });

  test("a deleted message reads 'message deleted' in its place, without its reactions", () => {
    const m = [msg("a", "alice", "oops"), msg("r", "bob", "👍", { kind: "reaction", messageId: "a" }), msg("n", "carol", "next")];
    const v = view(m, ["a"]);
    expect(v.map((p) => p.body)).toEqual(["message deleted", "next"]);
    expect(v[0]).toMatchObject({ kind: "placeholder" });
    expect(v[0]!.reactions).toBeUndefined();
  });

  test("/me text is an action: * alice waves", () => {
    expect(lines([msg("a", "alice", "/me waves")])).toEqual([["[12:30] * alice waves"]]);
  });

  test("a sender clock off by more than the threshold is noted, dim", () => {
    const at = new Date(2026, 11, 1, 12, 30);
    const m = msg("a", "alice", "hi", undefined, { sentAt: at, claimedSentAt: new Date(at.getTime() - 12 * 60_000) });
    const p = view([m])[0]!;
    expect(p.note).toBe("sender's clock 12 min behind");
    const f = formatEntry(p, 60);
    expect(f[1]).toMatchObject({ text: "               (sender's clock 12 min behind)", style: "dim" });
    expect(view([msg("b", "alice", "hi", undefined, { claimedSentAt: new Date(2026, 11, 1, 12, 31) })])[0]!.note).toBeUndefined();
  });

  test("the sender's name is marked for their colour on the first line", () => {
    const [l] = formatEntry(view([msg("a", "alice", "hi")])[0]!, 60);
    expect(l!.nick).toEqual({ start: 8, width: 5, userId: "alice" });
    expect(l!.text.slice(8, 13)).toBe("alice");
  });
});

describe("links and mentions of me", () => {
  const users = [
    { userId: "bob", name: "bob", label: "bob", removed: false },
    { userId: "carol", name: "carol", label: "carol", removed: false },
  ] as unknown as Parameters<typeof textMarks>[1];

  test("links (linkify-it) and @mentions of me are marked on the wrapped lines; others' mentions are not", () => {
    const text = "@bob see https://example.org/menu and ask @carol";
    expect(textMarks(text, users, "bob")).toEqual([
      { text: "@bob", style: "mention" },
      { text: "https://example.org/menu", style: "link" },
    ]);
    const p = entryView(foldConversation([msg("a", "alice", text)], new Set(), "bob")[0]!, {
      ...ctx,
      marks: (t) => textMarks(t, users, "bob"),
    });
    const [line] = formatEntry(p, 80);
    const marked = line!.marks!.map((m) => [line!.text.slice(m.start, m.end), m.style]);
    expect(marked).toEqual([
      ["@bob", "mention"],
      ["https://example.org/menu", "link"],
    ]);
  });
});
