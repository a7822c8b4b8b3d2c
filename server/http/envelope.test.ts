// The Connect envelope both ways: what envelope() frames, EnvelopeReader gives back whole, however
// the bytes are cut into chunks; an end-stream message's error comes back as a ConnectError.
import { describe, expect, test } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { EnvelopeReader, endStreamError, envelope, envelopesOf } from "./envelope.js";

const stream = Buffer.concat([
  envelope(0, Buffer.from("first")),
  envelope(0, Buffer.alloc(0)),
  envelope(0, Buffer.alloc(300, 7)),
  envelope(2, Buffer.from(JSON.stringify({ error: { code: "resource_exhausted", message: "too far behind" } }))),
]);
const expected = [
  { flags: 0, data: Buffer.from("first") },
  { flags: 0, data: Buffer.alloc(0) },
  { flags: 0, data: Buffer.alloc(300, 7) },
  { flags: 2, data: Buffer.from(JSON.stringify({ error: { code: "resource_exhausted", message: "too far behind" } })) },
];

describe("EnvelopeReader", () => {
  test("every cut of the stream into two chunks gives the same envelopes, in order", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const got: { flags: number; data: Buffer }[] = [];
      const reader = new EnvelopeReader();
      reader.push(stream.subarray(0, cut), (flags, data) => got.push({ flags, data: Buffer.from(data) }));
      reader.push(stream.subarray(cut), (flags, data) => got.push({ flags, data: Buffer.from(data) }));
      expect(got).toEqual(expected);
    }
  });

  test("byte by byte; nothing is given for a partial envelope", () => {
    const got: number[] = [];
    const reader = new EnvelopeReader();
    for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1), (_flags, data) => got.push(data.length));
    expect(got).toEqual([5, 0, 300, expected[3]!.data.length]);
    expect(envelopesOf(stream.subarray(0, stream.length - 1))).toHaveLength(3);
  });
});

test("an end-stream message's error, or none", () => {
  const err = endStreamError(expected[3]!.data);
  expect(err?.code).toBe(Code.ResourceExhausted);
  expect(err?.rawMessage).toBe("too far behind");
  expect(endStreamError(Buffer.from("{}"))).toBeUndefined();
  expect(endStreamError(Buffer.alloc(0))).toBeUndefined();
});
