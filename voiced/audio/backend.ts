// Where audio comes from and goes to. The engine pulls one 20 ms frame per media-clock tick
// from the input and pushes one mixed frame to the output; hardware stays behind this.
import type { Frame } from "./format.js";

export interface AudioInput {
  /** The next 20 ms captured for media-clock slot `slot`, or null when nothing is available. */
  read(slot: number): Frame | null;
  /** Why the device stopped working (unplugged, a stream error), once it has; then it is reopened. */
  failure?(): string | undefined;
  close(): Promise<void>;
}

export interface AudioOutput {
  /** Plays the mixed 20 ms of media-clock slot `slot`. */
  write(frame: Frame, slot: number): void;
  close(): Promise<void>;
}

export interface AudioBackend {
  /** As given on the command line: "device", "tone:440", "file:in.wav". */
  readonly name: string;
  /**
   * A generated signal with no noise in it (the tone generator): noise suppression is not applied.
   * RNNoise keeps speech and takes a steady sine for noise, so it would all but erase the tone.
   */
  readonly clean?: boolean;
  openInput(): Promise<AudioInput>;
  openOutput(): Promise<AudioOutput>;
}

/** An output that plays nowhere (headless backends). */
export const nullOutput = (): AudioOutput => ({ write() {}, close: async () => {} });

/** Sends every frame to several outputs (the device or nothing, plus the --record file). */
export function teeOutput(outputs: AudioOutput[]): AudioOutput {
  return {
    write(frame, slot) {
      for (const o of outputs) o.write(frame, slot);
    },
    async close() {
      await Promise.all(outputs.map((o) => o.close()));
    },
  };
}
