// Search as the client offers it: the cache's hits named at display time from the channel list and
// the directory (names are never stored in the cache), and filling the cache from history.
import type { ChatMessage } from "../messages.js";
import type { ChannelView } from "../names.js";
import type { CachedMessage, MessageCache } from "./message-cache.js";

/**
 * What the cache keeps of an opened message; undefined for one that did not open (no key) and for
 * a reaction. An edit becomes its target's new text (under the target's id, with the edit's seq
 * and time, so a later re-opening of the original does not put the old text back), but only
 * when `target` (the edited message, if this client holds it) has the edit's sender: others'
 * edits do not count (ENCRYPTION.md §11).
 */
export function cacheEntry(m: ChatMessage, target?: (messageId: string) => ChatMessage | undefined): CachedMessage | undefined {
  if (m.error !== undefined || m.body === undefined) return undefined;
  const entry = { channelId: m.channelId, seq: m.seq, senderUserId: m.senderUserId, time: m.sentAt.getTime(), text: m.body };
  if (m.relation?.kind === "reaction") return undefined;
  if (m.relation?.kind === "edit") {
    const edited = target?.(m.relation.messageId);
    if (!edited || edited.senderUserId !== m.senderUserId || edited.relation?.kind === "edit" || edited.relation?.kind === "reaction") {
      return undefined;
    }
    return { ...entry, messageId: edited.messageId };
  }
  return { ...entry, messageId: m.messageId };
}

export interface SearchHit {
  readonly message: CachedMessage;
  readonly channel: ChannelView;
  /** The sender as the directory names them now. */
  readonly sender: string;
}

export interface SearchView {
  readonly hits: readonly SearchHit[];
  /** Matches before the limit. */
  readonly total: number;
  /** Messages cached on this device, and in how many channels. */
  readonly cached: number;
  readonly cachedChannels: number;
}

export interface SearchDeps {
  readonly cache: MessageCache;
  readonly channels: () => readonly ChannelView[];
  readonly senderLabel: (userId: string) => string;
}

/** Loads the cache if needed and searches it; hits of channels that are gone (deleted) are left out. */
export async function searchMessages(
  deps: SearchDeps,
  query: string,
  options: { readonly channelId?: string; readonly limit?: number } = {},
): Promise<SearchView> {
  if (!deps.cache.loaded) await deps.cache.load();
  const byId = new Map(deps.channels().map((c) => [c.id, c]));
  const found = deps.cache.search(query, { ...options, inChannels: new Set(byId.keys()) });
  return {
    hits: found.hits.map((message) => ({ message, channel: byId.get(message.channelId)!, sender: deps.senderLabel(message.senderUserId) })),
    total: found.total,
    cached: deps.cache.size,
    cachedChannels: deps.cache.channelCount(),
  };
}

export interface FillProgress {
  readonly channel: ChannelView;
  /** Messages of this channel paged in so far. */
  readonly loaded: number;
  readonly done: boolean;
}

const FILL_STEP = 1000;

/**
 * Pages the whole history of every channel this device can read into the cache (opening a
 * message puts it there). Channels whose name does not open lack a key here: skipped.
 */
export async function fillFromHistory(
  channels: readonly ChannelView[],
  loadOlder: (channelId: string, count: number) => Promise<readonly ChatMessage[]>,
  hasMore: (channelId: string) => boolean,
  onProgress: (p: FillProgress) => void = () => {},
): Promise<{ channels: number; messages: number }> {
  let messages = 0;
  let read = 0;
  for (const channel of channels) {
    if (channel.name === undefined) continue;
    read++;
    let loaded = 0;
    while (hasMore(channel.id)) {
      const page = await loadOlder(channel.id, FILL_STEP);
      loaded += page.length;
      if (page.length === 0) break;
      onProgress({ channel, loaded, done: false });
    }
    messages += loaded;
    onProgress({ channel, loaded, done: true });
  }
  return { channels: read, messages };
}

const WAITING_MAX = 2000;

/**
 * Feeds opened messages to the cache. History pages open newest first, so an edit often opens
 * before the message it edits: it waits here (the newest per target, bounded) until that message
 * opens, and then applies if the senders match.
 */
export class CacheFeed {
  readonly #cache: Pick<MessageCache, "upsert">;
  readonly #waiting = new Map<string, ChatMessage>();

  constructor(cache: Pick<MessageCache, "upsert">) {
    this.#cache = cache;
  }

  opened(m: ChatMessage, known: (messageId: string) => ChatMessage | undefined): void {
    if (m.relation?.kind === "edit" && m.error === undefined) {
      const targetId = m.relation.messageId;
      const target = known(targetId);
      if (target) {
        const entry = cacheEntry(m, () => target);
        if (entry) this.#cache.upsert(entry);
      } else if ((this.#waiting.get(targetId)?.seq ?? -1n) < m.seq) {
        this.#waiting.delete(targetId);
        this.#waiting.set(targetId, m);
        if (this.#waiting.size > WAITING_MAX) this.#waiting.delete(this.#waiting.keys().next().value!);
      }
      return;
    }
    const entry = cacheEntry(m);
    if (!entry) return;
    this.#cache.upsert(entry);
    const edit = this.#waiting.get(m.messageId);
    if (edit) {
      this.#waiting.delete(m.messageId);
      const edited = cacheEntry(edit, () => m);
      if (edited) this.#cache.upsert(edited);
    }
  }
}
