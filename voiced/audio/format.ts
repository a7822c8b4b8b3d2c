// The one PCM format inside the daemon: 48 kHz mono signed 16-bit, 20 ms frames (RFC 7587).
export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
/** Samples in one 20 ms frame at 48 kHz. */
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** A frame of PCM: FRAME_SAMPLES signed 16-bit samples. */
export type Frame = Int16Array;

export const silentFrame = (): Frame => new Int16Array(FRAME_SAMPLES);

/** Mean absolute sample value: the level the VAD threshold and the meter use (as the earlier daemon). */
export function frameLevel(frame: Frame): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += Math.abs(frame[i]!);
  return frame.length ? Math.round(sum / frame.length) : 0;
}

/** Little-endian s16 bytes of a frame (what Opus and WAV take). */
export function frameToBytes(frame: Frame): Buffer {
  const out = Buffer.alloc(frame.length * 2);
  for (let i = 0; i < frame.length; i++) out.writeInt16LE(frame[i]!, i * 2);
  return out;
}

/** A frame from little-endian s16 bytes (copies, so the source buffer may be reused). */
export function bytesToFrame(bytes: Uint8Array): Frame {
  const n = bytes.length >> 1;
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
