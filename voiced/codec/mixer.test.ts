import { expect, test } from "@jest/globals";
import { FRAME_SAMPLES } from "../audio/format.js";
import { mixFrames, softClip } from "./mixer.js";

const frame = (v: number | ((i: number) => number)) =>
  Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => (typeof v === "number" ? v : v(i)));

test("quiet speakers are summed exactly (mixed, not concatenated or averaged)", () => {
  const a = frame((i) => (i % 2 ? 1000 : -1000));
  const b = frame(3000);
  const m = mixFrames([a, b]);
  expect(m[0]).toBe(2000);
  expect(m[1]).toBe(4000);
  expect(m.length).toBe(FRAME_SAMPLES);
});

test("no speakers, or only missing ones, give silence", () => {
  expect(mixFrames([]).every((s) => s === 0)).toBe(true);
  expect(mixFrames([null, undefined]).every((s) => s === 0)).toBe(true);
});

test("loud sums are limited softly: inside int16, monotonic, no wrap-around", () => {
  const m = mixFrames([frame(30000), frame(30000), frame(-5000)]);
  expect(m[0]).toBeLessThanOrEqual(32767);
  expect(m[0]).toBeGreaterThan(30000);
  const neg = mixFrames([frame(-32768), frame(-32768)]);
  expect(neg[0]).toBeGreaterThanOrEqual(-32767);
  let prev = -Infinity;
  for (let x = 0; x <= 200_000; x += 997) {
    const y = softClip(x);
    expect(y).toBeGreaterThanOrEqual(prev);
    expect(y).toBeLessThanOrEqual(32767);
    prev = y;
  }
  expect(softClip(20000)).toBe(20000); // below the knee: untouched
  expect(softClip(-20000)).toBe(-20000);
});

test("gains scale each speaker before the sum", () => {
  expect(mixFrames([frame(1000), frame(1000)], [0.5, 2])[0]).toBe(2500);
});

test("a doubled loud speaker is limited, not wrapped; a gain of 0 silences only that speaker", () => {
  const loud = frame((i) => (i % 2 ? 30000 : -30000));
  const m = mixFrames([loud], [2]);
  expect(Math.max(...m)).toBeLessThanOrEqual(32767);
  expect(Math.min(...m)).toBeGreaterThanOrEqual(-32767);
  expect(m[1]).toBeGreaterThan(30000); // still louder than the input, in the limiter's headroom
  expect(m[0]).toBeLessThan(-30000);
  const other = frame(1234);
  expect(Array.from(mixFrames([loud, other], [0, 1]))).toEqual(Array.from(other));
});
