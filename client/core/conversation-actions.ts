// What a member does to messages beyond sending one: reply, edit, react (and take a reaction
// back), delete, and read the conversation as people see it. Replies, edits and reactions are
// messages whose relation is sealed inside them; a deletion is the one thing the server does.
import type { ClientParts } from "./client-parts.js";
import { editsOf, type ConversationEntry } from "./conversation.js";
import { ApiError, UsageError } from "./errors.js";
import type { ChatMessage, MessageDraft } from "./messages.js";
import { mentionedUserIds } from "./mentions.js";

/** How far back a message reference is looked for (pages of history loaded as needed). */
const FIND_DEPTH = 2_000;
/** A reaction is one emoji or a short word (":+1:"), never a sentence. */
const REACTION_MAX_CHARS = 32;

export type SendDraft = (channelId: string, draft: MessageDraft, waitMs: number) => Promise<ChatMessage>;

export class ConversationActions {
  readonly #p: ClientParts;
  readonly #send: SendDraft;
  readonly #isAdmin: () => boolean;

  constructor(parts: ClientParts, send: SendDraft, isAdmin: () => boolean) {
    this.#p = parts;
    this.#send = send;
    this.#isAdmin = isAdmin;
  }

  /** A draft of `text` with the people it mentions ("@name") resolved to user ids. */
  draft(text: string, relation?: MessageDraft["relation"]): MessageDraft {
    const mentions = mentionedUserIds(text, this.#p.directory.users());
    return { text, ...(mentions.length ? { mentions } : {}), ...(relation ? { relation } : {}) };
  }

  /**
   * A message of the channel by id or id prefix (at least 4 characters, dashes ignored), looked
   * for in what is loaded, then in older history (up to FIND_DEPTH messages back).
   */
  async find(channelId: string, ref: string): Promise<ChatMessage> {
    const wanted = ref.trim().toLowerCase().replaceAll("-", "");
    if (!/^[0-9a-f]{4,32}$/.test(wanted)) {
      throw new UsageError("invalid-input", `message: ${JSON.stringify(ref)} is not a message id (4 to 32 hex digits of one)`);
    }
    const { history } = this.#p;
    const timeline = history.timeline(channelId);
    for (;;) {
      const hits = timeline.messages().filter((m) => m.messageId.replaceAll("-", "").startsWith(wanted));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) {
        throw new UsageError("invalid-input", `message: ${ref} is a prefix of ${hits.length} message ids; type more of it`);
      }
      if (!timeline.hasMore || timeline.size >= FIND_DEPTH) break;
      await history.loadOlder(channelId, 200);
    }
    throw new UsageError("invalid-input", `message: no message ${ref} in the last ${timeline.size} messages of this channel`);
  }

  async reply(channelId: string, ref: string, text: string, waitMs: number): Promise<ChatMessage> {
    const target = await this.#visible(channelId, ref, "reply to");
    if (text.trim() === "") throw new UsageError("invalid-input", "text: the reply is empty");
    return this.#send(channelId, this.draft(text, { kind: "reply", messageId: target.messageId }), waitMs);
  }

  /** A new text for one of my messages (only the sender's edits count, for every reader). */
  async edit(channelId: string, ref: string, text: string, waitMs: number): Promise<ChatMessage> {
    const target = await this.#visible(channelId, ref, "edit");
    if (target.senderUserId !== this.#p.session.userId)
      throw new UsageError("invalid-input", "message: only its sender can edit a message");
    if (text.trim() === "") throw new UsageError("invalid-input", "text: the new text is empty (delete the message instead)");
    return this.#send(channelId, this.draft(text, { kind: "edit", messageId: target.messageId }), waitMs);
  }

  /** Reacts with `emoji`; reacting twice with the same one changes nothing (the first stands). */
  async react(channelId: string, ref: string, emoji: string, waitMs: number): Promise<{ message: ChatMessage; added: boolean }> {
    const target = await this.#visible(channelId, ref, "react to");
    const text = checkReaction(emoji);
    const entry = this.#entryOf(channelId, target.messageId);
    const mine = entry?.reactions.find((r) => r.emoji === text)?.mine[0];
    const existing = mine ? this.#p.history.timeline(channelId).get(mine) : undefined;
    if (existing) return { message: existing, added: false };
    const message = await this.#send(channelId, { text, relation: { kind: "reaction", messageId: target.messageId } }, waitMs);
    return { message, added: true };
  }

  /** Takes my reaction `emoji` back (deletes my reaction messages); false if I had none. */
  async unreact(channelId: string, ref: string, emoji: string): Promise<boolean> {
    const target = await this.#visible(channelId, ref, "take a reaction back from");
    const text = checkReaction(emoji);
    const mine = this.#entryOf(channelId, target.messageId)?.reactions.find((r) => r.emoji === text)?.mine ?? [];
    for (const id of mine) await this.#deleteOne(channelId, id);
    return mine.length > 0;
  }

  /**
   * Deletes a message (mine, or anyone's when I am an admin) and the sender's edits of it, which
   * hold its text too. The server drops the ciphertext; every client is told.
   */
  async delete(channelId: string, ref: string): Promise<ChatMessage> {
    const target = await this.find(channelId, ref);
    if (target.senderUserId !== this.#p.session.userId && !this.#isAdmin()) {
      throw new UsageError("invalid-input", "message: only its sender or an admin can delete a message");
    }
    const timeline = this.#p.history.timeline(channelId);
    for (const edit of editsOf(timeline.messages(), target)) await this.#deleteOne(channelId, edit.messageId);
    await this.#deleteOne(channelId, target.messageId);
    return target;
  }

  /** The newest `limit` entries of the conversation, oldest first, paging history as needed. */
  async conversation(channelId: string, limit: number): Promise<readonly ConversationEntry[]> {
    const { history, session } = this.#p;
    const timeline = history.timeline(channelId);
    await history.latest(channelId, limit);
    // Edits and reactions take no line: page further until `limit` lines stand (or nothing is older).
    while (timeline.entries(session.userId).length < limit && timeline.hasMore) await history.loadOlder(channelId, 200);
    return timeline.entries(session.userId).slice(-limit);
  }

  async #deleteOne(channelId: string, messageId: string): Promise<void> {
    try {
      await this.#p.api.message.deleteMessage({ messageId });
    } catch (err) {
      // Gone already (another device, a retry after a lost answer): what was asked holds.
      if (!(err instanceof ApiError && err.code === "not-found")) throw err;
    }
    // Marked here too, not only when the tombstone event comes back: a one-shot command has no feed.
    this.#p.history.timeline(channelId).markDeleted(messageId);
  }

  /** A message people see (not an edit or a reaction, not deleted). */
  async #visible(channelId: string, ref: string, what: string): Promise<ChatMessage> {
    const m = await this.find(channelId, ref);
    const timeline = this.#p.history.timeline(channelId);
    if (timeline.isDeleted(m.messageId)) throw new UsageError("invalid-input", `message: cannot ${what} a deleted message`);
    if (m.relation?.kind === "edit" || m.relation?.kind === "reaction") {
      throw new UsageError(
        "invalid-input",
        `message: ${ref} is ${m.relation.kind === "edit" ? "an edit" : "a reaction"}; ${what} the message itself`,
      );
    }
    if (m.body === undefined) throw new UsageError("invalid-input", `message: ${ref} did not open on this device (no key for it)`);
    return m;
  }

  #entryOf(channelId: string, messageId: string): ConversationEntry | undefined {
    return this.#p.history
      .timeline(channelId)
      .entries(this.#p.session.userId)
      .find((e) => e.message.messageId === messageId);
  }
}

function checkReaction(emoji: string): string {
  const text = emoji.trim();
  if (text === "") throw new UsageError("invalid-input", "emoji: empty");
  if ([...text].length > REACTION_MAX_CHARS || /\s/.test(text)) {
    throw new UsageError("invalid-input", `emoji: a reaction is one emoji or word of at most ${REACTION_MAX_CHARS} characters`);
  }
  return text;
}
