// Byte helpers without Buffer, so the module stays runtime-neutral.
import { CryptoError } from "./errors.js";

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

const STD_DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < STD.length; i++) STD_DECODE[STD.charCodeAt(i)] = i;

/** Standard base64 with padding (RFC 4648 §4): the text form of every ciphertext and key. */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STD, true);
}

/**
 * Strict standard base64: padding required, no whitespace, no non-zero trailing bits, so every
 * byte string has exactly one accepted text form (no malleability of the wire text).
 */
export function decodeBase64(text: string): Uint8Array {
  const fail = (): never => {
    throw new CryptoError("invalid-input", "decodeBase64: not canonical standard base64");
  };
  if (text.length % 4 !== 0) fail();
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* = */ && last && j >= 4 - padding) v = 0;
      else v = c < 128 ? STD_DECODE[c]! : -1;
      if (v < 0) fail();
      n = (n << 6) | v;
    }
    const bytes = last ? 3 - padding : 3;
    // Bits below the last full byte must be zero, else two texts would decode alike.
    if (bytes === 1 && (n & 0xffff) !== 0) fail();
    if (bytes === 2 && (n & 0xff) !== 0) fail();
    if (bytes >= 1) out[o++] = n >>> 16;
    if (bytes >= 2) out[o++] = (n >>> 8) & 0xff;
    if (bytes >= 3) out[o++] = n & 0xff;
  }
  return out;
}

/** Unpadded base64url, only for JWK fields handed to WebCrypto. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

export function decodeBase64Url(text: string): Uint8Array {
  const std = text.replaceAll("-", "+").replaceAll("_", "/");
  return decodeBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Fatal decoding: invalid UTF-8 is an error, never silently replaced. */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CryptoError("invalid-input", "utf8Decode: invalid UTF-8");
  }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compares without an early exit, so timing does not tell where two secrets differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Lexicographic byte order (shorter prefix first), used to sort public keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new CryptoError("invalid-input", "fromHex: not hex");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
