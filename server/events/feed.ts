// The feed puts durable events in seq order (filling gaps from the database, since
// publishes from concurrent commits may arrive out of order), decodes each once and
// hands it to every open stream, alongside ephemeral events for their audience (through
// one outbox, a slice per event-loop turn).
import { randomUUID } from "node:crypto";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { decodeStored } from "../codec/event-log.js";
import type { EventRow } from "../db/repos/events.js";
import type { LiveStream, Streams } from "../domain/ports.js";
import type { Logger } from "../log.js";
import type { Audience, EphemeralMessage, EventBus } from "./bus.js";
import { Outbox } from "./outbox.js";
import { Subscriber } from "./subscriber.js";

export class RevokedError extends Error {
  override readonly name = "RevokedError";
}

export class SessionEndedError extends Error {
  override readonly name = "SessionEndedError";
  constructor() {
    super("the session was logged out");
  }
}

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

export class Feed implements Streams {
  /** Last durable seq handed to subscribers. */
  head: bigint;
  private readonly pending = new Map<bigint, EventRow>();
  private readonly subs = new Map<string, Subscriber>();
  /** Open streams per session key and per device, for the caps (domain/subscriptions.ts). */
  private readonly perSession = new Map<string, number>();
  private readonly perDevice = new Map<string, number>();
  /** Deliveries to streams, in order, a slice per event-loop turn. */
  private readonly outbox = new Outbox();
  private gapTimer: NodeJS.Timeout | undefined;
  private filling = false;
  /** Highest seq another process announced; rows up to it are read from the database. */
  private announced = 0n;
  private readonly closeHandlers: Array<(s: StreamInfo) => void> = [];
  private readonly openHandlers: Array<(s: StreamInfo) => void> = [];
  private readonly eventHandlers: Array<(ev: Event) => void> = [];
  private readonly sessionEndHandlers: Array<(sessionKey: string) => void> = [];

  constructor(private readonly opts: FeedOptions) {
    this.head = opts.headSeq;
    opts.bus.onDurable((rows) => this.accept(rows));
    opts.bus.onAnnounce((seq) => this.announce(seq));
    opts.bus.onEphemeral((msg) => this.deliverLocal(msg));
  }

  onStreamOpen(h: (s: StreamInfo) => void) {
    this.openHandlers.push(h);
  }
  onStreamClose(h: (s: StreamInfo) => void) {
    this.closeHandlers.push(h);
  }
  /** A session ended (a Logout here or in another process). */
  onSessionEnd(h: (sessionKey: string) => void) {
    this.sessionEndHandlers.push(h);
  }
  /** Every durable event, in seq order, as it is handed to the streams. */
  onEvent(h: (ev: Event) => void) {
    this.eventHandlers.push(h);
  }

  /** Opens a stream. Live events are queued from now on; events up to `head` are not. */
  open(userId: string, deviceId: string, sessionKey = ""): Subscriber {
    const sub = new Subscriber(randomUUID(), userId, deviceId, this.head, this.opts.maxQueue ?? 10_000, sessionKey);
    this.subs.set(sub.id, sub);
    bump(this.perSession, sessionKey, 1);
    bump(this.perDevice, deviceId, 1);
    for (const h of this.openHandlers) h(sub);
    return sub;
  }

  openCount(sessionKey: string, deviceId: string) {
    return { session: this.perSession.get(sessionKey) ?? 0, device: this.perDevice.get(deviceId) ?? 0 };
  }

  close(stream: LiveStream) {
    const sub = this.subs.get(stream.id);
    if (!sub) return;
    this.subs.delete(sub.id);
    bump(this.perSession, sub.sessionKey, -1);
    bump(this.perDevice, sub.deviceId, -1);
    sub.close();
    for (const h of this.closeHandlers) h(sub);
  }

  /** Durable events up to `seq` exist (committed by another process, or seen by polling). */
  announce(seq: bigint) {
    if (seq <= this.head || seq <= this.announced) return;
    this.announced = seq;
    this.scheduleFill();
  }

  /** Ephemeral events for this process's streams that match the audience. */
  deliverLocal({ event, audience }: EphemeralMessage) {
    const to = [...this.subs.values()].filter((s) => matches(audience, s));
    if (to.length) this.outbox.push(event, to);
  }

  get streamCount() {
    return this.subs.size;
  }

  /** Ends every stream matching `pred` (e.g. all streams of a revoked device). */
  fail(pred: (s: Subscriber) => boolean, err: Error) {
    for (const s of this.subs.values()) if (pred(s)) s.fail(err);
  }

  /** A session ended: its streams end, and whoever caches sessions forgets it. */
  endSession(sessionKey: string) {
    if (!sessionKey) return;
    this.fail((s) => s.sessionKey === sessionKey, new SessionEndedError());
    for (const h of this.sessionEndHandlers) h(sessionKey);
  }

  /** Ends every stream with `err` (shutdown); their handlers then close them. */
  failAll(err: Error) {
    for (const s of this.subs.values()) s.fail(err);
    this.outbox.clear();
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
      this.dispatch(decodeStored(next.seq, next.payload));
    }
    if (this.pending.size || this.announced > this.head) this.scheduleFill();
  }

  private scheduleFill() {
    // A gap: an earlier commit's publish is probably a moment behind; if not, read it.
    if (!this.gapTimer && !this.filling) this.gapTimer = setTimeout(() => void this.fillGap(), this.opts.gapWaitMs ?? 20);
  }

  private async fillGap() {
    this.gapTimer = undefined;
    if (!this.pending.size && this.announced <= this.head) return;
    this.filling = true;
    try {
      const upTo = [...this.pending.keys(), this.announced].reduce((a, b) => (a > b ? a : b));
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
    for (const h of this.eventHandlers) h(ev);
    // Every process sees this durable event, so each ends its own streams of the device, once
    // they have been handed the event.
    const revoked = ev.payload.case === "deviceRevoked" ? ev.payload.value.deviceId : undefined;
    const then = revoked ? () => this.fail((s) => s.deviceId === revoked, new RevokedError("device revoked")) : undefined;
    this.outbox.push(ev, [...this.subs.values()], then);
  }
}

function matches(a: Audience, s: Subscriber): boolean {
  switch (a.kind) {
    case "all":
      return true;
    case "user":
      return s.userId === a.userId;
    case "device":
      return s.deviceId === a.deviceId;
    case "stream":
      return s.id === a.streamId;
  }
}

function bump(counts: Map<string, number>, key: string, by: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
