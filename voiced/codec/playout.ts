// One remote speaker's receive path: RTP payloads → jitter buffer → Opus decode, with loss
// concealment (FEC from the next packet when the decoder can, else codec PLC, else the last
// frame repeated with a fade).
import { FRAME_SAMPLES, type Frame } from "../audio/format.js";
import type { AudioDecoder } from "./codec.js";
import { JitterBuffer, type JitterOptions, type JitterStats } from "./jitter-buffer.js";

export interface PlayoutStats extends JitterStats {
  concealed: number;
  decodeErrors: number;
}

export class PeerPlayout {
  private readonly jitter: JitterBuffer;
  private last: Frame | undefined;
  private fadeRun = 0;
  private concealed = 0;
  private decodeErrors = 0;
  /** When the last packet arrived (ms), for the remote speaking indicator. */
  lastPacketAt = -Infinity;

  constructor(
    private readonly decoder: AudioDecoder,
    jitter: JitterOptions = {},
  ) {
    this.jitter = new JitterBuffer(jitter);
  }

  push(seq: number, timestamp: number, payload: Uint8Array, arrivalMs: number, marker = false): void {
    this.lastPacketAt = arrivalMs;
    this.jitter.push(seq, timestamp, payload, arrivalMs, marker);
  }

  /** A keep-alive (no audio): takes its sequence number, does not make the speaker "speaking". */
  skip(seq: number): void {
    this.jitter.skip(seq);
  }

  /** The next 20 ms of this speaker, or null while they are silent. */
  next(nowMs: number): Frame | null {
    const p = this.jitter.pull(nowMs);
    if (p.kind === "idle") return null;
    if (p.kind === "packet") {
      try {
        const f = this.decoder.decode(p.payload);
        this.last = f;
        this.fadeRun = 0;
        return f;
      } catch {
        this.decodeErrors++;
        return this.conceal();
      }
    }
    this.concealed++;
    if (p.next && this.decoder.decodeFec) {
      try {
        return (this.last = this.decoder.decodeFec(p.next));
      } catch {
        this.decodeErrors++;
      }
    }
    return this.conceal();
  }

  private conceal(): Frame {
    try {
      return this.decoder.conceal();
    } catch {
      return this.repeatFade();
    }
  }

  /** The last frame again, halving in level each time: the fallback when the codec cannot conceal. */
  repeatFade(): Frame {
    const out = new Int16Array(FRAME_SAMPLES);
    if (!this.last) return out;
    const gain = 0.5 ** ++this.fadeRun;
    for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = Math.round((this.last[i] ?? 0) * gain);
    return out;
  }

  get active(): boolean {
    return this.jitter.active;
  }

  stats(): PlayoutStats {
    return { ...this.jitter.stats(), concealed: this.concealed, decodeErrors: this.decodeErrors };
  }
}
