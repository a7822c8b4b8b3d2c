import { expect, test } from "@jest/globals";
import { TokenBuckets } from "./rate-limit.js";

test("token buckets: a burst, then one call per 1/rate seconds, per key", () => {
  let now = 1_000_000;
  const b = new TokenBuckets(2, 3, () => now);
  expect([b.take("s"), b.take("s"), b.take("s")]).toEqual([0, 0, 0]);
  expect(b.take("s")).toBe(500); // half a second for the next token at 2 a second
  expect(b.take("other")).toBe(0);
  now += 250;
  expect(b.take("s")).toBe(250);
  now += 250;
  expect(b.take("s")).toBe(0);
  expect(b.take("s")).toBe(500);
  // A long pause refills to the burst, not beyond.
  now += 60_000;
  expect([b.take("s"), b.take("s"), b.take("s"), b.take("s")]).toEqual([0, 0, 0, 500]);
});
