// Safety numbers in the construction of Signal's NumericFingerprintGenerator (version 0,
// 5200 iterations of SHA-512), over a user's set of device keys instead of one identity key.
import { compareBytes, concatBytes, constantTimeEqual, toHex, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { X25519_KEY_BYTES, sha256, sha512 } from "./primitives.js";

export const SAFETY_NUMBER_VERSION = 0;
export const SAFETY_NUMBER_ITERATIONS = 5200;
export const DEVICE_FINGERPRINT_LABEL = "dialtone/v1/device-fingerprint|";

/** One side of a safety number: a user and the device keys we hold for them. */
export interface SafetyIdentity {
  readonly userId: string;
  readonly devicePublicKeys: readonly Uint8Array[];
}

/** The user's keys sorted bytewise with duplicates dropped: the number depends on the set only. */
function sortedKeys(fn: string, keys: readonly Uint8Array[]): Uint8Array {
  if (keys.length === 0) throw new CryptoError("invalid-input", `${fn}: at least one device key is needed`);
  for (const key of keys) {
    if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_BYTES) {
      throw new CryptoError("invalid-input", `${fn}: device keys must be 32 bytes`);
    }
  }
  const sorted = [...keys].sort(compareBytes);
  const unique = sorted.filter((key, i) => i === 0 || !constantTimeEqual(key, sorted[i - 1]!));
  return concatBytes(...unique);
}

function encodeChunk(hash: Uint8Array, offset: number): string {
  // Five bytes as a big-endian uint40 (exact in a double), mod 100000.
  let value = 0;
  for (let i = 0; i < 5; i++) value = value * 256 + hash[offset + i]!;
  return String(value % 100000).padStart(5, "0");
}

/**
 * The 30 digits for one user: hash = u16be(version) || keys || UTF-8(user id); then 5200 times
 * hash = SHA-512(hash || keys); then six chunks of 5 bytes, each as 5 decimal digits.
 */
export async function fingerprintDigits(identity: SafetyIdentity): Promise<string> {
  if (typeof identity.userId !== "string" || identity.userId.length === 0) {
    throw new CryptoError("invalid-input", "fingerprintDigits: user id must not be empty");
  }
  const keys = sortedKeys("fingerprintDigits", identity.devicePublicKeys);
  const version = Uint8Array.of(SAFETY_NUMBER_VERSION >> 8, SAFETY_NUMBER_VERSION & 0xff);
  let hash = concatBytes(version, keys, utf8Encode(identity.userId));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = await sha512(concatBytes(hash, keys));
  let digits = "";
  for (let offset = 0; offset < 30; offset += 5) digits += encodeChunk(hash, offset);
  return digits;
}

/** 60 digits: the two halves in ascending order, so both users compute the same number. */
export async function safetyNumber(local: SafetyIdentity, remote: SafetyIdentity): Promise<string> {
  const [a, b] = await Promise.all([fingerprintDigits(local), fingerprintDigits(remote)]);
  return a <= b ? a + b : b + a;
}

/** 60 digits as 12 groups of 5, four groups per line (as Signal shows them). */
export function formatSafetyNumber(digits: string): string {
  if (!/^\d{60}$/.test(digits)) throw new CryptoError("invalid-input", "formatSafetyNumber: need 60 digits");
  const groups = digits.match(/\d{5}/g) ?? [];
  return [0, 4, 8].map((i) => groups.slice(i, i + 4).join(" ")).join("\n");
}

/**
 * A short fingerprint of one device key for notices ("new device a1b2 c3d4 ..."): the first
 * 10 bytes of SHA-256(label || key) as five groups of 4 hex digits. Comparing it out of band
 * checks one device; the safety number covers all of a user's devices.
 */
export async function deviceFingerprint(publicKey: Uint8Array): Promise<string> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== X25519_KEY_BYTES) {
    throw new CryptoError("invalid-input", "deviceFingerprint: public key must be 32 bytes");
  }
  const digest = await sha256(concatBytes(utf8Encode(DEVICE_FINGERPRINT_LABEL), publicKey));
  const hex = toHex(digest.subarray(0, 10));
  return (hex.match(/.{4}/g) ?? []).join(" ");
}
