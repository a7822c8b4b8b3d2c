// Noise suppression: the CPU one sending stream spends in the daemon's capture chain with RNNoise
// and automatic gain (RNNoise → gain → level → Opus encode, as voiced/audio/engine.ts runs it per
// 20 ms frame) beside the same chain without them, in one process, on seconds of a buzz plus white noise. The figure is
// CPU time per second of audio: % of one core per stream. Rounds alternate between the two so
// other work on the machine hits both alike; the median round counts.
import { AutoGain } from "../../voiced/audio/agc.js";
import { FRAME_MS, FRAME_SAMPLES, frameLevel } from "../../voiced/audio/format.js";
import { rnnoiseDenoiser } from "../../voiced/audio/rnnoise.js";
import { opusCodec } from "../../voiced/codec/opus.js";
import { buzzAndNoise } from "../../test/support/wav.js";
import { num, type BenchOptions } from "../lib/options.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU seconds (user + system) this process spends in `fn`. */
function cpu(fn: () => void): number {
  const a = process.cpuUsage();
  fn();
  const b = process.cpuUsage(a);
  return (b.user + b.system) / 1e6;
}

export async function denoise(o: BenchOptions): Promise<void> {
  const seconds = num(o, "denoiseSeconds", o.quick ? 5 : 20);
  const rounds = num(o, "denoiseRounds", o.quick ? 3 : 5);
  const audio = buzzAndNoise({ seconds, f0: 220, harmonics: 8, toneAmp: 3500, noiseAmp: 3000 });
  const frames: Int16Array[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= audio.length; at += FRAME_SAMPLES) frames.push(audio.subarray(at, at + FRAME_SAMPLES));
  const audioS = (frames.length * FRAME_MS) / 1000;
  log(`denoise: ${frames.length} frames (${audioS} s of audio) × ${rounds} rounds per variant`);

  const codec = opusCodec();
  const denoiser = await rnnoiseDenoiser();
  const without: number[] = [];
  const withIt: number[] = [];
  const alone: number[] = [];
  let sink = 0; // keeps the work observable
  for (let r = 0; r < rounds; r++) {
    const enc1 = codec.createEncoder();
    without.push(cpu(() => frames.forEach((f) => (sink += frameLevel(f) + enc1.encode(f).length))));
    const enc2 = codec.createEncoder();
    const agc = new AutoGain();
    withIt.push(
      cpu(() =>
        frames.forEach((f) => {
          const d = agc.process(denoiser.process(f), denoiser.voiceProbability);
          sink += frameLevel(d) + enc2.encode(d).length;
        }),
      ),
    );
    alone.push(cpu(() => frames.forEach((f) => (sink += denoiser.process(f)[0]!))));
  }
  denoiser.close();
  const pct = (cpuS: number) => (100 * cpuS) / audioS;
  const rows: Row[] = [
    {
      metric: "capture chain CPU per sending stream",
      ours: pct(median(withIt)),
      baseline: pct(median(without)),
      unit: "% of a core",
      note: "ours: RNNoise + gain + level + Opus; baseline: level + Opus",
    },
    { metric: "  RNNoise alone", ours: pct(median(alone)), unit: "% of a core" },
    { metric: "  RNNoise per 20 ms frame", ours: (1e6 * median(alone)) / frames.length, unit: "µs" },
  ];
  printTable("denoise: CPU per stream of noise suppression", rows, "without");
  const file = await writeResult("denoise", {
    config: { seconds: audioS, rounds, frames: frames.length },
    cpuSeconds: { withDenoise: withIt, withoutDenoise: without, rnnoiseAlone: alone },
    table: rows,
    sink,
  });
  log(`denoise: wrote ${file}`);
}
