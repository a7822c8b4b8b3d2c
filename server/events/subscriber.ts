// One open Subscribe stream as the feed holds it: a bounded queue of events waiting to be
// sent, read with next() (connect-node's path), or handed straight to a sink (the fast path,
// server/services/event/fast-path.ts), which saves a promise and a timer per event per stream.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { LiveStream, Sink } from "../domain/ports.js";

export type { Sink } from "../domain/ports.js";

export class SlowSubscriberError extends Error {
  override readonly name = "SlowSubscriberError";
}

export class Subscriber implements LiveStream {
  private queue: Event[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private sink: Sink | undefined;
  private paused = false;
  /** Highest durable seq sent or skipped; live events at or below it are dropped. */
  lastSeq: bigint;
  closed = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly deviceId: string,
    startSeq: bigint,
    private readonly maxQueue: number,
    /** The caller's session (token hash): a Logout ends the streams it opened. */
    readonly sessionKey = "",
  ) {
    this.lastSeq = startSeq;
  }

  /** Queues an event; a subscriber that falls maxQueue events behind is failed, never skipped. */
  push(event: Event) {
    if (this.closed || this.failure) return;
    if (this.sink && !this.paused && !this.queue.length) return this.deliver(event);
    if (this.queue.length >= this.maxQueue) {
      this.fail(new SlowSubscriberError(`subscriber too slow: resume with after_seq=${this.lastSeq}`));
      return;
    }
    this.queue.push(event);
    this.wake?.();
  }

  fail(err: Error) {
    if (this.failure) return;
    this.failure = err;
    this.wake?.();
    if (!this.closed) this.sink?.end(err);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    if (!this.failure) this.sink?.end();
  }

  /** From now on, events go to `sink` as they come, the queued ones first. */
  attach(sink: Sink) {
    this.sink = sink;
    if (this.failure) return sink.end(this.failure);
    if (this.closed) return sink.end();
    this.resume();
  }

  /** The sink can take events again: the queue first, then live ones. */
  resume() {
    this.paused = false;
    let i = 0;
    while (!this.paused && i < this.queue.length && !this.closed && !this.failure) this.deliver(this.queue[i++]!);
    this.queue.splice(0, i);
  }

  /** Durable events already covered by lastSeq are dropped here. */
  private deliver(ev: Event) {
    if (ev.seq !== 0n) {
      if (ev.seq <= this.lastSeq) return;
      this.lastSeq = ev.seq;
    }
    if (!this.sink!.write(ev)) this.paused = true;
  }

  /**
   * The next event to send, "idle" after `idleMs` without one, or "closed".
   * Durable events already covered by lastSeq are dropped here.
   */
  async next(idleMs: number): Promise<Event | "idle" | "closed"> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.closed) return "closed";
      const ev = this.queue.shift();
      if (ev) {
        if (ev.seq === 0n) return ev;
        if (ev.seq <= this.lastSeq) continue;
        this.lastSeq = ev.seq;
        return ev;
      }
      let timer: NodeJS.Timeout | undefined;
      const woke = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), idleMs);
      });
      clearTimeout(timer);
      this.wake = undefined;
      if (!woke && !this.queue.length && !this.failure && !this.closed) return "idle";
    }
  }
}
