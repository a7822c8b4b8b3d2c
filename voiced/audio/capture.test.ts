// A capture device that fails is reopened with backoff while the call sends silence: a fake
// device (the one place hardware is faked) that refuses to open N times, errors mid-call, or
// goes quiet without an error.
import { afterEach, beforeEach, expect, jest, test } from "@jest/globals";
import { createLogger } from "../log.js";
import type { AudioBackend, AudioInput } from "./backend.js";
import { nullOutput } from "./backend.js";
import { Capture } from "./capture.js";
import { FRAME_SAMPLES } from "./format.js";

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

/** A microphone that refuses to open `failOpens` times; once open, it plays whatever `live` says. */
function fakeMic(failOpens: number) {
  const state = { opens: 0, closes: 0, error: undefined as string | undefined, silent: false };
  const backend: AudioBackend = {
    name: "fake",
    async openInput(): Promise<AudioInput> {
      if (state.opens++ < failOpens) throw new Error(`device busy (attempt ${state.opens})`);
      state.error = undefined;
      state.silent = false;
      return {
        read: () => (state.silent ? null : new Int16Array(FRAME_SAMPLES).fill(1000)),
        failure: () => state.error,
        close: async () => void state.closes++,
      };
    },
    openOutput: async () => nullOutput(),
  };
  return { backend, state };
}

function capture(backend: AudioBackend) {
  const errors: string[] = [];
  const infos: string[] = [];
  const c = new Capture({
    backend,
    log: createLogger({ level: "error", write: () => {} }),
    onError: (m) => errors.push(m),
    onInfo: (m) => infos.push(m),
    retryMs: [100, 200, 400],
    stallSlots: 10,
  });
  return { c, errors, infos };
}

test("a device that fails to open 4 times is retried after 100, 200, 400, 400 ms and then captured from", async () => {
  const mic = fakeMic(4);
  const { c, errors, infos } = capture(mic.backend);
  await c.start();
  expect(c.isOpen).toBe(false);
  expect(c.read(0)).toBeNull(); // silence meanwhile
  expect(errors).toEqual(["audio input unavailable (fake): device busy (attempt 1); sending silence, retrying in 0.1 s"]);
  for (const [ms, opens] of [
    [99, 1],
    [1, 2],
    [199, 2],
    [1, 3],
    [400, 4],
    [399, 4],
    [1, 5],
  ] as const) {
    await jest.advanceTimersByTimeAsync(ms);
    expect(mic.state.opens).toBe(opens);
  }
  expect(c.isOpen).toBe(true);
  expect(c.read(1)?.[0]).toBe(1000);
  expect(errors).toHaveLength(1); // one notice, not one per attempt
  expect(infos).toEqual(["audio input back (fake) after 4 failed attempts"]);
  await c.stop();
  expect(mic.state.closes).toBe(1);
});

test("a device error mid-call closes it and reopens it; the backoff starts over after a success", async () => {
  const mic = fakeMic(0);
  const { c, errors, infos } = capture(mic.backend);
  await c.start();
  expect(c.read(0)).not.toBeNull();
  mic.state.error = "stream error: device unplugged";
  expect(c.read(1)).toBeNull();
  expect(c.isOpen).toBe(false);
  expect(mic.state.closes).toBe(1);
  expect(errors).toEqual(["audio input unavailable (fake): stream error: device unplugged; sending silence, retrying in 0.1 s"]);
  await jest.advanceTimersByTimeAsync(100);
  expect(c.isOpen).toBe(true);
  expect(infos).toEqual(["audio input back (fake) after 1 failed attempt"]);
  // Failing again: the first delay again, not the next one.
  mic.state.error = "again";
  c.read(2);
  await jest.advanceTimersByTimeAsync(100);
  expect(c.isOpen).toBe(true);
  expect(mic.state.opens).toBe(3);
  await c.stop();
});

test("a device that goes quiet without an error counts as failed after the stall limit; stop() ends the retries", async () => {
  const mic = fakeMic(0);
  const { c, errors } = capture(mic.backend);
  await c.start();
  mic.state.silent = true;
  for (let slot = 0; slot < 9; slot++) c.read(slot);
  expect(c.isOpen).toBe(true); // a few empty slots are underruns, not a failure
  c.read(9);
  expect(c.isOpen).toBe(false);
  expect(errors[0]).toMatch(/no audio from the device/);
  await c.stop();
  await jest.advanceTimersByTimeAsync(10_000);
  expect(mic.state.opens).toBe(1); // no reopening after stop
});
