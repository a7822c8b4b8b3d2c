// The local message cache that search runs over (DESIGN §12), encrypted at rest (ENCRYPTION.md
// §13). Writing never needs the old contents: what changed is appended as a new sealed segment
// (at flush, or a moment after a burst), so a `dialtone send` pays nothing for a large cache.
// Reading (`load`) opens every segment in name order, applies its puts and removals, indexes
// the texts, and folds many segments into one. Only messages that opened are ever put here, so a
// channel whose key this device lacks has nothing in it.
import type { CachedMessage, SearchRecord, SearchSegmentContext } from "../../crypto/index.js";
import { CryptoError, openSearchSegment, sealSearchSegment } from "../../crypto/index.js";
import { KeyError } from "../errors.js";
import { SegmentFiles } from "./segment-files.js";
import { TextIndex } from "./text-index.js";

export type { CachedMessage } from "../../crypto/index.js";

/** What the event handling tells the cache: a message opened (or its text changed), or was deleted. */
export interface SearchSink {
  /** Inserts, or replaces by message id (an edit's new text). */
  upsert(message: CachedMessage): void;
  /** Forgets a deleted message. */
  remove(messageId: string): void;
}

export interface SearchOptions {
  /** Only this channel. */
  readonly channelId?: string;
  /** Only these channels (e.g. those that still exist). */
  readonly inChannels?: ReadonlySet<string>;
  /** At most this many hits (default 50). */
  readonly limit?: number;
}

export interface SearchResult {
  /** Newest first (server time, then seq). */
  readonly hits: readonly CachedMessage[];
  /** How many matched before the limit. */
  readonly total: number;
}

export interface LoadReport {
  readonly messages: number;
  readonly channels: number;
  readonly segments: number;
  /** Segments sealed under an older cache key (a keystore that lost its key): deleted. */
  readonly discarded: number;
  readonly compacted: boolean;
}

export interface MessageCacheOptions {
  readonly configDir: string;
  readonly server: string;
  readonly serverOrigin: string;
  readonly userId: string;
  /** The cache key from the keystore, made on first use. */
  readonly key: () => Promise<Uint8Array>;
  /** A background flush failed (the records stay pending for the next one). */
  readonly onError?: (cause: unknown) => void;
}

/** More segments than this, or this many more records than live messages, and a load compacts. */
const COMPACT_SEGMENTS = 16;
const COMPACT_SLACK = 10_000;

const newerFirst = (a: CachedMessage, b: CachedMessage) => b.time - a.time || (b.seq > a.seq ? 1 : b.seq < a.seq ? -1 : 0);
/** A put replaces a cached message only with a text at least as new (an edit's seq is above its target's). */
const supersedes = (incoming: CachedMessage, held: CachedMessage | undefined) => held === undefined || incoming.seq >= held.seq;
const same = (a: CachedMessage, b: CachedMessage) =>
  a.text === b.text && a.channelId === b.channelId && a.seq === b.seq && a.time === b.time && a.senderUserId === b.senderUserId;

export class MessageCache implements SearchSink {
  readonly files: SegmentFiles;
  readonly #options: MessageCacheOptions;
  /** Records not on disk yet, in order. */
  #pending: SearchRecord[] = [];
  /** What this process put or wrote, so a message opened again (a history page) is not appended again. */
  readonly #written = new Map<string, CachedMessage>();
  /** Set once loaded: every cached message by id, and the index over their texts. */
  #messages: Map<string, CachedMessage> | undefined;
  #index: TextIndex | undefined;
  #channels: number | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MessageCacheOptions) {
    this.#options = options;
    this.files = new SegmentFiles(options.configDir, options.server);
  }

  get loaded(): boolean {
    return this.#messages !== undefined;
  }

  /** Cached messages (once loaded). */
  get size(): number {
    return this.#messages?.size ?? 0;
  }

  /** Channels with at least one cached message (once loaded); counted anew after a change, not per search. */
  channelCount(): number {
    if (this.#channels === undefined) this.#channels = new Set([...(this.#messages?.values() ?? [])].map((m) => m.channelId)).size;
    return this.#channels;
  }

  upsert(message: CachedMessage): void {
    const known = this.#messages?.get(message.messageId) ?? this.#written.get(message.messageId);
    if (known && (same(known, message) || !supersedes(message, known))) return;
    this.#written.set(message.messageId, message);
    this.#pending.push({ op: "put", message });
    this.#apply({ op: "put", message });
    this.#scheduleFlush();
  }

  remove(messageId: string): void {
    this.#written.delete(messageId);
    this.#pending.push({ op: "remove", messageId });
    this.#apply({ op: "remove", messageId });
    this.#scheduleFlush();
  }

  /**
   * After a channel's whole history was paged in: forgets its cached messages the server no
   * longer has (deleted while this device was not listening). Call `load()` first.
   */
  prune(channelId: string, present: ReadonlySet<string>): number {
    if (!this.#messages) throw new Error("MessageCache.prune: load() first");
    const gone = [...this.#messages.values()].filter((m) => m.channelId === channelId && !present.has(m.messageId));
    for (const m of gone) this.remove(m.messageId);
    return gone.length;
  }

  /** Writes what is pending as one new segment. Flushes and loads never overlap. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#serial(() => this.#writePending());
  }

  /**
   * Opens every segment and indexes the messages (once per process; later upserts go straight
   * into the index). A segment under another cache key is deleted; one that fails to open is an
   * error naming it, never silently dropped.
   */
  load(): Promise<LoadReport> {
    return this.#serial(() => this.#load());
  }

  /** Messages holding every word of `query`, newest first. Call `load()` first. */
  search(query: string, options: SearchOptions = {}): SearchResult {
    if (!this.#messages || !this.#index) throw new Error("MessageCache.search: load() first");
    const limit = options.limit ?? 50;
    const messages = this.#messages;
    // The newest `limit` matches, kept sorted while scanning: no sort of every match (a common word).
    const top: CachedMessage[] = [];
    let total = 0;
    for (const id of this.#index.find(query)) {
      const m = messages.get(id)!;
      if (options.channelId !== undefined && m.channelId !== options.channelId) continue;
      if (options.inChannels !== undefined && !options.inChannels.has(m.channelId)) continue;
      total++;
      if (top.length === limit && newerFirst(m, top[limit - 1]!) >= 0) continue;
      let at = top.length;
      while (at > 0 && newerFirst(m, top[at - 1]!) < 0) at--;
      top.splice(at, 0, m);
      if (top.length > limit) top.pop();
    }
    return { hits: top, total };
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(task, task);
    this.#chain = next.catch(() => {});
    return next;
  }

  #scheduleFlush(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((cause: unknown) => this.#options.onError?.(cause));
    }, 2000);
    this.#timer.unref();
  }

  #context(segmentName: string): SearchSegmentContext {
    return { serverOrigin: this.#options.serverOrigin, userId: this.#options.userId, segmentName };
  }

  async #writePending(): Promise<void> {
    if (this.#pending.length === 0) return;
    const records = this.#pending;
    this.#pending = [];
    try {
      const name = SegmentFiles.newName();
      await this.files.write(name, await sealSearchSegment(await this.#options.key(), this.#context(name), records));
    } catch (err) {
      this.#pending = [...records, ...this.#pending];
      throw err;
    }
  }

  #apply(record: SearchRecord): void {
    if (!this.#messages || !this.#index) return;
    this.#channels = undefined;
    if (record.op === "put") {
      if (!supersedes(record.message, this.#messages.get(record.message.messageId))) return;
      this.#messages.set(record.message.messageId, record.message);
      this.#index.set(record.message.messageId, record.message.text);
    } else {
      this.#messages.delete(record.messageId);
      this.#index.delete(record.messageId);
    }
  }

  async #load(): Promise<LoadReport> {
    const key = await this.#options.key();
    const names = await this.files.list();
    const messages = new Map<string, CachedMessage>();
    let records = 0;
    let discarded = 0;
    const opened: string[] = [];
    for (const name of names) {
      let segment: SearchRecord[];
      try {
        segment = await openSearchSegment(key, this.#context(name), await this.files.read(name));
      } catch (err) {
        if (err instanceof CryptoError && err.code === "key-mismatch") {
          await this.files.remove(name);
          discarded++;
          continue;
        }
        if (err instanceof CryptoError) {
          throw new KeyError(
            "undecryptable",
            `the search cache segment ${this.files.path(name)} does not open (${err.code}: changed on disk, or not this account's); remove ${this.files.dir} to start the cache afresh`,
          );
        }
        throw err;
      }
      opened.push(name);
      records += segment.length;
      for (const r of segment) {
        if (r.op === "remove") messages.delete(r.messageId);
        else if (supersedes(r.message, messages.get(r.message.messageId))) messages.set(r.message.messageId, r.message);
      }
    }
    const onDisk = new Map(messages);
    // What this process put before loading applies after what is on disk (it is newer).
    for (const r of this.#pending) {
      if (r.op === "remove") messages.delete(r.messageId);
      else if (supersedes(r.message, messages.get(r.message.messageId))) messages.set(r.message.messageId, r.message);
    }
    const index = new TextIndex();
    index.addAll(messages.values());
    this.#messages = messages;
    this.#index = index;
    this.#channels = undefined;
    const compacted = opened.length > COMPACT_SEGMENTS || records > messages.size + COMPACT_SLACK;
    if (compacted) await this.#compact(opened, onDisk, key);
    return { messages: messages.size, channels: this.channelCount(), segments: opened.length, discarded, compacted };
  }

  /** Replaces the opened segments with one holding what they hold (named to sort where they did). */
  async #compact(opened: readonly string[], onDisk: ReadonlyMap<string, CachedMessage>, key: Uint8Array): Promise<void> {
    const name = SegmentFiles.compactedName(opened.at(-1)!);
    // Pending records stay pending: flushed later, they sort after the compacted segment.
    const records: SearchRecord[] = [...onDisk.values()].map((message) => ({ op: "put", message }));
    await this.files.write(name, await sealSearchSegment(key, this.#context(name), records));
    for (const old of opened) await this.files.remove(old);
  }
}
