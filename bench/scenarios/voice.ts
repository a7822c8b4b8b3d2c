// Voice: one-way latency and CPU per peer through the real voice pipeline (two
// dialtone-voiced processes relayed by a local coturn), measured by bench/voice-latency.ts,
// which prints its own table and writes bench/results/voice-latency.json.
import { num, type BenchOptions } from "../lib/options.js";
import { voiceLatency } from "../voice-latency.js";

export async function voice(o: BenchOptions): Promise<void> {
  await voiceLatency({ seconds: num(o, "voiceSeconds", o.quick ? 5 : 8) });
}
