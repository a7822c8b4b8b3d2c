// A channel's messages as people read them: edits applied to what they edit, reactions gathered
// under their message, replies tied to theirs, deleted messages marked. On the wire each of these
// is a message like any other (the relation is sealed inside it); this is where they are folded.
// Pure: the same messages always give the same conversation.
import type { ChatMessage } from "./messages.js";

export interface Reaction {
  readonly emoji: string;
  /** Who reacted with it, in the order they did (each once). */
  readonly userIds: readonly string[];
  /** The ids of my own reaction messages with this emoji (deleting them takes my reaction back). */
  readonly mine: readonly string[];
}

export interface ConversationEntry {
  /** The message as sent (its id, sender, time). */
  readonly message: ChatMessage;
  /** The text to show: the latest edit by the sender, else the original; undefined if it did not open or was deleted. */
  readonly text: string | undefined;
  /** The message's sender edited it (its latest edit, by seq). */
  readonly edited: ChatMessage | undefined;
  /** Deleted while this client watched (a deleted message is otherwise simply gone). */
  readonly deleted: boolean;
  /**
   * The message this one replies to: `target` undefined when it is not loaded (or gone); `text`
   * its text as it reads now (edited, or undefined when it did not open).
   */
  readonly replyTo: { readonly messageId: string; readonly target: ChatMessage | undefined; readonly text: string | undefined } | undefined;
  readonly reactions: readonly Reaction[];
}

/**
 * Folds a channel's messages (seq order) into entries. Only the sender's own edits count; an
 * edit or a reaction whose message is not among `messages` is held back (it shows nothing, and
 * applies once the message is loaded). Deleted edits and reactions are dropped (a deleted
 * reaction is a reaction taken back); a deleted message keeps its place, marked, without text.
 */
export function foldConversation(messages: readonly ChatMessage[], deleted: ReadonlySet<string>, myUserId: string): ConversationEntry[] {
  const byId = new Map(messages.map((m) => [m.messageId, m]));
  const edits = new Map<string, ChatMessage>();
  const reactions = new Map<string, Map<string, { userIds: string[]; mine: string[] }>>();
  const shown: ChatMessage[] = [];
  for (const m of messages) {
    const rel = m.relation;
    const found = rel ? byId.get(rel.messageId) : undefined;
    // Edits and reactions apply to messages people see, not to other edits or reactions.
    const target = found?.relation?.kind === "edit" || found?.relation?.kind === "reaction" ? undefined : found;
    if (rel?.kind === "edit") {
      if (!deleted.has(m.messageId) && target && target.senderUserId === m.senderUserId) {
        const prev = edits.get(target.messageId);
        if (!prev || prev.seq < m.seq) edits.set(target.messageId, m);
      }
      continue;
    }
    if (rel?.kind === "reaction") {
      if (deleted.has(m.messageId) || !target || m.body === undefined) continue;
      const perEmoji = reactions.get(target.messageId) ?? new Map<string, { userIds: string[]; mine: string[] }>();
      reactions.set(target.messageId, perEmoji);
      const r = perEmoji.get(m.body) ?? { userIds: [], mine: [] };
      perEmoji.set(m.body, r);
      if (!r.userIds.includes(m.senderUserId)) r.userIds.push(m.senderUserId);
      if (m.senderUserId === myUserId) r.mine.push(m.messageId);
      continue;
    }
    shown.push(m);
  }
  const replyOf = (messageId: string) => {
    const target = deleted.has(messageId) ? undefined : byId.get(messageId);
    return { messageId, target, text: target ? (edits.get(messageId)?.body ?? target.body) : undefined };
  };
  return shown.map((m) => {
    const gone = deleted.has(m.messageId);
    const edit = gone ? undefined : edits.get(m.messageId);
    const rel = m.relation;
    return {
      message: m,
      text: gone ? undefined : (edit?.body ?? m.body),
      edited: edit,
      deleted: gone,
      replyTo: rel?.kind === "reply" ? replyOf(rel.messageId) : undefined,
      reactions: gone ? [] : [...(reactions.get(m.messageId)?.entries() ?? [])].map(([emoji, r]) => ({ emoji, ...r })),
    };
  });
}

/** The messages a deletion of `messageId` must take with it: the sender's edits (they hold its text). */
export function editsOf(messages: readonly ChatMessage[], target: ChatMessage): ChatMessage[] {
  return messages.filter(
    (m) => m.relation?.kind === "edit" && m.relation.messageId === target.messageId && m.senderUserId === target.senderUserId,
  );
}

/** The first line of a text, cut to `max` characters: how a reply quotes its message. */
export function firstLine(text: string, max = 60): string {
  const line = text.split("\n", 1)[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
