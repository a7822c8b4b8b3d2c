// The media clock: one tick per 20 ms slot of wall-clock time (slot = floor(now / 20)), so
// every process on a machine shares slot boundaries (tone pulses, recordings and latency
// figures line up). Late wake-ups catch up by running the missed slots; a long stall skips.
import { FRAME_MS } from "./format.js";

const MAX_CATCH_UP = 10;

export class MediaClock {
  private timer: NodeJS.Timeout | undefined;
  private last: number | undefined;
  /** Slots skipped after a stall longer than MAX_CATCH_UP slots. */
  skipped = 0;

  constructor(
    private readonly onSlot: (slot: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = Math.floor(this.now() / FRAME_MS) - 1;
    this.schedule();
  }

  private schedule(): void {
    const t = this.now();
    const next = (Math.floor(t / FRAME_MS) + 1) * FRAME_MS;
    // The slots run from setImmediate, after the event loop's poll phase: packets that queued
    // up while we were late reach the jitter buffers before the slots that want them.
    this.timer = setTimeout(() => setImmediate(() => this.fire()), Math.max(0, next - t));
  }

  private fire(): void {
    if (!this.timer) return;
    const current = Math.floor(this.now() / FRAME_MS);
    let from = this.last! + 1;
    if (current - from >= MAX_CATCH_UP) {
      this.skipped += current - from;
      from = current;
    }
    for (let s = from; s <= current; s++) this.onSlot(s);
    this.last = current;
    if (this.timer) this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
