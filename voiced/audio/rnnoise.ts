// RNNoise (Xiph's recurrent-network noise suppressor, BSD-3-Clause) compiled to WebAssembly by
// @echogarden/rnnoise-wasm, which loads in Node from the installed package (no network). RNNoise
// takes 10 ms frames (480 samples at 48 kHz) of floats in the s16 range: one of our 20 ms frames
// is exactly two of them, so it adds no buffering beyond RNNoise's own.
import type { RnnoiseModule } from "@echogarden/rnnoise-wasm";
import type { Denoiser } from "./denoise.js";
import { FRAME_SAMPLES, type Frame } from "./format.js";

let loading: Promise<RnnoiseModule> | undefined;

/** The WebAssembly module, compiled once per process. */
function rnnoiseModule(): Promise<RnnoiseModule> {
  loading ??= import("@echogarden/rnnoise-wasm").then((m) => m.default());
  return loading;
}

export async function rnnoiseDenoiser(): Promise<Denoiser> {
  const mod = await rnnoiseModule();
  const size = mod._rnnoise_get_frame_size();
  if (FRAME_SAMPLES % size !== 0) throw new Error(`RNNoise frame of ${size} samples does not divide ${FRAME_SAMPLES}`);
  const state = mod._rnnoise_create(0);
  const input = mod._malloc(size * 4);
  const output = mod._malloc(size * 4);
  let closed = false;
  const denoiser: Denoiser = {
    voiceProbability: 0,
    process(frame: Frame): Frame {
      if (closed) throw new Error("denoiser is closed");
      const out = new Int16Array(frame.length);
      let voice = 0;
      for (let at = 0; at + size <= frame.length; at += size) {
        // HEAPF32 is looked up each time: the module's memory may grow and replace it.
        const heap = mod.HEAPF32;
        const inAt = input >> 2;
        for (let i = 0; i < size; i++) heap[inAt + i] = frame[at + i]!;
        voice = Math.max(voice, mod._rnnoise_process_frame(state, output, input));
        const res = mod.HEAPF32;
        const outAt = output >> 2;
        for (let i = 0; i < size; i++) {
          const v = Math.round(res[outAt + i]!);
          out[at + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
      denoiser.voiceProbability = voice;
      return out;
    },
    close() {
      if (closed) return;
      closed = true;
      mod._rnnoise_destroy(state);
      mod._free(input);
      mod._free(output);
    },
  };
  return denoiser;
}
