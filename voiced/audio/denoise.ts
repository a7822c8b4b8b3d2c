// Noise suppression on the microphone, in the capture chain before the level, the speaking gate
// and the encoder (so background noise neither reaches peers nor opens the VAD). The engine
// sees only this interface; RNNoise is in rnnoise.ts.
import type { Frame } from "./format.js";

export interface Denoiser {
  /** Denoises one 20 ms frame (a new frame; the input is left alone). */
  process(frame: Frame): Frame;
  /** How likely the last processed frame held voice, 0 to 1 (automatic gain adapts on voice only). */
  voiceProbability: number;
  /** Frees the state (the engine makes a fresh one at every start). */
  close(): void;
}

export type DenoiserFactory = () => Promise<Denoiser>;
