// Inputs near valid ones: random text rarely gets past a parser's first check, so most inputs
// are a well-formed value with a few bytes changed, cut, repeated or spliced.
import fc from "fast-check";

/** Byte-level mutations of `seed`. */
export function mutatedBytes(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  const flip = fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
    const out = seed.slice();
    if (out.length) out[i % out.length] ^= x;
    return out;
  });
  const cut = fc.nat().map((n) => seed.slice(0, seed.length ? n % seed.length : 0));
  const grow = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => concat(seed, extra));
  const splice = fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 16 })).map(([i, bytes]) => {
    const at = seed.length ? i % seed.length : 0;
    return concat(seed.slice(0, at), bytes, seed.slice(at + bytes.length));
  });
  return fc.oneof(flip, cut, grow, splice, fc.constant(seed), fc.uint8Array({ maxLength: seed.length + 8 }));
}

/** Character-level mutations of `seed` (a text format: base64, JSON). */
export function mutatedText(seed: string): fc.Arbitrary<string> {
  const alphabet = fc.constantFrom(...'ABQRgwx/+=-_ \n\t{}[]":,.0123456789e\\\u0000\u00e9\ud83d');
  const replace = fc
    .tuple(fc.nat(), alphabet)
    .map(([i, c]) => (seed.length ? seed.slice(0, i % seed.length) + c + seed.slice((i % seed.length) + 1) : c));
  const cut = fc.nat().map((n) => seed.slice(0, seed.length ? n % seed.length : 0));
  const insert = fc.tuple(fc.nat(), fc.string({ maxLength: 8 })).map(([i, s]) => {
    const at = seed.length ? i % (seed.length + 1) : 0;
    return seed.slice(0, at) + s + seed.slice(at);
  });
  return fc.oneof(replace, cut, insert, fc.constant(seed), fc.string({ maxLength: seed.length + 8 }));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
