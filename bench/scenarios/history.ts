import type { BenchOptions } from "../lib/options.js";
export async function history(_o: BenchOptions): Promise<void> {}
