// Automatic gain: brings a quiet or a loud microphone toward one speech level, so that everyone
// sounds about as loud and a quiet speaker still opens the voice activity gate. It adapts only
// on frames the noise suppressor calls voice (so pauses and background noise never pump the
// gain up), moves up slowly and down fast, ramps the gain across each frame (no steps to hear),
// and never lets a sample clip.
import { FRAME_MS, type Frame } from "./format.js";

export interface AutoGainOptions {
  /** The speech level aimed at, RMS in dBFS (default -20). */
  targetDbfs?: number;
  /** Gain limits in dB (default -12 to +18). */
  minGainDb?: number;
  maxGainDb?: number;
  /** How fast the gain may rise and fall, dB per second (default 6 and 30). */
  upDbPerS?: number;
  downDbPerS?: number;
  /** Voice probability from which a frame counts as speech (default 0.6). */
  voiceThreshold?: number;
}

const FULL = 32768;

export class AutoGain {
  /** The gain in force, dB. */
  gainDb = 0;
  private applied = 1;
  private readonly target: number;
  private readonly min: number;
  private readonly max: number;
  private readonly up: number;
  private readonly down: number;
  private readonly voiceThreshold: number;

  constructor(o: AutoGainOptions = {}) {
    this.target = o.targetDbfs ?? -20;
    this.min = o.minGainDb ?? -12;
    this.max = o.maxGainDb ?? 18;
    this.up = ((o.upDbPerS ?? 6) * FRAME_MS) / 1000;
    this.down = ((o.downDbPerS ?? 30) * FRAME_MS) / 1000;
    this.voiceThreshold = o.voiceThreshold ?? 0.6;
  }

  /** One 20 ms frame through the gain (a new frame); `voiceProbability` from the suppressor. */
  process(frame: Frame, voiceProbability: number): Frame {
    let sum = 0;
    let peak = 0;
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i]!;
      sum += v * v;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
    }
    if (voiceProbability >= this.voiceThreshold && sum > 0) {
      const levelDb = 10 * Math.log10(sum / frame.length / (FULL * FULL));
      const want = Math.min(this.max, Math.max(this.min, this.target - levelDb));
      const delta = want - this.gainDb;
      this.gainDb += delta > 0 ? Math.min(delta, this.up) : Math.max(delta, -this.down);
    }
    let g = 10 ** (this.gainDb / 20);
    if (peak * g > FULL - 1) g = (FULL - 1) / peak; // this frame's peak stays below full scale
    const out = new Int16Array(frame.length);
    const from = peak > 0 ? Math.min(this.applied, (FULL - 1) / peak) : this.applied;
    // The previous frame ended at `from`: ramp from there to `g` (a step would click).
    for (let i = 0; i < frame.length; i++) {
      const gi = from + ((g - from) * (i + 1)) / frame.length;
      const v = Math.round(frame[i]! * gi);
      out[i] = v;
    }
    this.applied = g;
    return out;
  }
}
