// Hands events to streams in slices, in order. Delivering one event to 1,000 streams is 1,000
// response writes (~17 ms of CPU here); done in one go from a Send's continuation, it held
// that Send's response and every other request behind it, and under steady load the event
// loop fell into runs of several hundred milliseconds (a profile showed 600 ms stretches of
// stream writes) from which Send round trips never recovered. Between slices the loop serves
// other I/O. Every stream still sees every event in the order it was queued, durable and
// ephemeral alike, because one queue serves them all.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { Subscriber } from "./subscriber.js";

/** Deliveries per slice: ~3 ms of writes on this machine's kind. */
export const SLICE = 200;
/**
 * Past this many queued deliveries (a server that cannot keep up) the rest is handed over at
 * once: the backlog then sits in the streams' own queues, whose bound ends a stream too far
 * behind with resource_exhausted and a seq to resume from, instead of growing here unbounded.
 */
export const MAX_BACKLOG = 200_000;

interface Item {
  event: Event;
  to: Subscriber[];
  next: number;
  /** Runs once every recipient has been handed the event (e.g. ending a revoked device's streams). */
  then?: () => void;
}

export class Outbox {
  private readonly items: Item[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private pumping = false;
  private queued = 0;

  constructor(
    private readonly slice = SLICE,
    private readonly maxBacklog = MAX_BACKLOG,
  ) {}

  /** Queues `event` for `to` (a snapshot: streams opened later start after it). */
  push(event: Event, to: Subscriber[], then?: () => void): void {
    this.items.push({ event, to, next: 0, ...(then ? { then } : {}) });
    this.queued += to.length;
    // Re-entrant pushes (a delivery's side effect) wait for the running pump.
    if (this.pumping) return;
    if (this.queued > this.maxBacklog) this.pump(Infinity);
    else if (!this.scheduled) this.pump();
  }

  /** Deliveries still queued. */
  get backlog(): number {
    return this.queued;
  }

  /** Drops everything queued (shutdown). */
  clear(): void {
    this.items.length = 0;
    this.queued = 0;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private pump(budget = this.slice): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.pumping = true;
    try {
      while (this.items.length && budget > 0) {
        const it = this.items[0]!;
        while (it.next < it.to.length && budget-- > 0) {
          this.queued--;
          it.to[it.next++]!.push(it.event);
        }
        if (it.next < it.to.length) break;
        this.items.shift();
        it.then?.();
      }
    } finally {
      this.pumping = false;
    }
    if (this.items.length) this.scheduled = setImmediate(() => this.pump());
  }
}
