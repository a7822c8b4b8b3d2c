import { expect, test } from "@jest/globals";
import { FRAME_SAMPLES, SAMPLE_RATE } from "../audio/format.js";
import { toneFrame } from "../audio/tone.js";
import { opusCodec } from "./opus.js";

function power(x: Int16Array, f: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += (x[i]! / 32768) * Math.cos((2 * Math.PI * f * i) / SAMPLE_RATE);
    im += (x[i]! / 32768) * Math.sin((2 * Math.PI * f * i) / SAMPLE_RATE);
  }
  return (re * re + im * im) / (x.length * x.length);
}

test("Opus 48 kHz mono 20 ms: a 440 Hz tone survives encode and decode; PLC fills exactly one frame", () => {
  const codec = opusCodec();
  const enc = codec.createEncoder();
  const dec = codec.createDecoder();
  const tone = { frequency: 440, pulse: false, amplitude: 0.25 };
  let bytes = 0;
  let last: Int16Array = new Int16Array(0);
  for (let slot = 1; slot <= 50; slot++) {
    const packet = enc.encode(toneFrame(tone, slot));
    bytes += packet.length;
    last = dec.decode(packet);
    expect(last.length).toBe(FRAME_SAMPLES);
  }
  expect(power(last, 440)).toBeGreaterThan(0.01);
  expect(power(last, 880)).toBeLessThan(1e-4);
  // ~32 kbit/s: 50 frames are one second.
  expect((bytes * 8) / 1000).toBeGreaterThan(16);
  expect((bytes * 8) / 1000).toBeLessThan(48);
  const plc = dec.conceal();
  expect(plc.length).toBe(FRAME_SAMPLES);
  expect(power(plc, 440)).toBeGreaterThan(1e-4); // a (fading) continuation, not silence
});
