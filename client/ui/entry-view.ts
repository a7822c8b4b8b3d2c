// How one conversation entry (client/core/conversation.ts) reads in the message pane: its latest
// text once, "(edited)", the quoted first line of what it replies to, the reactions gathered under
// it, "message deleted" in its place, "/me" actions, and a note when the sender's clock is off.
// Pure: ChatState turns entries into PaneEntry values with this, Scrollback wraps them.
import { clockSkewMs, firstLine, senderText, unopenedBody, type ConversationEntry } from "../core/index.js";
import type { PaneEntry } from "./scrollback.js";

/**
 * "/me waves" is sent as the text "/me waves" (as IRC-style clients do): a client that knows the
 * convention shows "* alice waves", one that does not still shows readable text.
 */
export const ACTION_PREFIX = "/me ";

export const DELETED_TEXT = "message deleted";
export const UNLOADED_REPLY = "an earlier message";

export interface EntryViewContext {
  readonly myUserId: string;
  /** The display label of a user id (directory). */
  readonly labelOf: (userId: string) => string;
  /** Shown from history (dimmer) rather than arrived live. */
  readonly history: boolean;
  /** The parts of a text to draw apart (links, mentions of me): marks.ts. */
  readonly marks?: (text: string) => NonNullable<PaneEntry["marks"]>;
}

/** The text of an action ("waves" for "/me waves"), else undefined. */
export function actionText(text: string | undefined): string | undefined {
  return text?.startsWith(ACTION_PREFIX) ? text.slice(ACTION_PREFIX.length) : undefined;
}

/** "👍 2  🍕 1", my own reactions in brackets ("[👍 2]") so they stand out without colour. */
export function reactionsText(e: ConversationEntry): string | undefined {
  if (e.reactions.length === 0) return undefined;
  return e.reactions.map((r) => (r.mine.length > 0 ? `[${r.emoji} ${r.userIds.length}]` : `${r.emoji} ${r.userIds.length}`)).join("  ");
}

/** "↱ alice: lunch?" above a reply; "↱ an earlier message" when its target is not loaded or gone. */
export function quoteText(e: ConversationEntry, labelOf: (userId: string) => string): string | undefined {
  const r = e.replyTo;
  if (!r) return undefined;
  if (!r.target) return `↱ ${UNLOADED_REPLY}`;
  const text = r.text === undefined ? unopenedBody(r.target) : (actionText(r.text) ?? r.text);
  return `↱ ${labelOf(r.target.senderUserId)}: ${firstLine(text)}`;
}

/** "sender's clock 12 min behind" when the claimed time differs from the server's by more than the flag's threshold. */
export function skewNote(e: ConversationEntry): string | undefined {
  const skew = clockSkewMs(e.message);
  if (skew === undefined) return undefined;
  const minutes = Math.round(Math.abs(skew) / 60_000);
  const amount =
    minutes >= 120 ? `${Math.round(minutes / 60)} h` : minutes >= 1 ? `${minutes} min` : `${Math.round(Math.abs(skew) / 1000)} s`;
  // The server stamped it later than the sender claims: the sender's clock is behind.
  return `sender's clock ${amount} ${skew > 0 ? "behind" : "ahead"}`;
}

/** The pane entry for a conversation entry. */
export function entryView(e: ConversationEntry, ctx: EntryViewContext): PaneEntry {
  const m = e.message;
  const mine = m.senderUserId === ctx.myUserId;
  const name = senderText(m);
  const base = { id: m.messageId, order: m.seq, time: m.sentAt, name, userId: m.senderUserId };
  const quote = quoteText(e, ctx.labelOf);
  const extras = { ...(quote ? { quote } : {}) };
  if (e.deleted) return { ...base, ...extras, kind: "placeholder", body: DELETED_TEXT };
  if (e.text === undefined) return { ...base, ...extras, kind: "placeholder", body: unopenedBody(m) };
  const action = actionText(e.text);
  const reactions = reactionsText(e);
  const note = skewNote(e);
  const marks = ctx.marks?.(action ?? e.text) ?? [];
  return {
    ...base,
    ...extras,
    kind: ctx.history ? "history" : mine ? "own" : "other",
    body: (action ?? e.text) + (e.edited ? " (edited)" : ""),
    ...(action !== undefined ? { action: true } : {}),
    ...(reactions ? { reactions } : {}),
    ...(note ? { note } : {}),
    ...(marks.length > 0 ? { marks } : {}),
  };
}
