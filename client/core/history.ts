// Per-channel timelines: live messages and history pages merged by message id, in seq order,
// with backwards paging through MessageService.ListMessages (newest first on the wire).
import type { Message } from "../../gen/dialtone/v1/message_pb.js";
import type { Api } from "./api.js";
import { foldConversation, type ConversationEntry } from "./conversation.js";
import type { ChatMessage } from "./messages.js";

const PAGE_MAX = 200;
const bySeq = (a: ChatMessage, b: ChatMessage) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0);

/** One channel's messages in seq order, each id once, plus where backwards paging stands. */
export class Timeline {
  readonly #byId = new Map<string, ChatMessage>();
  #sorted: ChatMessage[] = [];
  /** Ids deleted while this client watched (MessageDeleted): kept in place, marked. */
  readonly #deleted = new Set<string>();
  #entries: { forUser: string; list: ConversationEntry[] } | undefined;
  /** False once a history page said there is nothing older. */
  hasMore = true;

  /** Adds messages not seen yet; returns those that were new (in seq order). */
  merge(messages: readonly ChatMessage[]): ChatMessage[] {
    const added = messages.filter((m) => {
      if (this.#byId.has(m.messageId)) return false;
      this.#byId.set(m.messageId, m);
      return true;
    });
    if (added.length > 0) {
      this.#sorted = [...this.#sorted, ...added].sort(bySeq);
      this.#entries = undefined;
    }
    return added.sort(bySeq);
  }

  /** Swaps in a newer view of a held message (e.g. opened now that its key arrived). */
  replace(message: ChatMessage): void {
    this.replaceMany([message]);
  }

  /** Swaps in newer views of several held messages, in one pass. */
  replaceMany(messages: readonly ChatMessage[]): void {
    const held = messages.filter((m) => this.#byId.has(m.messageId));
    if (held.length === 0) return;
    for (const m of held) this.#byId.set(m.messageId, m);
    this.#sorted = this.#sorted.map((m) => this.#byId.get(m.messageId)!);
    this.#entries = undefined;
  }

  /** A message was deleted: marks it (again is harmless) and returns it if this timeline holds it. */
  markDeleted(messageId: string): ChatMessage | undefined {
    const m = this.#byId.get(messageId);
    if (!m || this.#deleted.has(messageId)) return m;
    this.#deleted.add(messageId);
    this.#entries = undefined;
    return m;
  }

  isDeleted(messageId: string): boolean {
    return this.#deleted.has(messageId);
  }

  get(messageId: string): ChatMessage | undefined {
    return this.#byId.get(messageId);
  }

  /** The conversation as people read it (conversation.ts), computed once per change. */
  entries(myUserId: string): readonly ConversationEntry[] {
    if (this.#entries?.forUser !== myUserId)
      this.#entries = { forUser: myUserId, list: foldConversation(this.#sorted, this.#deleted, myUserId) };
    return this.#entries.list;
  }

  has(messageId: string): boolean {
    return this.#byId.has(messageId);
  }

  /** The smallest seq held: the next history page asks for messages before it. */
  get oldestSeq(): bigint | undefined {
    return this.#sorted[0]?.seq;
  }

  get size(): number {
    return this.#sorted.length;
  }

  messages(): readonly ChatMessage[] {
    return this.#sorted;
  }
}

export class History {
  readonly #api: Pick<Api, "message">;
  readonly #open: (message: Message) => Promise<ChatMessage>;
  readonly #timelines = new Map<string, Timeline>();

  constructor(api: Pick<Api, "message">, open: (message: Message) => Promise<ChatMessage>) {
    this.#api = api;
    this.#open = open;
  }

  timeline(channelId: string): Timeline {
    let t = this.#timelines.get(channelId);
    if (!t) this.#timelines.set(channelId, (t = new Timeline()));
    return t;
  }

  /** Every channel's timeline held so far. */
  timelines(): IterableIterator<Timeline> {
    return this.#timelines.values();
  }

  drop(channelId: string): void {
    this.#timelines.delete(channelId);
  }

  /** Loads up to `count` messages older than the timeline holds; returns the new ones, oldest first. */
  async loadOlder(channelId: string, count: number): Promise<ChatMessage[]> {
    const timeline = this.timeline(channelId);
    const added: ChatMessage[] = [];
    while (added.length < count && timeline.hasMore) {
      const page = await this.#api.message.listMessages({
        channelId,
        beforeSeq: timeline.oldestSeq ?? 0n,
        limit: Math.min(PAGE_MAX, count - added.length),
      });
      const opened: ChatMessage[] = [];
      for (const m of page.messages) opened.push(await this.#open(m));
      added.push(...timeline.merge(opened));
      if (!page.hasMore || page.messages.length === 0) timeline.hasMore = false;
    }
    return added.sort(bySeq);
  }

  /** The newest `limit` messages of a channel, oldest first, paging as needed. */
  async latest(channelId: string, limit: number): Promise<readonly ChatMessage[]> {
    const timeline = this.timeline(channelId);
    if (timeline.size < limit) await this.loadOlder(channelId, limit - timeline.size);
    return timeline.messages().slice(-limit);
  }
}
