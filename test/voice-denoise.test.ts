// Acceptance 4 of issue 13: noise suppression in the daemon's capture chain. A WAV of a tone plus
// white noise goes through the real chain (file backend → RNNoise → automatic gain → level/VAD
// gate → Opus), the
// packets it sends are decoded again, and the result is measured against the same file sent with
// suppression off: the noise power (everything that is not the tone) must drop by a stated
// factor and the tone's power must stay within a stated factor.
//
// The tone is a "buzz": 220 Hz with its first 8 harmonics at 1/h, the spectral shape of a voiced
// vowel. A pure sine is not used because RNNoise is trained to keep speech and takes a steady
// sine for noise: measured here, a 440 Hz sine comes out about 40 dB down (see docs/VOICE.md).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "@jest/globals";
import type { AudioBackend } from "../voiced/audio/backend.js";
import { fileBackend } from "../voiced/audio/file.js";
import { toneBackend } from "../voiced/audio/tone.js";
import { AudioEngine } from "../voiced/audio/engine.js";
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from "../voiced/audio/format.js";
import { rnnoiseDenoiser } from "../voiced/audio/rnnoise.js";
import { encodeWav } from "../voiced/audio/wav.js";
import { opusCodec } from "../voiced/codec/opus.js";
import { createLogger } from "../voiced/log.js";
import { SpeakingControl } from "../voiced/ptt/speaking.js";
import { buzzAndNoise, goertzel } from "./support/wav.js";

const dir = mkdtempSync(join(tmpdir(), "dialtone-denoise-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const F0 = 220;
const HARMONICS = 8;
const SECONDS = 5;
/** The first second is left out of the measurement: RNNoise's estimates settle. */
const SKIP_S = 1;

const signal = (toneAmp: number, noiseAmp: number) => buzzAndNoise({ seconds: SECONDS, f0: F0, harmonics: HARMONICS, toneAmp, noiseAmp });

/** Runs a microphone through the engine's capture chain slot by slot; returns the decoded audio it sent. */
async function sendThroughDaemon(
  backend: AudioBackend,
  denoise: boolean,
  autoGain = false,
): Promise<{ audio: Int16Array; framesSent: number }> {
  const log = createLogger({ level: "error", write: () => {} });
  const speaking = new SpeakingControl({
    backend: "none",
    vadThreshold: 500,
    openPortalBus: () => Promise.reject(new Error("none")),
    env: {},
    log,
    onInfo: () => {},
    onError: () => {},
    onChange: () => {},
  });
  await speaking.configure(""); // voice activity detection, as a daemon without push-to-talk
  const codec = opusCodec();
  const decoder = codec.createDecoder();
  const slots = SECONDS * (1000 / FRAME_MS);
  const out = new Int16Array(slots * FRAME_SAMPLES);
  let slot = 0;
  const errors: string[] = [];
  const engine = new AudioEngine({
    backend,
    codec,
    speaking,
    log,
    ...(denoise ? { denoiser: rnnoiseDenoiser, autoGain } : {}),
    send: (payload) => {
      if (payload.length > 2) out.set(decoder.decode(payload), (slot - 1) * FRAME_SAMPLES);
      return 1;
    },
    onSpeakingChange: () => {},
    onError: (m) => errors.push(m),
    now: () => slot * FRAME_MS,
  });
  await engine.start();
  // The real clock would tick every 20 ms; the test moves time itself (as voiced/audio/engine.test.ts).
  (engine as unknown as { clock: { stop(): void } }).clock.stop();
  const tick = (engine as unknown as { tick(slot: number): void }).tick.bind(engine);
  for (slot = 1; slot <= slots; slot++) tick(slot);
  const framesSent = engine.counters.framesSent;
  await engine.close();
  expect(errors).toEqual([]);
  return { audio: out, framesSent };
}

/** Mean power (full scale = 1) of the tone (its harmonics) and of everything else, after SKIP_S. */
function measure(x: Int16Array): { tone: number; noise: number } {
  const start = SKIP_S * SAMPLE_RATE;
  const n = x.length - start;
  let total = 0;
  for (let i = start; i < x.length; i++) total += (x[i]! / 32768) ** 2;
  total /= n;
  let tone = 0;
  // goertzel() gives A²/4 for a sine of amplitude A, whose mean power is A²/2.
  for (let h = 1; h <= HARMONICS; h++) tone += 2 * goertzel(x, F0 * h, SAMPLE_RATE, start, n);
  return { tone, noise: Math.max(0, total - tone) };
}

const db = (r: number) => `${(10 * Math.log10(r)).toFixed(1)} dB`;

test("tone plus white noise through the capture chain: the noise power drops at least 5× (7 dB), the tone stays within 1.5 dB", async () => {
  const path = join(dir, "tone-noise.wav");
  writeFileSync(path, encodeWav(signal(3500, 3000))); // about 5 dB signal to noise
  const off = await sendThroughDaemon(fileBackend(`file:${path}`), false);
  const on = await sendThroughDaemon(fileBackend(`file:${path}`), true, true); // as the daemon runs it: with automatic gain
  const [a, b] = [measure(off.audio), measure(on.audio)];
  // Measured (@echogarden/rnnoise-wasm 0.2.0, Opus 32 kbit/s): noise -8.6 dB, tone +0.3 dB (the buzz is
  // at -20.6 dBFS and the automatic gain aims at -20); the suppressor alone: -9.1 dB and -0.2 dB.
  process.stdout.write(`denoise, tone + noise: noise ${db(b.noise / a.noise)}, tone ${db(b.tone / a.tone)}\n`);
  expect(b.noise).toBeLessThan(a.noise / 5);
  expect(b.tone / a.tone).toBeGreaterThan(10 ** (-1.5 / 10));
  expect(b.tone / a.tone).toBeLessThan(10 ** (1.5 / 10));
  // Both runs sent every frame: the tone holds the voice activity gate open.
  expect(on.framesSent).toBe(off.framesSent);
});

test("noise alone no longer opens the voice activity gate: what goes out is at least 100× (20 dB) weaker", async () => {
  const path = join(dir, "noise.wav");
  writeFileSync(path, encodeWav(signal(0, 3000)));
  const off = await sendThroughDaemon(fileBackend(`file:${path}`), false);
  const on = await sendThroughDaemon(fileBackend(`file:${path}`), true, true); // automatic gain does not pump noise up
  const [a, b] = [measure(off.audio), measure(on.audio)];
  process.stdout.write(
    `denoise, noise alone: frames sent ${off.framesSent} → ${on.framesSent}, power ${db(Math.max(b.noise, 1e-12) / a.noise)}\n`,
  );
  expect(off.framesSent).toBeGreaterThan(0.9 * SECONDS * (1000 / FRAME_MS)); // without it, the noise is "voice"
  expect(b.noise).toBeLessThan(a.noise / 100);
  expect(on.framesSent).toBeLessThan(off.framesSent / 10);
});

test("the tone generator (a clean test signal) is not denoised: a steady 440 Hz sine goes out as without suppression", async () => {
  const off = await sendThroughDaemon(toneBackend("tone:440"), false);
  const on = await sendThroughDaemon(toneBackend("tone:440"), true);
  const start = SKIP_S * SAMPLE_RATE;
  const [a, b] = [off.audio, on.audio].map((x) => goertzel(x, 440, SAMPLE_RATE, start, x.length - start));
  expect(a!).toBeGreaterThan(0.01); // a quarter-scale sine: ~0.0156
  expect(b!).toBeCloseTo(a!, 6);
});

test("automatic gain: a quiet speaker (-40 dBFS, below the VAD threshold) is raised toward -20 dBFS and gets through", async () => {
  const path = join(dir, "quiet.wav");
  writeFileSync(path, encodeWav(signal(400, 100)));
  const without = await sendThroughDaemon(fileBackend(`file:${path}`), true, false);
  const withGain = await sendThroughDaemon(fileBackend(`file:${path}`), true, true);
  const start = (SECONDS - 1) * SAMPLE_RATE; // the last second: the gain has settled
  const level = (x: Int16Array) => {
    let sum = 0;
    for (let i = start; i < x.length; i++) sum += (x[i]! / 32768) ** 2;
    return 10 * Math.log10(sum / (x.length - start));
  };
  process.stdout.write(
    `agc, quiet speaker: frames sent ${without.framesSent} → ${withGain.framesSent}, last second ${level(withGain.audio).toFixed(1)} dBFS\n`,
  );
  expect(without.framesSent).toBe(0); // too quiet for the voice activity gate
  expect(withGain.framesSent).toBeGreaterThan(0.5 * SECONDS * (1000 / FRAME_MS));
  expect(level(withGain.audio)).toBeGreaterThan(-24); // +18 dB at most: -40 + 18 = -22
});
