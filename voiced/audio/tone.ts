// A sine generator as the microphone: `tone:440` plays 440 Hz without pause; `tone:440:pulse`
// plays 200 ms at the start of every wall-clock second, then silence (onsets at known times,
// for latency measurement across processes).
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, type Frame } from "./format.js";
import { nullOutput, type AudioBackend, type AudioInput } from "./backend.js";

export interface ToneSpec {
  frequency: number;
  pulse: boolean;
  /** Peak amplitude as a fraction of full scale. */
  amplitude: number;
}

export const PULSE_ON_MS = 200;

export function parseToneSpec(spec: string): ToneSpec {
  const m = /^tone:(\d+(?:\.\d+)?)(:pulse)?$/.exec(spec);
  const frequency = m ? Number(m[1]) : NaN;
  if (!m || !(frequency > 0 && frequency < SAMPLE_RATE / 2)) {
    throw new Error(`--audio-backend: "${spec}" is not tone:FREQ or tone:FREQ:pulse with 0 < FREQ < 24000`);
  }
  return { frequency, pulse: m[2] !== undefined, amplitude: 0.25 };
}

/** The samples of slot `slot` (wall-clock ms = slot × 20): the frame that ends at that tick. */
export function toneFrame(t: ToneSpec, slot: number): Frame {
  const out = new Int16Array(FRAME_SAMPLES);
  const startMs = (slot - 1) * FRAME_MS;
  const peak = t.amplitude * 32767;
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    const ms = startMs + (i * 1000) / SAMPLE_RATE;
    if (t.pulse && ms % 1000 >= PULSE_ON_MS) continue;
    // Phase from absolute time, so the tone stays continuous across frames and restarts.
    const n = Math.round((ms * SAMPLE_RATE) / 1000) % SAMPLE_RATE;
    out[i] = Math.round(peak * Math.sin((2 * Math.PI * t.frequency * n) / SAMPLE_RATE));
  }
  return out;
}

export function toneBackend(spec: string): AudioBackend {
  const tone = parseToneSpec(spec);
  return {
    name: spec,
    clean: true,
    async openInput(): Promise<AudioInput> {
      return { read: (slot) => toneFrame(tone, slot), close: async () => {} };
    },
    openOutput: async () => nullOutput(),
  };
}
