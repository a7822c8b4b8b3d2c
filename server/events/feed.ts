// The feed puts durable events in seq order (filling gaps from the database, since
// publishes from concurrent commits may arrive out of order), decodes each once and
// hands it to every open stream, alongside ephemeral events for their audience.
import { randomUUID } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";
import type { EventRow } from "../db/repos/events.js";
import type { Logger } from "../log.js";
import type { Audience, EphemeralMessage, EventBus } from "./bus.js";
import { Subscriber } from "./subscriber.js";

export interface FeedOptions {
  bus: EventBus;
  /** Durable rows with after < seq <= upTo, in order. */
  readRange(after: bigint, upTo: bigint): Promise<EventRow[]>;
  headSeq: bigint;
  log: Logger;
  maxQueue?: number;
  gapWaitMs?: number;
}

export interface StreamInfo {
  id: string;
  userId: string;
  deviceId: string;
}

export class Feed {
  /** Last durable seq handed to subscribers. */
  head: bigint;
  private readonly pending = new Map<bigint, EventRow>();
  private readonly subs = new Map<string, Subscriber>();
  private gapTimer: NodeJS.Timeout | undefined;
  private filling = false;
  private readonly closeHandlers: Array<(s: StreamInfo, lastOfUser: boolean) => void> = [];
  private readonly openHandlers: Array<(s: StreamInfo, firstOfUser: boolean) => void> = [];

  constructor(private readonly opts: FeedOptions) {
    this.head = opts.headSeq;
    opts.bus.onDurable((rows) => this.accept(rows));
    opts.bus.onEphemeral((msg) => this.deliver(msg));
  }

  onStreamOpen(h: (s: StreamInfo, firstOfUser: boolean) => void) {
    this.openHandlers.push(h);
  }
  onStreamClose(h: (s: StreamInfo, lastOfUser: boolean) => void) {
    this.closeHandlers.push(h);
  }

  /** Opens a stream. Live events are queued from now on; events up to `head` are not. */
  open(userId: string, deviceId: string): Subscriber {
    const sub = new Subscriber(randomUUID(), userId, deviceId, this.head, this.opts.maxQueue ?? 10_000);
    const first = !this.isOnline(userId);
    this.subs.set(sub.id, sub);
    for (const h of this.openHandlers) h(sub, first);
    return sub;
  }

  close(sub: Subscriber) {
    if (!this.subs.delete(sub.id)) return;
    sub.close();
    const last = !this.isOnline(sub.userId);
    for (const h of this.closeHandlers) h(sub, last);
  }

  stream(id: string): StreamInfo | undefined {
    return this.subs.get(id);
  }

  isOnline(userId: string): boolean {
    for (const s of this.subs.values()) if (s.userId === userId) return true;
    return false;
  }

  onlineDevices(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const s of this.subs.values()) {
      let set = out.get(s.userId);
      if (!set) out.set(s.userId, (set = new Set()));
      set.add(s.deviceId);
    }
    return out;
  }

  get streamCount() {
    return this.subs.size;
  }

  /** Ends every stream matching `pred` (e.g. all streams of a revoked device). */
  fail(pred: (s: Subscriber) => boolean, err: Error) {
    for (const s of this.subs.values()) if (pred(s)) s.fail(err);
  }

  /** Ends every stream with `err` (shutdown); their handlers then close them. */
  failAll(err: Error) {
    for (const s of this.subs.values()) s.fail(err);
    clearTimeout(this.gapTimer);
  }

  private accept(rows: readonly EventRow[]) {
    for (const r of rows) if (r.seq > this.head) this.pending.set(r.seq, r);
    this.drain();
  }

  private drain() {
    for (let next = this.pending.get(this.head + 1n); next; next = this.pending.get(this.head + 1n)) {
      this.pending.delete(next.seq);
      this.head = next.seq;
      this.dispatch(fromBinary(EventSchema, next.payload));
    }
    if (this.pending.size && !this.gapTimer && !this.filling) {
      // A gap: an earlier commit's publish is probably a moment behind; if not, read it.
      this.gapTimer = setTimeout(() => void this.fillGap(), this.opts.gapWaitMs ?? 20);
    }
  }

  private async fillGap() {
    this.gapTimer = undefined;
    if (!this.pending.size) return;
    this.filling = true;
    try {
      const upTo = [...this.pending.keys()].reduce((a, b) => (a > b ? a : b));
      const rows = await this.opts.readRange(this.head, upTo);
      for (const r of rows) if (r.seq > this.head) this.pending.set(r.seq, r);
    } catch (err) {
      this.opts.log.error("feed gap fill failed", { error: (err as Error).name });
    } finally {
      this.filling = false;
    }
    this.drain();
  }

  private dispatch(ev: Event) {
    for (const s of this.subs.values()) s.push(ev);
  }

  private deliver({ event, audience }: EphemeralMessage) {
    for (const s of this.subs.values()) if (matches(audience, s)) s.push(event);
  }
}

function matches(a: Audience, s: Subscriber): boolean {
  switch (a.kind) {
    case "all":
      return true;
    case "device":
      return s.deviceId === a.deviceId;
    case "stream":
      return s.id === a.streamId;
  }
}
