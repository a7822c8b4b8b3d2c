// Audio analysis for voice tests and the latency bench: Goertzel tone power over windows of a
// recording, and tone onset detection.
import { readFileSync } from "node:fs";
import { readWav, type Wav } from "../../voiced/audio/wav.js";

export { readWav, type Wav };

export const loadWav = (path: string): Wav => readWav(readFileSync(path));

/** Power of `freq` in samples[start, start+n) (Goertzel), normalised so a full-scale sine gives ~0.25. */
export function goertzel(samples: Int16Array, freq: number, sampleRate: number, start = 0, n = samples.length - start): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < start + n; i++) {
    const s0 = samples[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return power / (n * n);
}

/** Tone power per window: [{ startSample, power }]. */
export function tonePowers(samples: Int16Array, freq: number, sampleRate = 48000, windowMs = 100): Array<{ start: number; power: number }> {
  const n = Math.round((sampleRate * windowMs) / 1000);
  const out: Array<{ start: number; power: number }> = [];
  for (let start = 0; start + n <= samples.length; start += n) out.push({ start, power: goertzel(samples, freq, sampleRate, start, n) });
  return out;
}

/** The windows in which every tone is well above the `floor` power (default: -40 dBFS-ish). */
export function windowsWithTones(samples: Int16Array, freqs: number[], sampleRate = 48000, windowMs = 100, floor = 1e-4): number[] {
  const per = freqs.map((f) => tonePowers(samples, f, sampleRate, windowMs));
  const hits: number[] = [];
  for (let w = 0; w < (per[0]?.length ?? 0); w++) if (per.every((p) => p[w]!.power > floor)) hits.push(per[0]![w]!.start);
  return hits;
}

/**
 * Sample indexes where `freq` starts after at least `quietMs` of its absence (onsets), found
 * with `stepMs` hops of `windowMs` Goertzel windows.
 */
export function toneOnsets(
  samples: Int16Array,
  freq: number,
  o: { sampleRate?: number; windowMs?: number; stepMs?: number; quietMs?: number; threshold?: number } = {},
): number[] {
  const rate = o.sampleRate ?? 48000;
  const n = Math.round((rate * (o.windowMs ?? 5)) / 1000);
  const step = Math.round((rate * (o.stepMs ?? 1)) / 1000);
  const quiet = Math.round((rate * (o.quietMs ?? 300)) / 1000);
  const threshold = o.threshold ?? 1e-3;
  const onsets: number[] = [];
  let lastLoud = -Infinity;
  for (let start = 0; start + n <= samples.length; start += step) {
    if (goertzel(samples, freq, rate, start, n) > threshold) {
      if (start - lastLoud > quiet) onsets.push(start);
      lastLoud = start;
    }
  }
  return onsets;
}

/** A deterministic PRNG (mulberry32): the same noise every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A "buzz" plus white noise, 48 kHz: `f0` with its first `harmonics` harmonics at 1/h (the
 * spectral shape of a voiced vowel) of amplitude `toneAmp` each unit, and uniform noise of
 * peak `noiseAmp` (s16 units). Seeded, so every run gets the same samples.
 */
export function buzzAndNoise(o: {
  seconds: number;
  f0: number;
  harmonics: number;
  toneAmp: number;
  noiseAmp: number;
  seed?: number;
}): Int16Array {
  const rnd = prng(o.seed ?? 13);
  const n = Math.round(o.seconds * 48000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let tone = 0;
    for (let h = 1; h <= o.harmonics; h++) tone += Math.sin((2 * Math.PI * o.f0 * h * i) / 48000) / h;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(o.toneAmp * tone + o.noiseAmp * (2 * rnd() - 1))));
  }
  return out;
}
