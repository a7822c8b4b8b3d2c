// One open Subscribe stream: a bounded queue of events waiting to be sent.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";

export class SlowSubscriberError extends Error {
  override readonly name = "SlowSubscriberError";
}

export class Subscriber {
  private queue: Event[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** Highest durable seq sent or skipped; live events at or below it are dropped. */
  lastSeq: bigint;
  closed = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    readonly deviceId: string,
    startSeq: bigint,
    private readonly maxQueue: number,
  ) {
    this.lastSeq = startSeq;
  }

  /** Queues an event; a subscriber that falls maxQueue events behind is failed, never skipped. */
  push(event: Event) {
    if (this.closed || this.failure) return;
    if (this.queue.length >= this.maxQueue) {
      this.fail(new SlowSubscriberError(`subscriber too slow: resume with after_seq=${this.lastSeq}`));
      return;
    }
    this.queue.push(event);
    this.wake?.();
  }

  fail(err: Error) {
    this.failure ??= err;
    this.wake?.();
  }

  close() {
    this.closed = true;
    this.wake?.();
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
