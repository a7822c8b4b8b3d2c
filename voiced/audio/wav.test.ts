import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "@jest/globals";
import { FRAME_SAMPLES } from "./format.js";
import { PULSE_ON_MS, parseToneSpec, toneFrame } from "./tone.js";
import { encodeWav, readWav, WavRecorder } from "./wav.js";

const dir = mkdtempSync(join(tmpdir(), "wav-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("write then read gives the same samples, rate and start time", () => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
  const wav = readWav(encodeWav(samples, 48000, 1234.5));
  expect(wav).toMatchObject({ sampleRate: 48000, channels: 1, bitsPerSample: 16, startMs: 1234.5 });
  expect([...wav.samples]).toEqual([...samples]);
});

test("unknown chunks are skipped; non-PCM and non-WAV are refused", () => {
  const plain = encodeWav(Int16Array.from([5, 6]));
  const extra = Buffer.concat([plain.subarray(0, 36), Buffer.from("LIST\x04\x00\x00\x00abcd", "latin1"), plain.subarray(36)]);
  expect([...readWav(extra).samples]).toEqual([5, 6]);
  expect(() => readWav(Buffer.from("not a wav file at all"))).toThrow(/RIFF/);
  const float = Buffer.from(plain);
  float.writeUInt16LE(3, 20);
  expect(() => readWav(float)).toThrow(/PCM/);
});

test("the recorder keeps a valid file while growing, pads skipped slots with silence, anchors wall time", () => {
  const path = join(dir, "rec.wav");
  const rec = new WavRecorder(path, 0);
  const one = new Int16Array(FRAME_SAMPLES).fill(100);
  rec.write(one, 1000);
  rec.write(one, 1001);
  const mid = readWav(readFileSync(path));
  expect(mid.samples.length).toBe(2 * FRAME_SAMPLES);
  expect(mid.startMs).toBe(1000 * 20);
  rec.write(one, 1004); // 1002 and 1003 were skipped
  rec.close();
  const done = readWav(readFileSync(path));
  expect(done.samples.length).toBe(5 * FRAME_SAMPLES);
  expect(done.samples[2 * FRAME_SAMPLES]).toBe(0);
  expect(done.samples[4 * FRAME_SAMPLES]).toBe(100);
});

test("a truncated data chunk (file still being written) is read up to its end", () => {
  const full = encodeWav(new Int16Array(100).fill(3));
  const cut = full.subarray(0, full.length - 50);
  expect(readWav(cut).samples.length).toBe(75);
});

test("tone backend: a continuous sine, or 200 ms pulses at each wall-clock second", () => {
  expect(() => parseToneSpec("tone:abc")).toThrow(/tone:FREQ/);
  expect(() => parseToneSpec("tone:30000")).toThrow();
  const pulse = parseToneSpec("tone:440:pulse");
  expect(pulse).toMatchObject({ frequency: 440, pulse: true });
  const on = toneFrame(pulse, 50 * 1000 + 1); // the frame ending 20 ms into a second
  const off = toneFrame(pulse, 50 * 1000 + PULSE_ON_MS / 20 + 2);
  expect(Math.max(...on)).toBeGreaterThan(8000);
  expect(Math.max(...off)).toBe(0);
  // Phase continues across frames: no jump at the boundary.
  const t = parseToneSpec("tone:440");
  const a = toneFrame(t, 7);
  const b = toneFrame(t, 8);
  expect(Math.abs(b[0]! - a[FRAME_SAMPLES - 1]!)).toBeLessThan(600);
});
