// Voice mesh: CPU and bandwidth per daemon in rooms of 2, 4 and 8 (bench/voice-mesh.ts, which
// prints its own table and writes bench/results/voice-mesh.json).
import { list, num, type BenchOptions } from "../lib/options.js";
import { voiceMesh } from "../voice-mesh.js";

export async function mesh(o: BenchOptions): Promise<void> {
  await voiceMesh({ sizes: list(o, "meshSizes", o.quick ? [2, 4] : [2, 4, 8]), seconds: num(o, "meshSeconds", o.quick ? 4 : 10) });
}
