// WAV (RIFF, PCM s16le) reading and writing, and a streaming recorder that keeps the file
// valid while it grows (the header is rewritten on every flush), so it can be read mid-call.
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, frameToBytes, type Frame } from "./format.js";

export interface Wav {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Interleaved samples. */
  samples: Int16Array;
  /** Wall-clock time (ms since the epoch) of the first sample, when the file says (our "dtms" chunk). */
  startMs?: number;
}

/** Parses a PCM s16le WAV; unknown chunks are skipped, a data size past the end is clamped (a file still being written). */
export function readWav(buf: Buffer): Wav {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("readWav: not a RIFF/WAVE file");
  }
  let pos = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let startMs: number | undefined;
  while (pos + 8 <= buf.length) {
    const id = buf.toString("ascii", pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === "fmt ") {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === "dtms" && size >= 8) {
      startMs = buf.readDoubleLE(body);
    } else if (id === "data") {
      if (!fmt) throw new Error("readWav: data chunk before fmt chunk");
      if (fmt.format !== 1 || fmt.bits !== 16)
        throw new Error(`readWav: only PCM s16le is supported (format ${fmt.format}, ${fmt.bits} bits)`);
      const end = Math.min(buf.length, body + size);
      const n = (end - body) >> 1;
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return {
        sampleRate: fmt.sampleRate,
        channels: fmt.channels,
        bitsPerSample: 16,
        samples,
        ...(startMs !== undefined ? { startMs } : {}),
      };
    }
    pos = body + size + (size & 1);
  }
  throw new Error("readWav: no data chunk");
}

function header(dataBytes: number, sampleRate: number, startMs: number | undefined): Buffer {
  const extra = startMs === undefined ? 0 : 16;
  const h = Buffer.alloc(44 + extra);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + extra + dataBytes, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  let p = 36;
  if (startMs !== undefined) {
    h.write("dtms", p, "ascii");
    h.writeUInt32LE(8, p + 4);
    h.writeDoubleLE(startMs, p + 8);
    p += 16;
  }
  h.write("data", p, "ascii");
  h.writeUInt32LE(dataBytes, p + 4);
  return h;
}

/** A whole mono s16le WAV file in memory. */
export function encodeWav(samples: Int16Array, sampleRate = SAMPLE_RATE, startMs?: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i]!, i * 2);
  return Buffer.concat([header(data.length, sampleRate, startMs), data]);
}

/**
 * Records 20 ms frames to a WAV file. Each frame belongs to a slot of the media clock; a
 * skipped slot (a stalled event loop) is written as silence, so sample i always sits at
 * startMs + i / 48 ms of wall-clock time.
 */
export class WavRecorder {
  private readonly fd: number;
  private dataBytes = 0;
  private pending: Buffer[] = [];
  private firstSlot: number | undefined;
  private nextSlot = 0;
  private lastFlush = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly flushEveryMs = 200,
  ) {
    this.fd = openSync(path, "w", 0o600);
  }

  /** Appends the frame of media-clock slot `slot` (slot × 20 ms = wall-clock ms). */
  write(frame: Frame, slot: number): void {
    if (this.closed) return;
    if (this.firstSlot === undefined) {
      this.firstSlot = slot;
      this.nextSlot = slot;
      writeSync(this.fd, header(0, SAMPLE_RATE, slot * FRAME_MS), 0, undefined, 0);
    }
    if (slot < this.nextSlot) return;
    for (; this.nextSlot < slot; this.nextSlot++) this.pending.push(Buffer.alloc(FRAME_SAMPLES * 2));
    this.pending.push(frameToBytes(frame));
    this.nextSlot++;
    if (slot * FRAME_MS - this.lastFlush >= this.flushEveryMs) {
      this.flush();
      this.lastFlush = slot * FRAME_MS;
    }
  }

  flush(): void {
    if (this.firstSlot === undefined || this.closed) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    const headerBytes = header(0, SAMPLE_RATE, this.firstSlot * FRAME_MS).length;
    if (data.length) writeSync(this.fd, data, 0, data.length, headerBytes + this.dataBytes);
    this.dataBytes += data.length;
    writeSync(this.fd, header(this.dataBytes, SAMPLE_RATE, this.firstSlot * FRAME_MS), 0, undefined, 0);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}
