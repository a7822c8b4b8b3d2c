import { describe, expect, test } from "@jest/globals";
import {
  compareBytes,
  constantTimeEqual,
  decodeBase64,
  decodeBase64Url,
  encodeBase64,
  encodeBase64Url,
  fromHex,
  toHex,
  utf8Decode,
  utf8Encode,
} from "./bytes.js";

describe("base64 (RFC 4648 §10 test vectors)", () => {
  test.each([
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ])("%j <-> %j", (plain, encoded) => {
    expect(encodeBase64(utf8Encode(plain))).toBe(encoded);
    expect(utf8Decode(decodeBase64(encoded))).toBe(plain);
  });

  test("every byte value round trips and matches Buffer", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let n = 0; n <= 256; n += 37) {
      const part = all.subarray(0, n);
      expect(encodeBase64(part)).toBe(Buffer.from(part).toString("base64"));
      expect(encodeBase64Url(part)).toBe(Buffer.from(part).toString("base64url"));
      expect(decodeBase64(encodeBase64(part))).toEqual(part);
      expect(decodeBase64Url(encodeBase64Url(part))).toEqual(part);
    }
  });

  // One accepted text per byte string: no padding games, whitespace or stray bits.
  test.each(["Zg", "Zg=", "Zh==", "Zm9=", "Zm9v\n", " Zm9v", "Zm9v====", "Zm=v", "Z===", "Zm9v-_==", "Zg==Zg==", "éééé"])(
    "rejects non-canonical %j",
    (text) => {
      expect(() => decodeBase64(text)).toThrow("decodeBase64: not canonical standard base64");
    },
  );
});

describe("helpers", () => {
  test("utf8Decode is fatal on invalid UTF-8", () => {
    expect(() => utf8Decode(Uint8Array.of(0xff, 0xfe))).toThrow("utf8Decode: invalid UTF-8");
  });

  test("constantTimeEqual and compareBytes", () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1), Uint8Array.of(1, 2))).toBe(false);
    expect(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBeLessThan(0);
    expect(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 3))).toBeGreaterThan(0);
    expect(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBeLessThan(0);
  });

  test("hex", () => {
    expect(toHex(fromHex("00ff10Ab"))).toBe("00ff10ab");
    expect(() => fromHex("0")).toThrow("fromHex: not hex");
    expect(() => fromHex("zz")).toThrow("fromHex: not hex");
  });
});
