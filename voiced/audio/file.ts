// A WAV file as the microphone (`file:in.wav`: 48 kHz mono s16), looped.
import { readFileSync } from "node:fs";
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from "./format.js";
import { nullOutput, type AudioBackend } from "./backend.js";
import { readWav } from "./wav.js";

export function fileBackend(spec: string): AudioBackend {
  const path = spec.slice("file:".length);
  if (!path) throw new Error('--audio-backend: "file:" needs a path, e.g. file:in.wav');
  return {
    name: spec,
    async openInput() {
      const wav = readWav(readFileSync(path));
      if (wav.sampleRate !== SAMPLE_RATE || wav.channels !== 1) {
        throw new Error(`${path}: need 48000 Hz mono s16 WAV, got ${wav.sampleRate} Hz with ${wav.channels} channels`);
      }
      if (wav.samples.length === 0) throw new Error(`${path}: no samples`);
      let pos = 0;
      return {
        read(): Frame {
          const out = new Int16Array(FRAME_SAMPLES);
          for (let i = 0; i < FRAME_SAMPLES; i++) {
            out[i] = wav.samples[pos]!;
            pos = (pos + 1) % wav.samples.length;
          }
          return out;
        },
        close: async () => {},
      };
    },
    openOutput: async () => nullOutput(),
  };
}
