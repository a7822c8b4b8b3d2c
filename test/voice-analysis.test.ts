// The analysis the voice tests and the latency bench rely on: Goertzel tone power and onsets.
import { expect, test } from "@jest/globals";
import { goertzel, toneOnsets, tonePowers, windowsWithTones } from "./support/wav.js";

const sine = (f: number, n: number, amp = 0.25, rate = 48000) =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amp * 32767 * Math.sin((2 * Math.PI * f * i) / rate)));

test("Goertzel: a quarter-scale sine has power ~0.0156 at its frequency and ~0 elsewhere", () => {
  const x = sine(440, 4800);
  expect(goertzel(x, 440, 48000)).toBeCloseTo(0.25 ** 2 / 4, 3);
  expect(goertzel(x, 880, 48000)).toBeLessThan(1e-6);
  expect(goertzel(new Int16Array(4800), 440, 48000)).toBe(0);
});

test("windows: two mixed tones are both found in every window; one alone is not", () => {
  const a = sine(440, 9600);
  const b = sine(660, 9600);
  const mixed = a.map((v, i) => v + b[i]!);
  expect(windowsWithTones(mixed, [440, 660], 48000, 20)).toHaveLength(10);
  expect(windowsWithTones(a, [440, 660], 48000, 20)).toHaveLength(0);
  expect(tonePowers(a, 440, 48000, 100)).toHaveLength(2);
});

test("onsets: where a tone starts after silence", () => {
  const x = new Int16Array(48000);
  x.set(sine(440, 4800), 12000);
  x.set(sine(440, 4800), 36000);
  const onsets = toneOnsets(x, 440);
  expect(onsets).toHaveLength(2);
  expect(Math.abs(onsets[0]! - 12000)).toBeLessThan(240);
  expect(Math.abs(onsets[1]! - 36000)).toBeLessThan(240);
});
