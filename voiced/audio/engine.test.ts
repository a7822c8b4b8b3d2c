// The media loop's keep-alives, with real Opus: while the speaking gate is closed (VAD silence,
// mute) a TOC-only packet goes out every 300 ms, so a receiver can tell silence from a broken
// path; on the receive side keep-alives are neither audio, nor "speaking", nor loss.
import { expect, test } from "@jest/globals";
import { opusCodec } from "../codec/opus.js";
import { createLogger } from "../log.js";
import { SpeakingControl } from "../ptt/speaking.js";
import type { AudioBackend } from "./backend.js";
import { AudioEngine, KEEPALIVE_MS } from "./engine.js";
import { FRAME_MS, FRAME_SAMPLES, type Frame } from "./format.js";

interface Sent {
  slot: number;
  seq: number;
  timestamp: number;
  marker: boolean;
  bytes: number;
  payload: Uint8Array;
}

const tone = (): Frame => {
  const f = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < f.length; i++) f[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
  return f;
};

/**
 * An engine whose microphone plays `loud(slot) ? tone : silence`, driven slot by slot. With `ptt`,
 * push-to-talk through a stand-in for the X11 grab: `ptt.press(down)` holds or lets go the key.
 */
async function engine(loud: (slot: number) => boolean, ptt?: { press?: (down: boolean) => void }, gainOf?: (deviceId: string) => number) {
  const log = createLogger({ level: "error", write: () => {} });
  const speaking = new SpeakingControl({
    backend: ptt ? "hotkey" : "none",
    vadThreshold: 500,
    openPortalBus: async () => Promise.reject(new Error("none")),
    bindHotkey: async (o) => {
      if (ptt) ptt.press = o.onChange;
      return { trigger: o.key, close: async () => {} };
    },
    env: ptt ? { DISPLAY: ":test" } : {},
    log,
    onInfo: () => {},
    onError: () => {},
    onChange: () => {},
  });
  const backend: AudioBackend = {
    name: "test",
    openInput: async () => ({ read: (slot: number) => (loud(slot) ? tone() : new Int16Array(FRAME_SAMPLES)), close: async () => {} }),
    openOutput: async () => ({ write: (f: Frame) => void played.push(f), close: async () => {} }),
  };
  const played: Frame[] = [];
  let slot = 0;
  const sent: Sent[] = [];
  const e = new AudioEngine({
    backend,
    codec: opusCodec(),
    speaking,
    log,
    send: (payload, seq, ts, marker) => (sent.push({ slot, seq, timestamp: ts, marker, bytes: payload.length, payload }), 1),
    onSpeakingChange: () => {},
    onError: () => {},
    now: () => slot * FRAME_MS,
    ...(gainOf ? { gainOf } : {}),
  });
  if (ptt) await speaking.configure("F12");
  await e.start();
  // The real clock would call tick() every 20 ms; here the test moves time itself.
  (e as unknown as { clock: { stop(): void } }).clock.stop();
  const tick = (e as unknown as { tick(slot: number): void }).tick.bind(e);
  const run = (from: number, to: number) => {
    for (slot = from; slot < to; slot++) tick(slot);
  };
  return { e, sent, speaking, run, played };
}

test("silence sends a one-byte keep-alive every 300 ms, in the RTP sequence; speech sends audio and no keep-alives", async () => {
  const { e, sent, run } = await engine((slot) => slot >= 100 && slot < 150);
  run(1000, 1100); // 2 s of silence
  const keepAlives = sent.filter((s) => s.bytes === 1);
  expect(keepAlives.length).toBe(Math.ceil((100 * FRAME_MS) / KEEPALIVE_MS)); // 7: slots 1000, 1015, ...
  expect(keepAlives.map((s) => s.slot - 1000)).toEqual([0, 15, 30, 45, 60, 75, 90]);
  expect(sent.every((s) => !s.marker)).toBe(true);
  expect(sent.map((s) => (s.seq - sent[0]!.seq) & 0xffff)).toEqual(sent.map((_, i) => i));
  expect(e.counters.framesSent).toBe(0);
  expect(e.counters.keepAlivesSent).toBe(7);
  await e.stop();
});

test("a talkspurt between silences: audio every slot with the marker on its first packet, keep-alives resume 300 ms after it", async () => {
  const { e, sent, run } = await engine((slot) => slot >= 10 && slot < 60);
  run(0, 120);
  const audio = sent.filter((s) => s.bytes > 2);
  expect(audio.length).toBeGreaterThanOrEqual(50);
  expect(audio[0]!.marker).toBe(true);
  const lastAudio = audio[audio.length - 1]!.slot;
  // No keep-alive while the gate is open; the first one after it comes 15 slots after the last audio.
  const during = sent.filter((s) => s.bytes <= 2 && s.slot >= audio[0]!.slot && s.slot <= lastAudio);
  expect(during).toEqual([]);
  expect(sent.find((s) => s.bytes <= 2 && s.slot > lastAudio)!.slot).toBe(lastAudio + KEEPALIVE_MS / FRAME_MS);
  expect(sent.map((s) => (s.seq - sent[0]!.seq) & 0xffff)).toEqual(sent.map((_, i) => i));
  await e.stop();
});

test("muted: keep-alives only, no audio", async () => {
  const { e, sent, speaking, run } = await engine(() => true);
  speaking.muted = true;
  run(0, 50);
  expect(sent.length).toBeGreaterThan(0);
  expect(sent.every((s) => s.bytes === 1)).toBe(true);
  await e.stop();
});

test("received keep-alives are not audio: the sender is not speaking, nothing is played, and their sequence numbers are no loss", async () => {
  const tx = await engine((slot) => slot < 20);
  const rx = await engine(() => false);
  tx.run(0, 100); // audio, then keep-alives
  const packets = tx.sent;
  expect(packets.some((p) => p.payload.length === 1)).toBe(true);
  for (const p of packets.filter((x) => x.payload.length === 1)) rx.e.receive("tx", p);
  expect(rx.e.isSpeaking("tx")).toBe(false);
  expect(rx.e.counters.keepAlivesReceived).toBeGreaterThan(0);
  expect(rx.e.counters.packetsReceived).toBe(0);
  for (const p of packets) if (p.payload.length > 1) rx.e.receive("tx", p);
  expect(rx.e.peerStats("tx")!.lost).toBe(0);
  await tx.e.stop();
  await rx.e.stop();
});

test("the speaking flag follows the audio sent: a held push-to-talk key over a silent microphone sends frames but is not speaking", async () => {
  const ptt: { press?: (down: boolean) => void } = {};
  const { e, sent, speaking, run } = await engine((slot) => slot >= 50 && slot < 100, ptt);
  expect(speaking.mode).toBe("ptt");
  ptt.press!(true);
  run(0, 40); // key held, microphone silent
  expect(sent.filter((s) => s.bytes > 2).length).toBe(40); // the gate is the key: silence goes out
  expect(e.speaking).toBe(false);
  run(40, 60); // now a voice
  expect(e.speaking).toBe(true);
  ptt.press!(false);
  run(60, 61);
  expect(e.speaking).toBe(false); // let go: nothing goes out, however loud
  await e.stop();
});

/** `tx` talks to `rx` slot by slot (each packet delivered as it is sent); returns rx's played frames of [from, to). */
function talk(tx: Awaited<ReturnType<typeof engine>>, rx: Awaited<ReturnType<typeof engine>>, from: number, to: number): Frame[] {
  const start = rx.played.length;
  for (let slot = from; slot < to; slot++) {
    const before = tx.sent.length;
    tx.run(slot, slot + 1);
    for (const p of tx.sent.slice(before)) rx.e.receive("tx", p);
    rx.run(slot, slot + 1);
  }
  return rx.played.slice(start);
}

const rms = (frames: Frame[]) =>
  Math.sqrt(frames.reduce((a, f) => a + f.reduce((b, x) => b + x * x, 0), 0) / (frames.length * FRAME_SAMPLES));

test("deafened: silence is played while the peer's audio still arrives (and it is speaking); undeafened: heard again", async () => {
  const tx = await engine(() => true);
  const rx = await engine(() => false);
  const heard = rms(talk(tx, rx, 0, 100).slice(20));
  expect(heard).toBeGreaterThan(3000); // the 8000-peak tone, through Opus
  rx.e.deafened = true;
  const received = rx.e.counters.packetsReceived;
  const deaf = talk(tx, rx, 100, 150);
  expect(deaf.every((f) => f.every((x) => x === 0))).toBe(true);
  expect(rx.e.counters.packetsReceived).toBe(received + 50);
  expect(rx.e.isSpeaking("tx")).toBe(true);
  rx.e.deafened = false;
  expect(rms(talk(tx, rx, 150, 200).slice(5))).toBeGreaterThan(heard * 0.9);
  await tx.e.stop();
  await rx.e.stop();
});

test("per-device gain before the mix: 0.5 plays the peer 6 dB lower, 0 silent, 2 louder", async () => {
  let gain = 1;
  const tx = await engine(() => true);
  const rx = await engine(
    () => false,
    undefined,
    (id) => (id === "tx" ? gain : 1),
  );
  const full = rms(talk(tx, rx, 0, 100).slice(20));
  gain = 0.5;
  const half = rms(talk(tx, rx, 100, 200).slice(5));
  expect(20 * Math.log10(half / full)).toBeCloseTo(-6.02, 0);
  gain = 0;
  expect(talk(tx, rx, 200, 250).every((f) => f.every((x) => x === 0))).toBe(true);
  gain = 2;
  expect(20 * Math.log10(rms(talk(tx, rx, 250, 350).slice(5)) / full)).toBeCloseTo(6.02, 0);
  await tx.e.stop();
  await rx.e.stop();
});
