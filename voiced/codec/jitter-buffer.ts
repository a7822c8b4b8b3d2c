// A per-peer jitter buffer for 20 ms RTP audio: reorders by sequence number, holds a target
// playout delay, conceals gaps, and goes idle between talkspurts (senders stop sending while
// not speaking, without a gap in their sequence numbers).
import { FRAME_MS } from "../audio/format.js";

export interface JitterOptions {
  /** Lowest playout delay in ms (default 40). */
  minTargetMs?: number;
  /** Highest playout delay in ms (default 200). */
  maxTargetMs?: number;
  /** Frames concealed on an empty buffer before it goes idle (default 3). */
  maxConcealFrames?: number;
}

export type Playout =
  /** The next packet, in order. */
  | { kind: "packet"; payload: Uint8Array }
  /** A frame is missing; `next` is the packet after it when already here (for FEC). */
  | { kind: "lost"; next?: Uint8Array }
  /** Nothing to play (not started, buffering, or between talkspurts). */
  | { kind: "idle" };

export interface JitterStats {
  received: number;
  /** RFC 3550 cumulative loss: expected minus received. */
  lost: number;
  /** Arrived after their playout time (dropped). */
  late: number;
  duplicates: number;
  /** Dropped to bring an overgrown delay back to the target. */
  trimmed: number;
  /** RFC 3550 interarrival jitter in ms. */
  jitterMs: number;
  targetMs: number;
  /** Frames waiting. */
  depth: number;
}

const HALF = 0x8000;

export class JitterBuffer {
  private readonly minTarget: number;
  private readonly maxTarget: number;
  private readonly maxConceal: number;
  private readonly packets = new Map<number, Uint8Array>();
  private state: "idle" | "buffering" | "playing" = "idle";
  private targetMs: number;
  private bufferStart = 0;
  private nextSeq = 0;
  private lastPlayed: number | undefined;
  private highest: number | undefined;
  private base: number | undefined;
  private concealRun = 0;
  /** Extra delay learnt from underruns; it decays over talkspurts that go well. */
  private boostMs = 0;
  private idleSince = -Infinity;
  private lastTransit: number | undefined;
  private jitter = 0; // ms
  private received = 0;
  private late = 0;
  private duplicates = 0;
  private trimmed = 0;

  constructor(o: JitterOptions = {}) {
    this.minTarget = o.minTargetMs ?? 40;
    this.maxTarget = o.maxTargetMs ?? 200;
    this.maxConceal = o.maxConcealFrames ?? 3;
    this.targetMs = this.minTarget;
  }

  /** Extends a 16-bit sequence number to the one nearest the highest seen. */
  private unwrap(seq: number): number {
    if (this.highest === undefined) return (seq & 0xffff) + 0x10000;
    const delta = (((seq & 0xffff) - (this.highest & 0xffff) + HALF) & 0xffff) - HALF;
    return this.highest + delta;
  }

  /** `marker` is the RTP marker bit: set on the first packet of a talkspurt (RFC 3551 §4.1). */
  push(seq: number, timestamp: number, payload: Uint8Array, arrivalMs: number, marker = false): void {
    const ext = this.unwrap(seq);
    // RFC 3550 §6.4.1 jitter over arrival vs. RTP time (48 kHz clock: 48 ticks per ms).
    const transit = arrivalMs - (timestamp >>> 0) / 48;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      // A 32-bit timestamp wrap shows up as a huge jump: ignore that one sample.
      if (d > 60_000) d = this.jitter;
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;

    if (this.packets.has(ext) || (this.lastPlayed !== undefined && ext === this.lastPlayed)) {
      this.duplicates++;
      return;
    }
    this.received++;
    this.base = this.base === undefined ? ext : Math.min(this.base, ext);
    if (this.highest === undefined || ext > this.highest) this.highest = ext;
    if (this.lastPlayed !== undefined && ext <= this.lastPlayed) {
      this.late++;
      return;
    }
    if (this.state === "playing" && ext < this.nextSeq) {
      this.late++;
      return;
    }
    this.packets.set(ext, payload);
    if (this.state === "idle") {
      // The very packet we stopped waiting for, shortly after: that was an underrun (the delay was
      // too short), not the end of a talkspurt (a new one starts with the marker bit, later).
      const underrun = !marker && ext === this.nextSeq && arrivalMs - this.idleSince < 200;
      this.boostMs = underrun ? Math.min(this.maxTarget, this.boostMs + FRAME_MS) : Math.max(0, this.boostMs - FRAME_MS / 2);
      this.state = "buffering";
      this.bufferStart = arrivalMs;
      this.nextSeq = ext;
      // Each talkspurt starts with a delay fitted to the jitter seen so far.
      const want = Math.ceil((3 * this.jitter) / FRAME_MS) * FRAME_MS + this.boostMs;
      this.targetMs = Math.min(this.maxTarget, Math.max(this.minTarget, want));
    } else if (this.state === "buffering" && ext < this.nextSeq) {
      this.nextSeq = ext;
    }
  }

  /**
   * A packet without audio (a keep-alive, sent only between talkspurts): it counts as received,
   * so its sequence number is no loss, and is never played.
   */
  skip(seq: number): void {
    const ext = this.unwrap(seq);
    if (this.packets.has(ext) || ext === this.lastPlayed) {
      this.duplicates++;
      return;
    }
    this.received++;
    this.base = this.base === undefined ? ext : Math.min(this.base, ext);
    if (this.highest === undefined || ext > this.highest) this.highest = ext;
    if (this.state === "idle" && (this.lastPlayed === undefined || ext > this.lastPlayed)) this.lastPlayed = ext;
  }

  pull(nowMs: number): Playout {
    if (this.state === "idle") return { kind: "idle" };
    if (this.state === "buffering") {
      // Pulls come on 20 ms ticks: start on the tick nearest the target, not the one after it
      // (waiting for the next would add up to a whole frame to every talkspurt).
      if (nowMs - this.bufferStart < this.targetMs - FRAME_MS / 2) return { kind: "idle" };
      this.state = "playing";
    }
    this.trim();
    const payload = this.packets.get(this.nextSeq);
    if (payload) {
      this.packets.delete(this.nextSeq);
      this.lastPlayed = this.nextSeq++;
      this.concealRun = 0;
      return { kind: "packet", payload };
    }
    if (this.highest !== undefined && this.highest > this.nextSeq) {
      // A hole with packets after it: that frame is lost (or too late to matter).
      this.lastPlayed = this.nextSeq++;
      const next = this.packets.get(this.nextSeq);
      return next ? { kind: "lost", next } : { kind: "lost" };
    }
    // Empty: a late packet or the end of a talkspurt. Conceal briefly without moving on, so
    // a delayed packet still plays (the delay grows, and trim() brings it back later).
    if (++this.concealRun > this.maxConceal) {
      this.state = "idle";
      this.concealRun = 0;
      this.idleSince = nowMs;
      return { kind: "idle" };
    }
    return { kind: "lost" };
  }

  /** Drops the oldest frames when the queue holds much more than the target delay. */
  private trim(): void {
    if (this.highest === undefined) return;
    const limit = Math.ceil((this.targetMs + 4 * FRAME_MS) / FRAME_MS);
    if (this.highest - this.nextSeq + 1 <= limit) return;
    const keep = Math.ceil(this.targetMs / FRAME_MS);
    while (this.highest - this.nextSeq + 1 > keep) {
      if (this.packets.delete(this.nextSeq)) this.trimmed++;
      this.lastPlayed = this.nextSeq++;
    }
  }

  /** Whether frames are being played (a talkspurt is under way). */
  get active(): boolean {
    return this.state !== "idle";
  }

  stats(): JitterStats {
    const expected = this.highest === undefined || this.base === undefined ? 0 : this.highest - this.base + 1;
    return {
      received: this.received,
      lost: Math.max(0, expected - this.received),
      late: this.late,
      duplicates: this.duplicates,
      trimmed: this.trimmed,
      jitterMs: this.jitter,
      targetMs: this.targetMs,
      depth: this.packets.size,
    };
  }
}
