// A fuzz target: an input generator and a check that throws only on a bug. Parsers must turn any
// input into a result or into their own typed error (never a TypeError, a RangeError, a hang or
// a crash), and what they accept must be what the format allows.
import type fc from "fast-check";

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  /** What is fuzzed, for the runner's report. */
  readonly about: string;
  readonly input: fc.Arbitrary<T>;
  /** Throws (a FuzzFinding or anything else) when the input reveals a bug. */
  check(input: T): void | Promise<void>;
}

/** A property that failed: what was expected of the input. */
export class FuzzFinding extends Error {
  override readonly name = "FuzzFinding";
}

/** Rethrows unless `err` is one of the errors a parser may refuse input with. */
export function expectRefusal(err: unknown, allowed: ReadonlyArray<abstract new (...args: never[]) => Error>, what: string): void {
  if (allowed.some((cls) => err instanceof cls)) return;
  throw new FuzzFinding(`${what}: failed with ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} instead of a refusal`);
}

export const defineTarget = <T>(t: FuzzTarget<T>): FuzzTarget<T> => t;
