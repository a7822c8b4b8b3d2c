import { expect, test } from "@jest/globals";
import type { ChatMessage } from "../messages.js";
import { CacheFeed, cacheEntry } from "./client-search.js";
import { chatMessage } from "../../../test/support/chat-message.js";

const base = chatMessage({
  seq: 7n,
  channelId: "c1",
  messageId: "m-edit",
  sender: "alice",
  senderDeviceId: "d",
  body: "new text",
  sentAt: new Date(5000),
});
const target = { ...base, messageId: "m-1", seq: 3n, body: "old text" } as ChatMessage;

test("a message is cached by its own id; one that did not open, and a reaction, are not", () => {
  expect(cacheEntry(base)).toEqual({ channelId: "c1", messageId: "m-edit", seq: 7n, senderUserId: "alice", time: 5000, text: "new text" });
  expect(cacheEntry({ ...base, body: undefined, error: "missing-key" })).toBeUndefined();
  expect(cacheEntry({ ...base, relation: { kind: "reaction", messageId: "m-1" } })).toBeUndefined();
});

test("an edit becomes its target's text, only when the target is known and has the edit's sender", () => {
  const edit = { ...base, relation: { kind: "edit", messageId: "m-1" } } as ChatMessage;
  expect(cacheEntry(edit, (id) => (id === "m-1" ? target : undefined))).toMatchObject({ messageId: "m-1", seq: 7n, text: "new text" });
  expect(cacheEntry(edit, () => undefined)).toBeUndefined();
  expect(cacheEntry(edit, () => ({ ...target, senderUserId: "mallory" }) as ChatMessage)).toBeUndefined();
});

test("an edit opened before its target (a history page, newest first) applies once the target opens", () => {
  const puts: Array<{ messageId: string; text: string }> = [];
  const feed = new CacheFeed({ upsert: (m) => void puts.push({ messageId: m.messageId, text: m.text }) });
  const edit = { ...base, relation: { kind: "edit", messageId: "m-1" } } as ChatMessage;
  feed.opened(edit, () => undefined);
  expect(puts).toEqual([]);
  feed.opened(target, () => undefined);
  expect(puts).toEqual([
    { messageId: "m-1", text: "old text" },
    { messageId: "m-1", text: "new text" },
  ]);
  // Someone else's edit of it waits and never applies.
  feed.opened({ ...edit, senderUserId: "mallory", seq: 9n, relation: { kind: "edit", messageId: "m-2" } } as ChatMessage, () => undefined);
  feed.opened({ ...target, messageId: "m-2" } as ChatMessage, () => undefined);
  expect(puts.at(-1)).toEqual({ messageId: "m-2", text: "old text" });
});
