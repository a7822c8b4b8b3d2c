// Runs one target with fast-check: for a time budget (the runner) or a number of runs (jest).
import fc from "fast-check";
import type { FuzzTarget } from "./target.js";

export interface FuzzResult {
  target: string;
  executions: number;
  ms: number;
  /** The shrunk counterexample and the seed to replay it, when the target failed. */
  failure?: { input: string; error: string; seed: number; path: string | undefined };
}

export async function drive(target: FuzzTarget, o: { seconds?: number; runs?: number; seed?: number }): Promise<FuzzResult> {
  const seed = o.seed ?? (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
  // Async checks go through fast-check's async property; sync ones stay sync (much faster).
  const probe = target.check;
  const isAsync = probe.constructor.name === "AsyncFunction";
  const property = isAsync
    ? fc.asyncProperty(target.input, async (x) => void (await target.check(x)))
    : fc.property(target.input, (x) => void target.check(x));
  const params = {
    seed,
    numRuns: o.runs ?? Number.MAX_SAFE_INTEGER,
    ...(o.seconds !== undefined ? { interruptAfterTimeLimit: o.seconds * 1000, markInterruptAsFailure: false } : {}),
  };
  const t0 = performance.now();
  const details = isAsync
    ? await fc.check(property as fc.IAsyncProperty<unknown>, params)
    : fc.check(property as fc.IProperty<unknown>, params);
  const ms = performance.now() - t0;
  const result: FuzzResult = { target: target.name, executions: details.numRuns + details.numSkips, ms };
  if (details.failed && details.counterexample) {
    result.failure = {
      input: fc.stringify((details.counterexample as unknown[])[0]),
      error:
        details.errorInstance instanceof Error
          ? `${details.errorInstance.name}: ${details.errorInstance.message}`
          : String(details.errorInstance),
      seed: details.seed,
      path: details.counterexamplePath ?? undefined,
    };
  }
  return result;
}
