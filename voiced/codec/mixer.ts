// Mixing of simultaneous speakers: samples are summed (in float), then a soft limiter keeps
// the sum inside int16 without the harsh wrap or flat-top of plain clipping.
import { FRAME_SAMPLES, type Frame } from "../audio/format.js";

const FULL = 32767;
/** Below this magnitude samples pass unchanged; above it they bend smoothly toward FULL. */
const KNEE = 24576; // 0.75 of full scale

/** Soft limiter: identity up to the knee, then tanh into the remaining headroom (monotonic, |y| < 32768). */
export function softClip(x: number): number {
  const a = Math.abs(x);
  if (a <= KNEE) return Math.round(x);
  const y = KNEE + (FULL - KNEE) * Math.tanh((a - KNEE) / (FULL - KNEE));
  return Math.sign(x) * Math.min(FULL, Math.round(y));
}

/** Mixes the frames (any may be missing) into one; silence when there are none. */
export function mixFrames(frames: ReadonlyArray<Frame | null | undefined>, gains?: ReadonlyArray<number>): Frame {
  const acc = new Float64Array(FRAME_SAMPLES);
  frames.forEach((f, k) => {
    if (!f) return;
    const g = gains?.[k] ?? 1;
    const n = Math.min(f.length, FRAME_SAMPLES);
    for (let i = 0; i < n; i++) acc[i]! += f[i]! * g;
  });
  const out = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = softClip(acc[i]!);
  return out;
}
