// Incoming messages: opened with the channel key of their epoch, each message id shown once
// (the feed and our own sends both deliver it), and those that arrived before their key held
// back and opened again when it comes.
import type { Message } from "../../gen/dialtone/v1/message_pb.js";
import type { ClientParts } from "./client-parts.js";
import { openMessage, withDirectoryName, type ChatMessage } from "./messages.js";
import { CacheFeed } from "./search/client-search.js";

const SEEN_MAX = 20_000;

export class Inbox {
  readonly #p: ClientParts;
  readonly #seen = new Set<string>();
  /** Messages that arrived before their key, by id: opened again when a key for their channel arrives. */
  readonly #locked = new Map<string, Message>();
  #lastFetchForMessage = 0;
  readonly #searchFeed: CacheFeed;

  constructor(parts: ClientParts) {
    this.#p = parts;
    this.#searchFeed = new CacheFeed(parts.search);
  }

  /** A message from the feed: emitted as "message" unless seen already. */
  async receive(msg: Message): Promise<void> {
    if (this.#seen.has(msg.messageId)) return;
    if (!this.#p.keys.channelKeyAt(msg.channelId, msg.keyEpoch) && Date.now() - this.#lastFetchForMessage > 1000) {
      // The key may have been shared a moment ago (a new device, a new channel).
      this.#lastFetchForMessage = Date.now();
      await this.#p.keys.fetchKeys();
    }
    const opened = await this.accept(msg);
    this.#p.events.emit("message", opened);
  }

  /** Opens a stored message, remembers it as seen and adds it to its channel's timeline. */
  async accept(msg: Message): Promise<ChatMessage> {
    const opened = await this.open(msg);
    this.#remember(opened);
    this.#p.history.timeline(msg.channelId).merge([opened]);
    return opened;
  }

  async open(msg: Message): Promise<ChatMessage> {
    const { keys, directory } = this.#p;
    const opened = await openMessage(
      msg,
      keys.channelKeyAt(msg.channelId, msg.keyEpoch),
      directory.nameOf(msg.senderUserId),
      directory.labelOf(msg.senderUserId),
    );
    // Search hook: every message that opens here (live, history, reopened) is cached for search.
    this.#searchFeed.opened(opened, (id) => this.#p.history.timeline(msg.channelId).get(id));
    if (opened.error === "missing-key") {
      this.#locked.set(msg.messageId, msg);
      if (this.#locked.size > SEEN_MAX) this.#locked.delete(this.#locked.keys().next().value!);
    } else this.#locked.delete(msg.messageId);
    return opened;
  }

  /** Opens the held messages of a channel whose key arrived; each one opened is emitted as "message-opened". */
  async reopenLocked(channelId: string): Promise<void> {
    for (const msg of [...this.#locked.values()]) {
      if (msg.channelId !== channelId || !this.#p.keys.channelKeyAt(channelId, msg.keyEpoch)) continue;
      const opened = await this.open(msg);
      if (opened.error === "missing-key") continue;
      this.#p.history.timeline(channelId).replace(opened);
      this.#p.events.emit("message-opened", opened);
    }
  }

  /**
   * Names opened or changed in the directory: each held message shown with an older label takes
   * the current one; one "senders-relabelled" per channel that had any.
   */
  relabel(): void {
    const { directory, history, events } = this.#p;
    const names = new Map<string, { name: string | undefined; label: string }>();
    for (const timeline of history.timelines()) {
      const changed: ChatMessage[] = [];
      for (const m of timeline.messages()) {
        let d = names.get(m.senderUserId);
        if (!d) names.set(m.senderUserId, (d = { name: directory.nameOf(m.senderUserId), label: directory.labelOf(m.senderUserId) }));
        const next = withDirectoryName(m, d.name, d.label);
        if (next !== m) changed.push(next);
      }
      if (changed.length === 0) continue;
      timeline.replaceMany(changed);
      events.emit("senders-relabelled", { channelId: changed[0]!.channelId, messages: changed });
    }
  }

  #remember(m: ChatMessage): void {
    this.#seen.add(m.messageId);
    // Bounded: the feed never repeats an old seq, so only recent ids matter for deduplication.
    if (this.#seen.size > SEEN_MAX) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}
