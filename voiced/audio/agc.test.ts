// Automatic gain on its own (the voice probability is given, as the suppressor would give it):
// quiet and loud speech move toward -20 dBFS at the stated rates, frames that are not voice leave
// the gain alone, and a loud frame after a large gain is scaled down rather than clipped.
import { expect, test } from "@jest/globals";
import { AutoGain } from "./agc.js";
import { FRAME_SAMPLES, type Frame } from "./format.js";

const sine = (rmsDbfs: number, frames: number, freq = 440): Frame[] => {
  const amp = 32768 * Math.SQRT2 * 10 ** (rmsDbfs / 20);
  return Array.from({ length: frames }, (_, f) =>
    Int16Array.from({ length: FRAME_SAMPLES }, (_, i) =>
      Math.round(amp * Math.sin((2 * Math.PI * freq * (f * FRAME_SAMPLES + i)) / 48000)),
    ),
  );
};
const rmsDbfs = (x: Frame) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / x.length / 32768 ** 2);

test("quiet speech is raised to -20 dBFS, at most 6 dB a second", () => {
  const agc = new AutoGain();
  const out = sine(-35, 250).map((f) => agc.process(f, 1)); // 5 s
  expect(rmsDbfs(out[49]!)).toBeLessThan(-35 + 6 + 0.5); // after 1 s: no more than 6 dB up
  expect(rmsDbfs(out[249]!)).toBeCloseTo(-20, 0);
  expect(agc.gainDb).toBeCloseTo(15, 0);
});

test("loud speech comes down fast; the gain stays within its limits", () => {
  const agc = new AutoGain();
  const out = sine(-8, 25).map((f) => agc.process(f, 1)); // 0.5 s: 12 dB down at 30 dB/s takes 0.4 s
  expect(rmsDbfs(out[24]!)).toBeCloseTo(-20, 0);
  const louder = new AutoGain();
  sine(-2, 100).forEach((f) => louder.process(f, 1));
  expect(louder.gainDb).toBe(-12);
  const quiet = new AutoGain();
  sine(-60, 500).forEach((f) => quiet.process(f, 1));
  expect(quiet.gainDb).toBe(18);
});

test("frames that are not voice leave the gain where it is (pauses and noise are not pumped up)", () => {
  const agc = new AutoGain();
  const input = sine(-50, 250);
  const out = input.map((f) => agc.process(f, 0.1));
  expect(agc.gainDb).toBe(0);
  expect(out[249]).toEqual(input[249]);
});

test("a loud frame after a large gain is scaled down, not clipped: the sine stays a sine", () => {
  const agc = new AutoGain();
  sine(-60, 500).forEach((f) => agc.process(f, 0)); // gain stays 0: no voice
  sine(-45, 300).forEach((f) => agc.process(f, 1)); // quiet voice: gain up to +18
  expect(agc.gainDb).toBe(18);
  const [loud] = sine(-6, 1, 450); // peak 0.7 of full scale: ×7.9 would clip hard (450 Hz: 9 whole periods a frame)
  const out = agc.process(loud!, 1);
  const peak = out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expect(peak).toBeLessThanOrEqual(32767);
  // Clipping would put a large share of the power into harmonics: a scaled sine keeps it at 450 Hz.
  const k = 2 * Math.cos((2 * Math.PI * 450) / 48000);
  let s1 = 0;
  let s2 = 0;
  for (const v of out) [s2, s1] = [s1, v + k * s1 - s2];
  const tonePower = (2 * (s1 * s1 + s2 * s2 - k * s1 * s2)) / out.length ** 2;
  const total = out.reduce((s, v) => s + v * v, 0) / out.length;
  expect(tonePower / total).toBeGreaterThan(0.99);
});
